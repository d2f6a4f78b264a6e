using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// What an unsupervised validation scorer reads: for held-out labeled source rows, the embedding, the class probabilities
    /// and the true class; for held-out target rows, the embedding and the class probabilities (their labels are never read).
    /// Build it from a fitted model with <see cref="Create"/>, or from arrays (e.g. to score another model's outputs).
    /// </summary>
    public sealed class ValidationSet
    {
        private readonly ConcurrentDictionary<(double, int, int), double[][]> _domainProbabilities = new();

        /// <summary>Makes a validation set from per-row arrays.</summary>
        /// <param name="sourceEmbeddings">Embedding of each labeled source row.</param>
        /// <param name="sourceProbabilities">Class probabilities of each labeled source row (K values each).</param>
        /// <param name="sourceLabels">0-based true class of each labeled source row, in [0, K).</param>
        /// <param name="targetEmbeddings">Embedding of each target row (same size as the source's).</param>
        /// <param name="targetProbabilities">Class probabilities of each target row (K values each).</param>
        public ValidationSet(float[][] sourceEmbeddings, float[][] sourceProbabilities, int[] sourceLabels,
            float[][] targetEmbeddings, float[][] targetProbabilities)
        {
            Check(sourceEmbeddings, nameof(sourceEmbeddings));
            Check(sourceProbabilities, nameof(sourceProbabilities));
            Check(targetEmbeddings, nameof(targetEmbeddings));
            Check(targetProbabilities, nameof(targetProbabilities));
            if (sourceLabels is null)
                throw new ArgumentNullException(nameof(sourceLabels));
            if (sourceEmbeddings.Length == 0 || targetEmbeddings.Length == 0)
                throw new ArgumentException($"A validation set needs at least one source and one target row; got {sourceEmbeddings.Length} source and {targetEmbeddings.Length} target rows.");
            if (sourceProbabilities.Length != sourceEmbeddings.Length || sourceLabels.Length != sourceEmbeddings.Length)
                throw new ArgumentException($"The source arrays must have one entry per row: {sourceEmbeddings.Length} embeddings, {sourceProbabilities.Length} probability rows, {sourceLabels.Length} labels.");
            if (targetProbabilities.Length != targetEmbeddings.Length)
                throw new ArgumentException($"The target arrays must have one entry per row: {targetEmbeddings.Length} embeddings, {targetProbabilities.Length} probability rows.", nameof(targetProbabilities));
            int embeddingSize = sourceEmbeddings[0].Length, classCount = sourceProbabilities[0].Length;
            if (sourceEmbeddings.Concat(targetEmbeddings).Any(e => e.Length != embeddingSize))
                throw new ArgumentException($"Every embedding must have {embeddingSize} values, the size of the first.", nameof(targetEmbeddings));
            if (sourceProbabilities.Concat(targetProbabilities).Any(p => p.Length != classCount) || classCount < 2)
                throw new ArgumentException($"Every probability row must have the same number of classes (at least 2); the first has {classCount}.", nameof(targetProbabilities));
            if (sourceLabels.Any(l => l < 0 || l >= classCount))
                throw new ArgumentOutOfRangeException(nameof(sourceLabels), $"Source labels must be 0-based classes in [0, {classCount}).");
            SourceEmbeddings = sourceEmbeddings;
            SourceProbabilities = sourceProbabilities;
            SourceLabels = sourceLabels;
            TargetEmbeddings = targetEmbeddings;
            TargetProbabilities = targetProbabilities;
        }

        /// <summary>Embedding of each labeled source row.</summary>
        public IReadOnlyList<float[]> SourceEmbeddings { get; }

        /// <summary>Class probabilities of each labeled source row.</summary>
        public IReadOnlyList<float[]> SourceProbabilities { get; }

        /// <summary>0-based true class of each labeled source row.</summary>
        public IReadOnlyList<int> SourceLabels { get; }

        /// <summary>Embedding of each target row.</summary>
        public IReadOnlyList<float[]> TargetEmbeddings { get; }

        /// <summary>Class probabilities of each target row.</summary>
        public IReadOnlyList<float[]> TargetProbabilities { get; }

        /// <summary>Number of classes.</summary>
        public int ClassCount => SourceProbabilities[0].Length;

        /// <summary>
        /// Scores the held-out rows <paramref name="heldOut"/> (both domains, told apart by the Boolean column
        /// <paramref name="domainColumnName"/>) with <paramref name="model"/> and keeps, per row, the embedding and the
        /// class probabilities, plus the label of the source rows (source rows with a missing label are left out; target
        /// labels are never read).
        /// </summary>
        /// <param name="model">The fitted domain adaptation network.</param>
        /// <param name="heldOut">Rows not used in training: the model's feature column, its label column (a key with the model's
        /// classes) and the domain column.</param>
        /// <param name="domainColumnName">The Boolean column, false on source rows and true on target rows. Default: "IsTarget".</param>
        public static ValidationSet Create(DomainAdaptationTransformer model, IDataView heldOut, string domainColumnName = "IsTarget")
        {
            if (model is null)
                throw new ArgumentNullException(nameof(model));
            if (heldOut is null)
                throw new ArgumentNullException(nameof(heldOut));
            var domain = heldOut.Schema.GetColumnOrNull(domainColumnName)
                ?? throw Data.SchemaErrors.MissingColumn(nameof(heldOut), "domain", domainColumnName);
            if (domain.Type != BooleanDataViewType.Instance)
                throw Data.SchemaErrors.Mismatch(nameof(heldOut), "domain", domainColumnName, "Boolean", domain.Type.ToString());
            var label = heldOut.Schema.GetColumnOrNull(model.LabelColumnName)
                ?? throw Data.SchemaErrors.MissingColumn(nameof(heldOut), "label", model.LabelColumnName);
            if (label.Type is not KeyDataViewType { RawType: var raw } || raw != typeof(uint))
                throw Data.SchemaErrors.Mismatch(nameof(heldOut), "label", model.LabelColumnName, "Key<UInt32>", label.Type.ToString());

            var scored = model.Transform(heldOut);
            var schema = scored.Schema;
            var columns = new[] { schema[model.EmbeddingColumnName], schema[model.ScoreColumnName], schema[model.LabelColumnName], schema[domainColumnName] };
            var sourceEmbeddings = new List<float[]>();
            var sourceProbabilities = new List<float[]>();
            var sourceLabels = new List<int>();
            var targetEmbeddings = new List<float[]>();
            var targetProbabilities = new List<float[]>();
            using (var cursor = scored.GetRowCursor(columns))
            {
                var getEmbedding = cursor.GetGetter<VBuffer<float>>(columns[0]);
                var getScore = cursor.GetGetter<VBuffer<float>>(columns[1]);
                var getLabel = cursor.GetGetter<uint>(columns[2]);
                var getDomain = cursor.GetGetter<bool>(columns[3]);
                VBuffer<float> embedding = default, score = default;
                uint key = 0;
                bool isTarget = false;
                while (cursor.MoveNext())
                {
                    getDomain(ref isTarget);
                    if (!isTarget)
                    {
                        getLabel(ref key);
                        if (key == 0)
                            continue;
                    }
                    getEmbedding(ref embedding);
                    getScore(ref score);
                    if (isTarget)
                    {
                        targetEmbeddings.Add(embedding.DenseValues().ToArray());
                        targetProbabilities.Add(score.DenseValues().ToArray());
                    }
                    else
                    {
                        sourceEmbeddings.Add(embedding.DenseValues().ToArray());
                        sourceProbabilities.Add(score.DenseValues().ToArray());
                        sourceLabels.Add((int)key - 1);
                    }
                }
            }
            if (sourceEmbeddings.Count == 0 || targetEmbeddings.Count == 0)
                throw new ArgumentException($"The held-out rows must include labeled source rows and target rows; got {sourceEmbeddings.Count} labeled source and {targetEmbeddings.Count} target rows.", nameof(heldOut));
            return new ValidationSet(sourceEmbeddings.ToArray(), sourceProbabilities.ToArray(), sourceLabels.ToArray(),
                targetEmbeddings.ToArray(), targetProbabilities.ToArray());
        }

        /// <summary>
        /// Cross-fitted p(target | embedding) for every source row [0] and target row [1], from a logistic domain classifier;
        /// computed once per setting and shared by the scorers that need it (IWV, DEV).
        /// </summary>
        internal double[][] DomainProbabilities(double l2, int folds, int seed) =>
            _domainProbabilities.GetOrAdd((l2, folds, seed), key =>
                Selection.DomainClassifier.CrossFittedTargetProbabilities(SourceEmbeddings, TargetEmbeddings, key.Item1, key.Item2, key.Item3));

        private static void Check(float[][] rows, string name)
        {
            if (rows is null)
                throw new ArgumentNullException(name);
            if (rows.Any(r => r is null))
                throw new ArgumentException("Every row must have values.", name);
        }
    }
}
