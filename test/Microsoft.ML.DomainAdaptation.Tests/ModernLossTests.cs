using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The losses of CDAN, JAN, MCC and MDD against values computed by hand.</summary>
    public class ModernLossTests
    {
        [Fact]
        public void MarginDisparityMatchesHandComputedValueAndGradients()
        {
            using var scope = NewDisposeScope();
            // Source: f predicts class 0; f′ logits (0, 0) → CE = ln 2, gradient softmax − onehot = (−1/2, 1/2).
            // Target: f predicts class 1; f′ logits (ln 3, 0) → p = (3/4, 1/4), −log(1 − 1/4) = ln(4/3);
            //   its gradient p_1(δ_1j − p_j) / (1 − p_1) = (−1/4, 1/4).
            // γ = 4: 4 ln 2 + ln(4/3) = 3.060271; source gradient × 4 = (−2, 2).
            var sourceLogits = tensor(new float[] { 2, 0 }, new long[] { 1, 2 }).requires_grad_(true);
            var targetLogits = tensor(new float[] { 0, 1 }, new long[] { 1, 2 }).requires_grad_(true);
            var sourceAdversarial = tensor(new float[] { 0, 0 }, new long[] { 1, 2 }).requires_grad_(true);
            var targetAdversarial = tensor(new float[] { MathF.Log(3), 0 }, new long[] { 1, 2 }).requires_grad_(true);
            var loss = MarginDisparity.Compute(sourceLogits, sourceAdversarial, targetLogits, targetAdversarial, margin: 4);
            Assert.Equal(4 * Math.Log(2) + Math.Log(4.0 / 3), loss.item<float>(), 5);
            loss.backward();
            Assert.Equal(new[] { -2f, 2f }, sourceAdversarial.grad.data<float>().ToArray().Select(g => MathF.Round(g, 5)));
            Assert.Equal(new[] { -0.25f, 0.25f }, targetAdversarial.grad.data<float>().ToArray().Select(g => MathF.Round(g, 5)));
            // f's predictions are constants: no gradient reaches the main classifier through the disparity.
            Assert.True(sourceLogits.grad is null && targetLogits.grad is null);
        }

        [Fact]
        public void MinimumClassConfusionMatchesHandComputedValue()
        {
            using var scope = NewDisposeScope();
            // T = 1. Row 1: logits (0, 0) → p = (0.5, 0.5), H = ln 2, w = 1 + 1/2 = 1.5.
            // Row 2: logits (ln 3, 0) → p = (0.75, 0.25), H = 0.562335, w = 1 + exp(−H) = 1.569856.
            // Rescaled to sum 2: w = (0.977244, 1.022756). C = Σ w_i p_i p_iᵀ = [[0.819611, 0.436078], [0.436078, 0.308233]];
            // rows divided by their sums: [[0.652717, 0.347283], [0.585880, 0.414120]]; off-diagonal sum / K = 0.466581.
            var logits = tensor(new float[] { 0, 0, MathF.Log(3), 0 }, new long[] { 2, 2 }).requires_grad_(true);
            var loss = MinimumClassConfusion.Compute(logits, temperature: 1);
            Assert.Equal(0.4665814, loss.item<float>(), 5);
            loss.backward();
            Assert.True(logits.grad.abs().sum().item<float>() > 0);

            // One-hot, confident predictions of different classes share nothing: the loss is 0.
            var decisive = tensor(new float[] { 30, 0, 0, 30 }, new long[] { 2, 2 });
            Assert.Equal(0, MinimumClassConfusion.Compute(decisive, 1).item<float>(), 5);
            // The temperature softens the predictions: more confusion.
            Assert.True(MinimumClassConfusion.Compute(logits, 2.5).item<float>() > loss.item<float>());
        }

        [Fact]
        public void MultilinearMapIsTheFlattenedOuterProductOrItsRandomizedEstimate()
        {
            using var scope = NewDisposeScope();
            // f = (1, 2), g = (0.25, 0.75): g ⊗ f = (0.25, 0.5, 0.75, 1.5).
            var f = tensor(new float[] { 1, 2 }, new long[] { 1, 2 });
            var g = tensor(new float[] { 0.25f, 0.75f }, new long[] { 1, 2 });
            using var full = new MultilinearMap(2, 2, randomizedSize: 8);
            Assert.False(full.Randomized);
            Assert.Equal(new float[] { 0.25f, 0.5f, 0.75f, 1.5f }, full.Apply(f, g).data<float>().ToArray());

            // Randomized: <h(a), h(b)> estimates <f_a, f_b> · <g_a, g_b> (here 4 · 0.625 = 2.5 for a = b).
            manual_seed(0);
            using var randomized = new MultilinearMap(2, 2, randomizedSize: 200_000, maxFullSize: 3);
            Assert.True(randomized.Randomized);
            var h = randomized.Apply(f, g);
            Assert.Equal(200_000, h.shape[1]);
            Assert.Equal(5 * 0.625, h.pow(2).sum().item<float>(), 0.05 * 5 * 0.625);
        }

        [Fact]
        public void JointMmdIsTheMmdOfTheProductKernel()
        {
            using var scope = NewDisposeScope();
            // One row per domain: f_s = 0, f_t = 1 (d² = 1, bandwidth = 1 → k_f = e^−1); g_s = (1, 0), g_t = (0, 1)
            // (d² = 2, σ = 1 → k_g = exp(−2/2) = e^−1). Biased JMMD² = 1 + 1 − 2 e^−2 = 1.729329.
            var fs = tensor(new float[] { 0 }, new long[] { 1, 1 });
            var ft = tensor(new float[] { 1 }, new long[] { 1, 1 });
            var gs = tensor(new float[] { 1, 0 }, new long[] { 1, 2 });
            var gt = tensor(new float[] { 0, 1 }, new long[] { 1, 2 });
            var jmmd = JointMmd.Compute(fs, ft, gs, gt, GaussianKernelFamily.Single, 1, MmdEstimator.Biased);
            Assert.Equal(2 - 2 * Math.Exp(-2), jmmd.item<float>(), 5);

            // With equal probabilities everywhere the probability kernel is 1: JMMD is the embedding's MMD.
            manual_seed(1);
            var a = randn(6, 3);
            var b = randn(6, 3) + 1;
            var same = full(6, 4, 0.25f);
            foreach (var estimator in new[] { MmdEstimator.Biased, MmdEstimator.Unbiased, MmdEstimator.Linear })
            {
                var kernels = new GaussianKernelFamily(5, 2);
                Assert.Equal(MmdLoss.Compute(a, b, kernels, estimator).item<float>(),
                    JointMmd.Compute(a, b, same, same, kernels, 0.92, estimator).item<float>(), 5);
            }
        }
    }
}
