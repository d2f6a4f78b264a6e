using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The classifier discrepancy of Maximum Classifier Discrepancy (Saito et al., CVPR 2018, eq. 1): the mean absolute
    /// difference between the class probabilities of two classifiers,
    /// <c>d(p1, p2) = 1/(n K) Σ_i Σ_k |p1_ik − p2_ik|</c>, with p = softmax(logits). It lies in [0, 2/K].
    /// </summary>
    internal static class ClassifierDiscrepancy
    {
        /// <param name="logits1">n × K logits of the first classifier.</param>
        /// <param name="logits2">n × K logits of the second classifier.</param>
        public static Tensor Compute(Tensor logits1, Tensor logits2)
        {
            using var scope = NewDisposeScope();
            var difference = nn.functional.softmax(logits1, 1) - nn.functional.softmax(logits2, 1);
            return difference.abs().mean().MoveToOuterDisposeScope();
        }
    }
}
