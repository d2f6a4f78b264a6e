using Microsoft.ML.DomainAdaptation.Methods;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Minimum Class Confusion (Jin, Wang, Long &amp; Wang, ECCV 2020) on the target predictions:
    /// <c>w · MCC(C(G(x_t)))</c>, where MCC is the probability mass the temperature-scaled predictions of a target batch share
    /// between different classes, with confident rows weighted up (see <see cref="MccOptions"/>). Logged as "mcc".
    /// </summary>
    /// <example><code>
    /// var options = new DannOptions { AddOns = { new MccAddOn { Weight = 1 } } };
    /// </code></example>
    public sealed class MccAddOn : AddOnLoss
    {
        /// <summary>Temperature T of the softmax the loss reads. Default: 2.5 (the paper's). Must be positive.</summary>
        public float Temperature = 2.5f;

        internal override string Name => nameof(MccAddOn);

        internal override void Validate()
        {
            base.Validate();
            DomainAdaptationOptions.Check(Temperature > 0 && float.IsFinite(Temperature), $"{Name}.{nameof(Temperature)}", Temperature, "must be positive");
        }

        internal override AddOnTerm CreateTerm(MethodContext context) => new Term(this);

        private sealed class Term : AddOnTerm
        {
            private readonly MccAddOn _options;

            public Term(MccAddOn options) => _options = options;

            public override Tensor Loss(ScoringNetwork network, StepBatch batch, StepState state, AlignmentInputs inputs, LossLog losses)
            {
                var mcc = Losses.MinimumClassConfusion.Compute(inputs.TargetLogits, _options.Temperature);
                losses.Add("mcc", mcc);
                return mcc * _options.Weight;
            }
        }
    }
}
