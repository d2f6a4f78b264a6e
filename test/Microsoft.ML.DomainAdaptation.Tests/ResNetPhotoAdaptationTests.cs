using Microsoft.ML;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The ImageNet ResNet fine-tuned on the shipped grey digits and adapted to the same digits blended into photographs
    /// (mnist-opencv → mnist-opencv-photo, 32 px): the colour shift of issue 14, at a test's budget.
    /// </summary>
    public sealed class ResNetPhotoAdaptationTests
    {
        private const int Size = 32;
        private const int Iterations = 200;
        private readonly ITestOutputHelper _output;

        public ResNetPhotoAdaptationTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void FineTunedResNetGainsOnThePhotoTargetWithTheTargetsBatchStatistics()
        {
            var ml = new MLContext(seed: 0);
            var source = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "train", Size, channels: 3);
            var target = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv + DigitsDomains.PhotoSuffix, "train", Size, channels: 3);
            var sourceTest = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "test", Size, channels: 3);
            var targetTest = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv + DigitsDomains.PhotoSuffix, "test", Size, channels: 3);
            var training = TestData.UnlabeledTargetTraining(ml, source, target);

            (double Source, double Target) Fit(DomainAdaptationOptions options)
            {
                // The digits sample's backbone (pixels in [−1, 1] mapped back to 0–255 for the ImageNet weights), every
                // layer at the full learning rate: the recipe of README's photo table.
                options.Backbone = new ResNetBackboneOptions
                {
                    Channels = 3, ImageSize = Size, InputOffset = -127.5f, InputScale = 1 / 127.5f, BackboneLearningRateScale = 1,
                };
                options.Iterations = Iterations;
                options.BatchSize = 32;
                options.Seed = 0;
                var model = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Append(ml.Transforms.DomainAdapt(options)).Fit(training);
                return (ml.MulticlassClassification.Evaluate(model.Transform(sourceTest)).MicroAccuracy,
                    ml.MulticlassClassification.Evaluate(model.Transform(targetTest)).MicroAccuracy);
            }

            var sourceOnly = Fit(new SourceOnlyOptions());
            var adaBn = Fit(new AdaBnOptions());
            _output.WriteLine($"{Iterations} steps: source-only source {sourceOnly.Source:P1}, target {sourceOnly.Target:P1}; AdaBN target {adaBn.Target:P1}");

            // The network fits the grey source: the weak target accuracy is the shift, not a failure to learn.
            Assert.True(sourceOnly.Source >= 0.85, $"source-only source accuracy {sourceOnly.Source:P1}");
            // AdaBN trains exactly as source-only (source batches alone); its adaptation is normalising with the target's
            // batch statistics afterwards, without which the two models are the same. Measured: 55.0 % against 27.2 %
            // (source-only source accuracy 97.5 %); AdaBN+MCC reached 50.7 % and AdaBN+MCC+ST 50.5 %, no better at this
            // budget (at 1,000 steps AdaBN+MCC+ST gave 86.6 / 47.4 / 64.4 % over seeds 0–2: README's photo table).
            Assert.True(adaBn.Target >= sourceOnly.Target + 0.15, $"AdaBN {adaBn.Target:P1} is not 15 points above source-only {sourceOnly.Target:P1}");
        }
    }
}
