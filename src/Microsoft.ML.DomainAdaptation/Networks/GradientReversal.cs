using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// Gradient reversal layer (Ganin &amp; Lempitsky, 2015): the identity going forward, −λ times the gradient going
    /// backward, so that a feature extractor learns to fool the domain discriminator placed after it.
    /// </summary>
    internal sealed class GradientReversal : nn.Module<Tensor, Tensor>
    {
        public GradientReversal() : base(nameof(GradientReversal))
        {
        }

        /// <summary>The coefficient λ applied to the reversed gradient; set per step by the schedule.</summary>
        public double Coefficient { get; set; } = 1.0;

        public override Tensor forward(Tensor input) => Apply(input, Coefficient);

        /// <summary>
        /// x.detach() + (−λ)(x − x.detach()): the value is x exactly (the second term is zero), the gradient is −λ.
        /// Built from differentiable primitives, so it needs no custom autograd function.
        /// </summary>
        public static Tensor Apply(Tensor input, double coefficient)
        {
            using var scope = NewDisposeScope();
            var frozen = input.detach();
            return frozen.add(input.sub(frozen).mul(-coefficient)).MoveToOuterDisposeScope();
        }
    }
}
