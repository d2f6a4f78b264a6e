using System;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class LossTests
    {
        [Theory]
        [InlineData(0.7)]
        [InlineData(1.0)]
        [InlineData(0.0)]
        public void GradientReversalIsIdentityForwardAndNegatedScaledGradientBackward(double lambda)
        {
            using var scope = NewDisposeScope();
            manual_seed(3);
            var x = randn(5, 3).requires_grad_(true);
            var upstream = randn(5, 3);

            var y = GradientReversal.Apply(x, lambda);
            Assert.Equal(x.detach().data<float>().ToArray(), y.detach().data<float>().ToArray());

            (y * upstream).sum().backward();
            var expected = (upstream * -lambda).data<float>().ToArray();
            var actual = x.grad.data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], actual[i], 6);
        }

        [Fact]
        public void GradientReversalModuleUsesItsCoefficient()
        {
            using var scope = NewDisposeScope();
            using var layer = new GradientReversal { Coefficient = 0.25 };
            var x = ones(2, 2).requires_grad_(true);
            layer.forward(x).sum().backward();
            Assert.All(x.grad.data<float>().ToArray(), g => Assert.Equal(-0.25f, g, 6));
        }

        [Fact]
        public void CoralLossMatchesHandComputedValue()
        {
            using var scope = NewDisposeScope();
            var source = tensor(new float[] { 1, 2, 3, 4, 5, 7 }, new long[] { 3, 2 });
            var target = tensor(new float[] { 0, 1, 2, 2, 1, 5 }, new long[] { 3, 2 });
            // Cov(source) = [[4, 5], [5, 57/9]], Cov(target) = [[1, 0.5], [0.5, 39/9]] (unbiased);
            // ‖difference‖²_F = 9 + 2 · 4.5² + 2² = 53.5; divided by 4 d² = 16.
            Assert.Equal(53.5 / 16, CoralLoss.Compute(source, target).item<float>(), 5);
        }

        [Fact]
        public void CoralLossIsZeroForSameCovarianceAndHasGradient()
        {
            using var scope = NewDisposeScope();
            var source = tensor(new float[] { 1, 2, 3, 4, 5, 7 }, new long[] { 3, 2 }).requires_grad_(true);
            var shifted = source.detach() + 10;
            var loss = CoralLoss.Compute(source, shifted);
            Assert.Equal(0, loss.item<float>(), 5);
            loss = CoralLoss.Compute(source, shifted * 2);
            loss.backward();
            Assert.True(source.grad.abs().sum().item<float>() > 0);
        }

        [Fact]
        public void SchedulesFollowGaninEtAl()
        {
            Assert.Equal(0, Schedules.WarmStart(0), 12);
            Assert.Equal(2 / (1 + Math.Exp(-5)) - 1, Schedules.WarmStart(0.5), 12);
            Assert.Equal(0.5 * (2 / (1 + Math.Exp(-10)) - 1), Schedules.WarmStart(1, 10, 0.5), 12);
            Assert.Equal(0.01, Schedules.AnnealedLearningRate(0.01, 0), 12);
            Assert.Equal(0.01 / Math.Pow(11, 0.75), Schedules.AnnealedLearningRate(0.01, 1), 12);
        }

        [Theory]
        [InlineData(20.0, 0.0)]
        [InlineData(30.0, 4.0)]
        public void ClassCriterionMatchesHandComputedValues(double margin, double expectedSeparation)
        {
            using var scope = NewDisposeScope();
            // Class 0: (0,0), (2,0) → mean (1,0); class 1: (0,4), (0,6) → mean (0,5); class 2 absent.
            // Compactness: every row is at squared distance 1 from its class mean → 1.
            // Separation: ‖μ0 − μ1‖² = 1 + 25 = 26; max(0, m − 26) over the 2 ordered pairs, averaged.
            var embeddings = tensor(new float[] { 0, 0, 2, 0, 0, 4, 0, 6 }, new long[] { 4, 2 });
            var labels = tensor(new long[] { 0, 0, 1, 1 });
            var (compactness, separation) = Losses.ClassCriterionLoss.Compute(embeddings, labels, 3, margin);
            Assert.Equal(1.0, compactness.item<float>(), 5);
            Assert.Equal(expectedSeparation, separation.item<float>(), 5);
        }
    }
}
