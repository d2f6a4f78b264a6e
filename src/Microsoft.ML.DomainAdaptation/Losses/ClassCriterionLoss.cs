using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The class criterion of discriminative transfer metric learning (DTML, Hu, Lu &amp; Tan, CVPR 2015), on the
    /// labeled embeddings of a batch (source rows and labeled target rows together):
    /// <list type="bullet">
    /// <item><description>compactness: mean over rows of ‖f_i − μ_{y_i}‖², μ_c the batch mean of class c;</description></item>
    /// <item><description>separation: mean over pairs of classes present in the batch of max(0, m − ‖μ_c − μ_c'‖²).</description></item>
    /// </list>
    /// </summary>
    internal static class ClassCriterionLoss
    {
        /// <param name="embeddings">n × d labeled embeddings.</param>
        /// <param name="labels">n 0-based class indices (int64).</param>
        /// <param name="classCount">Number of classes K.</param>
        /// <param name="margin">The separation margin m on squared distances between class means.</param>
        public static (Tensor Compactness, Tensor Separation) Compute(Tensor embeddings, Tensor labels, int classCount, double margin)
        {
            using var scope = NewDisposeScope();
            var oneHot = nn.functional.one_hot(labels, classCount).to_type(embeddings.dtype);          // n × K
            var counts = oneHot.sum(dim: 0);                                                            // K
            var present = counts > 0;
            var means = oneHot.t().matmul(embeddings) / counts.clamp_min(1).unsqueeze(1);            // K × d
            var compactness = (embeddings - oneHot.matmul(means)).pow(2).sum(1).mean();

            var presentMeans = means.index_select(0, present.nonzero().squeeze(1));                 // k × d
            long k = presentMeans.shape[0];
            Tensor separation;
            if (k < 2)
            {
                separation = zeros(1, dtype: embeddings.dtype).sum();
            }
            else
            {
                var squared = (presentMeans.unsqueeze(0) - presentMeans.unsqueeze(1)).pow(2).sum(2); // k × k
                var offDiagonal = ones(k, k, dtype: embeddings.dtype) - eye(k, dtype: embeddings.dtype);
                separation = ((margin - squared).clamp_min(0) * offDiagonal).sum() / (k * (k - 1));
            }
            return (compactness.MoveToOuterDisposeScope(), separation.MoveToOuterDisposeScope());
        }
    }
}
