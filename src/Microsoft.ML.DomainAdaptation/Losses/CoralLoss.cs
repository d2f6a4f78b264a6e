using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// CORAL loss (Sun &amp; Saenko, ECCV 2016 workshops): the squared Frobenius distance between the feature
    /// covariances of source and target, scaled by 1 / (4 d²). Covariances are unbiased (divided by n − 1).
    /// </summary>
    internal static class CoralLoss
    {
        /// <param name="source">n_s × d features.</param>
        /// <param name="target">n_t × d features.</param>
        public static Tensor Compute(Tensor source, Tensor target)
        {
            using var scope = NewDisposeScope();
            long d = source.shape[1];
            var difference = Covariance(source) - Covariance(target);
            return difference.pow(2).sum().div(4.0 * d * d).MoveToOuterDisposeScope();
        }

        /// <summary>Unbiased covariance of the rows of an n × d matrix (d × d).</summary>
        public static Tensor Covariance(Tensor x)
        {
            using var scope = NewDisposeScope();
            var centred = x - x.mean(new long[] { 0 }, keepdim: true);
            return centred.t().matmul(centred).div(x.shape[0] - 1).MoveToOuterDisposeScope();
        }
    }
}
