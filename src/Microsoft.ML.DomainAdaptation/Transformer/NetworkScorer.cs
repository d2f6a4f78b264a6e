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

        /// <summary>
        /// Batches of fewer rows than this are scored on one thread. A row's operations are too small to split: each of
        /// libtorch's parallel regions wakes the other threads, which costs more than it saves, and on a busy machine it waits
        /// for a descheduled thread. One row (PredictionEngine) on a loaded 2-core machine: median 210–245 µs with 1 thread,
        /// 384–441 µs with 2 (LeNet, issue 18).
        /// </summary>
        internal const int SingleThreadRows = 16;

        /// <summary>Scores <paramref name="rows"/> rows of <paramref name="features"/> (row-major) into the output arrays.</summary>
        public void Score(float[] features, int rows, float[] embeddings, float[] probabilities)
        {
            ThrowIfDisposed();
            if (rows == 0)
                return;
            int threads = rows < SingleThreadRows ? get_num_threads() : 1;
            if (threads == 1)
            {
                Run(features, rows, embeddings, probabilities);
                return;
            }
            // libtorch's thread count for this thread (its OpenMP setting is per calling thread), put back afterwards.
            set_num_threads(1);
            try
            {
                Run(features, rows, embeddings, probabilities);
            }
            finally
            {
                set_num_threads(threads);
            }
        }

        private void Run(float[] features, int rows, float[] embeddings, float[] probabilities)
        {
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
