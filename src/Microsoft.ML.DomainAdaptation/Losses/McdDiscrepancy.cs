using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The classifier discrepancy of MCD (Saito et al., CVPR 2018): d(p1, p2) = mean over rows and classes of
    /// |p1_k − p2_k|, p = softmax of each classifier's logits.
    /// </summary>
    internal static class McdDiscrepancy
    {
        public static Tensor Compute(Tensor logits1, Tensor logits2)
        {
            using var scope = NewDisposeScope();
            return (nn.functional.softmax(logits1, 1) - nn.functional.softmax(logits2, 1)).abs().mean().MoveToOuterDisposeScope();
        }
    }
}
