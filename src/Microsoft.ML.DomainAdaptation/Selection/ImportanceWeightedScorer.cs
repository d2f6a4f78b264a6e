using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Importance-weighted validation (IWV; Sugiyama, Krauledat &amp; Müller, "Covariate shift adaptation by importance weighted
    /// cross validation", JMLR 2007), negated: −(1/n_s) Σ_i w(x_i) ℓ(x_i, y_i) over held-out labeled source rows, an estimate of
    /// the target risk under covariate shift. Higher is better.
    /// </summary>
    /// <remarks>
    /// The density ratio w(x) = p_t(x) / p_s(x) is estimated on the model's embeddings by a logistic domain classifier
    /// (Bickel et al., ICML 2007): w(x) = (n_s / n_t) · P(target | x) / P(source | x), cross-fitted over <see cref="Folds"/>
    /// folds of the held-out rows (each row's ratio comes from the classifier that did not see it), as DEV does (You et al. 2019).
    /// With identical domains the classifier cannot tell them apart, w ≈ 1 and IWV is the plain source risk.
    /// </remarks>
    public class ImportanceWeightedScorer : ValidationScorer
    {
        /// <summary>Per-row loss the risk averages. Default: <see cref="ValidationLoss.CrossEntropy"/>.</summary>
        public ValidationLoss Loss = ValidationLoss.CrossEntropy;

        /// <summary>L2 regularisation of the logistic domain classifier (ML.NET's L-BFGS, on standardised embeddings). Default: 1.
        /// Must be non-negative.</summary>
        public double DomainClassifierL2 = 1;

        /// <summary>Folds of the cross-fitted domain classifier. Default: 2. Must be at least 2.</summary>
        public int Folds = 2;

        /// <summary>Seed of the folds and of the classifier. Default: 0.</summary>
        public int Seed;

        /// <inheritdoc />
        public override string Name => "IWV";

        /// <inheritdoc />
        public override double Score(ValidationSet set)
        {
            var (weights, losses) = WeightsAndLosses(set);
            return -Risk(weights, losses);
        }

        /// <summary>The density ratio and the loss of each held-out labeled source row.</summary>
        internal (double[] Weights, double[] Losses) WeightsAndLosses(ValidationSet set)
        {
            if (set is null)
                throw new ArgumentNullException(nameof(set));
            DomainAdaptationOptions.Check(DomainClassifierL2 >= 0 && double.IsFinite(DomainClassifierL2), nameof(DomainClassifierL2), DomainClassifierL2, "must be non-negative");
            DomainAdaptationOptions.Check(Folds >= 2, nameof(Folds), Folds, "must be at least 2");
            var p = set.DomainProbabilities(DomainClassifierL2, Folds, Seed)[0];
            double ratio = (double)set.SourceEmbeddings.Count / set.TargetEmbeddings.Count;
            var weights = new double[p.Length];
            var losses = new double[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                weights[i] = ratio * p[i] / (1 - p[i]);
                losses[i] = RowLoss(set.SourceProbabilities[i], set.SourceLabels[i], Loss);
            }
            return (weights, losses);
        }

        /// <summary>IWV risk: (1/n) Σ w_i ℓ_i.</summary>
        internal static double Risk(IReadOnlyList<double> weights, IReadOnlyList<double> losses)
        {
            double sum = 0;
            for (int i = 0; i < weights.Count; i++)
                sum += weights[i] * losses[i];
            return sum / weights.Count;
        }
    }
}
