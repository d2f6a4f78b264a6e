using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Conditional Domain Adversarial Network (CDAN; Long, Cao, Wang &amp; Jordan, NeurIPS 2018). As DANN, but the
    /// discriminator sees the multilinear map h = f ⊗ g of the embedding f and the class probabilities g (detached), so the
    /// domains are aligned class by class rather than as two blobs:
    /// <c>L = CE(C(G(x_s)), y_s) + w · BCE(D(GRL_λ(f ⊗ g)), d)</c>. Above <see cref="MaxFullMapSize"/> values (d·K) the
    /// randomized map of size <see cref="RandomizedMapSize"/> replaces the outer product. CDAN+E
    /// (<see cref="EntropyConditioning"/>) weights each row's domain loss by 1 + exp(−H(g)), so confident predictions lead.
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new CdanOptions { EntropyConditioning = true });
    /// </code></example>
    public sealed class CdanOptions : DomainAdaptationOptions
    {
        /// <summary>Weight w of the domain loss. Default: 1. Must be non-negative.</summary>
        public float DomainLossWeight = 1f;

        /// <summary>Steepness α of the gradient-reversal warm start 2 / (1 + exp(−α p)) − 1. Default: 10. Must be positive.</summary>
        public float GradientReversalAlpha = 10f;

        /// <summary>Final gradient-reversal coefficient reached at the end of training. Default: 1. Must be positive.</summary>
        public float MaxGradientReversal = 1f;

        /// <summary>Hidden width of the discriminator Linear–ReLU–Linear. Default: 500. Must be positive.</summary>
        public int DiscriminatorHiddenSize = 500;

        /// <summary>CDAN+E: weight each row's domain loss by 1 + exp(−H(g)), normalised to mean 1. Default: false.</summary>
        public bool EntropyConditioning;

        /// <summary>Largest d·K (embedding size × classes) for which the full outer product is used. Default: 4096 (CDAN's code).
        /// Must be positive.</summary>
        public int MaxFullMapSize = MultilinearMap.DefaultMaxFullSize;

        /// <summary>Size r of the randomized multilinear map used above <see cref="MaxFullMapSize"/>. Default: 1024 (CDAN's code).
        /// Must be positive.</summary>
        public int RandomizedMapSize = 1024;

        internal override string MethodName => EntropyConditioning ? "CDAN+E" : "CDAN";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.CdanMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(DomainLossWeight >= 0 && float.IsFinite(DomainLossWeight), nameof(DomainLossWeight), DomainLossWeight, "must be non-negative");
            Check(GradientReversalAlpha > 0 && float.IsFinite(GradientReversalAlpha), nameof(GradientReversalAlpha), GradientReversalAlpha, "must be positive");
            Check(MaxGradientReversal > 0 && float.IsFinite(MaxGradientReversal), nameof(MaxGradientReversal), MaxGradientReversal, "must be positive");
            Check(DiscriminatorHiddenSize > 0, nameof(DiscriminatorHiddenSize), DiscriminatorHiddenSize, "must be positive");
            Check(MaxFullMapSize > 0, nameof(MaxFullMapSize), MaxFullMapSize, "must be positive");
            Check(RandomizedMapSize > 0, nameof(RandomizedMapSize), RandomizedMapSize, "must be positive");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class CdanMethod : AdaptationMethod
    {
        private readonly CdanOptions _options;
        private readonly MultilinearMap _map;
        private readonly DomainDiscriminator _discriminator;

        public CdanMethod(CdanOptions options, MethodContext context) : base(context)
        {
            _options = options;
            _map = AddAuxiliary(new MultilinearMap(context.Spec.EmbeddingSize, context.Spec.ClassCount, options.RandomizedMapSize, options.MaxFullMapSize));
            _discriminator = AddAuxiliary(new DomainDiscriminator(_map.OutputSize, options.DiscriminatorHiddenSize));
        }

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            double coefficient = Schedules.WarmStart(state.Progress, _options.GradientReversalAlpha, _options.MaxGradientReversal);
            losses.AddSchedule(ScheduleName.GradientReversal, coefficient);
            var features = cat(new[] { inputs.SourceEmbedding, inputs.TargetEmbedding }, 0);
            // g conditions the discriminator; as in CDAN's code no gradient flows back through it.
            var probabilities = nn.functional.softmax(cat(new[] { inputs.SourceLogits, inputs.TargetLogits }, 0), 1).detach();
            var domainLogits = _discriminator.forward(GradientReversal.Apply(_map.Apply(features, probabilities), coefficient));
            long sourceRows = inputs.SourceEmbedding.shape[0];
            var domainLabels = cat(new[] { ones(sourceRows), zeros(inputs.TargetEmbedding.shape[0]) }, 0);
            Tensor weights = null;
            if (_options.EntropyConditioning)
            {
                weights = 1 + (-MinimumClassConfusion.Entropy(probabilities)).exp();
                weights = weights / weights.mean();
            }
            var domainLoss = nn.functional.binary_cross_entropy_with_logits(domainLogits, domainLabels, weights);
            losses.Add("domain", domainLoss);
            return domainLoss * _options.DomainLossWeight;
        }
    }
}
