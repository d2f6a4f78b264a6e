using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.DomainAdaptation.Onnx.Proto;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// Reads ONNX models (ModelProto) with Google.Protobuf and classes generated from onnx.proto at build time
    /// (Onnx/Proto/onnx.proto, compiled by Grpc.Tools, internal). Google.Protobuf is the runtime the ML.NET ONNX
    /// transformer already depends on, maintained with protoc itself; OnnxSharp (the other served option) wraps the same
    /// generated classes in a single-maintainer package we would not otherwise need. Tensors: float (and int64 for
    /// shapes) from either the typed fields or raw_data (little-endian); external data files are not read.
    /// </summary>
    internal static class OnnxModelReader
    {
        /// <summary>Parses the model at <paramref name="path"/>; errors name <paramref name="optionName"/>, the option that gave the path.</summary>
        public static ModelProto Read(string path, string optionName)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new ArgumentException($"{optionName} must name an ONNX model file.", optionName);
            if (!File.Exists(path))
                throw new FileNotFoundException($"{optionName}: the ONNX model file '{path}' does not exist.", path);
            // One Fit asks for the same file several times (column check, network description, weights; ADDA's second
            // encoder): ResNet-18 is 45 MB of protobuf. The parsed model is shared while it is alive and the file unchanged;
            // callers only read it.
            var file = new FileInfo(path);
            var key = (file.FullName, file.Length, file.LastWriteTimeUtc);
            lock (RecentLock)
            {
                if (Recent.Key == key && Recent.Model.TryGetTarget(out var cached))
                    return cached;
            }
            var model = Parse(File.ReadAllBytes(path), $"{optionName} ('{path}')");
            lock (RecentLock)
                Recent = (key, new WeakReference<ModelProto>(model));
            return model;
        }

        private static readonly object RecentLock = new object();
        private static ((string, long, DateTime) Key, WeakReference<ModelProto> Model) Recent = (default, new WeakReference<ModelProto>(null));

        /// <summary>Parses ONNX model bytes; <paramref name="source"/> names them in errors.</summary>
        public static ModelProto Parse(byte[] bytes, string source)
        {
            ModelProto model;
            try
            {
                model = ModelProto.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new InvalidDataException($"{source} is not an ONNX model: {e.Message}", e);
            }
            if (model.Graph is null || model.Graph.Node.Count == 0)
                throw new InvalidDataException($"{source} is not an ONNX model: it has no graph nodes.");
            return model;
        }

        /// <summary>The initializers of the graph by name.</summary>
        public static Dictionary<string, TensorProto> Initializers(GraphProto graph) =>
            graph.Initializer.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last());

        public static long[] Dims(TensorProto tensor) => tensor.Dims.ToArray();

        /// <summary>The values of a float tensor.</summary>
        public static float[] Floats(TensorProto tensor)
        {
            CheckInline(tensor);
            if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
                throw new InvalidDataException($"ONNX tensor '{tensor.Name}' has element type {(TensorProto.Types.DataType)tensor.DataType}; float was expected.");
            long count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
            float[] values = tensor.RawData.Length > 0 ? FromRaw<float>(tensor.RawData, 4) : tensor.FloatData.ToArray();
            if (values.Length != count)
                throw new InvalidDataException($"ONNX tensor '{tensor.Name}' holds {values.Length} values for shape [{string.Join(", ", tensor.Dims)}].");
            return values;
        }

        /// <summary>The values of an int64 (or int32) tensor: shapes, axes, pads.</summary>
        public static long[] Int64s(TensorProto tensor)
        {
            CheckInline(tensor);
            return (TensorProto.Types.DataType)tensor.DataType switch
            {
                TensorProto.Types.DataType.Int64 => tensor.RawData.Length > 0 ? FromRaw<long>(tensor.RawData, 8) : tensor.Int64Data.ToArray(),
                TensorProto.Types.DataType.Int32 => tensor.RawData.Length > 0 ? FromRaw<int>(tensor.RawData, 4).Select(v => (long)v).ToArray() : tensor.Int32Data.Select(v => (long)v).ToArray(),
                var type => throw new InvalidDataException($"ONNX tensor '{tensor.Name}' has element type {type}; int64 was expected."),
            };
        }

        /// <summary>The value of a node attribute, or <paramref name="fallback"/> when absent.</summary>
        public static long Int(NodeProto node, string name, long fallback) => Attribute(node, name)?.I ?? fallback;

        public static float Float(NodeProto node, string name, float fallback) => Attribute(node, name)?.F ?? fallback;

        public static long[] Ints(NodeProto node, string name) => Attribute(node, name)?.Ints.ToArray();

        public static string String(NodeProto node, string name, string fallback)
        {
            var attribute = Attribute(node, name);
            return attribute is null ? fallback : attribute.S.ToStringUtf8();
        }

        public static AttributeProto Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

        /// <summary>How a node is named in messages: its name when it has one, else its first output.</summary>
        public static string Describe(NodeProto node) =>
            $"{node.OpType} node '{(string.IsNullOrEmpty(node.Name) ? node.Output.FirstOrDefault() : node.Name)}'";

        private static void CheckInline(TensorProto tensor)
        {
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
                throw new InvalidDataException($"ONNX tensor '{tensor.Name}' keeps its values in an external data file, which is not supported: save the model with its weights inside.");
        }

        private static T[] FromRaw<T>(ByteString raw, int size) where T : unmanaged
        {
            var values = new T[raw.Length / size];
            var bytes = raw.Span;
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("Reading ONNX raw tensor data needs a little-endian machine.");
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).CopyTo(values);
            return values;
        }
    }
}
