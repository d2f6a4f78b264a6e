using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The conditioning of CDAN (Long, Cao, Wang &amp; Jordan, NeurIPS 2018): the discriminator sees the multilinear map
    /// f ⊗ g of the embedding f (d) and the class probabilities g (K), flattened to d·K values, so it can align the
    /// domains class by class. Above <see cref="DefaultMaxFullSize"/> values, the randomized map
    /// <c>(R_f f) ⊙ (R_g g) / √r</c> with fixed Gaussian matrices R_f (r × d), R_g (r × K) approximates it in r dimensions
    /// (its inner products are unbiased estimates of the full map's).
    /// </summary>
    internal sealed class MultilinearMap : nn.Module
    {
        /// <summary>Largest d·K for which the full outer product is used (CDAN's code: 4,096).</summary>
        public const int DefaultMaxFullSize = 4096;

        private readonly Tensor _projectFeatures;
        private readonly Tensor _projectClasses;

        /// <param name="embeddingSize">d.</param>
        /// <param name="classCount">K.</param>
        /// <param name="randomizedSize">r, used when d·K exceeds <paramref name="maxFullSize"/>.</param>
        /// <param name="maxFullSize">Largest d·K for which the full outer product is used.</param>
        public MultilinearMap(int embeddingSize, int classCount, int randomizedSize, int maxFullSize = DefaultMaxFullSize) : base(nameof(MultilinearMap))
        {
            Randomized = (long)embeddingSize * classCount > maxFullSize;
            OutputSize = Randomized ? randomizedSize : embeddingSize * classCount;
            if (Randomized)
            {
                // Drawn from the global generator, which the training loop seeds: the same seed gives the same map.
                _projectFeatures = randn(embeddingSize, randomizedSize);
                _projectClasses = randn(classCount, randomizedSize);
                register_buffer("project_features", _projectFeatures);
                register_buffer("project_classes", _projectClasses);
            }
        }

        public bool Randomized { get; }

        public int OutputSize { get; }

        /// <param name="features">n × d.</param>
        /// <param name="probabilities">n × K.</param>
        public Tensor Apply(Tensor features, Tensor probabilities)
        {
            using var scope = NewDisposeScope();
            var result = Randomized
                ? features.matmul(_projectFeatures) * probabilities.matmul(_projectClasses) / Math.Sqrt(OutputSize)
                : (probabilities.unsqueeze(2) * features.unsqueeze(1)).reshape(features.shape[0], -1);
            return result.MoveToOuterDisposeScope();
        }
    }
}
