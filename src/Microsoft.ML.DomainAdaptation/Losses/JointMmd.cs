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
            double twoSigmaSquared = 2 * probabilitySigma * probabilitySigma;
            if (estimator == MmdEstimator.Linear)
            {
                long pairs = Math.Min(n, m) / 2;
                if (pairs < 1)
                    throw new ArgumentException($"The linear JMMD estimator needs at least two rows per domain; got {n} source and {m} target rows.");
                var featureDistances = MmdLoss.PairSquaredDistances(sourceFeatures, targetFeatures, pairs);
                var k = featureKernels.Apply(featureDistances, featureDistances.detach().mean() + MmdLoss.BandwidthEpsilon)
                    * (-MmdLoss.PairSquaredDistances(sourceProbabilities, targetProbabilities, pairs) / twoSigmaSquared).exp();
                result = (k[0] + k[1] - k[2] - k[3]).mean();
            }
            else
            {
                var featureDistances = MmdLoss.JointSquaredDistances(sourceFeatures, targetFeatures);
                var k = featureKernels.Apply(featureDistances, MmdLoss.HeuristicBandwidth(featureDistances))
                    * (-MmdLoss.JointSquaredDistances(sourceProbabilities, targetProbabilities) / twoSigmaSquared).exp();
                result = MmdLoss.FromKernelMatrix(k, n, m, estimator == MmdEstimator.Unbiased);
            }
            return result.MoveToOuterDisposeScope();
        }
    }
}
