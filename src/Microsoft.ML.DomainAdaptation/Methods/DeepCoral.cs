using Microsoft.ML.DomainAdaptation.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Deep CORAL (Sun &amp; Saenko, 2016): aligns the second-order statistics of the source and target embeddings,
    /// <c>L = CE(C(G(x_s)), y_s) + w · ‖Cov(G(x_s)) − Cov(G(x_t))‖²_F / (4 d²)</c>.
    /// </summary>
    public sealed class DeepCoralOptions : DomainAdaptationOptions
    {
        /// <summary>Weight w of the CORAL loss. Default: 1. Must be non-negative.</summary>
        public float CoralWeight = 1f;

        internal override string MethodName => "DeepCORAL";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.DeepCoralMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(CoralWeight >= 0 && float.IsFinite(CoralWeight), nameof(CoralWeight), CoralWeight, "must be non-negative");
            CheckBatchOfTwo("the CORAL loss (a covariance divides by n − 1)");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class DeepCoralMethod : AdaptationMethod
    {
        private readonly DeepCoralOptions _options;

        public DeepCoralMethod(DeepCoralOptions options, MethodContext context) : base(context) => _options = options;

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            var coral = CoralLoss.Compute(inputs.SourceEmbedding, inputs.TargetEmbedding);
            losses.Add("coral", coral);
            return coral * _options.CoralWeight;
        }
    }
}
