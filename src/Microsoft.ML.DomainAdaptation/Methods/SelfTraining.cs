namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Self-training with pseudo-labels and weak/strong augmentation consistency (FixMatch; Sohn et al., NeurIPS 2020) on its
    /// own: <c>L = CE(C(G(x_s)), y_s) + w · (1/n) Σ_i 1[max p(weak(x_t,i)) ≥ τ] · CE(C(G(strong(x_t,i))), argmax p(weak(x_t,i)))</c>.
    /// The network's confident predictions on a weakly augmented target batch become labels for a strongly augmented view of
    /// the same rows. The loss is the <see cref="SelfTrainingAddOn"/> these options start with in
    /// <see cref="DomainAdaptationOptions.AddOns"/>; it adds to any other shared-step method the same way (e.g.
    /// <c>new DannOptions { AddOns = { new SelfTrainingAddOn() } }</c>).
    /// </summary>
    /// <remarks>
    /// Augmentations, drawn per row from a generator seeded with the training seed. Images (<see cref="LeNetBackboneOptions"/>):
    /// weak = a random translation of up to ⌊size / 8⌋ pixels per axis (3 at 28 × 28), edges replicated, no flip; strong = the
    /// same translation plus a rotation of up to ±20°, contrast × [0.6, 1.4] and brightness ± 0.3 standard deviations (each
    /// image's own), and Gaussian noise of 0.15 standard deviations. Plain vectors (<see cref="MlpBackboneOptions"/>): weak =
    /// Gaussian noise of 0.1 per-feature batch standard deviations; strong = 20 % of the features zeroed plus noise of 0.3.
    /// <see cref="SelfTrainingAddOn.StrongAugmentation"/> chooses another learning view, e.g. <see cref="AugmentationKind.Colour"/>
    /// (the weak translation and a random coloured background) when the target is colour and the source grey.
    /// Before the threshold the weak view's probabilities are divided by their running mean on the target and renormalised
    /// (distribution alignment, <see cref="SelfTrainingAddOn.DistributionAlignment"/>): without it, a source
    /// model that is confidently wrong on the target pulled every target row of optdigits → mnist-opencv into one class (10 %).
    /// Pseudo-labels are only as good as the source model on the target: where it is right on about half of the rows
    /// (mnist-opencv → optdigits, 1,000 steps, 3 seeds) self-training alone gained 4.8 points (54.7 → 59.5 %); where it is right on a
    /// quarter (optdigits → mnist-opencv) it lost 6.5. Combine it with an alignment method, whose embedding makes the target
    /// predictions better: DANN + self-training gained 5.8 and 10.6 points over DANN on the two directions.
    /// </remarks>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = 0.9f }));
    /// </code></example>
    public sealed class SelfTrainingOptions : DomainAdaptationOptions
    {
        /// <summary>Makes self-training options with a default <see cref="SelfTrainingAddOn"/> (weight 1, FixMatch's λ_u; threshold 0.95).</summary>
        public SelfTrainingOptions()
            : this(new SelfTrainingAddOn())
        {
        }

        /// <summary>Makes self-training options with <paramref name="selfTraining"/> as their add-on.</summary>
        public SelfTrainingOptions(SelfTrainingAddOn selfTraining)
        {
            AddOns.Add(selfTraining);
        }

        internal override string MethodName => "SelfTraining";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.SelfTrainingMethod(context);

        internal override void ValidateMethodOptions() => RequireAddOn<SelfTrainingAddOn>();
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>The shared step with no alignment loss: the self-training term comes from the add-on.</summary>
    internal sealed class SelfTrainingMethod : AdaptationMethod
    {
        public SelfTrainingMethod(MethodContext context) : base(context)
        {
        }
    }
}
