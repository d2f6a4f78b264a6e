using System;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// Joint maximum mean discrepancy (JMMD; Long, Zhu, Wang &amp; Jordan, ICML 2017): the MMD² of the joint distributions
    /// of several layers, with the product kernel k((f, g), (f′, g′)) = k_f(f, f′) · k_g(g, g′). Here two layers: the
    /// embedding f with a Gaussian kernel family around the mean-distance bandwidth (as <see cref="MmdLoss"/>), and the class
    /// probabilities g with one Gaussian kernel exp(−‖g − g′‖² / (2σ²)) of fixed σ (JAN's code: 0.92).
    /// </summary>
    internal static class JointMmd
    {
        /// <param name="sourceFeatures">n_s × d.</param>
        /// <param name="targetFeatures">n_t × d.</param>
        /// <param name="sourceProbabilities">n_s × K.</param>
        /// <param name="targetProbabilities">n_t × K.</param>
        /// <param name="featureKernels">The Gaussian kernel family of the embedding.</param>
        /// <param name="probabilitySigma">σ of the probabilities' Gaussian kernel.</param>
        /// <param name="estimator">Biased, unbiased (quadratic) or linear-time.</param>
        public static Tensor Compute(Tensor sourceFeatures, Tensor targetFeatures, Tensor sourceProbabilities, Tensor targetProbabilities,
            GaussianKernelFamily featureKernels, double probabilitySigma, MmdEstimator estimator)
        {
            using var scope = NewDisposeScope();
            long n = sourceFeatures.shape[0], m = targetFeatures.shape[0];
            Tensor result;
            if (estimator == MmdEstimator.Linear)
            {
                long pairs = Math.Min(n, m) / 2;
                if (pairs < 1)
                    throw new ArgumentException($"The linear JMMD estimator needs at least two rows per domain; got {n} source and {m} target rows.");
                // Pairs (x_{2i}, x_{2i+1}), (y_{2i}, y_{2i+1}); the four squared distances of each pair of pairs, per layer.
                Tensor Distances(Tensor s, Tensor t)
                {
                    var sp = s.narrow(0, 0, 2 * pairs).reshape(pairs, 2, -1);
                    var tp = t.narrow(0, 0, 2 * pairs).reshape(pairs, 2, -1);
                    var (x1, x2, y1, y2) = (sp.select(1, 0), sp.select(1, 1), tp.select(1, 0), tp.select(1, 1));
                    return stack(new[] { x1 - x2, y1 - y2, x1 - y2, x2 - y1 }, 0).pow(2).sum(2);
                }
                var featureDistances = Distances(sourceFeatures, targetFeatures);
                var k = featureKernels.Apply(featureDistances, featureDistances.detach().mean() + MmdLoss.BandwidthEpsilon)
                    * (-Distances(sourceProbabilities, targetProbabilities) / (2 * probabilitySigma * probabilitySigma)).exp();
                result = (k[0] + k[1] - k[2] - k[3]).mean();
            }
            else
            {
                var features = cat(new[] { sourceFeatures, targetFeatures }, 0);
                var probabilities = cat(new[] { sourceProbabilities, targetProbabilities }, 0);
                var featureDistances = (features.unsqueeze(0) - features.unsqueeze(1)).pow(2).sum(2);
                long all = n + m;
                var bandwidth = featureDistances.detach().sum() / (all * all - all) + MmdLoss.BandwidthEpsilon;
                var probabilityDistances = (probabilities.unsqueeze(0) - probabilities.unsqueeze(1)).pow(2).sum(2);
                var k = featureKernels.Apply(featureDistances, bandwidth) * (-probabilityDistances / (2 * probabilitySigma * probabilitySigma)).exp();
                result = MmdLoss.FromKernelMatrix(k, n, m, estimator == MmdEstimator.Unbiased);
            }
            return result.MoveToOuterDisposeScope();
        }
    }
}
