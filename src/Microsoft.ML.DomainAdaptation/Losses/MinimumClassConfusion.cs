using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// Minimum Class Confusion (MCC; Jin, Wang, Long &amp; Wang, ECCV 2020) on a batch of target logits:
    /// Ŷ = softmax(z / T); row weights W_i = 1 + exp(−H(Ŷ_i)) (confident rows count more), rescaled to sum to the batch size
    /// and detached; the class confusion C = Ŷᵀ diag(W) Ŷ (K × K), each row divided by its sum;
    /// <c>L = Σ_{j ≠ j′} C̃_jj′ / K</c>: the mass the predictions share between different classes.
    /// </summary>
    internal static class MinimumClassConfusion
    {
        /// <param name="logits">n × K target logits.</param>
        /// <param name="temperature">The temperature T of the softmax (the paper's 2.5 for most benchmarks).</param>
        public static Tensor Compute(Tensor logits, double temperature)
        {
            using var scope = NewDisposeScope();
            long n = logits.shape[0], classes = logits.shape[1];
            var predictions = nn.functional.softmax(logits / temperature, 1);
            var weights = (1 + (-Entropy(predictions.detach())).exp());
            weights = (weights * n / weights.sum()).unsqueeze(1);
            var confusion = (predictions * weights).t().matmul(predictions);
            confusion = confusion / confusion.sum(dim: 1, keepdim: true);
            return ((confusion.sum() - confusion.trace()) / classes).MoveToOuterDisposeScope();
        }

        /// <summary>Row-wise entropy −Σ_k p_k log p_k of probabilities (n), with log of 0 read as 0.</summary>
        public static Tensor Entropy(Tensor probabilities) => -(probabilities * (probabilities + 1e-12).log()).sum(dim: 1);
    }
}
