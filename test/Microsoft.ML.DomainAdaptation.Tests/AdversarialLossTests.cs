using System;
using Microsoft.ML.DomainAdaptation.Losses;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The losses of MCD and M-ADDA against values computed by hand.</summary>
    public class AdversarialLossTests
    {
        [Fact]
        public void ClassifierDiscrepancyMatchesHandComputedValue()
        {
            using var scope = NewDisposeScope();
            var logits1 = tensor(new float[] { 0, 0, 0, 5, 1, 2 }, new long[] { 2, 3 }).requires_grad_(true);
            var logits2 = tensor(new float[] { MathF.Log(2), 0, 0, 5, 1, 2 }, new long[] { 2, 3 });
            // Row 1: p1 = (1/3, 1/3, 1/3); p2 = softmax(ln 2, 0, 0) = (2/4, 1/4, 1/4);
            //        |p1 − p2| = (1/6, 1/12, 1/12), sum 1/3. Row 2: identical logits, difference 0.
            // Mean over 2 rows × 3 classes: (1/3) / 6 = 1/18.
            var discrepancy = ClassifierDiscrepancy.Compute(logits1, logits2);
            Assert.Equal(1.0 / 18, discrepancy.item<float>(), 6);

            discrepancy.backward();
            var grad = logits1.grad.data<float>().ToArray();
            // Row 1: dD/dp1 = sign(p1 − p2) / 6 = (−1, 1, 1) / 6; through the softmax, dD/dz_j = p_j (s_j − Σ_k s_k p_k) / 6
            // with s = (−1, 1, 1), p = 1/3: Σ s_k p_k = 1/3 → (1/3)(−4/3)/6 = −2/27, (1/3)(2/3)/6 = 1/27, 1/27.
            // Row 2 sits at the kink of |·|, where the subgradient sign(0) = 0 gives no gradient.
            var expected = new[] { -2f / 27, 1f / 27, 1f / 27, 0f, 0f, 0f };
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], grad[i], 6);
            Assert.Equal(0, ClassifierDiscrepancy.Compute(logits2, logits2).item<float>(), 7);
        }

        [Fact]
        public void ClassifierDiscrepancyIsBoundedByTwoOverClasses()
        {
            using var scope = NewDisposeScope();
            // Two confident classifiers that disagree completely: p1 = e_0, p2 = e_1 → |p1 − p2| sums to 2 over K = 4.
            var logits1 = tensor(new float[] { 50, 0, 0, 0 }, new long[] { 1, 4 });
            var logits2 = tensor(new float[] { 0, 50, 0, 0 }, new long[] { 1, 4 });
            Assert.Equal(2.0 / 4, ClassifierDiscrepancy.Compute(logits1, logits2).item<float>(), 5);
        }

        [Fact]
        public void BatchAllTripletLossMatchesHandComputedValueAndGradient()
        {
            using var scope = NewDisposeScope();
            // One-dimensional embeddings e = (0, 2, 3.5, 4.5, 10), labels (0, 0, 1, 1, 2), margin 1.
            var embeddings = tensor(new float[] { 0, 2, 3.5f, 4.5f, 10 }, new long[] { 5, 1 }).requires_grad_(true);
            var labels = tensor(new long[] { 0, 0, 1, 1, 2 });
            // Distances: d01 = 2, d02 = 3.5, d03 = 4.5, d12 = 1.5, d13 = 2.5, d23 = 1, d_i4 ≥ 5.5.
            // Triplets (a, p, n) with hinge d_ap − d_an + 1:
            //   (0,1,2): 2 − 3.5 + 1 < 0   (0,1,3): 2 − 4.5 + 1 < 0   (0,1,4): < 0
            //   (1,0,2): 2 − 1.5 + 1 = 1.5 (1,0,3): 2 − 2.5 + 1 = 0.5  (1,0,4): 2 − 8 + 1 < 0
            //   (2,3,0): 1 − 3.5 + 1 < 0   (2,3,1): 1 − 1.5 + 1 = 0.5  (2,3,4): < 0
            //   (3,2,0): 1 − 4.5 + 1 < 0   (3,2,1): 1 − 2.5 + 1 < 0    (3,2,4): < 0
            // Row 4 has no positive, so it is only a negative. Active: 1.5, 0.5, 0.5 → mean over the 3 active = 2.5 / 3 = 5/6.
            var loss = TripletLoss.BatchAll(embeddings, labels, margin: 1);
            Assert.Equal(5.0 / 6, loss.item<float>(), 5);

            // 3L = (d10 − d12 + 1) + (d10 − d13 + 1) + (d23 − d21 + 1) = 2 d10 − 2 d12 − d13 + d23 + 3, d_ij = |e_i − e_j|,
            // d d_ij / d e_i = sign(e_i − e_j):
            // 3 dL/de0 = −2;                          dL/de0 = −2/3
            // 3 dL/de1 = 2(+1) − 2(−1) − (−1) = 5;    dL/de1 = 5/3
            // 3 dL/de2 = −2(+1) + (−1) = −3;          dL/de2 = −1
            // 3 dL/de3 = −(+1) + (+1) = 0;            dL/de3 = 0;  dL/de4 = 0 (in no active triplet).
            loss.backward();
            var grad = embeddings.grad.data<float>().ToArray();
            var expected = new[] { -2f / 3, 5f / 3, -1f, 0f, 0f };
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], grad[i], 5);
        }

        [Fact]
        public void TripletLossIsScaleFreeInItsGradient()
        {
            using var scope = NewDisposeScope();
            // Euclidean distances: scaling the embedding by 10 scales the loss's active terms by 10 but not the gradient.
            var small = tensor(new float[] { 0, 2, 3.5f, 4.5f }, new long[] { 4, 1 }).requires_grad_(true);
            var large = tensor(new float[] { 0, 20, 35, 45 }, new long[] { 4, 1 }).requires_grad_(true);
            var labels = tensor(new long[] { 0, 0, 1, 1 });
            TripletLoss.BatchAll(small, labels, margin: 1).backward();
            TripletLoss.BatchAll(large, labels, margin: 10).backward();
            Assert.Equal(small.grad.data<float>().ToArray(), large.grad.data<float>().ToArray());
        }

        [Fact]
        public void TripletLossIsZeroWithFiniteGradientWhenEveryTripletIsSatisfied()
        {
            using var scope = NewDisposeScope();
            // Clusters at 0 and 10 (d_ap = 0, d_an = 100 > margin): no active triplet; identical rows must not give NaN.
            var embeddings = tensor(new float[] { 0, 0, 0, 0, 10, 0, 10, 0 }, new long[] { 4, 2 }).requires_grad_(true);
            var loss = TripletLoss.BatchAll(embeddings, tensor(new long[] { 0, 0, 1, 1 }), margin: 1);
            Assert.Equal(0, loss.item<float>());
            loss.backward();
            Assert.All(embeddings.grad.data<float>().ToArray(), g => Assert.Equal(0f, g));
        }

        [Fact]
        public void CentreRegulariserMatchesHandComputedValueAndGradient()
        {
            using var scope = NewDisposeScope();
            var embeddings = tensor(new float[] { 0, 0, 3, 4, 2, 2 }, new long[] { 3, 2 }).requires_grad_(true);
            var centres = tensor(new float[] { 0, 1, 3, 3 }, new long[] { 2, 2 }).requires_grad_(true);
            // Row (0,0): to C0 = (0,1): 1, to C1 = (3,3): 18 → 1.  Row (3,4): 18 vs 1 → 1.  Row (2,2): 4 + 1 = 5 vs 1 + 1 = 2 → 2.
            // Mean of the minima: (1 + 1 + 2) / 3 = 4/3, over the centres' spread ‖C0 − C1‖² = 9 + 4 = 13.
            var loss = CentreLoss.Compute(embeddings, centres);
            Assert.Equal(4.0 / 3 / 13, loss.item<float>(), 6);

            // dR/de_i = (2/3)(e_i − C_nearest) / 13: (0, −2/39), (0, 2/39), (−2/39, −2/39); the centres are constants.
            loss.backward();
            var expected = new[] { 0f, -2f / 39, 0f, 2f / 39, -2f / 39, -2f / 39 };
            var grad = embeddings.grad.data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], grad[i], 5);
            Assert.True(centres.grad is null || centres.grad.abs().sum().item<float>() == 0);

            // The same embeddings and centres at ten times the scale give the same regulariser.
            Assert.Equal(loss.item<float>(), CentreLoss.Compute(embeddings.detach() * 10, centres.detach() * 10).item<float>(), 6);

            // The nearest-centre logits are −d²: row (2,2) → (−5, −2).
            var logits = CentreLoss.Logits(embeddings.detach(), centres.detach()).data<float>().ToArray();
            Assert.Equal(new[] { -1f, -18f, -18f, -1f, -5f, -2f }, logits);
        }

        [Fact]
        public void ClassSumsAccumulateToClassMeans()
        {
            using var scope = NewDisposeScope();
            var embeddings = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 3, 2 });
            var (sums, counts) = CentreLoss.ClassSums(embeddings, tensor(new long[] { 2, 0, 2 }), 3);
            // Class 0: row (3,4); class 1: none; class 2: rows (1,2) + (5,6) = (6,8).
            Assert.Equal(new[] { 3f, 4f, 0f, 0f, 6f, 8f }, sums.data<float>().ToArray());
            Assert.Equal(new[] { 1f, 0f, 2f }, counts.data<float>().ToArray());
        }
    }
}
