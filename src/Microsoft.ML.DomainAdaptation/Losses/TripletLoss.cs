using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// Batch-all triplet loss (Hermans, Beyer &amp; Leibe 2017, "BA≠0"): over every triplet (a, p, n) of the batch with
    /// y_a = y_p, a ≠ p, y_n ≠ y_a, the hinge <c>h = max(0, ‖e_a − e_p‖ − ‖e_a − e_n‖ + m)</c>, averaged over the
    /// triplets with h &gt; 0 (0 when there is none). Averaging over the active triplets keeps the gradient from fading
    /// as most triplets become satisfied. Distances are Euclidean, not squared as in M-ADDA's code: the gradient of a
    /// distance has unit norm whatever the embedding's scale, where squared distances give gradients growing with it,
    /// which made SGD blow the embedding up and kill its ReLU units here (Hermans et al. also found squared distances
    /// less stable). M-ADDA draws one margin-violating negative at random per anchor–positive pair; averaging over all
    /// of them is the deterministic counterpart.
    /// </summary>
    internal static class TripletLoss
    {
        /// <param name="embeddings">n × d embeddings.</param>
        /// <param name="labels">n class indices (int64).</param>
        /// <param name="margin">The margin m, in distance units.</param>
        public static Tensor BatchAll(Tensor embeddings, Tensor labels, double margin)
        {
            using var scope = NewDisposeScope();
            long n = embeddings.shape[0];
            var distances = Distances(embeddings, embeddings);                        // n × n
            var same = labels.unsqueeze(1).eq(labels.unsqueeze(0));                    // n × n
            var positive = same.logical_and(eye(n, dtype: ScalarType.Bool).logical_not());
            var negative = same.logical_not();
            // valid[a, p, n] = positive[a, p] ∧ negative[a, n]
            var valid = positive.unsqueeze(2).logical_and(negative.unsqueeze(1));
            var hinge = nn.functional.relu(distances.unsqueeze(2) - distances.unsqueeze(1) + margin) * valid.to_type(embeddings.dtype);
            var active = hinge.gt(0).sum().to_type(embeddings.dtype).clamp_min(1);
            return (hinge.sum() / active).MoveToOuterDisposeScope();
        }

        /// <summary>
        /// ‖a_i − b_j‖ for every pair of rows, as sqrt(‖a_i − b_j‖² + ε): equal to the distance to float precision, and with a
        /// zero gradient (not NaN) where two rows coincide.
        /// </summary>
        public static Tensor Distances(Tensor a, Tensor b)
        {
            using var scope = NewDisposeScope();
            return SquaredDistances(a, b).add(1e-12).sqrt().MoveToOuterDisposeScope();
        }

        /// <summary>‖a_i − b_j‖² for every pair of rows (n_a × n_b), from the differences (exact, and differentiable at 0).</summary>
        public static Tensor SquaredDistances(Tensor a, Tensor b)
        {
            using var scope = NewDisposeScope();
            return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(2).MoveToOuterDisposeScope();
        }
    }
}
