using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// The training rows of both domains, read once from the <see cref="IDataView"/> into contiguous buffers
    /// (row-major features, 0-based class indices), so that training samples batches from memory.
    /// </summary>
    internal sealed class DomainData
    {
        public int FeatureSize { get; init; }
        public int ClassCount { get; init; }
        public float[] SourceFeatures { get; init; }
        public long[] SourceLabels { get; init; }
        public int SourceCount { get; init; }
        public float[] TargetFeatures { get; init; }
        /// <summary>0-based class of each target row, -1 where the row has no label.</summary>
        public long[] TargetLabels { get; init; }
        public int TargetCount { get; init; }

        /// <summary>
        /// Reads the feature, label and domain columns with one cursor. Rejects, naming the column and row, what cannot
        /// be trained on: non-finite features, source rows without a label, and data without rows of both domains.
        /// </summary>
        public static DomainData Read(IDataView data, string featureColumn, string labelColumn, string domainColumn, int featureSize, int classCount)
        {
            var schema = data.Schema;
            var features = schema[featureColumn];
            var label = schema[labelColumn];
            var domain = schema[domainColumn];
            var source = new GrowableBuffer(featureSize);
            var target = new GrowableBuffer(featureSize);
            var sourceLabels = new List<long>();
            var targetLabels = new List<long>();

            using (var cursor = data.GetRowCursor(new[] { features, label, domain }))
            {
                var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
                var getLabel = cursor.GetGetter<uint>(label);
                var getDomain = cursor.GetGetter<bool>(domain);
                VBuffer<float> row = default;
                uint key = 0;
                bool isTarget = false;
                long rowIndex = -1;
                while (cursor.MoveNext())
                {
                    rowIndex++;
                    getFeatures(ref row);
                    getLabel(ref key);
                    getDomain(ref isTarget);
                    if (row.Length != featureSize)
                        throw new InvalidOperationException(
                            $"Row {rowIndex} of feature column '{featureColumn}' has {row.Length} values, expected {featureSize}.");
                    if (key > classCount)
                        throw new InvalidOperationException(
                            $"Row {rowIndex} of label column '{labelColumn}' has key {key}, outside the label's {classCount} classes.");
                    var span = (isTarget ? target : source).Append(row);
                    for (int i = 0; i < span.Length; i++)
                    {
                        if (!float.IsFinite(span[i]))
                            throw new InvalidOperationException(
                                $"Row {rowIndex} of feature column '{featureColumn}' has the non-finite value {span[i]} in slot {i}; replace or remove missing values before training (e.g. with ReplaceMissingValues).");
                    }
                    if (isTarget)
                    {
                        targetLabels.Add(key == 0 ? -1 : key - 1);
                    }
                    else
                    {
                        if (key == 0)
                            throw new InvalidOperationException(
                                $"Row {rowIndex} is a source row (domain column '{domainColumn}' is false) with a missing value in label column '{labelColumn}'; every source row needs a label.");
                        sourceLabels.Add(key - 1);
                    }
                }
            }

            if (sourceLabels.Count == 0)
                throw new InvalidOperationException($"The data has no source rows (rows whose domain column '{domainColumn}' is false); domain adaptation needs labeled source rows.");
            if (targetLabels.Count == 0)
                throw new InvalidOperationException($"The data has no target rows (rows whose domain column '{domainColumn}' is true); combine source and target with mlContext.Data.CombineDomains.");
            var distinct = new HashSet<long>(sourceLabels);
            if (distinct.Count < 2)
                throw new InvalidOperationException($"The source rows of label column '{labelColumn}' hold a single class; a classifier needs at least two.");

            return new DomainData
            {
                FeatureSize = featureSize,
                ClassCount = classCount,
                SourceFeatures = source.ToArray(),
                SourceLabels = sourceLabels.ToArray(),
                SourceCount = sourceLabels.Count,
                TargetFeatures = target.ToArray(),
                TargetLabels = targetLabels.ToArray(),
                TargetCount = targetLabels.Count,
            };
        }

        /// <summary>
        /// Splits off held-out rows for validation during training: a seeded random <paramref name="fraction"/> of each domain's
        /// rows (at most <paramref name="maxRows"/>, at least 2), so that <paramref name="keepAtLeast"/> rows per domain stay for training.
        /// </summary>
        public (DomainData Training, DomainData HeldOut) HoldOut(float fraction, int maxRows, int keepAtLeast, int seed)
        {
            var random = new Random(seed);
            var (sourceTrain, sourceHeld) = Pick(SourceCount, "source");
            var (targetTrain, targetHeld) = Pick(TargetCount, "target");
            return (Subset(sourceTrain, targetTrain), Subset(sourceHeld, targetHeld));

            (int[] Train, int[] Held) Pick(int count, string domain)
            {
                int held = Math.Min(maxRows, Math.Max(2, (int)(count * fraction)));
                if (count - held < keepAtLeast)
                    throw new ArgumentOutOfRangeException(nameof(DomainAdaptationOptions.Validation),
                        $"Holding out {held} of the {count} {domain} rows for validation leaves fewer than {keepAtLeast} (a batch) to train on; lower Validation.HeldOutFraction or BatchSize.");
                var order = Enumerable.Range(0, count).ToArray();
                random.Shuffle(order);
                var heldRows = order.Take(held).Order().ToArray();
                return (order.Skip(held).Order().ToArray(), heldRows);
            }
        }

        private DomainData Subset(int[] sourceRows, int[] targetRows) => new()
        {
            FeatureSize = FeatureSize,
            ClassCount = ClassCount,
            SourceFeatures = Rows(SourceFeatures, sourceRows),
            SourceLabels = sourceRows.Select(r => SourceLabels[r]).ToArray(),
            SourceCount = sourceRows.Length,
            TargetFeatures = Rows(TargetFeatures, targetRows),
            TargetLabels = targetRows.Select(r => TargetLabels[r]).ToArray(),
            TargetCount = targetRows.Length,
        };

        private float[] Rows(float[] features, int[] rows)
        {
            var result = new float[(long)rows.Length * FeatureSize];
            for (int i = 0; i < rows.Length; i++)
                Array.Copy(features, (long)rows[i] * FeatureSize, result, (long)i * FeatureSize, FeatureSize);
            return result;
        }

        /// <summary>Appends dense rows of a fixed width to one growing float array.</summary>
        private sealed class GrowableBuffer
        {
            private readonly int _width;
            private float[] _values = new float[1024];
            private long _length;

            public GrowableBuffer(int width) => _width = width;

            public Span<float> Append(in VBuffer<float> row)
            {
                if (_length + _width > _values.Length)
                    Array.Resize(ref _values, (int)Math.Min(Array.MaxLength, Math.Max(_values.Length * 2L, _length + _width)));
                var span = _values.AsSpan((int)_length, _width);
                row.CopyTo(span);
                _length += _width;
                return span;
            }

            public float[] ToArray() => _values.AsSpan(0, (int)_length).ToArray();
        }
    }
}
