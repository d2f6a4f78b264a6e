using System;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>Runs the scoring network on a batch of rows held in managed arrays.</summary>
    internal sealed class NetworkScorer
    {
        private readonly ScoringNetwork _network;
        private volatile bool _disposed;

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

        public bool IsDisposed => _disposed;

        /// <summary>Throws an <see cref="ObjectDisposedException"/> once the transformer (and its network) was disposed.</summary>
        public void ThrowIfDisposed()
        {
            if (_disposed)
                throw new ObjectDisposedException(nameof(DomainAdaptationTransformer),
                    "The domain adaptation transformer was disposed: its network's weights are released, so it can no longer score, save or export.");
        }

        /// <summary>Releases the network; every later use throws (scoring views and prediction engines made before included).</summary>
        public void Dispose()
        {
            _disposed = true;
            _network.Dispose();
        }

        /// <summary>Scores <paramref name="rows"/> rows of <paramref name="features"/> (row-major) into the output arrays.</summary>
        public void Score(float[] features, int rows, float[] embeddings, float[] probabilities)
        {
            ThrowIfDisposed();
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
