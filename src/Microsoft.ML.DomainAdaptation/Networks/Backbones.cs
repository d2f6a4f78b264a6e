using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Networks
{
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
                bool last = i == hiddenSizes.Count;
                int next = last ? embeddingSize : hiddenSizes[i];
                string suffix = last ? "_embedding" : i.ToString();
                modules.Add(($"fc{suffix}", Linear(width, next)));
                if (normalization == NormalizationKind.BatchNorm)
                    modules.Add(($"bn{suffix}", BatchNorm1d(next)));
                modules.Add(($"relu{suffix}", ReLU()));
                width = next;
            }
            layers = Sequential(modules);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => layers.forward(input);
    }

    /// <summary>
    /// LeNet-style convolutional backbone of the digits literature: conv(C→32, 5)–ReLU–maxpool 2–conv(32→48, 5)–
    /// ReLU–maxpool 2–Linear–ReLU to the embedding, with batch or instance normalisation after each convolution
    /// (batch normalisation after the Linear too) when asked. Takes flat C×H×W pixel vectors (planar, as ML.NET's
    /// ExtractPixels gives them).
    /// </summary>
    internal sealed class LeNetBackbone : Module<Tensor, Tensor>
    {
        private readonly int _channels, _height, _width;
        private readonly Sequential features;
        private readonly Sequential embedding;

        public LeNetBackbone(int channels, int height, int width, int embeddingSize, NormalizationKind normalization) : base(nameof(LeNetBackbone))
        {
            _channels = channels;
            _height = height;
            _width = width;
            var conv = new List<(string, Module<Tensor, Tensor>)>();
            foreach (var (index, input, output) in new[] { (1, channels, 32), (2, 32, 48) })
            {
                conv.Add(($"conv{index}", Conv2d(input, output, 5)));
                if (normalization == NormalizationKind.BatchNorm)
                    conv.Add(($"bn{index}", BatchNorm2d(output)));
                else if (normalization == NormalizationKind.InstanceNorm)
                    conv.Add(($"in{index}", InstanceNorm2d(output, affine: true)));
                conv.Add(($"relu{index}", ReLU()));
                conv.Add(($"pool{index}", MaxPool2d(2)));
            }
            features = Sequential(conv);
            var fc = new List<(string, Module<Tensor, Tensor>)> { ("fc", Linear(48 * FeatureMapSize(height) * FeatureMapSize(width), embeddingSize)) };
            if (normalization == NormalizationKind.BatchNorm)
                fc.Add(("bn_fc", BatchNorm1d(embeddingSize)));
            fc.Add(("relu", ReLU()));
            embedding = Sequential(fc);
            RegisterComponents();
        }

        /// <summary>Side of the last feature map for an input side: two (conv 5, pool 2) stages.</summary>
        public static int FeatureMapSize(int side) => ((side - 4) / 2 - 4) / 2;

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = input.view(-1, _channels, _height, _width);
            return embedding.forward(features.forward(x).flatten(1)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Classifier head on the embedding: Linear–ReLU–Linear (or one Linear when hidden size is 0), giving logits.</summary>
    internal sealed class ClassifierHead : Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public ClassifierHead(int embeddingSize, int hiddenSize, int classCount, string name = nameof(ClassifierHead)) : base(name)
        {
            layers = hiddenSize > 0
                ? Sequential(("fc1", Linear(embeddingSize, hiddenSize)), ("relu", ReLU()), ("fc2", Linear(hiddenSize, classCount)))
                : Sequential(("fc", Linear(embeddingSize, classCount)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor embedding) => layers.forward(embedding);
    }

    /// <summary>Domain discriminator on the embedding: Linear–ReLU–Linear to one logit (source vs target).</summary>
    internal sealed class DomainDiscriminator : Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public DomainDiscriminator(int embeddingSize, int hiddenSize) : base(nameof(DomainDiscriminator))
        {
            layers = Sequential(("fc1", Linear(embeddingSize, hiddenSize)), ("relu", ReLU()), ("fc2", Linear(hiddenSize, 1)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor embedding) => layers.forward(embedding).squeeze(1);
    }
}
