using System;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>Runs the scoring network on a batch of rows held in managed arrays.</summary>
    internal sealed class NetworkScorer
    {
        private readonly ScoringNetwork _network;

        public NetworkScorer(ScoringNetwork network, int featureSize)
        {
            Training.MallocTuning.EnsureConfigured();
            _network = network;
            FeatureSize = featureSize;
            EmbeddingSize = network.Spec.EmbeddingSize;
            ClassCount = network.Spec.ClassCount;
        }

        public int FeatureSize { get; }
        public int EmbeddingSize { get; }
        public int ClassCount { get; }

        /// <summary>Scores <paramref name="rows"/> rows of <paramref name="features"/> (row-major) into the output arrays.</summary>
        public void Score(float[] features, int rows, float[] embeddings, float[] probabilities)
        {
            if (rows == 0)
                return;
            using var scope = NewDisposeScope();
            // Inference mode, beyond no_grad: tensors carry no version counters or autograd metadata, which saves
            // per-operation work that matters most at one row per call (PredictionEngine).
            using var inference = inference_mode();
            var input = Data.TensorCopy.FromSpan(new ReadOnlySpan<float>(features, 0, rows * FeatureSize), rows, FeatureSize);
            var (embedding, probability) = _network.Score(input);
            embedding.data<float>().CopyTo(embeddings.AsSpan(0, rows * EmbeddingSize));
            probability.data<float>().CopyTo(probabilities.AsSpan(0, rows * ClassCount));
        }
    }
}
