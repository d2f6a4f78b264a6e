using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The faster training step (issue 18) computes what the plain one computes: LeNet's layout and layer order.</summary>
    public class TrainingStepPathTests
    {
        [Fact]
        public void OneChannelImagesGetChannelsLastStridesWithoutChangingValues()
        {
            using var scope = NewDisposeScope();
            var planar = arange(2 * 5 * 7, dtype: ScalarType.Float32).reshape(2, 1, 5, 7);
            var last = MaxPool2x2.ChannelsLast(planar);
            // N × 1 × H × W with strides H·W, 1, W, 1: what libtorch reads as channels-last (a permutation gives 35, 35, 7, 1).
            Assert.Equal(new long[] { 35, 1, 7, 1 }, last.stride());
            Assert.Equal(planar.data<float>().ToArray(), last.contiguous().data<float>().ToArray());
            // Three channels: the logical tensor unchanged, its channels innermost in memory.
            var colour = arange(2 * 3 * 5 * 7, dtype: ScalarType.Float32).reshape(2, 3, 5, 7);
            var colourLast = MaxPool2x2.ChannelsLast(colour);
            Assert.Equal(new long[] { 105, 1, 21, 3 }, colourLast.stride());
            Assert.Equal(colour.data<float>().ToArray(), colourLast.contiguous().data<float>().ToArray());
        }

        [Fact]
        public void LeNetTrainingForwardAndGradientsEqualThePlanarReluThenPoolNetwork()
        {
            using var scope = NewDisposeScope();
            manual_seed(5);
            var backbone = new LeNetBackbone(new ImageShape(1, 18, 18), 6, NormalizationKind.None);
            // Few levels: equal neighbours and zero backgrounds give ties inside pooling windows (the tie rule shows in the gradients).
            var images = randint(0, 4, new long[] { 6, 18 * 18 }).to_type(ScalarType.Float32) / 3;
            var upstream = rand(6, 6);
            var output = backbone.forward(images);
            (output * upstream).sum().backward();

            // The textbook network on the same weights: planar layout, ReLU before each pooling.
            var weights = backbone.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().requires_grad_(true));
            var x = images.view(-1, 1, 18, 18);
            x = F.max_pool2d(F.relu(F.conv2d(x, weights["features.conv1.weight"], weights["features.conv1.bias"])), 2);
            x = F.max_pool2d(F.relu(F.conv2d(x, weights["features.conv2.weight"], weights["features.conv2.bias"])), 2);
            var expected = F.relu(F.linear(x.flatten(1), weights["embedding.fc.weight"], weights["embedding.fc.bias"]));
            (expected * upstream).sum().backward();

            // Equal to float rounding: channels-last convolutions sum in another order (the pooling and ReLU are exact).
            AssertClose(expected, output, 1e-5);
            Assert.True(output.gt(0).sum().item<long>() > 0, "the test needs active units");
            foreach (var (name, parameter) in backbone.named_parameters())
                AssertClose(weights[name].grad, parameter.grad, 1e-5, name);
        }

        [Fact]
        public void McdSharingTheTargetForwardOfPhaseBWithPhaseCTrainsTheSameWeights()
        {
            using var scope = NewDisposeScope();
            var options = new McdOptions { BatchSize = 8, LearningRate = 0.05f };
            var spec = new NetworkSpec(new LeNetBackboneSpec(new ImageShape(1, 18, 18), 6, NormalizationKind.None), 8, 3, HeadKind.AveragedPair);
            manual_seed(7);
            using var shared = (Methods.McdMethod)options.CreateMethod(new Methods.MethodContext(options, spec, 7));
            manual_seed(7);
            using var plain = (Methods.McdMethod)options.CreateMethod(new Methods.MethodContext(options, spec, 7));
            Assert.True(shared.ShareTargetForward);
            plain.ShareTargetForward = false;
            var initial = plain.Network.backbone.parameters().Select(p => p.detach().clone()).ToArray();
            foreach (var method in new[] { shared, plain })
            {
                method.CreateOptimizers();
                method.SetTrainingMode(true);
            }
            manual_seed(8);
            for (int step = 0; step < 4; step++)
            {
                var batch = new Methods.StepBatch(rand(8, 18 * 18), randint(0, 3, new long[] { 8 }), rand(8, 18 * 18) * 0.5 + 0.3);
                var state = new Methods.StepState(step, step / 4.0, options.LearningRate);
                var sharedLoss = shared.Step(batch, state, new Methods.LossLog());
                var plainLoss = plain.Step(batch, state, new Methods.LossLog());
                Assert.Equal(plainLoss.item<float>(), sharedLoss.item<float>(), 5);
            }
            // B's target embedding differs only by rounding (another layout); C's first update gets the same values either way.
            foreach (var ((name, expected), actual) in plain.Network.named_parameters().Zip(shared.Network.parameters()))
                AssertClose(expected, actual, 1e-5, name);
            Assert.True(initial.Zip(plain.Network.backbone.parameters()).Any(p => !p.First.eq(p.Second).all().item<bool>()), "the backbone must have trained");

            // With batch normalisation a forward pass depends on its batch: no sharing.
            var normalized = new NetworkSpec(new LeNetBackboneSpec(new ImageShape(1, 18, 18), 6, NormalizationKind.BatchNorm), 8, 3, HeadKind.AveragedPair);
            using var withBatchNorm = (Methods.McdMethod)options.CreateMethod(new Methods.MethodContext(options, normalized, 7));
            Assert.False(withBatchNorm.ShareTargetForward);
        }

        private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what = "output")
        {
            Assert.Equal(expected.shape, actual.shape);
            var e = expected.contiguous().data<float>().ToArray();
            var a = actual.contiguous().data<float>().ToArray();
            double scale = e.Max(v => Math.Abs(v));
            Assert.True(scale > 0, $"{what}: all zero");
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * (1 + scale), $"{what} {i}: expected {e[i]}, got {a[i]}");
        }
    }
}
