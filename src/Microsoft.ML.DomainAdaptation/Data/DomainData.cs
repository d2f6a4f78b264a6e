using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// The training rows of both domains, read once from the <see cref="IDataView"/>: features in libtorch memory, as bytes
    /// when they are integers in 0–255 (see <see cref="FeatureStore"/>), and 0-based class indices, so that training samples
    /// batches from memory. Disposing it frees the features of the data <see cref="Read"/> made (selections share them).
    /// </summary>
    internal sealed class DomainData : IDisposable
    {
        private FeatureStore[] _owned = Array.Empty<FeatureStore>();

        public int FeatureSize { get; init; }
        public int ClassCount { get; init; }
        public FeatureRows SourceFeatures { get; init; }
        public long[] SourceLabels { get; init; }
        public int SourceCount { get; init; }
        public FeatureRows TargetFeatures { get; init; }
        /// <summary>0-based class of each target row, -1 where the row has no label.</summary>
        public long[] TargetLabels { get; init; }
        public int TargetCount { get; init; }

        /// <summary>
        /// Reads the feature, label and domain columns with one cursor. Rejects, naming the column and row, what cannot
        /// be trained on: non-finite features, source rows without a label, and data without rows of both domains.
        /// Rows are numbered as users count them: the first row of the view is row 1. <paramref name="chunkElements"/> and
        /// <paramref name="allowBytes"/> are the storage's knobs (<see cref="FeatureStore"/>), for tests.
        /// </summary>
        public static DomainData Read(IDataView data, string featureColumn, string labelColumn, string domainColumn, int featureSize, int classCount,
            int chunkElements = FeatureStore.DefaultChunkElements, bool allowBytes = true)
        {
            var schema = data.Schema;
            var features = schema[featureColumn];
            var label = schema[labelColumn];
            var domain = schema[domainColumn];
            var source = new FeatureStore(featureSize, chunkElements, allowBytes);
            var target = new FeatureStore(featureSize, chunkElements, allowBytes);
            var sourceLabels = new List<long>();
            var targetLabels = new List<long>();
            var dense = new float[featureSize];
            try
            {
                using (var cursor = data.GetRowCursor(new[] { features, label, domain }))
                {
                    var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
                    var getLabel = cursor.GetGetter<uint>(label);
                    var getDomain = cursor.GetGetter<bool>(domain);
                    VBuffer<float> row = default;
                    uint key = 0;
                    bool isTarget = false;
                    long rowNumber = 0; // 1-based row number, as in messages
                    while (cursor.MoveNext())
                    {
                        rowNumber++;
                        getFeatures(ref row);
                        getLabel(ref key);
                        getDomain(ref isTarget);
                        if (row.Length != featureSize)
                            throw new InvalidOperationException(
                                $"Row {rowNumber} of feature column '{featureColumn}' has {row.Length} values, expected {featureSize}.");
                        if (key > classCount)
                            throw new InvalidOperationException(
                                $"Row {rowNumber} of label column '{labelColumn}' has key {key}, outside the label's {classCount} classes.");
                        row.CopyTo(dense);
                        for (int i = 0; i < dense.Length; i++)
                        {
                            if (!float.IsFinite(dense[i]))
                                throw new InvalidOperationException(
                                    $"Row {rowNumber} of feature column '{featureColumn}' has the non-finite value {dense[i]} in slot {i}; replace or remove missing values before training (e.g. with ReplaceMissingValues).");
                        }
                        (isTarget ? target : source).Append(dense);
                        if (isTarget)
                        {
                            targetLabels.Add(key == 0 ? -1 : key - 1);
                        }
                        else
                        {
                            if (key == 0)
                                throw new InvalidOperationException(
                                    $"Row {rowNumber} is a source row (domain column '{domainColumn}' is false) with a missing value in label column '{labelColumn}'; every source row needs a label.");
                            sourceLabels.Add(key - 1);
                        }
                    }
                }

                source.Complete();
                target.Complete();
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
                    SourceFeatures = new FeatureRows(source),
                    SourceLabels = sourceLabels.ToArray(),
                    SourceCount = sourceLabels.Count,
                    TargetFeatures = new FeatureRows(target),
                    TargetLabels = targetLabels.ToArray(),
                    TargetCount = targetLabels.Count,
                    _owned = new[] { source, target },
                };
            }
            catch
            {
                source.Dispose();
                target.Dispose();
                throw;
            }
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
            SourceFeatures = SourceFeatures.Select(sourceRows),
            SourceLabels = sourceRows.Select(r => SourceLabels[r]).ToArray(),
            SourceCount = sourceRows.Length,
            TargetFeatures = TargetFeatures.Select(targetRows),
            TargetLabels = targetRows.Select(r => TargetLabels[r]).ToArray(),
            TargetCount = targetRows.Length,
        };

        public void Dispose()
        {
            foreach (var store in _owned)
                store.Dispose();
            _owned = Array.Empty<FeatureStore>();
        }
    }
}
