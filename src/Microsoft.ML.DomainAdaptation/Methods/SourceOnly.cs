namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// The baseline: the same network and training loop as every adaptation method, trained on the labeled source
    /// rows only (target rows are read and validated, never used). Compare any method's target accuracy with it.
    /// </summary>
    public sealed class SourceOnlyOptions : DomainAdaptationOptions
    {
        internal override string MethodName => "SourceOnly";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.SourceOnlyMethod(context);
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class SourceOnlyMethod : AdaptationMethod
    {
        public SourceOnlyMethod(MethodContext context) : base(context)
        {
        }

        public override bool UsesTarget => Options.HasAddOns;
    }
}
