using System;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Source validation accuracy: the fraction of held-out labeled source rows whose most probable class is their label.
    /// The classic baseline criterion (e.g. Ganin et al., JMLR 2016, who note it ignores the target). Higher is better.
    /// </summary>
    public sealed class SourceAccuracyScorer : ValidationScorer
    {
        /// <inheritdoc />
        public override string Name => "SourceAccuracy";

        /// <inheritdoc />
        public override double Score(ValidationSet set)
        {
            if (set is null)
                throw new ArgumentNullException(nameof(set));
            return Accuracy(set);
        }

        /// <summary>The accuracy on the set's labelled source rows.</summary>
        internal static double Accuracy(ValidationSet set)
        {
            int correct = 0;
            for (int i = 0; i < set.SourceLabels.Count; i++)
            {
                if (ArgMax(set.SourceProbabilities[i]) == set.SourceLabels[i])
                    correct++;
            }
            return (double)correct / set.SourceLabels.Count;
        }
    }
}
