using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>The pixel layout of an image backbone's input: rows of C × H × W values, planar (channel by channel).</summary>
    internal readonly record struct ImageShape(int Channels, int Height, int Width)
    {
        public int Size => Channels * Height * Width;

        public override string ToString() => $"{Channels} × {Height} × {Width}";
    }

    /// <summary>Names a <see cref="BackboneSpec"/> in model files; its type must have a static <c>Read(BinaryReader)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, Inherited = false)]
    internal sealed class BackboneKindAttribute : Attribute
    {
        public BackboneKindAttribute(string name) => Name = name;

        public string Name { get; }
    }

    /// <summary>
    /// One backbone's architecture as a trained model keeps it: it builds the TorchSharp module, writes its settings into the
    /// model file (under the name of its <see cref="BackboneKindAttribute"/>) and emits its ONNX nodes. Each backbone is one
    /// file (its public options, this description and its module), so adding a backbone touches no other backbone's file.
    /// </summary>
    internal abstract record BackboneSpec
    {
        /// <summary>Values per input row.</summary>
        public abstract int InputSize { get; }

        /// <summary>Values of the embedding the module outputs.</summary>
        public abstract int EmbeddingSize { get; }

        /// <summary>The image layout of the input, or null for plain vectors (no geometry: augmentations and checks differ).</summary>
        public virtual ImageShape? Image => null;

        /// <summary>
        /// Multiply-adds of the convolutions of one row's forward pass, or null when the backbone has none or does not say
        /// (the thread policy then leaves it to libtorch's default; see <see cref="Training.ThreadPolicy"/>).
        /// </summary>
        public virtual long? ConvolutionMultiplyAddsPerRow => null;

        /// <summary>A new module with freshly initialised (or, for pretrained backbones, imported) weights.</summary>
        public abstract nn.Module<Tensor, Tensor> CreateModule();

        /// <summary>
        /// Appends the backbone's nodes to an ONNX graph: from <paramref name="input"/> (float [N, <see cref="InputSize"/>]) to the
        /// embedding (float [N, <see cref="EmbeddingSize"/>]), whose value name it returns. <paramref name="weights"/> are the
        /// module's state, read under the scoring network's "backbone." prefix.
        /// </summary>
        public abstract string ExportOnnx(OnnxGraph graph, OnnxWeights weights, string input);

        /// <summary>Writes the settings that <c>Read</c> of the same type reads back.</summary>
        protected abstract void WriteSettings(BinaryWriter writer);

        /// <summary>Throws an <see cref="InvalidDataException"/> when settings read from a model file cannot be right.</summary>
        public abstract void CheckRead();

        /// <summary>The name the model file stores.</summary>
        public string Kind => KindOf(GetType());

        /// <summary>
        /// Checks the feature column's declared dimensions against the input layout. An image backbone reads C × H × W planar
        /// pixels; a column whose dimensions say H × W × C (interleaved, as colour IDX files and
        /// <c>ExtractPixels(interleavePixelColors: true)</c> give) would be read with its channels scrambled, so it is refused.
        /// </summary>
        public void CheckColumnLayout(VectorDataViewType type, string columnName)
        {
            if (Image is not ImageShape image || type.Dimensions.Length != 3)
                return; // flat vectors carry no layout to check
            var d = type.Dimensions;
            if (d[0] == image.Channels && d[1] == image.Height && d[2] == image.Width)
                return;
            string how = d[0] == image.Height && d[1] == image.Width && d[2] == image.Channels
                ? $"its dimensions are {d[0]} × {d[1]} × {d[2]}, i.e. height × width × channels (interleaved pixels), but the backbone reads " +
                  $"channels × height × width ({image}, planar). Reorder it to planar first: ML.NET's ExtractPixels with " +
                  "interleavePixelColors: false gives planar pixels"
                : $"its dimensions are {d[0]} × {d[1]} × {d[2]}, but the backbone reads channels × height × width = {image}";
            throw new ArgumentOutOfRangeException(nameof(DomainAdaptationOptions.Backbone),
                $"Feature column '{columnName}' does not have the backbone's pixel layout: {how}.");
        }

        public void Write(BinaryWriter writer)
        {
            writer.Write(Kind);
            WriteSettings(writer);
        }

        /// <summary>Reads a backbone written by <see cref="Write"/>: its kind name, then that kind's own settings.</summary>
        public static BackboneSpec ReadAnyKind(BinaryReader reader)
        {
            string kind = reader.ReadString();
            if (!Readers.Value.TryGetValue(kind, out var read))
                throw new InvalidDataException($"The model's backbone '{kind}' is unknown to this version of the library (it knows {string.Join(", ", Readers.Value.Keys)}).");
            var spec = read(reader);
            spec.CheckRead();
            return spec;
        }

        private static string KindOf(Type type) =>
            type.GetCustomAttribute<BackboneKindAttribute>()?.Name
            ?? throw new InvalidOperationException($"{type.Name} has no {nameof(BackboneKindAttribute)}.");

        // Every backbone of this assembly, found by its attribute: a new backbone registers itself by being declared.
        private static readonly Lazy<Dictionary<string, Func<BinaryReader, BackboneSpec>>> Readers = new(() =>
            typeof(BackboneSpec).Assembly.GetTypes()
                .Where(t => t.IsSubclassOf(typeof(BackboneSpec)) && !t.IsAbstract)
                .ToDictionary(KindOf, t =>
                {
                    var method = t.GetMethod("Read", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, new[] { typeof(BinaryReader) })
                        ?? throw new InvalidOperationException($"{t.Name} has no static Read(BinaryReader).");
                    return (Func<BinaryReader, BackboneSpec>)method.CreateDelegate(typeof(Func<BinaryReader, BackboneSpec>));
                }));
    }
}
