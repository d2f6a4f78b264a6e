using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// Puts the transformer's network into the ONNX graph ML.NET builds in <c>mlContext.Model.ConvertToOnnx</c>, after the
    /// featurizers before it. The nodes are those <see cref="OnnxExporter"/> writes for the stand-alone file (one place
    /// decides how a network becomes ONNX): its model is read back and each initializer and node is re-added through
    /// <see cref="OnnxContext"/>, which gives every name a unique one in the whole graph. The exporter's input is the feature
    /// column's current variable; its Embedding and Score outputs become the output columns' variables; its 0-based class
    /// index (int64) becomes the ML.NET key, index + 1 as uint32, the type ML.NET's ONNX export gives key columns.
    /// </summary>
    internal static class OnnxContextBridge
    {
        // TensorProto.DataType values (onnx.proto).
        private const int FloatType = 1, Int64Type = 7;

        public static void Save(OnnxContext ctx, byte[] exportedModel, string featureColumn, (string Name, DataViewType Type) embedding,
            (string Name, DataViewType Type) score, (string Name, DataViewType Type) predictedLabel)
        {
            var graph = ParsedGraph.Parse(exportedModel);
            var names = new Dictionary<string, string> { [featureColumn] = ctx.GetVariableName(featureColumn) };
            foreach (var initializer in graph.Initializers)
            {
                // ML.NET's tensor overloads need at least one dimension; a scalar (no dims) goes through the scalar overloads.
                bool scalar = initializer.Dims.Count == 0;
                names[initializer.Name] = initializer.DataType switch
                {
                    FloatType when scalar => ctx.AddInitializer(Floats(initializer.Raw).Single(), initializer.Name),
                    FloatType => ctx.AddInitializer(Floats(initializer.Raw), initializer.Dims, initializer.Name),
                    Int64Type when scalar => ctx.AddInitializer(Int64s(initializer.Raw).Single(), initializer.Name),
                    Int64Type => ctx.AddInitializer(Int64s(initializer.Raw), initializer.Dims, initializer.Name),
                    _ => throw new InvalidOperationException($"The exported network has an initializer '{initializer.Name}' of ONNX type {initializer.DataType}; only float and int64 are carried over."),
                };
            }

            string classIndex = null;
            foreach (var node in graph.Nodes)
            {
                string output = node.Output;
                string variable = output == embedding.Name ? ctx.AddIntermediateVariable(embedding.Type, embedding.Name)
                    : output == score.Name ? ctx.AddIntermediateVariable(score.Type, score.Name)
                    : output == predictedLabel.Name ? classIndex = ctx.AddIntermediateVariable(null, predictedLabel.Name + "_index", true)
                    : ctx.AddIntermediateVariable(null, output, true);
                var inputs = node.Inputs.Select(i => names.TryGetValue(i, out var v) ? v
                    : throw new InvalidOperationException($"The exported network's node '{node.OpType}' reads '{i}', which no earlier node or initializer defines.")).ToArray();
                names[output] = variable;
                var created = ctx.CreateNode(node.OpType, inputs, new[] { variable }, ctx.GetNodeName(node.OpType), "");
                foreach (var attribute in node.Attributes)
                {
                    switch (attribute.Value)
                    {
                        case long i: created.AddAttribute(attribute.Name, i); break;
                        case float f: created.AddAttribute(attribute.Name, (double)f); break;
                        case List<long> ints: created.AddAttribute(attribute.Name, ints); break;
                        case List<float> floats: created.AddAttribute(attribute.Name, floats); break;
                        default: throw new InvalidOperationException($"Attribute '{attribute.Name}' of the exported node '{node.OpType}' has no value ML.NET's ONNX context can carry.");
                    }
                }
            }
            if (classIndex == null)
                throw new InvalidOperationException($"The exported network has no '{predictedLabel.Name}' output.");

            // The key: 1-based, uint32 (key 0 is ML.NET's missing value).
            string oneBased = ctx.AddIntermediateVariable(null, predictedLabel.Name + "_key", true);
            ctx.CreateNode("Add", new[] { classIndex, ctx.AddInitializer(1L, "one") }, new[] { oneBased }, ctx.GetNodeName("Add"), "");
            string key = ctx.AddIntermediateVariable(predictedLabel.Type, predictedLabel.Name);
            ctx.CreateNode("Cast", oneBased, key, ctx.GetNodeName("Cast"), "").AddAttribute("to", typeof(uint));
        }

        private static float[] Floats(byte[] raw)
        {
            var values = new float[raw.Length / 4];
            Buffer.BlockCopy(raw, 0, values, 0, values.Length * 4);
            return values;
        }

        private static long[] Int64s(byte[] raw)
        {
            var values = new long[raw.Length / 8];
            Buffer.BlockCopy(raw, 0, values, 0, values.Length * 8);
            return values;
        }

        /// <summary>The parts of a ModelProto that <see cref="OnnxGraph"/> writes: the graph's nodes and initializers.</summary>
        private sealed class ParsedGraph
        {
            public readonly List<(string OpType, List<string> Inputs, string Output, List<(string Name, object Value)> Attributes)> Nodes = new();
            public readonly List<(string Name, List<long> Dims, int DataType, byte[] Raw)> Initializers = new();

            public static ParsedGraph Parse(byte[] model)
            {
                var parsed = new ParsedGraph();
                foreach (var (field, _, graph) in Fields(model))
                {
                    if (field != 7) // ModelProto.graph
                        continue;
                    foreach (var (graphField, _, bytes) in Fields(graph))
                    {
                        if (graphField == 1)
                            parsed.Nodes.Add(Node(bytes));
                        else if (graphField == 5)
                            parsed.Initializers.Add(Initializer(bytes));
                    }
                }
                return parsed;
            }

            // NodeProto: input 1, output 2, op_type 4, attribute 5.
            private static (string, List<string>, string, List<(string, object)>) Node(byte[] message)
            {
                string opType = null, output = null;
                var inputs = new List<string>();
                var attributes = new List<(string, object)>();
                foreach (var (field, _, bytes) in Fields(message))
                {
                    switch (field)
                    {
                        case 1: inputs.Add(Encoding.UTF8.GetString(bytes)); break;
                        case 2: output = output == null ? Encoding.UTF8.GetString(bytes) : throw new InvalidOperationException("An exported node has more than one output."); break;
                        case 4: opType = Encoding.UTF8.GetString(bytes); break;
                        case 5: attributes.Add(Attribute(bytes)); break;
                    }
                }
                return (opType, inputs, output, attributes);
            }

            // AttributeProto: name 1, f 2, i 3, floats 7, ints 8 (unpacked, as ProtoWriter writes them).
            private static (string, object) Attribute(byte[] message)
            {
                string name = null;
                object value = null;
                foreach (var (field, scalar, bytes) in Fields(message))
                {
                    switch (field)
                    {
                        case 1: name = Encoding.UTF8.GetString(bytes); break;
                        case 2: value = BitConverter.Int32BitsToSingle((int)scalar); break;
                        case 3: value = (long)scalar; break;
                        case 7: ((List<float>)(value ??= new List<float>())).Add(BitConverter.Int32BitsToSingle((int)scalar)); break;
                        case 8: ((List<long>)(value ??= new List<long>())).Add((long)scalar); break;
                    }
                }
                return (name, value);
            }

            // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
            private static (string, List<long>, int, byte[]) Initializer(byte[] message)
            {
                string name = null;
                var dims = new List<long>();
                int dataType = 0;
                byte[] raw = Array.Empty<byte>();
                foreach (var (field, scalar, bytes) in Fields(message))
                {
                    switch (field)
                    {
                        case 1: dims.Add((long)scalar); break;
                        case 2: dataType = (int)scalar; break;
                        case 8: name = Encoding.UTF8.GetString(bytes); break;
                        case 9: raw = bytes; break;
                    }
                }
                return (name, dims, dataType, raw);
            }

            // Protobuf fields: varint (wire type 0) and 32-bit (5) values come as the scalar, length-delimited (2) as the bytes.
            private static IEnumerable<(int Field, ulong Scalar, byte[] Bytes)> Fields(byte[] message)
            {
                int position = 0;
                while (position < message.Length)
                {
                    ulong tag = Varint(message, ref position);
                    int field = (int)(tag >> 3);
                    switch ((int)(tag & 7))
                    {
                        case 0:
                            yield return (field, Varint(message, ref position), null);
                            break;
                        case 2:
                            int length = checked((int)Varint(message, ref position));
                            yield return (field, 0, message.AsSpan(position, length).ToArray());
                            position += length;
                            break;
                        case 5:
                            yield return (field, BitConverter.ToUInt32(message, position), null);
                            position += 4;
                            break;
                        case 1:
                            yield return (field, BitConverter.ToUInt64(message, position), null);
                            position += 8;
                            break;
                        default:
                            throw new InvalidOperationException($"Unexpected protobuf wire type {tag & 7} in the exported ONNX model.");
                    }
                }
            }

            private static ulong Varint(byte[] message, ref int position)
            {
                ulong value = 0;
                for (int shift = 0; ; shift += 7)
                {
                    byte b = message[position++];
                    value |= (ulong)(b & 0x7F) << shift;
                    if (b < 0x80)
                        return value;
                }
            }
        }
    }
}
