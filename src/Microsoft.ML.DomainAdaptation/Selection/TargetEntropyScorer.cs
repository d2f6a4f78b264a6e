using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Target prediction entropy, negated: −(1/n_t) Σ_i H(p_i), H(p) = −Σ_k p_k ln p_k (nats), over the target rows'
    /// class probabilities. Confident target predictions score higher (Morerio et al., ICLR 2018, "Minimal-entropy
    /// correlation alignment", propose the target entropy as a validation criterion). Higher is better; the maximum, 0,
    /// is reached by one-hot predictions, the minimum, −ln K, by uniform ones. Beware: a model that collapses every target
    /// row onto one class with confidence also scores 0.
    /// </summary>
    public sealed class TargetEntropyScorer : ValidationScorer
    {
        /// <inheritdoc />
        public override string Name => "TargetEntropy";

        /// <inheritdoc />
        public override double Score(ValidationSet set)
        {
            if (set is null)
                throw new ArgumentNullException(nameof(set));
            double sum = 0;
            foreach (var p in set.TargetProbabilities)
                sum += Entropy(p);
            return -sum / set.TargetProbabilities.Count;
        }

        internal static double Entropy(IReadOnlyList<float> p)
        {
            double h = 0;
            foreach (float v in p)
            {
                if (v > 0)
                    h -= v * Math.Log(v);
            }
            return h;
        }
    }
}
