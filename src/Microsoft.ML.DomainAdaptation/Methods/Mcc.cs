namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Minimum Class Confusion (MCC; Jin, Wang, Long &amp; Wang, ECCV 2020) on its own:
    /// <c>L = CE(C(G(x_s)), y_s) + w · MCC(C(G(x_t)))</c>, where MCC is the probability mass the classifier's (temperature-scaled)
    /// predictions on a target batch share between different classes, with confident rows weighted up. No discriminator and no
    /// kernel: it makes the target predictions decisive and keeps classes apart. The loss is the <see cref="MccAddOn"/> these
    /// options start with in <see cref="DomainAdaptationOptions.AddOns"/>; it adds to any other shared-step method the same way
    /// (e.g. <c>new DannOptions { AddOns = { new MccAddOn() } }</c>).
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new MccOptions(new MccAddOn { Temperature = 2.5f }));
    /// </code></example>
    public sealed class MccOptions : DomainAdaptationOptions
    {
        /// <summary>Makes MCC options with a default <see cref="MccAddOn"/> (weight 1, the paper's; temperature 2.5).</summary>
        public MccOptions()
            : this(new MccAddOn())
        {
        }

        /// <summary>Makes MCC options with <paramref name="mcc"/> as their add-on.</summary>
        public MccOptions(MccAddOn mcc)
        {
            AddOns.Add(mcc);
        }

        internal override string MethodName => "MCC";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.MccMethod(context);

        internal override void ValidateMethodOptions() => RequireAddOn<MccAddOn>();
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>The shared step with no alignment loss: the MCC term comes from the add-on.</summary>
    internal sealed class MccMethod : AdaptationMethod
    {
        public MccMethod(MethodContext context) : base(context)
        {
        }
    }
}
