using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Domain-Adversarial Neural Network (DANN; Ganin &amp; Lempitsky, ICML 2015; Ganin et al., JMLR 2016).
    /// A discriminator D learns to tell source from target embeddings; a gradient reversal layer between the
    /// backbone and D makes the backbone learn embeddings D cannot separate:
    /// <c>L = CE(C(G(x_s)), y_s) + w · BCE(D(GRL_λ(G(x))), d)</c>, with λ_p = m · (2 / (1 + exp(−α p)) − 1).
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new DannOptions { Iterations = 2000 });
    /// </code></example>
    public class DannOptions : DomainAdaptationOptions
    {
        /// <summary>Weight w of the domain loss. Default: 1. Must be non-negative.</summary>
        public float DomainLossWeight = 1f;

        /// <summary>Steepness α of the gradient-reversal warm start 2 / (1 + exp(−α p)) − 1. Default: 10. Must be positive.</summary>
        public float GradientReversalAlpha = 10f;

        /// <summary>Final gradient-reversal coefficient m reached at the end of training. Default: 1. Must be positive.</summary>
        public float MaxGradientReversal = 1f;

        /// <summary>Hidden width of the discriminator Linear–ReLU–Linear. Default: 100. Must be positive.</summary>
        public int DiscriminatorHiddenSize = 100;

        internal override string MethodName => "DANN";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.DannMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(DomainLossWeight >= 0 && float.IsFinite(DomainLossWeight), nameof(DomainLossWeight), DomainLossWeight, "must be non-negative");
            Check(GradientReversalAlpha > 0 && float.IsFinite(GradientReversalAlpha), nameof(GradientReversalAlpha), GradientReversalAlpha, "must be positive");
            Check(MaxGradientReversal > 0 && float.IsFinite(MaxGradientReversal), nameof(MaxGradientReversal), MaxGradientReversal, "must be positive");
            Check(DiscriminatorHiddenSize > 0, nameof(DiscriminatorHiddenSize), DiscriminatorHiddenSize, "must be positive");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class DannMethod : AdaptationMethod
    {
        private readonly DannOptions _options;
        private readonly DomainDiscriminator _discriminator;

        public DannMethod(DannOptions options, MethodContext context) : base(context)
        {
            _options = options;
            _discriminator = AddAuxiliary(new DomainDiscriminator(context.Spec.EmbeddingSize, options.DiscriminatorHiddenSize));
        }

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            double coefficient = Schedules.WarmStart(state.Progress, _options.GradientReversalAlpha, _options.MaxGradientReversal);
            losses.AddSchedule(ScheduleName.GradientReversal, coefficient);
            var embedding = cat(new[] { inputs.SourceEmbedding, inputs.TargetEmbedding }, 0);
            var domainLogits = _discriminator.forward(GradientReversal.Apply(embedding, coefficient));
            // Source = 1, target = 0.
            var domainLabels = cat(new[] { ones(inputs.SourceEmbedding.shape[0]), zeros(inputs.TargetEmbedding.shape[0]) }, 0);
            var domainLoss = nn.functional.binary_cross_entropy_with_logits(domainLogits, domainLabels);
            losses.Add("domain", domainLoss);
            return domainLoss * _options.DomainLossWeight;
        }
    }
}
