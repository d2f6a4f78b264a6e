using Microsoft.ML.DomainAdaptation.Methods;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Conditional entropy of the target predictions (Grandvalet &amp; Bengio, NeurIPS 2004; the L_c of VADA, Shu et al. 2018):
    /// <c>w · (−1/n) Σ_i Σ_k p_k(x_t,i) log p_k(x_t,i)</c>, p = softmax(C(G(x_t))). Minimising it pushes the decision boundary away
    /// from dense target regions (the cluster assumption). Logged as "entropy".
    /// </summary>
    /// <example><code>
    /// var options = new DannOptions { AddOns = { new EntropyAddOn { Weight = 0.01f } } };
    /// </code></example>
    public sealed class EntropyAddOn : AddOnLoss
    {
        internal override string Name => nameof(EntropyAddOn);

        internal override AddOnTerm CreateTerm(MethodContext context) => new Term(this);

        /// <summary>The mean conditional entropy of the rows of <paramref name="logits"/> (nats).</summary>
        internal static Tensor Compute(Tensor logits) =>
            Losses.MinimumClassConfusion.Entropy(nn.functional.softmax(logits, 1)).mean();

        private sealed class Term : AddOnTerm
        {
            private readonly EntropyAddOn _options;

            public Term(EntropyAddOn options) => _options = options;

            public override Tensor Loss(ScoringNetwork network, StepBatch batch, StepState state, AlignmentInputs inputs, LossLog losses)
            {
                var entropy = Compute(inputs.TargetLogits);
                losses.Add("entropy", entropy);
                return entropy * _options.Weight;
            }
        }
    }
}
