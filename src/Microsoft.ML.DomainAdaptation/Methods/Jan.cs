using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Joint Adaptation Network (JAN; Long, Zhu, Wang &amp; Jordan, ICML 2017): aligns the joint distribution of the embedding
    /// and the class probabilities with the joint MMD, whose kernel is the product of a Gaussian kernel family on the
    /// embedding (as <see cref="MmdOptions"/>) and a Gaussian kernel of width <see cref="ProbabilityKernelSigma"/> on the
    /// softmax outputs: <c>L = CE(C(G(x_s)), y_s) + w_p · JMMD²((G(x_s), ŷ_s), (G(x_t), ŷ_t))</c>.
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new JanOptions { Estimator = MmdEstimator.Linear });
    /// </code></example>
    public sealed class JanOptions : MmdOptionsBase
    {
        /// <summary>σ of the Gaussian kernel exp(−‖ŷ − ŷ′‖² / 2σ²) on the class probabilities. Default: 0.92 (JAN's code). Must be positive.</summary>
        public float ProbabilityKernelSigma = 0.92f;

        internal override string MethodName => "JAN";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.JanMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            base.ValidateMethodOptions();
            Check(ProbabilityKernelSigma > 0 && float.IsFinite(ProbabilityKernelSigma), nameof(ProbabilityKernelSigma), ProbabilityKernelSigma, "must be positive");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class JanMethod : AdaptationMethod
    {
        private readonly JanOptions _options;

        public JanMethod(JanOptions options, MethodContext context) : base(context) => _options = options;

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            var jmmd = JointMmd.Compute(inputs.SourceEmbedding, inputs.TargetEmbedding,
                nn.functional.softmax(inputs.SourceLogits, 1), nn.functional.softmax(inputs.TargetLogits, 1),
                _options.Kernels, _options.ProbabilityKernelSigma, _options.Estimator);
            losses.Add("jmmd", jmmd);
            double weight = _options.MmdWeight * (_options.RampWeight ? Schedules.WarmStart(state.Progress) : 1);
            losses.AddSchedule(ScheduleName.AlignmentWeight, weight);
            return jmmd * weight;
        }
    }
}
