using System;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Normalisation layers of a backbone.</summary>
    public enum NormalizationKind
    {
        /// <summary>No normalisation layers.</summary>
        None = 0,
        /// <summary>Batch normalisation after each convolution and linear layer of the backbone (needed by AdaBN).</summary>
        BatchNorm = 1,
        /// <summary>Instance normalisation after each convolution (convolutional backbones only): per-image statistics, removing per-image contrast and style.</summary>
        InstanceNorm = 2,
    }

    /// <summary>
    /// The feature extractor whose output is the domain-invariant embedding. Each backbone is one options class deriving from
    /// this one (<see cref="MlpBackboneOptions"/>, <see cref="LeNetBackboneOptions"/>, …), kept in one file with the network it
    /// builds, how the model file stores it and its ONNX form.
    /// </summary>
    public abstract class BackboneOptions
    {
        /// <summary>Size of the embedding (the backbone's output). Default: 100. Must be positive.</summary>
        public int EmbeddingSize = 100;

        /// <summary>Normalisation layers in the backbone. Default: <see cref="NormalizationKind.None"/>.</summary>
        public NormalizationKind Normalization = NormalizationKind.None;

        /// <summary>
        /// The backbone's architecture for a feature column of <paramref name="featureSize"/> values, with the normalisation the
        /// method trains with (<paramref name="normalization"/>: the options' own, or batch normalisation for AdaBN). Throws an
        /// <see cref="ArgumentOutOfRangeException"/> naming the option when the feature size does not fit.
        /// </summary>
        internal abstract Networks.BackboneSpec CreateSpec(int featureSize, NormalizationKind normalization);

        /// <summary>A copy of these options (the estimator keeps its own, so later changes to the caller's object change nothing).</summary>
        internal virtual BackboneOptions Clone() => (BackboneOptions)MemberwiseClone();

        internal virtual void Validate()
        {
            DomainAdaptationOptions.Check(EmbeddingSize > 0, nameof(EmbeddingSize), EmbeddingSize, "must be positive");
            DomainAdaptationOptions.Check(Enum.IsDefined(Normalization), nameof(Normalization), Normalization, "must be None, BatchNorm or InstanceNorm");
        }
    }
}
