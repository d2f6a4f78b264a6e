using System;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// A family of Gaussian kernels k_u(a, b) = exp(−‖a − b‖² / (γ · m^(u − ⌊Count/2⌋))), u = 0 … Count − 1, around the
    /// bandwidth γ that the mean heuristic gives (see <see cref="MmdLoss"/>); m is <see cref="Multiplier"/>. Count 1 is one
    /// Gaussian kernel of bandwidth γ (DDC); Count 5 and m = 2 is DAN's family γ · 2^k, k = −2 … 2. The kernels are summed.
    /// </summary>
    internal readonly record struct GaussianKernelFamily(int Count, double Multiplier)
    {
        /// <summary>One Gaussian kernel at the heuristic bandwidth.</summary>
        public static GaussianKernelFamily Single => new(1, 2);

        /// <summary>The factor of the heuristic bandwidth of kernel <paramref name="u"/>: m^(u − ⌊Count/2⌋).</summary>
        public double Scale(int u) => Math.Pow(Multiplier, u - Count / 2);

        /// <summary>Σ_u exp(−d² / (γ · scale_u)), element-wise on squared distances <paramref name="squaredDistances"/>.</summary>
        public Tensor Apply(Tensor squaredDistances, Tensor bandwidth)
        {
            using var scope = NewDisposeScope();
            Tensor sum = null;
            for (int u = 0; u < Count; u++)
            {
                var kernel = (-squaredDistances / (bandwidth * Scale(u))).exp();
                sum = sum is null ? kernel : sum + kernel;
            }
            return sum.MoveToOuterDisposeScope();
        }
    }

    /// <summary>
    /// Squared maximum mean discrepancy MMD²(P_s, P_t) = ‖E_s φ(x) − E_t φ(y)‖² in the RKHS of a (multi-)Gaussian kernel
    /// (Gretton et al., JMLR 2012), estimated on a source and a target batch, optionally with a weight per source row
    /// (weighted MMD, Yan et al., CVPR 2017: the source mean embedding becomes Σ_i v_i φ(x_i), v = w / Σ w).
    /// </summary>
    /// <remarks>
    /// <para>Bandwidth: the mean heuristic of the PyTorch reference (DAN code): γ = mean squared distance between distinct rows
    /// of the joint batch (source and target), detached from the graph, + 1e-8 so identical rows give MMD 0, not NaN.
    /// The linear estimator takes the mean over the squared distances it evaluates, so it stays linear-time.</para>
    /// <para>Estimators, with uniform weights (weights generalise them so that equal weights give the same value):</para>
    /// <list type="bullet">
    /// <item><description>Biased (V-statistic): mean K_ss + mean K_tt − 2 mean K_st, diagonal terms included. Never negative.</description></item>
    /// <item><description>Unbiased (U-statistic): the within-domain means exclude the diagonal (i ≠ j); the cross term is the mean
    /// over all pairs. With weights: Σ_{i≠j} v_i v_j k_ij / Σ_{i≠j} v_i v_j. Needs two rows per domain; can be negative.</description></item>
    /// <item><description>Linear (Gretton et al. 2012, §6): consecutive rows form pairs (x_{2i}, x_{2i+1}), (y_{2i}, y_{2i+1}),
    /// i &lt; P = ⌊min(n_s, n_t) / 2⌋; MMD²_l = mean_i [k(x_{2i}, x_{2i+1}) + k(y_{2i}, y_{2i+1}) − k(x_{2i}, y_{2i+1}) − k(x_{2i+1}, y_{2i})].
    /// Weights (normalised to mean 1 over the rows used) multiply each source row's kernel terms. Unbiased; can be negative.</description></item>
    /// </list>
    /// </remarks>
    internal static class MmdLoss
    {
        /// <summary>Added to the heuristic bandwidth so that a batch of identical rows gives finite kernels.</summary>
        public const double BandwidthEpsilon = 1e-8;

        /// <summary>How many leading source rows the estimator reads (the linear one drops the rows without a pair).</summary>
        public static long SourceRowsUsed(long sourceRows, long targetRows, MmdEstimator estimator) =>
            estimator == MmdEstimator.Linear ? Math.Min(sourceRows, targetRows) / 2 * 2 : sourceRows;

        /// <param name="source">n_s × d source features.</param>
        /// <param name="target">n_t × d target features.</param>
        /// <param name="kernels">The Gaussian kernel family.</param>
        /// <param name="estimator">How MMD² is estimated from the batches.</param>
        /// <param name="sourceWeights">Non-negative weight of each source row (n_s, not all zero), or null for uniform weights.</param>
        public static Tensor Compute(Tensor source, Tensor target, GaussianKernelFamily kernels, MmdEstimator estimator, Tensor sourceWeights = null)
        {
            using var scope = NewDisposeScope();
            var result = estimator == MmdEstimator.Linear
                ? Linear(source, target, kernels, sourceWeights)
                : Quadratic(source, target, kernels, estimator == MmdEstimator.Unbiased, sourceWeights);
            return result.MoveToOuterDisposeScope();
        }

        private static Tensor Quadratic(Tensor source, Tensor target, GaussianKernelFamily kernels, bool unbiased, Tensor sourceWeights)
        {
            long n = source.shape[0], m = target.shape[0];
            if (unbiased && (n < 2 || m < 2))
                throw new ArgumentException($"The unbiased MMD estimator needs at least two rows per domain; got {n} source and {m} target rows.");
            var squaredDistances = JointSquaredDistances(source, target);
            var k = kernels.Apply(squaredDistances, HeuristicBandwidth(squaredDistances));
            var kss = k.narrow(0, 0, n).narrow(1, 0, n);
            var ktt = k.narrow(0, n, m).narrow(1, n, m);
            var kst = k.narrow(0, 0, n).narrow(1, n, m);

            // v: the source rows' weights summing to 1 (1 / n_s each when uniform).
            var v = sourceWeights is null ? full(n, 1.0 / n, dtype: source.dtype) : sourceWeights.to_type(source.dtype) / sourceWeights.sum();
            var pairWeights = v.unsqueeze(1) * v.unsqueeze(0);
            var cross = (v.unsqueeze(1) * kst).sum() / m;
            if (!unbiased)
                return (pairWeights * kss).sum() + ktt.mean() - 2 * cross;

            var offDiagonalSource = ones(n, n, dtype: source.dtype) - eye(n, dtype: source.dtype);
            var offDiagonalTarget = ones(m, m, dtype: source.dtype) - eye(m, dtype: source.dtype);
            var sourceTerm = (pairWeights * kss * offDiagonalSource).sum() / (pairWeights * offDiagonalSource).sum();
            var targetTerm = (ktt * offDiagonalTarget).sum() / (m * (m - 1));
            return sourceTerm + targetTerm - 2 * cross;
        }

        /// <summary>‖z_i − z_j‖² for every pair of rows of the joint batch z = (source rows, then target rows); the diagonal is exactly 0.</summary>
        public static Tensor JointSquaredDistances(Tensor source, Tensor target)
        {
            using var scope = NewDisposeScope();
            var joint = cat(new[] { source, target }, 0);
            long all = joint.shape[0];
            return SquaredDistances(joint, joint).masked_fill(eye(all, dtype: ScalarType.Bool, device: joint.device), 0).MoveToOuterDisposeScope();
        }

        /// <summary>
        /// ‖a_i − b_j‖² for every row i of <paramref name="a"/> (n × d) and j of <paramref name="b"/> (m × d), as an n × m
        /// tensor, by the Gram expansion ‖a_i‖² + ‖b_j‖² − 2 a_i·b_j (one matrix product: O(n·m + (n + m)·d) memory, not
        /// the O(n·m·d) of broadcasting a_i − b_j). Rounding can make the expansion slightly negative: it is clamped at 0.
        /// <paramref name="bSquaredNorms"/> (‖b_j‖², m) may be passed when it is reused over many blocks of rows of a.
        /// </summary>
        public static Tensor SquaredDistances(Tensor a, Tensor b, Tensor bSquaredNorms = null)
        {
            using var scope = NewDisposeScope();
            var aNorms = a.pow(2).sum(1, keepdim: true);
            var bNorms = (bSquaredNorms ?? b.pow(2).sum(1)).unsqueeze(0);
            return (aNorms + bNorms).addmm(a, b.t(), beta: 1, alpha: -2).clamp_min(0).MoveToOuterDisposeScope();
        }

        /// <summary>The mean heuristic: mean squared distance between distinct rows of the joint batch (detached) + ε.</summary>
        public static Tensor HeuristicBandwidth(Tensor jointSquaredDistances)
        {
            long all = jointSquaredDistances.shape[0];
            return jointSquaredDistances.detach().sum() / (all * all - all) + BandwidthEpsilon;
        }

        /// <summary>
        /// The linear estimator's squared distances (4 × P): consecutive rows form pairs (x_{2i}, x_{2i+1}), (y_{2i}, y_{2i+1}),
        /// and each pair of pairs needs (x1, x2), (y1, y2), (x1, y2), (x2, y1).
        /// </summary>
        public static Tensor PairSquaredDistances(Tensor source, Tensor target, long pairs)
        {
            using var scope = NewDisposeScope();
            var sourcePairs = source.narrow(0, 0, 2 * pairs).reshape(pairs, 2, source.shape[1]);
            var targetPairs = target.narrow(0, 0, 2 * pairs).reshape(pairs, 2, target.shape[1]);
            var (x1, x2) = (sourcePairs.select(1, 0), sourcePairs.select(1, 1));
            var (y1, y2) = (targetPairs.select(1, 0), targetPairs.select(1, 1));
            return stack(new[] { x1 - x2, y1 - y2, x1 - y2, x2 - y1 }, 0).pow(2).sum(2).MoveToOuterDisposeScope();
        }

        /// <summary>
        /// MMD² from the kernel matrix of the joint batch (source rows first, then target rows), uniform weights: biased
        /// (all pairs) or unbiased (within-domain pairs i ≠ j).
        /// </summary>
        public static Tensor FromKernelMatrix(Tensor k, long n, long m, bool unbiased)
        {
            if (unbiased && (n < 2 || m < 2))
                throw new ArgumentException($"The unbiased MMD estimator needs at least two rows per domain; got {n} source and {m} target rows.");
            using var scope = NewDisposeScope();
            var kss = k.narrow(0, 0, n).narrow(1, 0, n);
            var ktt = k.narrow(0, n, m).narrow(1, n, m);
            var cross = k.narrow(0, 0, n).narrow(1, n, m).mean();
            var result = unbiased
                ? (kss.sum() - kss.diagonal().sum()) / (n * (n - 1)) + (ktt.sum() - ktt.diagonal().sum()) / (m * (m - 1)) - 2 * cross
                : kss.mean() + ktt.mean() - 2 * cross;
            return result.MoveToOuterDisposeScope();
        }

        private static Tensor Linear(Tensor source, Tensor target, GaussianKernelFamily kernels, Tensor sourceWeights)
        {
            long pairs = Math.Min(source.shape[0], target.shape[0]) / 2;
            if (pairs < 1)
                throw new ArgumentException($"The linear MMD estimator needs at least two rows per domain; got {source.shape[0]} source and {target.shape[0]} target rows.");
            var squaredDistances = PairSquaredDistances(source, target, pairs);
            var bandwidth = squaredDistances.detach().mean() + BandwidthEpsilon;
            var k = kernels.Apply(squaredDistances, bandwidth);
            if (sourceWeights is null)
                return (k[0] + k[1] - k[2] - k[3]).mean();

            var used = sourceWeights.to_type(source.dtype).narrow(0, 0, 2 * pairs);
            var v = (used / used.mean()).reshape(pairs, 2);
            var (v1, v2) = (v.select(1, 0), v.select(1, 1));
            return (v1 * v2 * k[0] + k[1] - v1 * k[2] - v2 * k[3]).mean();
        }
    }
}
