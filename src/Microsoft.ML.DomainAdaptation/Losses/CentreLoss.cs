using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// Class centres of an embedding and M-ADDA's centre ("magnet") regulariser (Laradji &amp; Babanezhad 2018):
    /// <c>R = 1/n Σ_i min_j ‖e_i − C_j‖²</c>, pulling each target embedding to its nearest source class centre.
    /// </summary>
    internal static class CentreLoss
    {
        /// <param name="embeddings">n × d embeddings.</param>
        /// <param name="centres">K × d centres (treated as constants: no gradient flows to them).</param>
        public static Tensor Compute(Tensor embeddings, Tensor centres)
        {
            using var scope = NewDisposeScope();
            var distances = TripletLoss.SquaredDistances(embeddings, centres.detach());
            return distances.min(1).values.mean().MoveToOuterDisposeScope();
        }

        /// <summary>Logits of the nearest-centre head: −‖e_i − C_j‖² (softmax of them is the head's probabilities).</summary>
        public static Tensor Logits(Tensor embeddings, Tensor centres)
        {
            using var scope = NewDisposeScope();
            return TripletLoss.SquaredDistances(embeddings, centres.detach()).neg().MoveToOuterDisposeScope();
        }

        /// <summary>Per-class sums (K × d) and counts (K) of embeddings, to accumulate class means over batches.</summary>
        public static (Tensor Sums, Tensor Counts) ClassSums(Tensor embeddings, Tensor labels, int classCount)
        {
            using var scope = NewDisposeScope();
            var oneHot = nn.functional.one_hot(labels, classCount).to_type(embeddings.dtype); // n × K
            var sums = oneHot.t().matmul(embeddings);
            var counts = oneHot.sum(dim: 0); // named: a literal 0 would bind to the sum(ScalarType) overload
            return (sums.MoveToOuterDisposeScope(), counts.MoveToOuterDisposeScope());
        }
    }
}
