using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Methods;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The MMD, weighted MMD and CMD losses against values computed by hand on small matrices.</summary>
    public class DiscrepancyLossTests
    {
        private static Tensor Rows(int columns, params float[] values) => tensor(values, new long[] { values.Length / columns, columns });

        // Source s1 = (0, 0), s2 = (1, 0); target t1 = (0, 1), t2 = (2, 1). Squared distances:
        //   s1s2 = 1, t1t2 = 4, s1t1 = 1, s1t2 = 5, s2t1 = 2, s2t2 = 2.
        // Heuristic bandwidth: mean over the 12 ordered pairs of distinct rows = 2 · (1 + 4 + 1 + 5 + 2 + 2) / 12 = 2.5.
        private static Tensor PairSource() => Rows(2, 0, 0, 1, 0);
        private static Tensor PairTarget() => Rows(2, 0, 1, 2, 1);

        // For a kernel f(d²): mean K_ss = (2 f(0) + 2 f(1)) / 4, mean K_tt = (2 f(0) + 2 f(4)) / 4,
        // mean K_st = (f(1) + f(5) + f(2) + f(2)) / 4, so
        //   biased   = f(0) + f(1)/2 + f(4)/2 − (f(1) + f(5) + 2 f(2)) / 2 = f(0) + f(4)/2 − f(5)/2 − f(2);
        //   unbiased = f(1) + f(4) − (f(1) + f(5) + 2 f(2)) / 2           = f(1)/2 + f(4) − f(5)/2 − f(2).
        private static double PairBiased(Func<double, double> f) => f(0) + f(4) / 2 - f(5) / 2 - f(2);
        private static double PairUnbiased(Func<double, double> f) => f(1) / 2 + f(4) - f(5) / 2 - f(2);

        private static Func<double, double> Gaussian(double bandwidth) => d2 => Math.Exp(-d2 / bandwidth);

        [Fact]
        public void GaussianMmdBiasedAndUnbiasedMatchHandComputedValues()
        {
            using var scope = NewDisposeScope();
            // One kernel at γ = 2.5: f(d²) = exp(−0.4 d²).
            // biased   = 1 + e^−1.6 / 2 − e^−2 / 2 − e^−0.8       = 0.58395...
            // unbiased = e^−0.4 / 2 + e^−1.6 − e^−2 / 2 − e^−0.8 = 0.02006...
            double biased = 1 + Math.Exp(-1.6) / 2 - Math.Exp(-2) / 2 - Math.Exp(-0.8);
            double unbiased = Math.Exp(-0.4) / 2 + Math.Exp(-1.6) - Math.Exp(-2) / 2 - Math.Exp(-0.8);
            Assert.Equal(0.583952, biased, 6);
            Assert.Equal(0.020060, unbiased, 6);
            Assert.Equal(biased, PairBiased(Gaussian(2.5)), 12);
            Assert.Equal(biased, MmdLoss.Compute(PairSource(), PairTarget(), GaussianKernelFamily.Single, MmdEstimator.Biased).item<float>(), 5);
            Assert.Equal(unbiased, MmdLoss.Compute(PairSource(), PairTarget(), GaussianKernelFamily.Single, MmdEstimator.Unbiased).item<float>(), 5);
        }

        [Fact]
        public void MultiKernelMmdSumsTheKernelsAroundTheHeuristicBandwidth()
        {
            using var scope = NewDisposeScope();
            // DAN / the PyTorch reference: 5 kernels, multiplier 2, bandwidths 2.5 · 2^k, k = −2 … 2 = 0.625, 1.25, 2.5, 5, 10;
            // MMD² is linear in the kernel, so it is the sum of the five single-kernel values.
            double[] bandwidths = { 0.625, 1.25, 2.5, 5, 10 };
            double biased = bandwidths.Sum(b => PairBiased(Gaussian(b)));
            double unbiased = bandwidths.Sum(b => PairUnbiased(Gaussian(b)));
            var dan = new GaussianKernelFamily(5, 2);
            Assert.Equal(biased, MmdLoss.Compute(PairSource(), PairTarget(), dan, MmdEstimator.Biased).item<float>(), 5);
            Assert.Equal(unbiased, MmdLoss.Compute(PairSource(), PairTarget(), dan, MmdEstimator.Unbiased).item<float>(), 5);

            // 3 kernels, multiplier 3: 2.5 · 3^k, k = −1 … 1; an even count is off-centre: 4 kernels of multiplier 2 are k = −2 … 1.
            Assert.Equal(new[] { 2.5 / 3, 2.5, 7.5 }.Sum(b => PairBiased(Gaussian(b))),
                MmdLoss.Compute(PairSource(), PairTarget(), new GaussianKernelFamily(3, 3), MmdEstimator.Biased).item<float>(), 5);
            Assert.Equal(new[] { 0.625, 1.25, 2.5, 5 }.Sum(b => PairBiased(Gaussian(b))),
                MmdLoss.Compute(PairSource(), PairTarget(), new GaussianKernelFamily(4, 2), MmdEstimator.Biased).item<float>(), 5);
        }

        [Fact]
        public void LinearMmdAveragesOverPairsOfConsecutiveRows()
        {
            using var scope = NewDisposeScope();
            // Source (0,0), (1,0), (0,0), (0,2); target (0,1), (2,1), (1,1), (1,1): two pairs of pairs.
            //   pair 1: x1 = (0,0), x2 = (1,0), y1 = (0,1), y2 = (2,1): d²(x1,x2) = 1, d²(y1,y2) = 4, d²(x1,y2) = 5, d²(x2,y1) = 2;
            //   pair 2: x1 = (0,0), x2 = (0,2), y1 = (1,1), y2 = (1,1): d²(x1,x2) = 4, d²(y1,y2) = 0, d²(x1,y2) = 2, d²(x2,y1) = 2.
            // Bandwidth: mean of these 8 squared distances = 20 / 8 = 2.5, f(d²) = exp(−0.4 d²).
            // h1 = f(1) + f(4) − f(5) − f(2), h2 = f(4) + f(0) − f(2) − f(2); MMD²_l = (h1 + h2) / 2 = 0.29540...
            var f = Gaussian(2.5);
            double expected = ((f(1) + f(4) - f(5) - f(2)) + (f(4) + f(0) - 2 * f(2))) / 2;
            var source = Rows(2, 0, 0, 1, 0, 0, 0, 0, 2);
            var target = Rows(2, 0, 1, 2, 1, 1, 1, 1, 1);
            Assert.Equal(expected, MmdLoss.Compute(source, target, GaussianKernelFamily.Single, MmdEstimator.Linear).item<float>(), 5);

            // A fifth, unpaired source row is not read (its distances would change the bandwidth).
            var withExtra = Rows(2, 0, 0, 1, 0, 0, 0, 0, 2, 9, 9);
            Assert.Equal(expected, MmdLoss.Compute(withExtra, target, GaussianKernelFamily.Single, MmdEstimator.Linear).item<float>(), 5);
            Assert.Equal(4, MmdLoss.SourceRowsUsed(5, 4, MmdEstimator.Linear));
            Assert.Equal(5, MmdLoss.SourceRowsUsed(5, 4, MmdEstimator.Biased));
        }

        [Fact]
        public void MmdIsZeroForTheSameBatchAndFiniteForIdenticalRows()
        {
            using var scope = NewDisposeScope();
            manual_seed(5);
            var x = randn(6, 3);
            var dan = new GaussianKernelFamily(5, 2);
            // Same batch: K_ss = K_tt = K_st, so the biased estimate is exactly 0.
            Assert.Equal(0, MmdLoss.Compute(x, x.clone(), dan, MmdEstimator.Biased).item<float>(), 5);
            // All rows equal: zero distances, bandwidth 1e-8, every kernel 1: 0, not NaN.
            var same = ones(4, 3);
            foreach (var estimator in new[] { MmdEstimator.Biased, MmdEstimator.Unbiased, MmdEstimator.Linear })
                Assert.Equal(0, MmdLoss.Compute(same, same.clone(), dan, estimator).item<float>(), 5);
        }

        // Weighted MMD, 1-D: source s = 0, 1, 3 of classes (a, b, b); target t = 1, 2.
        // Joint squared distances between distinct rows: 0–1: 1, 0–3: 9, 0–1': 1, 0–2: 4, 1–3: 4, 1–1': 0, 1–2: 1, 3–1': 4, 3–2: 1,
        // 1'–2: 1, sum 26; bandwidth = 2 · 26 / 20 = 2.6, f(d²) = exp(−d² / 2.6).
        // Class weights w_a = 2, w_b = 1 → row weights (2, 1, 1), normalised v = (0.5, 0.25, 0.25).
        private static Tensor WeightedSource() => Rows(1, 0, 1, 3);
        private static Tensor WeightedTarget() => Rows(1, 1, 2);

        [Fact]
        public void WeightedMmdWithUnequalClassWeightsMatchesHandComputedValues()
        {
            using var scope = NewDisposeScope();
            var f = Gaussian(2.6);
            // Source term Σ_ij v_i v_j f(d²_ij) = (0.25 + 0.0625 + 0.0625) f(0) + 2 · 0.125 f(1) + 2 · 0.125 f(9) + 2 · 0.0625 f(4)
            //                                   = 0.375 + 0.25 f(1) + 0.25 f(9) + 0.125 f(4);
            // target term (2 f(0) + 2 f(1)) / 4 = 0.5 + 0.5 f(1);
            // cross term Σ_i v_i mean_j f = 0.5 (f(1) + f(4)) / 2 + 0.25 (f(0) + f(1)) / 2 + 0.25 (f(4) + f(1)) / 2
            //                             = 0.125 + 0.5 f(1) + 0.375 f(4);
            // biased = source + target − 2 cross = 0.625 − 0.25 f(1) + 0.25 f(9) − 0.625 f(4).
            double biased = 0.625 - 0.25 * f(1) + 0.25 * f(9) - 0.625 * f(4);
            // Unbiased source term: Σ_{i≠j} v_i v_j f / Σ_{i≠j} v_i v_j = (0.25 f(1) + 0.25 f(9) + 0.125 f(4)) / 0.625, target term f(1):
            // unbiased = 0.4 f(1) + 0.4 f(9) + 0.2 f(4) + f(1) − 0.25 − f(1) − 0.75 f(4) = −0.25 + 0.4 f(1) + 0.4 f(9) − 0.55 f(4).
            double unbiased = -0.25 + 0.4 * f(1) + 0.4 * f(9) - 0.55 * f(4);

            double[] classWeights = { 2, 1 };
            long[] classes = { 0, 1, 1 };
            var weights = tensor(classes.Select(c => (float)classWeights[c]).ToArray());
            var single = GaussianKernelFamily.Single;
            Assert.Equal(biased, MmdLoss.Compute(WeightedSource(), WeightedTarget(), single, MmdEstimator.Biased, weights).item<float>(), 5);
            Assert.Equal(unbiased, MmdLoss.Compute(WeightedSource(), WeightedTarget(), single, MmdEstimator.Unbiased, weights).item<float>(), 5);
            // Only the ratios matter.
            Assert.Equal(biased, MmdLoss.Compute(WeightedSource(), WeightedTarget(), single, MmdEstimator.Biased, weights * 3).item<float>(), 5);

            // Equal weights give the unweighted estimate (here, uniform: source term (3 + 2 f(1) + 2 f(9) + 2 f(4)) / 9, cross
            // (f(1) + f(4) + 1 + f(1) + f(4) + f(1)) / 6, biased = 1/3 + 2/9 (f(1) + f(9) + f(4)) + 0.5 + 0.5 f(1) − 1/3 − f(1) − 2/3 f(4)).
            double uniform = 0.5 + (2.0 / 9 - 0.5) * f(1) + 2.0 / 9 * f(9) + (2.0 / 9 - 2.0 / 3) * f(4);
            foreach (var estimator in new[] { MmdEstimator.Biased, MmdEstimator.Unbiased })
            {
                Assert.Equal(MmdLoss.Compute(WeightedSource(), WeightedTarget(), single, estimator).item<float>(),
                    MmdLoss.Compute(WeightedSource(), WeightedTarget(), single, estimator, full(3, 0.7f)).item<float>(), 5);
            }
            Assert.Equal(uniform, MmdLoss.Compute(WeightedSource(), WeightedTarget(), single, MmdEstimator.Biased).item<float>(), 5);
        }

        [Fact]
        public void WeightedLinearMmdWeightsTheSourceTermsOfEachPair()
        {
            using var scope = NewDisposeScope();
            // The linear example above with source weights (3, 1, 1, 3): mean 2, normalised v = (1.5, 0.5, 0.5, 1.5).
            //   h1 = v1 v2 f(1) + f(4) − v1 f(5) − v2 f(2) = 0.75 f(1) + f(4) − 1.5 f(5) − 0.5 f(2);
            //   h2 = v3 v4 f(4) + f(0) − v3 f(2) − v4 f(2) = 0.75 f(4) + 1 − 2 f(2).
            var f = Gaussian(2.5);
            double expected = ((0.75 * f(1) + f(4) - 1.5 * f(5) - 0.5 * f(2)) + (0.75 * f(4) + 1 - 2 * f(2))) / 2;
            var source = Rows(2, 0, 0, 1, 0, 0, 0, 0, 2);
            var target = Rows(2, 0, 1, 2, 1, 1, 1, 1, 1);
            var weights = tensor(new float[] { 3, 1, 1, 3 });
            Assert.Equal(expected, MmdLoss.Compute(source, target, GaussianKernelFamily.Single, MmdEstimator.Linear, weights).item<float>(), 5);
        }

        [Fact]
        public void ClassProportionsAreRunningCountsAndGiveTargetOverSourceRatios()
        {
            var source = new ClassProportions(3, 0.5);
            var target = new ClassProportions(3, 0.5);
            Assert.Null(ClassProportions.Ratios(target, source));
            // Source: counts 0.5 · (2, 2, 0) = (1, 1, 0), then 0.5 · (1, 1, 0) + 0.5 · (0, 2, 0) = (0.5, 1.5, 0): p_s = (0.25, 0.75, 0).
            source.Update(new long[] { 0, 1, 0, 1 });
            source.Update(new long[] { 1, 1 });
            // Target: counts 0.5 · (1, 0, 0) = (0.5, 0, 0), then (0.25, 0, 0) + 0.5 · (1, 1, 0) = (0.75, 0.5, 0): p_t = (0.6, 0.4, 0);
            // a step without confident rows changes nothing.
            target.Update(new long[] { 0 });
            target.Update(Array.Empty<long>());
            target.Update(new long[] { 0, 1 });
            Assert.Equal(0.25, source[0], 12);
            Assert.Equal(0.6, target[0], 12);
            // w = p_t / p_s = (0.6 / 0.25, 0.4 / 0.75, 0: no source row of class 2) = (2.4, 0.5333..., 0).
            var ratios = ClassProportions.Ratios(target, source);
            Assert.Equal(2.4, ratios[0], 12);
            Assert.Equal(0.4 / 0.75, ratios[1], 12);
            Assert.Equal(0, ratios[2]);
            // Clipped to [1/2, 2]: 2.4 → 2; 0.533 stays; a class the target never predicted (0) would rise to 1/2.
            var clipped = ClassProportions.Ratios(target, source, maxWeight: 2);
            Assert.Equal(2, clipped[0], 12);
            Assert.Equal(0.4 / 0.75, clipped[1], 12);
            var onlyClassZero = new ClassProportions(3, 0.5);
            onlyClassZero.Update(new long[] { 0 });
            Assert.Equal(0.5, ClassProportions.Ratios(onlyClassZero, source, maxWeight: 2)[1], 12);
        }

        [Fact]
        public void PseudoLabelsAreTheConfidentPredictionsWithoutGradient()
        {
            using var scope = NewDisposeScope();
            // softmax(ln 9, 0) = (0.9, 0.1): kept at threshold 0.9; softmax(0, 1) = (0.27, 0.73): dropped; softmax(0, 5): 0.993.
            var logits = tensor(new float[] { MathF.Log(9), 0, 0, 1, 0, 5 }, new long[] { 3, 2 }).requires_grad_(true);
            Assert.Equal(new long[] { 0, 1 }, WeightedMmdMethod.ConfidentPredictions(logits, 0.899));
            Assert.Equal(new long[] { 1 }, WeightedMmdMethod.ConfidentPredictions(logits, 0.95));
            Assert.Equal(new long[] { 0, 1, 1 }, WeightedMmdMethod.ConfidentPredictions(logits, 0));
        }

        [Fact]
        public void CmdMatchesHandComputedValuesForOrdersOneToFour()
        {
            using var scope = NewDisposeScope();
            // Source rows (0, 0.5), (0, 0.5), (1, 0.5); target rows (0, 0), (1, 0.5), (1, 1).
            //   column 1: source mean 1/3, centred (−1/3, −1/3, 2/3): c2 = 6/27 = 2/9, c3 = 6/81 = 2/27, c4 = 18/243 = 2/27;
            //             target mean 2/3, centred (−2/3, 1/3, 1/3): c2 = 2/9, c3 = −2/27, c4 = 2/27;
            //   column 2: source constant 0.5: every central moment 0; target mean 0.5, centred (−0.5, 0, 0.5): c2 = 1/6, c3 = 0, c4 = 1/24.
            // Terms: ‖means‖ = ‖(−1/3, 0)‖ = 1/3; ‖c2‖ = ‖(0, −1/6)‖ = 1/6; ‖c3‖ = ‖(4/27, 0)‖ = 4/27; ‖c4‖ = ‖(0, −1/24)‖ = 1/24.
            var source = Rows(2, 0, 0.5f, 0, 0.5f, 1, 0.5f);
            var target = Rows(2, 0, 0, 1, 0.5f, 1, 1);
            double[] expected = { 1.0 / 3, 1.0 / 3 + 1.0 / 6, 1.0 / 3 + 1.0 / 6 + 4.0 / 27, 1.0 / 3 + 1.0 / 6 + 4.0 / 27 + 1.0 / 24 };
            for (int k = 1; k <= 4; k++)
                Assert.Equal(expected[k - 1], CmdLoss.Compute(source, target, k).item<float>(), 5);
            // Activations in an interval of width 2: the k-th term is divided by 2^k: 1/6 + 1/24 + 1/54.
            Assert.Equal(1.0 / 6 + 1.0 / 24 + 4.0 / 27 / 8, CmdLoss.Compute(source, target, 3, range: 2).item<float>(), 5);
            Assert.Throws<ArgumentOutOfRangeException>(() => CmdLoss.Compute(source, target, 0));
        }

        [Fact]
        public void CmdIsZeroWithAZeroGradientForTheSameBatch()
        {
            using var scope = NewDisposeScope();
            var source = Rows(2, 0, 0.5f, 0, 0.5f, 1, 0.5f).requires_grad_(true);
            var loss = CmdLoss.Compute(source, source.detach().clone(), 5);
            Assert.Equal(0, loss.item<float>(), 6);
            loss.backward();
            // ‖0‖ has no derivative: the gradient is 0, not NaN.
            Assert.All(source.grad.data<float>().ToArray(), g => Assert.Equal(0f, g));
        }

        [Fact]
        public void GradientsFlowIntoBothDomainsThroughEveryLoss()
        {
            using var scope = NewDisposeScope();
            manual_seed(11);
            var dan = new GaussianKernelFamily(5, 2);
            var losses = new (string Name, Func<Tensor, Tensor, Tensor> Loss)[]
            {
                ("biased", (s, t) => MmdLoss.Compute(s, t, dan, MmdEstimator.Biased)),
                ("unbiased", (s, t) => MmdLoss.Compute(s, t, dan, MmdEstimator.Unbiased)),
                ("linear", (s, t) => MmdLoss.Compute(s, t, dan, MmdEstimator.Linear)),
                ("gaussian", (s, t) => MmdLoss.Compute(s, t, GaussianKernelFamily.Single, MmdEstimator.Biased)),
                ("weighted", (s, t) => MmdLoss.Compute(s, t, dan, MmdEstimator.Biased, tensor(new float[] { 2, 1, 1, 0, 3, 1, 1, 2 }))),
                ("weighted unbiased", (s, t) => MmdLoss.Compute(s, t, dan, MmdEstimator.Unbiased, tensor(new float[] { 2, 1, 1, 0, 3, 1, 1, 2 }))),
                ("weighted linear", (s, t) => MmdLoss.Compute(s, t, dan, MmdEstimator.Linear, tensor(new float[] { 2, 1, 1, 0, 3, 1, 1, 2 }))),
                ("cmd", (s, t) => CmdLoss.Compute(s.sigmoid(), t.sigmoid(), 5)),
            };
            foreach (var (name, loss) in losses)
            {
                var source = randn(8, 4).requires_grad_(true);
                var target = (randn(8, 4) + 1).requires_grad_(true);
                var value = loss(source, target);
                Assert.True(float.IsFinite(value.item<float>()), name);
                value.backward();
                Assert.True(source.grad.abs().sum().item<float>() > 0, $"{name}: no gradient into the source");
                Assert.True(target.grad.abs().sum().item<float>() > 0, $"{name}: no gradient into the target");
                Assert.True(source.grad.isfinite().all().item<bool>() && target.grad.isfinite().all().item<bool>(), name);
            }
        }
    }
}
