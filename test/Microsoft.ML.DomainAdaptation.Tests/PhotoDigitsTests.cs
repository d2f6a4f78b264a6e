using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The photo-blended (MNIST-M-style) digit domains: colour, reproducible, and exactly |patch − digit|.</summary>
    public sealed class PhotoDigitsTests
    {
        private readonly ITestOutputHelper _output;

        public PhotoDigitsTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void PhotoDomainIsTheDigitBlendedIntoAPatchOfAPhoto()
        {
            var ml = new MLContext(seed: 0);
            const int size = 28;
            var photo = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv + DigitsDomains.PhotoSuffix, "test", size, channels: 3);
            var grey = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "test", size);
            var colour = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "test", size, channels: 3);
            Assert.Equal(new[] { 3, size, size }, ((VectorDataViewType)photo.Schema["Features"].Type).Dimensions.ToArray());

            var photoRows = TestData.Column(photo, "Features");
            var greyRows = TestData.Column(grey, "Features");
            var colourRows = TestData.Column(colour, "Features");
            Assert.Equal(greyRows.Length, photoRows.Length);
            Assert.Equal(ml.Data.CreateEnumerable<LabelRow>(grey, false).Select(r => r.Label), ml.Data.CreateEnumerable<LabelRow>(photo, false).Select(r => r.Label));

            // Grey in three channels: the same plane three times.
            for (int c = 0; c < 3; c++)
                Assert.Equal(greyRows[0], colourRows[0].Skip(c * size * size).Take(size * size).ToArray());

            // The first test row, recomputed by hand from its seeded draw: photo, top, left, then |patch − digit| per channel.
            int fileRow = int.Parse(File.ReadAllLines(Path.Combine(DigitsDomains.DataDirectory, DigitsDomains.MnistOpenCv, "test-indices.txt"))[0]);
            var photos = IdxFile.Read(Path.Combine(DigitsDomains.PhotoDirectory, "photos-idx4-ubyte.gz"));
            var random = new Random(fileRow * 7919 + 17);
            int p = random.Next(photos.Count), top = random.Next(224 - size + 1), left = random.Next(224 - size + 1);
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < size; y += 9)
                {
                    for (int x = 0; x < size; x += 7)
                    {
                        float digit = (greyRows[0][y * size + x] + 1f) * 127.5f;
                        float background = photos.Values[((p * 224 + top + y) * 224 + left + x) * 3 + c];
                        Assert.Equal(Math.Abs(background - digit) / 127.5f - 1f, photoRows[0][(c * size + y) * size + x], 4);
                    }
                }
            }

            // Reproducible: loading again gives the same backgrounds; different rows get different ones.
            Assert.Equal(photoRows[5], TestData.Column(DigitsDomains.Load(ml, "mnist-opencv-photo", "test", size, channels: 3), "Features")[5]);
            Assert.NotEqual(photoRows[0].Take(50), photoRows[1].Take(50));
        }

        [Fact]
        public void PhotoDomainInGreyIsRefusedNamingChannels()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => DigitsDomains.Load(new MLContext(), "optdigits-photo", "test"));
            Assert.Equal("channels", error.ParamName);
        }

        [Fact]
        public void ColourSourceViewGainsOnThePhotoTarget()
        {
            // mnist-opencv → mnist-opencv-photo at 28 px, LeNet from scratch, PerImage inputs, source-only (no target loss at
            // all), ColourSteps steps of 32, seed 0: the grey source rows as they are against their Colour view. Measured:
            // 45.5 % without, 83.7 % with (+38 points; 43 s for both on the loaded 2-core machine): demand 25. At 300 steps the view
            // cost accuracy instead (21.8 % against 40.8 %): the re-coloured source is harder to fit and not yet fitted.
            var ml = new MLContext(seed: 0);
            var source = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "train", channels: 3);
            var target = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv + DigitsDomains.PhotoSuffix, "train", channels: 3);
            var targetTest = ml.Data.Cache(DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv + DigitsDomains.PhotoSuffix, "test", channels: 3));
            var training = TestData.UnlabeledTargetTraining(ml, source, target);
            double Accuracy(AugmentationKind kind)
            {
                var context = new MLContext(seed: 0);
                var options = new SourceOnlyOptions
                {
                    Backbone = new LeNetBackboneOptions { Channels = 3, Height = 28, Width = 28 },
                    InputNormalization = InputNormalizationKind.PerImage, SourceAugmentation = kind,
                    Iterations = ColourSteps, BatchSize = 32, Seed = 0,
                };
                var model = context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Append(context.Transforms.DomainAdapt(options)).Fit(training);
                double accuracy = context.MulticlassClassification.Evaluate(model.Transform(targetTest)).MicroAccuracy;
                _output.WriteLine($"source-only, SourceAugmentation {kind}: target {accuracy:P1}");
                return accuracy;
            }
            double plain = Accuracy(AugmentationKind.None);
            double colour = Accuracy(AugmentationKind.Colour);
            Assert.True(colour >= plain + ColourMargin, $"source-only with the Colour view {colour:P1} is not {ColourMargin:P0} above without it {plain:P1}");
        }

        private const int ColourSteps = 1000;
        private const double ColourMargin = 0.25;

        private sealed class LabelRow
        {
            public float Label;
        }
    }
}
