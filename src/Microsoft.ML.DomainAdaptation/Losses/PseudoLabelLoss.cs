using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The FixMatch consistency loss (Sohn et al., NeurIPS 2020) on a target batch of n rows: the weak view's predictions give
    /// pseudo-labels ŷ_i = argmax p_i where max p_i ≥ τ (the mask m_i), and the strong view of the same rows learns them:
    /// <c>L = (1/n) Σ_i m_i · CE(z_i^strong, ŷ_i)</c>. Dividing by n, not by the confident rows, keeps the loss small while
    /// few rows pass the threshold. No gradient flows through the weak view.
    /// </summary>
    internal static class PseudoLabelLoss
    {
        /// <param name="weakLogits">n × K logits of the weak view (detached here).</param>
        /// <param name="strongLogits">n × K logits of the strong view of the same rows.</param>
        /// <param name="threshold">The confidence τ a pseudo-label needs (softmax probability).</param>
        /// <param name="confidentShare">The share of rows whose pseudo-label passed (m̄), for progress reports.</param>
        public static Tensor Compute(Tensor weakLogits, Tensor strongLogits, double threshold, out Tensor confidentShare)
        {
            using var scope = NewDisposeScope();
            var (probability, pseudoLabels) = nn.functional.softmax(weakLogits.detach(), 1).max(1);
            var mask = probability.ge(threshold).to(strongLogits.dtype);
            var perRow = nn.functional.cross_entropy(strongLogits, pseudoLabels, reduction: nn.Reduction.None);
            confidentShare = mask.mean().MoveToOuterDisposeScope();
            return (perRow * mask).mean().MoveToOuterDisposeScope();
        }
    }
}
