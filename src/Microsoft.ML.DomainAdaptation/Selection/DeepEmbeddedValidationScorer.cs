using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Deep embedded validation (DEV; You, Wang, Chen, Long &amp; Wang, "Towards accurate model selection in deep unsupervised
    /// domain adaptation", ICML 2019), negated. Higher is better.
    /// </summary>
    /// <remarks>
    /// IWV's estimate (see <see cref="ImportanceWeightedScorer"/>, whose density ratio on the embeddings it shares) with a control
    /// variate: with L_i = w_i ℓ_i, since E_s[w] = 1, R_DEV = mean(L) + η · mean(w) − η, η = −Cov(L, w) / Var(w) (sample
    /// moments), which is unbiased like IWV and has lower variance whenever the weighted losses correlate with the weights.
    /// With constant weights (Var(w) = 0) η is 0 and DEV is IWV.
    /// </remarks>
    public sealed class DeepEmbeddedValidationScorer : ImportanceWeightedScorer
    {
        /// <inheritdoc />
        public override string Name => "DEV";

        /// <inheritdoc />
        public override double Score(ValidationSet set)
        {
            var (weights, losses) = WeightsAndLosses(set);
            return -Risk(weights, losses);
        }

        /// <summary>DEV risk with the control variate.</summary>
        internal static new double Risk(IReadOnlyList<double> weights, IReadOnlyList<double> losses)
        {
            int n = weights.Count;
            var weighted = new double[n];
            double meanWeighted = 0, meanWeight = 0;
            for (int i = 0; i < n; i++)
            {
                weighted[i] = weights[i] * losses[i];
                meanWeighted += weighted[i];
                meanWeight += weights[i];
            }
            meanWeighted /= n;
            meanWeight /= n;
            if (n < 2)
                return meanWeighted;
            double covariance = 0, variance = 0;
            for (int i = 0; i < n; i++)
            {
                covariance += (weighted[i] - meanWeighted) * (weights[i] - meanWeight);
                variance += (weights[i] - meanWeight) * (weights[i] - meanWeight);
            }
            // Both with 1/(n−1); the ratio needs no normalisation.
            double eta = variance > 1e-300 ? -covariance / variance : 0;
            return meanWeighted + eta * meanWeight - eta;
        }
    }
}
