using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>The kernel of an MMD alignment loss (<see cref="MmdOptions"/>, <see cref="WeightedMmdOptions"/>).</summary>
    public enum MmdKernel
    {
        /// <summary>
        /// One Gaussian kernel exp(−‖a − b‖² / γ) at the heuristic bandwidth γ, as in DDC (Tzeng et al., 2014).
        /// <see cref="MmdOptionsBase.KernelCount"/> and <see cref="MmdOptionsBase.KernelMultiplier"/> are ignored.
        /// </summary>
        Gaussian = 1,

        /// <summary>
        /// The sum of <see cref="MmdOptionsBase.KernelCount"/> Gaussian kernels of bandwidths γ · m^(u − ⌊count/2⌋), u = 0 … count − 1,
        /// m = <see cref="MmdOptionsBase.KernelMultiplier"/>, around the heuristic bandwidth γ: the multi-kernel MMD of DAN
        /// (Long et al., 2015). With the defaults (5 kernels, m = 2): γ · 2^k, k = −2 … 2.
        /// </summary>
        MultiGaussian = 2,
    }

    /// <summary>How MMD² is estimated from a source and a target batch (Gretton et al., JMLR 2012).</summary>
    public enum MmdEstimator
    {
        /// <summary>The V-statistic: mean K_ss + mean K_tt − 2 mean K_st over all pairs, diagonal terms included. Never negative;
        /// biased upwards by the diagonal. Quadratic in the batch size. The PyTorch reference's (and DAN code's) estimator.
        /// Its bias, about 2 (k(x, x) − E k(x, x′)) / n, vanishes only when the embedding collapses (all rows equal), so at small
        /// batches it can pull the embedding into collapse before the classifier has learned anything: with the LeNet backbone on
        /// the digits, batch 32 and 1,000 steps, 4 runs of 6 ended with a dead embedding at chance accuracy.</summary>
        Biased = 1,

        /// <summary>The U-statistic: as <see cref="Biased"/>, but the within-domain means exclude the diagonal (pairs i ≠ j).
        /// Unbiased, can be negative, and with no pull towards a collapsed embedding (see <see cref="Biased"/>). Quadratic in the
        /// batch size; needs a batch of at least 2. The default.</summary>
        Unbiased = 2,

        /// <summary>
        /// The linear-time estimate (Gretton et al. 2012, §6; used by DAN): consecutive rows form pairs, and the mean over pairs
        /// i of k(x_{2i}, x_{2i+1}) + k(y_{2i}, y_{2i+1}) − k(x_{2i}, y_{2i+1}) − k(x_{2i+1}, y_{2i}). Unbiased, noisier, can be negative;
        /// its bandwidth comes from the squared distances of those pairs only. Needs a batch of at least 2.
        /// </summary>
        Linear = 3,
    }

    /// <summary>
    /// Options shared by the MMD methods (<see cref="MmdOptions"/>, <see cref="WeightedMmdOptions"/>): the kernel, the estimator
    /// and the weight of the MMD² between the source and target embeddings.
    /// </summary>
    /// <remarks>
    /// The heuristic bandwidth γ is, each step, the mean squared distance between distinct rows of the joint source + target
    /// batch of embeddings (treated as a constant, no gradient through it), as in the PyTorch reference and the DAN code.
    /// </remarks>
    public abstract class MmdOptionsBase : DomainAdaptationOptions
    {
        private protected MmdOptionsBase()
        {
        }

        /// <summary>The kernel. Default: <see cref="MmdKernel.MultiGaussian"/> (DAN's multi-kernel MMD, as the PyTorch reference).</summary>
        public MmdKernel Kernel = MmdKernel.MultiGaussian;

        /// <summary>Number of Gaussian kernels of <see cref="MmdKernel.MultiGaussian"/>. Default: 5 (DAN). Must be at least 1.</summary>
        public int KernelCount = 5;

        /// <summary>Ratio m between the bandwidths of consecutive kernels of <see cref="MmdKernel.MultiGaussian"/>. Default: 2 (DAN).
        /// Must be greater than 1.</summary>
        public float KernelMultiplier = 2f;

        /// <summary>The estimator of MMD² on a batch. Default: <see cref="MmdEstimator.Unbiased"/>: the reference's biased estimator
        /// can collapse the embedding at small batches (see <see cref="MmdEstimator.Biased"/>). At batch 64 + 64 and 2,000 steps
        /// <see cref="MmdEstimator.Biased"/> is the PyTorch reference's recipe exactly and gains most: mnist-opencv → optdigits,
        /// seeds 0, 1, 2, 73.1 ± 3.3 % against 68.2 ± 2.4 % unbiased (the reference: 73.3 ± 6.0 %; README, digits pairs).</summary>
        public MmdEstimator Estimator = MmdEstimator.Unbiased;

        /// <summary>Weight w of the MMD² loss. Default: 1. Must be non-negative.</summary>
        public float MmdWeight = 1f;

        /// <summary>
        /// Ramp the weight up with the training progress p, as the gradient-reversal coefficient of DANN: w · (2 / (1 + exp(−10 p)) − 1),
        /// so the early, still meaningless embeddings are not aligned. Default: true (as the PyTorch reference); false keeps w constant.
        /// </summary>
        public bool RampWeight = true;

        internal GaussianKernelFamily Kernels => Kernel == MmdKernel.Gaussian ? GaussianKernelFamily.Single : new GaussianKernelFamily(KernelCount, KernelMultiplier);

        internal override void ValidateMethodOptions()
        {
            Check(System.Enum.IsDefined(Kernel), nameof(Kernel), Kernel, "must be Gaussian or MultiGaussian");
            Check(KernelCount >= 1, nameof(KernelCount), KernelCount, "must be at least 1");
            Check(KernelMultiplier > 1 && float.IsFinite(KernelMultiplier), nameof(KernelMultiplier), KernelMultiplier, "must be a number greater than 1");
            Check(System.Enum.IsDefined(Estimator), nameof(Estimator), Estimator, "must be Biased, Unbiased or Linear");
            Check(MmdWeight >= 0 && float.IsFinite(MmdWeight), nameof(MmdWeight), MmdWeight, "must be non-negative");
            Check(Estimator == MmdEstimator.Biased || BatchSize >= 2, nameof(BatchSize), BatchSize, $"must be at least 2 for the {Estimator} MMD estimator");
        }
    }

    /// <summary>
    /// Maximum mean discrepancy alignment: DDC (Tzeng et al., 2014) with one Gaussian kernel, DAN (Long et al., ICML 2015) with a
    /// family of Gaussian kernels (the default). The backbone learns embeddings whose source and target distributions have a
    /// small MMD² in the kernel's RKHS: <c>L = CE(C(G(x_s)), y_s) + w_p · MMD²(G(x_s), G(x_t))</c>, with
    /// w_p = w · (2 / (1 + exp(−10 p)) − 1) when <see cref="MmdOptionsBase.RampWeight"/>.
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new MmdOptions { Kernel = MmdKernel.MultiGaussian, Iterations = 2000 });
    /// </code></example>
    public sealed class MmdOptions : MmdOptionsBase
    {
        internal override string MethodName => "MMD";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.MmdMethod(this, context);
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>MMD² between the embeddings of the step's batches; subclasses may weight the source rows.</summary>
    internal class MmdMethod : AdaptationMethod
    {
        private readonly MmdOptionsBase _options;
        private readonly GaussianKernelFamily _kernels;

        public MmdMethod(MmdOptionsBase options, MethodContext context) : base(context)
        {
            _options = options;
            _kernels = options.Kernels;
        }

        /// <summary>The name of the loss in progress reports.</summary>
        protected virtual string LossName => "mmd";

        /// <summary>A weight per source row of the step (n_s), or null for uniform weights.</summary>
        protected virtual Tensor SourceWeights(AlignmentInputs inputs) => null;

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            var mmd = MmdLoss.Compute(inputs.SourceEmbedding, inputs.TargetEmbedding, _kernels, _options.Estimator, SourceWeights(inputs));
            losses.Add(LossName, mmd);
            double weight = _options.MmdWeight * (_options.RampWeight ? Schedules.WarmStart(state.Progress) : 1);
            losses.AddSchedule(ScheduleName.AlignmentWeight, weight);
            return mmd * weight;
        }
    }
}
