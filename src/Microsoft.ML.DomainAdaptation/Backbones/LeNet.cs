using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// A LeNet-style convolutional network for image pixels: the feature vector holds
    /// <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/> values in planar order
    /// (as ML.NET's <c>ExtractPixels</c> gives them by default). A column whose dimensions say height × width × channels
    /// (interleaved) is refused rather than read with scrambled channels.
    /// </summary>
    public sealed class LeNetBackboneOptions : BackboneOptions
    {
        /// <summary>Number of colour channels. Default: 1.</summary>
        public int Channels = 1;

        /// <summary>Image height in pixels, at least 16. Default: 28.</summary>
        public int Height = 28;

        /// <summary>Image width in pixels, at least 16. Default: 28.</summary>
        public int Width = 28;

        internal override BackboneSpec CreateSpec(int featureSize, NormalizationKind normalization)
        {
            var image = new ImageShape(Channels, Height, Width);
            if (image.Size != featureSize)
                throw new ArgumentOutOfRangeException(nameof(DomainAdaptationOptions.Backbone),
                    $"LeNetBackboneOptions expects {image} = {image.Size} feature values per row, but the feature column has {featureSize}.");
            return new LeNetBackboneSpec(image, EmbeddingSize, normalization);
        }

        internal override void Validate()
        {
            base.Validate();
            DomainAdaptationOptions.Check(Channels > 0, nameof(Channels), Channels, "must be positive");
            DomainAdaptationOptions.Check(Height >= 16, nameof(Height), Height, "must be at least 16 (two 5×5 convolutions and two 2×2 poolings)");
            DomainAdaptationOptions.Check(Width >= 16, nameof(Width), Width, "must be at least 16 (two 5×5 convolutions and two 2×2 poolings)");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>LeNet's architecture: the image layout, the embedding size and the normalisation.</summary>
    [BackboneKind("LeNet")]
    internal sealed record LeNetBackboneSpec(ImageShape Shape, int EmbeddingSize, NormalizationKind Normalization) : BackboneSpec
    {
        public override int InputSize => Shape.Size;

        public override int EmbeddingSize { get; } = EmbeddingSize;

        public override ImageShape? Image => Shape;

        /// <summary>conv1 (C → 32, 5 × 5, valid) on the full image, conv2 (32 → 48, 5 × 5) on the pooled map: 3.0 M at 28 × 28 × 1.</summary>
        public override long? ConvolutionMultiplyAddsPerRow
        {
            get
            {
                const int k = LeNetBackbone.Kernel, c1 = LeNetBackbone.Conv1Channels, c2 = LeNetBackbone.Conv2Channels;
                static int Valid(int side) => side - k + 1; // a 5 × 5 convolution without padding
                long conv1 = (long)Valid(Shape.Height) * Valid(Shape.Width) * c1 * Shape.Channels * k * k;
                long conv2 = (long)Valid(Valid(Shape.Height) / 2) * Valid(Valid(Shape.Width) / 2) * c2 * c1 * k * k;
                return conv1 + conv2;
            }
        }

        public override Module<Tensor, Tensor> CreateModule() => new LeNetBackbone(Shape, EmbeddingSize, Normalization);

        public override string ExportOnnx(OnnxGraph graph, OnnxWeights weights, string input)
        {
            string x = graph.Node("Reshape", new[] { input, graph.Int64Initializer("image_shape", new long[] { -1, Shape.Channels, Shape.Height, Shape.Width }) });
            for (int i = 1; i <= 2; i++)
            {
                x = weights.Conv(graph, $"backbone.features.conv{i}", x, LeNetBackbone.Kernel);
                if (Normalization == NormalizationKind.BatchNorm)
                    x = weights.BatchNorm(graph, $"backbone.features.bn{i}", x);
                else if (Normalization == NormalizationKind.InstanceNorm)
                    x = weights.InstanceNorm(graph, $"backbone.features.in{i}", x);
                x = graph.Node("Relu", new[] { x });
                x = graph.Node("MaxPool", new[] { x }, attributes: new (string, object)[] { ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }) });
            }
            x = graph.Node("Flatten", new[] { x }, attributes: ("axis", 1L));
            x = weights.Linear(graph, "backbone.embedding.fc", x);
            if (Normalization == NormalizationKind.BatchNorm)
                x = weights.BatchNorm(graph, "backbone.embedding.bn_fc", x);
            return graph.Node("Relu", new[] { x });
        }

        protected override void WriteSettings(BinaryWriter writer)
        {
            writer.Write(Shape.Channels);
            writer.Write(Shape.Height);
            writer.Write(Shape.Width);
            writer.Write(EmbeddingSize);
            writer.Write((int)Normalization);
        }

        public static BackboneSpec Read(BinaryReader reader) =>
            new LeNetBackboneSpec(new ImageShape(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32()), reader.ReadInt32(), (NormalizationKind)reader.ReadInt32());

        public override void CheckRead()
        {
            if (Shape.Channels <= 0 || Shape.Height < 16 || Shape.Width < 16 || EmbeddingSize <= 0 || !Enum.IsDefined(Normalization))
                throw new InvalidDataException($"The model's LeNet backbone description is invalid: {this}.");
        }

        public override string ToString() => $"LeNet {Shape} → {EmbeddingSize}, {Normalization}";
    }

    /// <summary>
    /// LeNet-style convolutional backbone of the digits literature: conv(C→32, 5)–ReLU–maxpool 2–conv(32→48, 5)–
    /// ReLU–maxpool 2–Linear–ReLU to the embedding (each ReLU run after its pooling, which gives the same values), with batch or instance normalisation after each convolution
    /// (batch normalisation after the Linear too) when asked. Takes flat C×H×W pixel vectors (planar, as ML.NET's
    /// ExtractPixels gives them).
    /// </summary>
    internal sealed class LeNetBackbone : Module<Tensor, Tensor>
    {
        public const int Kernel = 5;

        /// <summary>Output channels of the first and second convolution.</summary>
        public const int Conv1Channels = 32, Conv2Channels = 48;

        private readonly ImageShape _shape;
        private readonly Sequential features;
        private readonly Sequential embedding;

        public LeNetBackbone(ImageShape shape, int embeddingSize, NormalizationKind normalization) : base(nameof(LeNetBackbone))
        {
            _shape = shape;
            var conv = new List<(string, Module<Tensor, Tensor>)>();
            foreach (var (index, input, output) in new[] { (1, shape.Channels, Conv1Channels), (2, Conv1Channels, Conv2Channels) })
            {
                conv.Add(($"conv{index}", Conv2d(input, output, Kernel)));
                if (normalization == NormalizationKind.BatchNorm)
                    conv.Add(($"bn{index}", BatchNorm2d(output)));
                else if (normalization == NormalizationKind.InstanceNorm)
                    conv.Add(($"in{index}", InstanceNorm2d(output, affine: true)));
                // Pooling before the ReLU: max and ReLU commute (the same values and, the window's first maximum being the same
                // element, the same gradients), and the ReLU then runs on a quarter of the values, forward and backward.
                conv.Add(($"pool{index}", new MaxPool2x2())); // max_pool2d when training; faster, same values when scoring
                conv.Add(($"relu{index}", ReLU()));
            }
            features = Sequential(conv);
            var fc = new List<(string, Module<Tensor, Tensor>)> { ("fc", Linear(Conv2Channels * FeatureMapSize(shape.Height) * FeatureMapSize(shape.Width), embeddingSize)) };
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
            var x = input.view(-1, _shape.Channels, _shape.Height, _shape.Width);
            if (is_grad_enabled())
                x = MaxPool2x2.ChannelsLast(x); // the whole network in channels-last when training: see MaxPool2x2
            return embedding.forward(features.forward(x).flatten(1)).MoveToOuterDisposeScope();
        }
    }
}
