using Microsoft.ML.DomainAdaptation.Samples;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Adaptation on real shifted data: optdigits (8×8, UCI) → mnist-opencv (20×20, MNIST via OpenCV), CI-sized (see
    /// <see cref="DigitsBenchmark"/>). Measured here at 1,000 steps of 32 + 32, seeds 0, 1, 2: source-only 27.6 %,
    /// DANN 43.4 %, Deep CORAL 29.2 % (means).
    /// </summary>
    public class DigitsAdaptationTests
    {
        private const string Source = DigitsDomains.OptDigits, Target = DigitsDomains.MnistOpenCv;
        private readonly ITestOutputHelper _output;

        public DigitsAdaptationTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void SourceOnlyLearnsDigitsFarAboveChance()
        {
            // Ten classes: chance is 10 %.
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            Assert.True(sourceOnly > 0.15, $"source-only target accuracy {sourceOnly:P1} is near chance");
        }

        [Fact]
        public void DannGainsFivePointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double dann = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "DANN", () => new DannOptions(), _output);
            // DANN's gain on this direction is large (+20 points in the PyTorch reference at 2,000 steps): demand 5.
            Assert.True(dann >= sourceOnly + 0.05, $"DANN {dann:P1} is not 5 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void DeepCoralReachesAtLeastSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double coral = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "DeepCORAL", () => new DeepCoralOptions(), _output);
            Assert.True(coral >= sourceOnly, $"Deep CORAL {coral:P1} < source-only {sourceOnly:P1}");
        }
    }
}
