using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The FixMatch consistency loss (Sohn et al., NeurIPS 2020) on a target batch of n rows: the weak view's class
    /// probabilities p_i give pseudo-labels ŷ_i = argmax p_i where max p_i ≥ τ (the mask m_i), and the strong view of the same
    /// rows learns them: <c>L = (1/n) Σ_i m_i · CE(z_i^strong, ŷ_i)</c>. Dividing by n, not by the confident rows, keeps the
    /// loss small while few rows pass the threshold. No gradient flows through the weak view.
    /// </summary>
    internal static class PseudoLabelLoss
    {
        /// <param name="weakProbabilities">n × K class probabilities of the weak view (detached here), aligned or not.</param>
        /// <param name="strongLogits">n × K logits of the strong view of the same rows.</param>
        /// <param name="threshold">The confidence τ a pseudo-label needs.</param>
        /// <param name="confidentShare">The share of rows whose pseudo-label passed (m̄), for progress reports.</param>
        public static Tensor Compute(Tensor weakProbabilities, Tensor strongLogits, double threshold, out Tensor confidentShare)
        {
            using var scope = NewDisposeScope();
            var (probability, pseudoLabels) = weakProbabilities.detach().max(1);
            var mask = probability.ge(threshold).to(strongLogits.dtype);
            var perRow = nn.functional.cross_entropy(strongLogits, pseudoLabels, reduction: nn.Reduction.None);
            confidentShare = mask.mean().MoveToOuterDisposeScope();
            return (perRow * mask).mean().MoveToOuterDisposeScope();
        }

        /// <summary>
        /// Distribution alignment (ReMixMatch; Berthelot et al., ICLR 2020) towards a uniform class prior: p̃_ik ∝ p_ik / p̄_k,
        /// with p̄ the running mean of the predictions on the target. A class the network predicts for most target rows is
        /// scaled down and the rare ones up, which keeps self-training from collapsing onto one class.
        /// </summary>
        /// <param name="probabilities">n × K class probabilities.</param>
        /// <param name="runningMean">K mean probabilities (positive).</param>
        public static Tensor Align(Tensor probabilities, Tensor runningMean)
        {
            using var scope = NewDisposeScope();
            var scaled = probabilities / runningMean.clamp_min(1e-6).unsqueeze(0);
            return (scaled / scaled.sum(1, keepdim: true)).MoveToOuterDisposeScope();
        }
    }
}
