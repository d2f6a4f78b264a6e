using System;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// Central Moment Discrepancy (Zellinger et al., ICLR 2017) between two samples of activations bounded in [a, b]:
    /// <c>CMD_K = ‖E(X) − E(Y)‖₂ / |b − a| + Σ_{k=2..K} ‖c_k(X) − c_k(Y)‖₂ / |b − a|^k</c>, where c_k is the vector of the
    /// k-th central moments of the coordinates, c_k(X) = E((X − E(X))^k) (population moments, divided by n).
    /// </summary>
    internal static class CmdLoss
    {
        /// <param name="source">n_s × d activations in [a, b].</param>
        /// <param name="target">n_t × d activations in [a, b].</param>
        /// <param name="order">The highest moment K (at least 1).</param>
        /// <param name="range">|b − a|, the width of the activations' interval.</param>
        public static Tensor Compute(Tensor source, Tensor target, int order, double range = 1)
        {
            if (order < 1)
                throw new ArgumentOutOfRangeException(nameof(order), order, "The moment order must be at least 1.");
            using var scope = NewDisposeScope();
            var sourceMean = source.mean(new long[] { 0 });
            var targetMean = target.mean(new long[] { 0 });
            var loss = Distance(sourceMean, targetMean) / range;
            var sourceCentred = source - sourceMean;
            var targetCentred = target - targetMean;
            for (int k = 2; k <= order; k++)
            {
                var difference = Distance(sourceCentred.pow(k).mean(new long[] { 0 }), targetCentred.pow(k).mean(new long[] { 0 }));
                loss = loss + difference / Math.Pow(range, k);
            }
            return loss.MoveToOuterDisposeScope();
        }

        /// <summary>‖a − b‖₂, whose gradient at a = b is 0 (not NaN).</summary>
        private static Tensor Distance(Tensor a, Tensor b) => linalg.vector_norm(a - b);
    }
}
