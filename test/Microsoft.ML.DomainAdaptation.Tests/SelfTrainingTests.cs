using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training.Augmentations;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Self-training's augmentations and pseudo-label loss against hand-computed values, and its options.</summary>
    public class SelfTrainingTests
    {
        private static NetworkSpec LeNet(int channels, int side) =>
            new(new LeNetBackboneSpec(new ImageShape(channels, side, side), 8, NormalizationKind.None), 8, 10);

        private static NetworkSpec Mlp(int features) => new(new MlpBackboneSpec(features, new[] { 4 }, 8, NormalizationKind.None), 8, 10);

        /// <summary>Digit-like images: a ring stroke (value 1) on a background of −1, centred at a different place in each image.</summary>
        private static Tensor Rings(int n, int side)
        {
            var pixels = new float[n * side * side];
            for (int i = 0; i < n; i++)
            {
                double cx = side / 2.0 + (i % 3) - 1, cy = side / 2.0 + (i % 2);
                for (int y = 0; y < side; y++)
                {
                    for (int x = 0; x < side; x++)
                    {
                        double r = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                        pixels[(i * side + y) * side + x] = Math.Abs(r - side / 4.0) < 1.5 ? 1 : -1;
                    }
                }
            }
            return tensor(pixels, new long[] { n, side * side });
        }

        private static float[] Data(Tensor t) => t.contiguous().data<float>().ToArray();

        [Fact]
        public void ImageAugmentationsAreDeterministicForASeedAndKeepTheShape()
        {
            using var scope = NewDisposeScope();
            foreach (var (channels, side) in new[] { (1, 28), (3, 16) })
            {
                manual_seed(1);
                var features = randn(6, channels * side * side);
                float[] View(long seed, bool strong)
                {
                    using var augmentation = new Augmentation(LeNet(channels, side), seed);
                    var first = strong ? augmentation.Strong(features) : augmentation.Weak(features);
                    Assert.Equal(features.shape, first.shape);
                    // The generator moves on: a second batch gets other draws.
                    var second = strong ? augmentation.Strong(features) : augmentation.Weak(features);
                    Assert.NotEqual(Data(first), Data(second));
                    return Data(first);
                }
                foreach (bool strong in new[] { false, true })
                {
                    Assert.Equal(View(7, strong), View(7, strong));
                    Assert.NotEqual(View(7, strong), View(8, strong));
                }
                // The default generator is not touched: weights drawn after augmenting are the same as without.
                manual_seed(3);
                var expected = Data(randn(4));
                manual_seed(3);
                View(7, true);
                Assert.Equal(expected, Data(randn(4)));
            }
        }

        [Fact]
        public void TranslateMovesWholePixelsAndReplicatesTheEdges()
        {
            using var scope = NewDisposeScope();
            // 3 × 4 image 0..11 (row-major). dx = +1: each row moves right, its first pixel repeated.
            // dy = −1: rows move up, the last row repeated.
            var image = arange(12, ScalarType.Float32).view(1, 1, 3, 4);
            var right = ImageAugmentation.Translate(image, tensor(new long[] { 1, 0 }, new long[] { 1, 2 }));
            Assert.Equal(new float[] { 0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10 }, Data(right));
            var up = ImageAugmentation.Translate(image, tensor(new long[] { 0, -1 }, new long[] { 1, 2 }));
            Assert.Equal(new float[] { 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11 }, Data(up));
            var none = ImageAugmentation.Translate(image, zeros(1, 2, ScalarType.Int64));
            Assert.Equal(Data(image), Data(none));
            // The largest shift is an eighth of the side, at least one pixel.
            Assert.Equal(3, ImageAugmentation.MaxShift(28));
            Assert.Equal(1, ImageAugmentation.MaxShift(5));
        }

        [Fact]
        public void RotationOfAQuarterTurnIsRot90AndIntensityChangesFollowTheImagesStatistics()
        {
            using var scope = NewDisposeScope();
            var image = arange(16, ScalarType.Float32).view(1, 1, 4, 4);
            var turned = ImageAugmentation.RotateAndTranslate(image, tensor(new float[] { 90 }), zeros(1, 2, ScalarType.Int64));
            var expected = Data(image.rot90(1, (2, 3)));
            var actual = Data(turned);
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], actual[i], 4);

            // Image (0, 2): mean 1, standard deviation 1. Contrast 2, brightness 0.5: 1 + 2 (x − 1) + 0.5 = (−0.5, 3.5).
            var pair = tensor(new float[] { 0, 2 }, new long[] { 1, 1, 1, 2 });
            Assert.Equal(new float[] { -0.5f, 3.5f }, Data(ImageAugmentation.ContrastAndBrightness(pair, tensor(new float[] { 2 }), tensor(new float[] { 0.5f }))));
            // Noise (1, −1) at σ = 0.5 standard deviations: (0.5, 1.5).
            Assert.Equal(new float[] { 0.5f, 1.5f }, Data(ImageAugmentation.AddNoise(pair, tensor(new float[] { 1, -1 }, new long[] { 1, 1, 1, 2 }), 0.5)));
        }

        [Fact]
        public void WeakViewLeavesMostPixelsNearAndStrongViewChangesMore()
        {
            using var scope = NewDisposeScope();
            var images = Rings(32, 28);
            using var augmentation = new Augmentation(LeNet(1, 28), 5);
            var weak = (augmentation.Weak(images) - images).abs();
            var strong = (augmentation.Strong(images) - images).abs();
            // A shift of ≤ 3 pixels moves the stroke; the background (most of the image) stays exactly as it was.
            double weakNear = weak.le(1e-6).to(ScalarType.Float32).mean().item<float>();
            double strongNear = strong.le(0.05).to(ScalarType.Float32).mean().item<float>();
            Assert.True(weakNear > 0.75, $"weak view kept {weakNear:P1} of the pixels");
            Assert.True(strongNear < 0.5, $"strong view kept {strongNear:P1} of the pixels within 0.05");
            Assert.True(strong.mean().item<float>() > weak.mean().item<float>());
            // Values stay in the image's range, give or take contrast and noise: no padding of zeros or wraps.
            Assert.True(augmentation.Weak(images).min().item<float>() >= -1 && augmentation.Weak(images).max().item<float>() <= 1);
        }

        [Fact]
        public void VectorFallbackAddsNoiseScaledPerFeatureAndDropsFeatures()
        {
            using var scope = NewDisposeScope();
            manual_seed(2);
            // Two features of very different scales: each gets noise in its own scale.
            var features = randn(256, 2) * tensor(new float[] { 1, 100 });
            float[] Weak(long seed)
            {
                using var augmentation = new Augmentation(Mlp(2), seed);
                return Data(augmentation.Weak(features));
            }
            Assert.Equal(Weak(3), Weak(3));
            Assert.NotEqual(Weak(3), Weak(4));
            using var a = new Augmentation(Mlp(2), 3);
            var weakChange = Data((a.Weak(features) - features).abs().mean(new long[] { 0 }));
            var std = Data(features.std(0, unbiased: false));
            // E|N(0, σ²)| = 0.798 σ, σ = 0.1 of each feature's batch standard deviation (about 1 and 100 here); 256 rows: ±10 %.
            for (int j = 0; j < 2; j++)
                Assert.Equal(0.0798 * std[j], weakChange[j], 0.1 * 0.0798 * std[j]);
            // Features near 10 with a spread of 0.1: a dropped value becomes 0 plus noise of 0.03, the others stay near 10.
            var offset = 10 + features[.., ..1] * 0.1;
            var strong = a.Strong(offset);
            Assert.Equal(offset.shape, strong.shape);
            // 20 % dropped; 256 values: ±2.5 % standard error.
            double dropped = strong.abs().lt(1).to(ScalarType.Float32).mean().item<float>();
            Assert.InRange(dropped, 0.12, 0.28);
            Assert.True(strong.sub(offset).abs().lt(0.2).logical_or(strong.abs().lt(0.2)).all().item<bool>());
        }

        [Fact]
        public void PseudoLabelLossMatchesHandComputedValue()
        {
            using var scope = NewDisposeScope();
            // Weak view: row 0 (ln 99, 0) → p = 0.99, class 0, kept; row 1 (0, 0) → 0.5, dropped; row 2 (0, ln 99) → class 1, kept.
            float l99 = MathF.Log(99);
            var weak = tensor(new float[] { l99, 0, 0, 0, 0, l99 }, new long[] { 3, 2 }).requires_grad_(true);
            // Strong view: row 0 (0, 0) → CE to class 0 = ln 2; row 1 ignored; row 2 (ln 3, 0) → p₁ = 1/4, CE = ln 4.
            var strong = tensor(new float[] { 0, 0, 5, -5, MathF.Log(3), 0 }, new long[] { 3, 2 }).requires_grad_(true);
            var loss = PseudoLabelLoss.Compute(nn.functional.softmax(weak, 1), strong, 0.95, out var share);
            // Divided by all 3 rows: (ln 2 + ln 4) / 3 = ln 8 / 3.
            Assert.Equal(Math.Log(8) / 3, loss.item<float>(), 5);
            Assert.Equal(2f / 3, share.item<float>(), 5);
            loss.backward();
            Assert.Null(weak.grad);
            var grad = Data(strong.grad);
            // d/dz of CE / 3: (p − onehot) / 3. Row 0: (0.5 − 1, 0.5) / 3; row 1: 0; row 2: (0.75, 0.25 − 1) / 3.
            var expected = new[] { -0.5f / 3, 0.5f / 3, 0, 0, 0.75f / 3, -0.75f / 3 };
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], grad[i], 5);

            // A threshold above every confidence keeps no row: the loss is 0.
            Assert.Equal(0, PseudoLabelLoss.Compute(nn.functional.softmax(weak, 1), strong, 0.999, out var none).item<float>());
            Assert.Equal(0, none.item<float>());
        }

        [Fact]
        public void MeanTeacherLabelsTheWeakViewWithTheAverageOfPastWeights()
        {
            using var scope = NewDisposeScope();
            const float momentum = 0.75f; // not 0.5: swapping α and 1 − α must fail too
            const int seed = 3;
            var spec = Mlp(6);
            manual_seed(0);
            var features = randn(16, 6);
            var addOn = new SelfTrainingAddOn { TeacherMomentum = momentum, Threshold = 0.2f, DistributionAlignment = false };
            using var term = addOn.CreateTerm(new Methods.MethodContext(new SelfTrainingOptions(addOn), spec, seed));
            using var student = new ScoringNetwork(spec);
            var before = student.parameters().Select(p => p.detach().clone()).ToArray();
            var batch = new Methods.StepBatch(features, null, features);

            // The term's own generator, replayed: each Loss draws a weak view, then a strong one.
            using var views = new Augmentation(spec, seed);
            views.Weak(features);
            views.View(features, AugmentationKind.Strong);
            var weak = views.Weak(features);
            var strong = views.View(features, AugmentationKind.Strong);

            // The teacher starts as a copy, and building it leaves libtorch's default generator (the training's) where it was.
            manual_seed(42);
            term.Loss(student, batch, new Methods.StepState(0, 0, 0.01), default, new Methods.LossLog());
            var drawAfter = Data(rand(4));
            manual_seed(42);
            Assert.Equal(Data(rand(4)), drawAfter);
            using (no_grad())
            {
                foreach (var parameter in student.parameters())
                    parameter.add_(randn_like(parameter));
            }
            var log = new Methods.LossLog();
            term.Loss(student, batch, new Methods.StepState(1, 0.5, 0.01), default, log);

            // By hand: a network with θ′ = α θ_before + (1 − α) θ_now labels the weak view; the student learns the strong view.
            using var teacher = TeacherWeights.Clone(student);
            using (no_grad())
            {
                foreach (var (parameter, old) in teacher.parameters().Zip(before))
                    parameter.mul_(1 - momentum).add_(old, alpha: momentum);
            }
            using var noGrad = no_grad();
            var strongLogits = student.forward(strong);
            double expected = PseudoLabelLoss.Compute(nn.functional.softmax(teacher.forward(weak), 1), strongLogits, 0.2, out _).item<float>();
            double selfLabelled = PseudoLabelLoss.Compute(nn.functional.softmax(student.forward(weak), 1), strongLogits, 0.2, out _).item<float>();
            Assert.True(Math.Abs(expected - selfLabelled) > 1e-3, $"the test needs the teacher's labels to differ from the student's ({expected} vs {selfLabelled})");
            Assert.Equal(expected, log.Values["self-training"], 5);
        }

        [Fact]
        public void DistributionAlignmentDividesByTheRunningMeanAndRenormalises()
        {
            using var scope = NewDisposeScope();
            // Running mean (0.8, 0.2): the network favours class 0. Row (0.6, 0.4) → (0.75, 2) / 2.75 = (0.272727, 0.727273):
            // the rarely predicted class wins. Row (0.9, 0.1) → (1.125, 0.5) / 1.625 = (0.692308, 0.307692).
            var p = tensor(new float[] { 0.6f, 0.4f, 0.9f, 0.1f }, new long[] { 2, 2 });
            var aligned = Data(PseudoLabelLoss.Align(p, tensor(new float[] { 0.8f, 0.2f })));
            var expected = new[] { 0.272727f, 0.727273f, 0.692308f, 0.307692f };
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], aligned[i], 5);
            // A uniform running mean changes nothing.
            Assert.Equal(Data(p), Data(PseudoLabelLoss.Align(p, tensor(new float[] { 0.5f, 0.5f }))));
        }

        [Fact]
        public void SelfTrainingAddsToSharedStepMethodsWarmsUpAndIsRejectedByTheOthers()
        {
            var ml = new MLContext(seed: 1);
            var reports = new List<TrainingProgress>();
            var dann = TestData.Tiny(new DannOptions { AddOns = { new SelfTrainingAddOn { Weight = 0.5f, Threshold = 0.5f, Warmup = 0.5f } } });
            dann.ProgressInterval = 20;
            dann.ProgressCallback = reports.Add;
            TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(dann)).Fit(TestData.BlobsView(ml));
            Assert.Equal(new[] { 20, 40, 60 }, reports.Select(r => r.Iteration));
            Assert.DoesNotContain("self-training", reports[0].Losses.Keys);
            Assert.Contains("self-training", reports[2].Losses.Keys);
            Assert.Contains("domain", reports[2].Losses.Keys);
            // Two classes: the top probability is at least 0.5, so at τ = 0.5 every target row has a pseudo-label.
            Assert.Equal(1f, reports[2].Losses["confident target share"]);

            foreach (var options in new DomainAdaptationOptions[] { new McdOptions(), new AddaOptions(), new MAddaOptions(), new ClassCriterionOptions() })
            {
                options.AddOns.Add(new SelfTrainingAddOn());
                Assert.Equal("AddOns", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(options)).ParamName);
            }
            Assert.Equal("AddOns", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new SelfTrainingOptions(new SelfTrainingAddOn { Weight = 0 }))).ParamName);
            foreach (float threshold in new[] { 0f, 1.5f, float.NaN })
                Assert.Equal("SelfTrainingAddOn.Threshold", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = threshold }))).ParamName);
            foreach (float momentum in new[] { -0.1f, 1f, float.NaN })
                Assert.Equal("SelfTrainingAddOn.TeacherMomentum", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new SelfTrainingOptions(new SelfTrainingAddOn { TeacherMomentum = momentum }))).ParamName);
            Assert.Equal(0f, new SelfTrainingAddOn().TeacherMomentum);
            Assert.Equal("SelfTrainingAddOn.Warmup", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new DannOptions { AddOns = { new SelfTrainingAddOn { Warmup = 1 } } })).ParamName);
            Assert.Equal(0.95f, new SelfTrainingAddOn().Threshold);
            Assert.IsType<SelfTrainingAddOn>(Assert.Single(new SelfTrainingOptions().AddOns));
        }
    }
}
