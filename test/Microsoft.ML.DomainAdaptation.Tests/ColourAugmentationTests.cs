using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training.Augmentations;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary><see cref="AugmentationKind.Colour"/>: the blend by hand-computed values, the random view, and the options that take it.</summary>
    public class ColourAugmentationTests
    {
        private static float[] Data(Tensor t) => t.contiguous().data<float>().ToArray();

        [Fact]
        public void BlendIntoBackgroundMatchesHandComputedValues()
        {
            using var scope = NewDisposeScope();
            // One 3 × 2 × 2 image: channels (0, 2, 4, 6), (0, 2, 4, 6), (3, 5, 1, 3). Channel means 1, 3, 3, 5; minimum 0,
            // maximum 6, so g = (1, 3, 3, 5) / 6. Backgrounds: 0 everywhere (x' = 6 g: the strokes as they were), 1 everywhere
            // (6 (1 − g): inverted) and (0.5, 0, 1, 0.5) (6 |b − g| = 6 (1/3, 1/2, 1/2, 1/3)).
            var image = tensor(new float[] { 0, 2, 4, 6, 0, 2, 4, 6, 3, 5, 1, 3 }, new long[] { 1, 3, 2, 2 });
            var background = tensor(new float[] { 0, 0, 0, 0, 1, 1, 1, 1, 0.5f, 0, 1, 0.5f }, new long[] { 1, 3, 2, 2 });
            var blended = ImageAugmentation.BlendIntoBackground(image, background);
            Assert.Equal(new float[] { 1, 3, 3, 5, 5, 3, 3, 1, 2, 3, 3, 2 }, Data(blended).Select(v => (float)Math.Round(v, 5)).ToArray());

            // The result stays in the image's own range, whatever its scale and offset: the same blend of 10 x − 4 is 10 x' − 4.
            var scaled = ImageAugmentation.BlendIntoBackground(image * 10 - 4, background);
            Assert.Equal(Data(blended * 10 - 4).Select(v => (float)Math.Round(v, 3)), Data(scaled).Select(v => (float)Math.Round(v, 3)));
            // A constant image has nothing to re-colour.
            Assert.All(Data(ImageAugmentation.BlendIntoBackground(full(new long[] { 1, 3, 2, 2 }, 0.25f), background)), v => Assert.Equal(0.25f, v));
        }

        [Fact]
        public void ColourViewRepeatsForASeedStaysInRangeAndColoursGreyImages()
        {
            using var scope = NewDisposeScope();
            var spec = new NetworkSpec(new LeNetBackboneSpec(new ImageShape(3, 16, 16), 8, NormalizationKind.None), 8, 10);
            manual_seed(2);
            // Grey images in three channels, pixels in [−1, 1].
            var grey = rand(6, 1, 16, 16).mul(2).sub(1).expand(6, 3, 16, 16).reshape(6, 3 * 16 * 16);
            float[] View(long seed)
            {
                using var augmentation = new Augmentation(spec, seed);
                var view = augmentation.View(grey, AugmentationKind.Colour);
                Assert.Equal(grey.shape, view.shape);
                return Data(view);
            }
            var first = View(5);
            Assert.Equal(first, View(5));
            Assert.NotEqual(first, View(6));
            var images = tensor(first, new long[] { 6, 3, 16, 16 });
            // Each image stays within its own minimum and maximum (the translation replicates edges, so it adds no new values).
            var low = grey.amin(new long[] { 1 }).view(-1, 1, 1, 1);
            var high = grey.amax(new long[] { 1 }).view(-1, 1, 1, 1);
            Assert.True(images.ge(low - 1e-5f).all().item<bool>() && images.le(high + 1e-5f).all().item<bool>());
            // The channels now differ: every image has become colour.
            for (int i = 0; i < 6; i++)
                Assert.True((images[i, 0] - images[i, 1]).abs().max().item<float>() > 0.1f, $"image {i} is still grey");
        }

        [Fact]
        public void ColourIsASourceAndASelfTrainingViewAndIsChecked()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            float[] Scores(DomainAdaptationOptions options)
            {
                var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(options))).Fit(data);
                return TestData.Column(model.Transform(data), "Score").SelectMany(r => r).ToArray();
            }
            // Plain vectors have no colour: the view falls back to the weak one, draw for draw.
            Assert.Equal(Scores(new DannOptions { SourceAugmentation = AugmentationKind.Weak }), Scores(new DannOptions { SourceAugmentation = AugmentationKind.Colour }));
            Assert.NotEqual(Scores(new DannOptions()), Scores(new DannOptions { SourceAugmentation = AugmentationKind.Colour }));

            // Self-training's learning view: another view, another model; None is refused by name.
            DomainAdaptationOptions SelfTraining(AugmentationKind kind) =>
                new DannOptions { AddOns = { new SelfTrainingAddOn { Threshold = 0.5f, StrongAugmentation = kind } } };
            Assert.Equal(AugmentationKind.Strong, new SelfTrainingAddOn().StrongAugmentation);
            Assert.NotEqual(Scores(SelfTraining(AugmentationKind.Strong)), Scores(SelfTraining(AugmentationKind.Weak)));
            foreach (var kind in new[] { AugmentationKind.None, (AugmentationKind)9 })
                Assert.Equal("SelfTrainingAddOn.StrongAugmentation", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(SelfTraining(kind))).ParamName);

            // Both from text, as the samples' --set gives them: an add-on's fields by its type name.
            var options = DomainAdaptationMethods.Create("AdaBN+MCC+ST", "SourceAugmentation=Colour;SelfTrainingAddOn.StrongAugmentation=colour;SelfTrainingAddOn.Warmup=0.25");
            Assert.Equal(AugmentationKind.Colour, options.SourceAugmentation);
            var selfTraining = Assert.Single(options.AddOns.OfType<SelfTrainingAddOn>());
            Assert.Equal(AugmentationKind.Colour, selfTraining.StrongAugmentation);
            Assert.Equal(0.25f, selfTraining.Warmup);
            var missing = Assert.Throws<ArgumentException>(() => DomainAdaptationMethods.Create("MCC", "SelfTrainingAddOn.Warmup=0.25"));
            Assert.Contains("SelfTrainingAddOn", missing.Message);
        }
    }
}
