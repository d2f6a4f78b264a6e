using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>A multi-layer perceptron for plain numeric vectors (tabular data, text features, pretrained embeddings).</summary>
    public sealed class MlpBackboneOptions : BackboneOptions
    {
        /// <summary>Widths of the hidden layers before the embedding layer, each with ReLU. Default: { 256 }. May be empty.</summary>
        public int[] HiddenLayerSizes = { 256 };

        internal override BackboneSpec CreateSpec(int featureSize, NormalizationKind normalization) =>
            new MlpBackboneSpec(featureSize, HiddenLayerSizes.ToArray(), EmbeddingSize, normalization);

        internal override BackboneOptions Clone()
        {
            var copy = (MlpBackboneOptions)base.Clone();
            copy.HiddenLayerSizes = HiddenLayerSizes?.ToArray();
            return copy;
        }

        internal override void Validate()
        {
            base.Validate();
            if (HiddenLayerSizes is null || HiddenLayerSizes.Any(h => h <= 0))
                throw new ArgumentOutOfRangeException(nameof(HiddenLayerSizes), "HiddenLayerSizes must be a (possibly empty) array of positive widths.");
            if (Normalization == NormalizationKind.InstanceNorm)
                throw new ArgumentOutOfRangeException(nameof(Normalization), Normalization,
                    "InstanceNorm normalises each image's channels and needs a convolutional backbone (LeNetBackboneOptions); use None or BatchNorm for an MLP.");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>The MLP's architecture: input size, hidden widths, embedding size, normalisation.</summary>
    [BackboneKind("MLP")]
    internal sealed record MlpBackboneSpec(int InputSize, int[] HiddenSizes, int EmbeddingSize, NormalizationKind Normalization) : BackboneSpec
    {
        public override int InputSize { get; } = InputSize;

        public override int EmbeddingSize { get; } = EmbeddingSize;

        public override Module<Tensor, Tensor> CreateModule() => new MlpBackbone(InputSize, HiddenSizes, EmbeddingSize, Normalization);

        public override string ExportOnnx(OnnxGraph graph, OnnxWeights weights, string input)
        {
            string x = input;
            for (int i = 0; i <= HiddenSizes.Length; i++)
            {
                string suffix = MlpBackbone.LayerSuffix(i, HiddenSizes.Length);
                x = weights.Linear(graph, $"backbone.layers.fc{suffix}", x);
                if (Normalization == NormalizationKind.BatchNorm)
                    x = weights.BatchNorm(graph, $"backbone.layers.bn{suffix}", x);
                x = graph.Node("Relu", new[] { x });
            }
            return x;
        }

        protected override void WriteSettings(BinaryWriter writer)
        {
            writer.Write(InputSize);
            writer.Write(HiddenSizes.Length);
            foreach (int h in HiddenSizes)
                writer.Write(h);
            writer.Write(EmbeddingSize);
            writer.Write((int)Normalization);
        }

        public static BackboneSpec Read(BinaryReader reader)
        {
            int inputSize = reader.ReadInt32();
            int count = reader.ReadInt32();
            if (count < 0 || count > 1024)
                throw new InvalidDataException($"The model's MLP backbone description is invalid: {count} hidden layers.");
            var hidden = new int[count];
            for (int i = 0; i < count; i++)
                hidden[i] = reader.ReadInt32();
            return new MlpBackboneSpec(inputSize, hidden, reader.ReadInt32(), (NormalizationKind)reader.ReadInt32());
        }

        public override void CheckRead()
        {
            if (InputSize <= 0 || EmbeddingSize <= 0 || HiddenSizes.Any(h => h <= 0) || !Enum.IsDefined(Normalization) || Normalization == NormalizationKind.InstanceNorm)
                throw new InvalidDataException($"The model's MLP backbone description is invalid: {this}.");
        }

        public override string ToString() =>
            $"MLP {InputSize} → [{string.Join(", ", HiddenSizes)}] → {EmbeddingSize}, {Normalization}";
    }

    /// <summary>Multi-layer perceptron: (Linear–[BatchNorm]–ReLU) per hidden layer, then the same to the embedding.</summary>
    internal sealed class MlpBackbone : Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public MlpBackbone(int inputSize, IReadOnlyList<int> hiddenSizes, int embeddingSize, NormalizationKind normalization) : base(nameof(MlpBackbone))
        {
            var modules = new List<(string, Module<Tensor, Tensor>)>();
            int width = inputSize;
            for (int i = 0; i <= hiddenSizes.Count; i++)
            {
                int next = i == hiddenSizes.Count ? embeddingSize : hiddenSizes[i];
                string suffix = LayerSuffix(i, hiddenSizes.Count);
                modules.Add(($"fc{suffix}", Linear(width, next)));
                if (normalization == NormalizationKind.BatchNorm)
                    modules.Add(($"bn{suffix}", BatchNorm1d(next)));
                modules.Add(($"relu{suffix}", ReLU()));
                width = next;
            }
            layers = Sequential(modules);
            RegisterComponents();
        }

        /// <summary>The name suffix of layer <paramref name="index"/>: its number, or "_embedding" for the last.</summary>
        public static string LayerSuffix(int index, int hiddenCount) => index == hiddenCount ? "_embedding" : index.ToString();

        public override Tensor forward(Tensor input) => layers.forward(input);
    }
}
