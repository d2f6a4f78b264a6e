using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Losses
{
    /// <summary>
    /// The classification margin disparity discrepancy of MDD (Zhang, Liu, Long &amp; Jordan, ICML 2019) as the auxiliary
    /// classifier f′ minimises it: <c>γ · CE(f′(x_s), argmax f(x_s)) − log(1 − softmax(f′(x_t))[argmax f(x_t)])</c>,
    /// averaged over rows. f′ learns to agree with f on the source and to disagree on the target; the features, through
    /// gradient reversal, learn the opposite, which shrinks the disparity between domains. f's predictions are constants.
    /// </summary>
    internal static class MarginDisparity
    {
        /// <summary>1 − p below this is read as this: log(1 − p) stays finite when f′ is certain (tllib's shift).</summary>
        private const double Floor = 1e-6;

        /// <param name="sourceLogits">n × K logits of the main classifier f on source rows (only their argmax is used).</param>
        /// <param name="sourceAdversarialLogits">n × K logits of the auxiliary classifier f′ on the same rows.</param>
        /// <param name="targetLogits">m × K logits of f on target rows (only their argmax is used).</param>
        /// <param name="targetAdversarialLogits">m × K logits of f′ on the same rows.</param>
        /// <param name="margin">The margin factor γ (MDD's 4 in tllib; larger weighs the source disparity more).</param>
        public static Tensor Compute(Tensor sourceLogits, Tensor sourceAdversarialLogits, Tensor targetLogits, Tensor targetAdversarialLogits, double margin)
        {
            using var scope = NewDisposeScope();
            var sourcePrediction = sourceLogits.detach().argmax(1);
            var targetPrediction = targetLogits.detach().argmax(1);
            var source = nn.functional.cross_entropy(sourceAdversarialLogits, sourcePrediction);
            var agreement = nn.functional.softmax(targetAdversarialLogits, 1).gather(1, targetPrediction.unsqueeze(1)).squeeze(1);
            var target = -(1 - agreement).clamp_min(Floor).log().mean();
            return (source * margin + target).MoveToOuterDisposeScope();
        }
    }
}
