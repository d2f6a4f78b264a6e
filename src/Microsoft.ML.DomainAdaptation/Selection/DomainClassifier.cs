using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DomainAdaptation.Selection
{
    /// <summary>
    /// A linear domain classifier on embeddings: ML.NET's L-BFGS logistic regression on standardised features, source = 0,
    /// target = 1. Cross-fitted: the rows are cut into folds (the same permutation in both domains) and every row's p(target | x)
    /// comes from the classifier trained on the other folds, so that the density ratios and the held-out error it gives do not
    /// reward a classifier for memorising its own training rows.
    /// </summary>
    internal static class DomainClassifier
    {
        private sealed class Row
        {
            public float[] Features;
            public bool Label;
        }

        /// <summary>Clipping of p(target | x) away from 0 and 1, so that density ratios stay finite.</summary>
        public const double ProbabilityEpsilon = 1e-6;

        /// <returns>[0]: p(target | x) of each source row; [1]: of each target row.</returns>
        public static double[][] CrossFittedTargetProbabilities(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target, double l2, int folds, int seed)
        {
            if (folds < 2)
                throw new ArgumentOutOfRangeException(nameof(folds), folds, $"The domain classifier needs at least 2 folds; got {folds}.");
            if (source.Count < folds || target.Count < folds)
                throw new ArgumentException($"The domain classifier needs at least {folds} rows per domain (one per fold); got {source.Count} source and {target.Count} target rows.");
            int dimension = source[0].Length;
            var sourceFold = Folds(source.Count, folds, seed);
            var targetFold = Folds(target.Count, folds, seed);
            var result = new[] { new double[source.Count], new double[target.Count] };
            var ml = new MLContext(seed);
            var definition = SchemaDefinition.Create(typeof(Row));
            definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
            var trainer = ml.Transforms.NormalizeMeanVariance(nameof(Row.Features))
                .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
                {
                    LabelColumnName = nameof(Row.Label),
                    FeatureColumnName = nameof(Row.Features),
                    L2Regularization = (float)l2,
                    L1Regularization = 0,
                    NumberOfThreads = 1,
                }));
            for (int fold = 0; fold < folds; fold++)
            {
                var training = Rows(source, sourceFold, fold, false, include: false).Concat(Rows(target, targetFold, fold, true, include: false)).ToList();
                var model = trainer.Fit(ml.Data.LoadFromEnumerable(training, definition));
                Predict(ml, model, definition, source, sourceFold, fold, result[0]);
                Predict(ml, model, definition, target, targetFold, fold, result[1]);
            }
            return result;
        }

        /// <summary>Fold of each of <paramref name="count"/> rows: a seeded permutation cut into near-equal parts.</summary>
        private static int[] Folds(int count, int folds, int seed)
        {
            var order = Enumerable.Range(0, count).ToArray();
            new Random(seed).Shuffle(order);
            var fold = new int[count];
            for (int i = 0; i < count; i++)
                fold[order[i]] = (int)((long)i * folds / count);
            return fold;
        }

        private static IEnumerable<Row> Rows(IReadOnlyList<float[]> rows, int[] fold, int which, bool isTarget, bool include)
        {
            for (int i = 0; i < rows.Count; i++)
            {
                if ((fold[i] == which) == include)
                    yield return new Row { Features = rows[i], Label = isTarget };
            }
        }

        private static void Predict(MLContext ml, ITransformer model, SchemaDefinition definition, IReadOnlyList<float[]> rows, int[] fold, int which, double[] into)
        {
            var indices = Enumerable.Range(0, rows.Count).Where(i => fold[i] == which).ToArray();
            var scored = model.Transform(ml.Data.LoadFromEnumerable(indices.Select(i => new Row { Features = rows[i] }), definition));
            var column = scored.Schema["Probability"];
            using var cursor = scored.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<float>(column);
            float p = 0;
            int k = 0;
            while (cursor.MoveNext())
            {
                getter(ref p);
                into[indices[k++]] = Math.Clamp(float.IsNaN(p) ? 0.5 : p, ProbabilityEpsilon, 1 - ProbabilityEpsilon);
            }
        }
    }
}
