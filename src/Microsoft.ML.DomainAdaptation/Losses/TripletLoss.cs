using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// Batch-all triplet loss on squared Euclidean distances (Hermans, Beyer &amp; Leibe 2017, "BA≠0"; the distance and
    /// margin of M-ADDA's code, Laradji &amp; Babanezhad 2018): over every triplet (a, p, n) of the batch with
    /// y_a = y_p, a ≠ p, y_n ≠ y_a, the hinge <c>h = max(0, ‖e_a − e_p‖² − ‖e_a − e_n‖² + m)</c>, averaged over the
    /// triplets with h &gt; 0 (0 when there is none). Averaging over the active triplets keeps the gradient from
    /// fading as most triplets become satisfied; it is deterministic, where M-ADDA draws one violating negative at random
    /// per anchor–positive pair (the same hinge terms in expectation, up to their weighting).
    /// </summary>
    internal static class TripletLoss
    {
        /// <param name="embeddings">n × d embeddings.</param>
        /// <param name="labels">n class indices (int64).</param>
        /// <param name="margin">The margin m (in squared distance units).</param>
        public static Tensor BatchAll(Tensor embeddings, Tensor labels, double margin)
        {
            using var scope = NewDisposeScope();
            long n = embeddings.shape[0];
            var distances = SquaredDistances(embeddings, embeddings);                 // n × n
            var same = labels.unsqueeze(1).eq(labels.unsqueeze(0));                    // n × n
            var positive = same.logical_and(eye(n, dtype: ScalarType.Bool).logical_not());
            var negative = same.logical_not();
            // valid[a, p, n] = positive[a, p] ∧ negative[a, n]
            var valid = positive.unsqueeze(2).logical_and(negative.unsqueeze(1));
            var hinge = nn.functional.relu(distances.unsqueeze(2) - distances.unsqueeze(1) + margin) * valid.to_type(embeddings.dtype);
            var active = hinge.gt(0).sum().to_type(embeddings.dtype).clamp_min(1);
            return (hinge.sum() / active).MoveToOuterDisposeScope();
        }

        /// <summary>‖a_i − b_j‖² for every pair of rows (n_a × n_b), from the differences (exact, and differentiable at 0).</summary>
        public static Tensor SquaredDistances(Tensor a, Tensor b)
        {
            using var scope = NewDisposeScope();
            return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(2).MoveToOuterDisposeScope();
        }
    }
}
