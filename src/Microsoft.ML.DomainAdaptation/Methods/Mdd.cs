using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Margin Disparity Discrepancy (MDD; Zhang, Liu, Long &amp; Jordan, ICML 2019). Beside the classifier f, an auxiliary
    /// classifier f′ of the same shape reads the embedding through gradient reversal and minimises
    /// <c>γ · CE(f′(x_s), argmax f(x_s)) − log(1 − softmax(f′(x_t))[argmax f(x_t)])</c> (agree with f on source, disagree on
    /// target); the reversed gradient makes the backbone shrink that disparity:
    /// <c>L = CE(f(G(x_s)), y_s) + w · MDD(GRL_λ(G(x)))</c>, λ_p = m · (2 / (1 + exp(−α p)) − 1). The fitted model predicts with f.
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new MddOptions { MarginFactor = 4 });
    /// </code></example>
    public sealed class MddOptions : DomainAdaptationOptions
    {
        /// <summary>The margin factor γ weighing the source disparity. Default: 4 (the Transfer-Learning-Library's). Must be positive.</summary>
        public float MarginFactor = 4f;

        /// <summary>Weight w of the disparity loss. Default: 1. Must be non-negative.</summary>
        public float DisparityWeight = 1f;

        /// <summary>Steepness α of the gradient-reversal warm start 2 / (1 + exp(−α p)) − 1. Default: 10. Must be positive.</summary>
        public float GradientReversalAlpha = 10f;

        /// <summary>Final gradient-reversal coefficient m. Default: 0.1 (MDD's code caps its reversal at 0.1). Must be positive.</summary>
        public float MaxGradientReversal = 0.1f;

        internal override string MethodName => "MDD";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.MddMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(MarginFactor > 0 && float.IsFinite(MarginFactor), nameof(MarginFactor), MarginFactor, "must be positive");
            Check(DisparityWeight >= 0 && float.IsFinite(DisparityWeight), nameof(DisparityWeight), DisparityWeight, "must be non-negative");
            Check(GradientReversalAlpha > 0 && float.IsFinite(GradientReversalAlpha), nameof(GradientReversalAlpha), GradientReversalAlpha, "must be positive");
            Check(MaxGradientReversal > 0 && float.IsFinite(MaxGradientReversal), nameof(MaxGradientReversal), MaxGradientReversal, "must be positive");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class MddMethod : AdaptationMethod
    {
        private readonly MddOptions _options;
        private readonly ClassifierHead _adversary;

        public MddMethod(MddOptions options, MethodContext context) : base(context)
        {
            _options = options;
            _adversary = AddAuxiliary(context.Spec.CreateClassifier("AdversarialClassifierHead"));
        }

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            double coefficient = Schedules.WarmStart(state.Progress, _options.GradientReversalAlpha, _options.MaxGradientReversal);
            losses.AddSchedule(ScheduleName.GradientReversal, coefficient);
            long sourceRows = inputs.SourceEmbedding.shape[0];
            var adversarialLogits = _adversary.forward(GradientReversal.Apply(cat(new[] { inputs.SourceEmbedding, inputs.TargetEmbedding }, 0), coefficient));
            var disparity = MarginDisparity.Compute(inputs.SourceLogits, adversarialLogits[..(int)sourceRows], inputs.TargetLogits,
                adversarialLogits[(int)sourceRows..], _options.MarginFactor);
            losses.Add("disparity", disparity);
            return disparity * _options.DisparityWeight;
        }
    }
}
