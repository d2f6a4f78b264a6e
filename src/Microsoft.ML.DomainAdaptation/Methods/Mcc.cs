namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Minimum Class Confusion (MCC; Jin, Wang, Long &amp; Wang, ECCV 2020) on its own:
    /// <c>L = CE(C(G(x_s)), y_s) + w · MCC(C(G(x_t)))</c>, where MCC is the probability mass the classifier's (temperature-scaled)
    /// predictions on a target batch share between different classes, with confident rows weighted up. No discriminator and no
    /// kernel: it makes the target predictions decisive and keeps classes apart, and it adds to any other method through
    /// <see cref="DomainAdaptationOptions.MccWeight"/> (e.g. <c>new DannOptions { MccWeight = 1 }</c>).
    /// </summary>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new MccOptions { MccTemperature = 2.5f });
    /// </code></example>
    public sealed class MccOptions : DomainAdaptationOptions
    {
        /// <summary>Makes MCC options: <see cref="DomainAdaptationOptions.MccWeight"/> defaults to 1 here (the paper's).</summary>
        public MccOptions()
        {
            MccWeight = 1f;
        }

        internal override string MethodName => "MCC";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.MccMethod(context);

        internal override void ValidateMethodOptions()
        {
            Check(MccWeight > 0, nameof(MccWeight), MccWeight, "must be positive for MCC (0 is SourceOnlyOptions)");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>The shared step with no alignment loss: the MCC term comes from the common option.</summary>
    internal sealed class MccMethod : AdaptationMethod
    {
        public MccMethod(MethodContext context) : base(context)
        {
        }
    }
}
