using System;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>Schedules of the training progress p in [0, 1], from Ganin et al. (2016).</summary>
    internal static class Schedules
    {
        /// <summary>lr0 / (1 + 10 p)^0.75.</summary>
        public static double AnnealedLearningRate(double initial, double progress) => initial / Math.Pow(1 + 10 * progress, 0.75);

        /// <summary>
        /// Warm start from 0 to <paramref name="max"/>: max · (2 / (1 + exp(−α p)) − 1), used for the gradient-reversal
        /// coefficient (and for alignment-loss weights) so the early, noisy features are not pushed around.
        /// </summary>
        public static double WarmStart(double progress, double alpha = 10, double max = 1) => max * (2 / (1 + Math.Exp(-alpha * progress)) - 1);
    }
}
