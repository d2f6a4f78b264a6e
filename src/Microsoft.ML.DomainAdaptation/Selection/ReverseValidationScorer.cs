using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Data;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Reverse validation (Zhong, Fan, Yang, Verscheure &amp; Ren, "Cross validation framework to choose amongst models and
    /// datasets for transfer learning", ECML PKDD 2010; the model selection of Ganin et al., "Domain-adversarial training of
    /// neural networks", JMLR 2016, §5.1.2): the candidate labels the target training rows; a reverse model of the same
    /// method and settings is trained with the domains swapped (those pseudo-labeled target rows as its source, the source
    /// training rows, unlabeled, as its target); the score is the reverse model's accuracy on the held-out labeled source rows.
    /// Higher is better.
    /// </summary>
    /// <remarks>
    /// <para>The idea: if the candidate's target labels are right and its adaptation works both ways, adapting back from them
    /// recovers the source task. Wrong pseudo-labels, or a target embedding that does not carry the classes, lower the
    /// reverse accuracy. No target label is read.</para>
    /// <para>It trains one network per scored candidate, so it costs <see cref="IterationFraction"/> of a candidate's training
    /// on top of it, and it needs what <see cref="Score(ValidationSet)"/> does not have: the candidate's options and training
    /// rows. Use it in a <see cref="DomainAdaptationExperiment"/> (add it to <see cref="DomainAdaptationExperimentOptions.ReportedScorers"/>
    /// or make it the <see cref="DomainAdaptationExperimentOptions.Scorer"/>), or call <see cref="Score(ValidationSet, ValidationContext)"/>.
    /// The reverse model uses the candidate's seed, so scores repeat exactly. In an experiment its training is part of scoring:
    /// <see cref="DomainAdaptationExperimentOptions.TimeBudget"/> does not stop it, but the time it takes is spent from the budget.</para>
    /// </remarks>
    public sealed class ReverseValidationScorer : ValidationScorer
    {
        /// <summary>
        /// Fraction of the candidate's <see cref="DomainAdaptationOptions.Iterations"/> the reverse model trains for (rounded, at
        /// least one step). Default: 0.5, which halves the extra cost; Zhong et al. and Ganin et al. retrain in full (1). Must be positive.
        /// </summary>
        public double IterationFraction = 0.5;

        /// <inheritdoc />
        public override string Name => "RV";

        /// <summary>Not available: reverse validation retrains, so it needs a <see cref="ValidationContext"/>.</summary>
        /// <exception cref="NotSupportedException">Always.</exception>
        public override double Score(ValidationSet set) =>
            throw new NotSupportedException("Reverse validation trains a reverse model from the candidate's options and training rows; "
                + "call Score(set, context) with a ValidationContext, or use it in a DomainAdaptationExperiment.");

        /// <summary>
        /// Labels the target rows of <see cref="ValidationContext.Training"/> with the candidate, trains the reverse model on the
        /// swapped domains and returns its accuracy on the labeled source rows of <see cref="ValidationContext.HeldOut"/>.
        /// </summary>
        /// <param name="set">Not read (the candidate's held-out outputs); may be null.</param>
        /// <param name="context">The candidate, its options, its training rows and the held-out rows.</param>
        public override double Score(ValidationSet set, ValidationContext context)
        {
            if (context is null)
                throw new ArgumentNullException(nameof(context));
            var o = context.Options;
            var scored = context.Model.Transform(context.Training);
            var schema = scored.Schema;
            var columns = new[] { schema[context.Model.ScoreColumnName], schema[o.DomainColumnName] };
            var pseudoLabels = new List<long>();
            using (var cursor = scored.GetRowCursor(columns))
            {
                var getScore = cursor.GetGetter<VBuffer<float>>(columns[0]);
                var getDomain = cursor.GetGetter<bool>(columns[1]);
                VBuffer<float> score = default;
                bool isTarget = false;
                while (cursor.MoveNext())
                {
                    getDomain(ref isTarget);
                    if (!isTarget)
                        continue;
                    getScore(ref score);
                    pseudoLabels.Add(ArgMax(score.DenseValues().ToArray()));
                }
            }
            return Score(context, pseudoLabels.ToArray());
        }

        /// <summary>Reverse validation with given 0-based pseudo-labels of the training target rows, in row order.</summary>
        internal double Score(ValidationContext context, long[] targetPseudoLabels)
        {
            DomainAdaptationOptions.Check(IterationFraction > 0 && double.IsFinite(IterationFraction), nameof(IterationFraction), IterationFraction, "must be positive");
            var o = context.Options;
            var schema = context.Training.Schema;
            var label = schema.GetColumnOrNull(o.LabelColumnName)
                ?? throw SchemaErrors.MissingColumn(nameof(context.Training), "label", o.LabelColumnName);
            int classCount = checked((int)((KeyDataViewType)label.Type).Count);
            int featureSize = ((VectorDataViewType)schema[o.FeatureColumnName].Type).Size;
            using var data = DomainData.Read(context.Training, o.FeatureColumnName, o.LabelColumnName, o.DomainColumnName, featureSize, classCount);
            if (targetPseudoLabels.Length != data.TargetCount || targetPseudoLabels.Any(l => l < 0 || l >= classCount))
                throw new ArgumentException($"Expected one pseudo-label in [0, {classCount}) per target training row ({data.TargetCount}); got {targetPseudoLabels.Length}.", nameof(targetPseudoLabels));

            // Swapped domains: the pseudo-labeled target rows are the reverse model's labeled source, the source rows its unlabeled target.
            var swapped = new DomainData
            {
                FeatureSize = featureSize,
                ClassCount = classCount,
                SourceFeatures = data.TargetFeatures,
                SourceLabels = targetPseudoLabels,
                SourceCount = data.TargetCount,
                TargetFeatures = data.SourceFeatures,
                TargetLabels = Enumerable.Repeat(-1L, data.SourceCount).ToArray(),
                TargetCount = data.SourceCount,
            };
            var reverse = o.Clone();
            reverse.Iterations = Math.Max(1, (int)Math.Round(IterationFraction * o.Iterations));
            reverse.UseTargetLabels = false;
            reverse.ProgressCallback = null;
            reverse.TrainingHistoryPath = null; // the candidate's history file is not the reverse model's
            using var model = new DomainAdaptationEstimator(context.Environment, reverse).Train(swapped, ClassNames.FromLabel(label, classCount));
            return SourceAccuracy.Score(ValidationSet.Create(model, context.HeldOut, o.DomainColumnName));
        }
    }
}
