using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Normalisation layers of a backbone.</summary>
    public enum NormalizationKind
    {
        /// <summary>No normalisation layers.</summary>
        None = 0,
        /// <summary>Batch normalisation after each convolution and linear layer of the backbone (needed by AdaBN).</summary>
        BatchNorm = 1,
        /// <summary>Instance normalisation after each convolution (LeNet only): per-image statistics, removing per-image contrast and style.</summary>
        InstanceNorm = 2,
    }

    /// <summary>The feature extractor whose output is the domain-invariant embedding.</summary>
    public abstract class BackboneOptions
    {
        /// <summary>Size of the embedding (the backbone's output). Default: 100. Must be positive.</summary>
        public int EmbeddingSize = 100;

        /// <summary>Normalisation layers in the backbone. Default: <see cref="NormalizationKind.None"/>.</summary>
        public NormalizationKind Normalization = NormalizationKind.None;

        internal abstract NetworkSpec CreateSpec(int featureSize, int classifierHiddenSize, int classCount);

        internal virtual void Validate()
        {
            DomainAdaptationOptions.Check(EmbeddingSize > 0, nameof(EmbeddingSize), EmbeddingSize, "must be positive");
            DomainAdaptationOptions.Check(Enum.IsDefined(Normalization), nameof(Normalization), Normalization, "must be None, BatchNorm or InstanceNorm");
        }
    }

    /// <summary>A multi-layer perceptron for plain numeric vectors (tabular data, text features, pretrained embeddings).</summary>
    public sealed class MlpBackboneOptions : BackboneOptions
    {
        /// <summary>Widths of the hidden layers before the embedding layer, each with ReLU. Default: { 256 }. May be empty.</summary>
        public int[] HiddenLayerSizes = { 256 };

        internal override NetworkSpec CreateSpec(int featureSize, int classifierHiddenSize, int classCount) =>
            new NetworkSpec(BackboneKind.Mlp, featureSize, HiddenLayerSizes.ToArray(), 0, 0, 0, EmbeddingSize, classifierHiddenSize, classCount, Normalization);

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

    /// <summary>
    /// A LeNet-style convolutional network for image pixels: the feature vector holds
    /// <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/> values in planar order
    /// (as ML.NET's <c>ExtractPixels</c> gives them by default).
    /// </summary>
    public sealed class LeNetBackboneOptions : BackboneOptions
    {
        /// <summary>Number of colour channels. Default: 1.</summary>
        public int Channels = 1;

        /// <summary>Image height in pixels, at least 16. Default: 28.</summary>
        public int Height = 28;

        /// <summary>Image width in pixels, at least 16. Default: 28.</summary>
        public int Width = 28;

        internal override NetworkSpec CreateSpec(int featureSize, int classifierHiddenSize, int classCount)
        {
            if (Channels * Height * Width != featureSize)
                throw new ArgumentOutOfRangeException(nameof(DomainAdaptationOptions.Backbone),
                    $"LeNetBackboneOptions expects {Channels} × {Height} × {Width} = {Channels * Height * Width} feature values per row, but the feature column has {featureSize}.");
            return new NetworkSpec(BackboneKind.LeNet, featureSize, Array.Empty<int>(), Channels, Height, Width, EmbeddingSize, classifierHiddenSize, classCount, Normalization);
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
