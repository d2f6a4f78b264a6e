using System;
using Microsoft.ML.DomainAdaptation.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// Draws fixed-size batches of one domain from its rows (<see cref="FeatureRows"/>: only a batch's rows become floats): a
    /// new random permutation each epoch, the remainder of an epoch dropped (as PyTorch's DataLoader with drop_last).
    /// </summary>
    internal sealed class BatchSampler : IDisposable
    {
        private readonly FeatureRows _features;
        private readonly Tensor _labels;
        private readonly int _batchSize;
        private readonly Random _random;
        private readonly long[] _order;
        private readonly long[] _batch;
        private int _next;

        public BatchSampler(FeatureRows features, Tensor labels, int batchSize, Random random)
        {
            _features = features;
            _labels = labels;
            _batchSize = batchSize;
            _random = random;
            _order = new long[features.Count];
            _batch = new long[batchSize];
            for (int i = 0; i < _order.Length; i++)
                _order[i] = i;
            _next = _order.Length;
        }

        /// <summary>All rows' features.</summary>
        public FeatureRows Features => _features;

        /// <summary>The next batch's features and labels (created in the caller's dispose scope).</summary>
        public (Tensor Features, Tensor Labels) Next()
        {
            Advance();
            using var index = tensor(_batch);
            return (_features.Gather(_batch), _labels.index_select(0, index));
        }

        /// <summary>Draws the next batch's rows without gathering them (a resumed training replays its samplers this way).</summary>
        public void Skip() => Advance();

        private void Advance()
        {
            if (_next + _batchSize > _order.Length)
            {
                _random.Shuffle(_order);
                _next = 0;
            }
            Array.Copy(_order, _next, _batch, 0, _batchSize);
            _next += _batchSize;
        }

        /// <summary>Frees the labels; the features belong to their <see cref="DomainData"/>.</summary>
        public void Dispose() => _labels.Dispose();
    }
}
