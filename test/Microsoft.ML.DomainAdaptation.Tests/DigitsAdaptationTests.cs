using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DomainAdaptation.Samples;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Adaptation on real shifted data: optdigits (8×8, UCI) → mnist-opencv (20×20, MNIST via OpenCV), CI-sized (see
    /// <see cref="DigitsBenchmark"/>). Measured here at 1,000 steps of 32 + 32, seeds 0, 1, 2 (means): source-only 27.6 %,
    /// DANN 43.4 %, Deep CORAL 29.2 %, MMD 48.6 %, class-weighted MMD 37.7 %, CMD 30.0 %, ADDA 35.4 %, M-ADDA 39.1 %, MCD 40.8 %,
    /// CDAN+E 46.7 %, JAN 53.1 %, MDD 43.7 %, MCC 48.9 %, MMD+MCC 57.7 % (README, "Every method at the test budget"). Each test
    /// demands about half of its method's measured gain, so a method whose term is removed (the source-only figure ± a few
    /// points) fails; AdaptationTermTests checks each term's direction in seconds.
    /// </summary>
    public class DigitsAdaptationTests
    {
        private const string Source = DigitsDomains.OptDigits, Target = DigitsDomains.MnistOpenCv;
        private readonly ITestOutputHelper _output;

        public DigitsAdaptationTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void SourceOnlyLearnsDigitsFarAboveChance()
        {
            // Ten classes: chance is 10 %; measured 27.6 ± 2.2 %.
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            Assert.True(sourceOnly > 0.20, $"source-only target accuracy {sourceOnly:P1} is not 10 points above chance");
        }

        [Fact]
        public void DannGainsEightPointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double dann = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "DANN", () => new DannOptions(), _output);
            // Measured +15.8 points (+20 in the PyTorch reference at 2,000 steps): demand 8.
            Assert.True(dann >= sourceOnly + 0.08, $"DANN {dann:P1} is not 8 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void DeepCoralGainsOnePointOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double coral = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "DeepCORAL", () => new DeepCoralOptions(), _output);
            // Deep CORAL's gain here is small (measured +1.6 points); its term's direction is checked in AdaptationTermTests.
            Assert.True(coral >= sourceOnly + 0.01, $"Deep CORAL {coral:P1} is not 1 point above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void MmdGainsTwelvePointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double mmd = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "MMD", () => new MmdOptions(), _output);
            // Measured +21.0 points.
            Assert.True(mmd >= sourceOnly + 0.12, $"MMD {mmd:P1} is not 12 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void WeightedMmdGainsSixPointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double weighted = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "WeightedMMD", () => new WeightedMmdOptions(), _output);
            // Measured +10.1 points.
            Assert.True(weighted >= sourceOnly + 0.06, $"class-weighted MMD {weighted:P1} is not 6 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void CmdGainsOnePointOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double cmd = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "CMD", () => new CmdOptions(), _output);
            // Measured 30.0 ± 1.0 %, +2.4 points; its term's direction is checked in AdaptationTermTests.
            Assert.True(cmd >= sourceOnly + 0.01, $"CMD {cmd:P1} is not 1 point above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void AddaGainsFourPointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double adda = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "ADDA", () => new AddaOptions(), _output);
            // Measured 36.9 / 36.4 / 32.9 % (35.4 %), +7.8 points (seeds 3–8: 37.6 against 32.1 %, +5.5); demand half. At the
            // former full adversarial learning rate the last step was a draw: seeds 0–5 gave 18.0 to 36.2 % (see AddaOptions).
            Assert.True(adda >= sourceOnly + 0.04, $"ADDA {adda:P1} is not 4 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void MAddaGainsSixPointsOverSourceOnly()
        {
            // Measured 39.1 ± 2.2 % over seeds 0, 1, 2 (the Digits sample); 19.5 ± 8.2 % before the centre regulariser was made scale-free.
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double mAdda = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "M-ADDA", () => new MAddaOptions(), _output);
            Assert.True(mAdda >= sourceOnly + 0.06, $"M-ADDA {mAdda:P1} is not 6 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void McdGainsSevenPointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double mcd = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "MCD", () => new McdOptions(), _output);
            // Measured 40.8 ± 2.8 %, +13.2 points.
            Assert.True(mcd >= sourceOnly + 0.07, $"MCD {mcd:P1} is not 7 points above source-only {sourceOnly:P1}");
        }

        // Measured on seed 0 (source-only 25.3 %): CDAN 45.2 %, CDAN+E 46.6 %, JAN 52.3 %, MCC 54.8 %, DANN+MCC 57.0 %,
        // MMD+MCC 59.0 % (the PyTorch reference's best, multi-kernel MMD at twice this budget: 52.4 %).
        [Fact]
        public void CdanGainsTenPointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double cdan = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "CDAN+E", () => new CdanOptions { EntropyConditioning = true }, _output);
            // Measured 46.7 ± 0.3 %, +19.1 points.
            Assert.True(cdan >= sourceOnly + 0.10, $"CDAN+E {cdan:P1} is not 10 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void JanGainsThirteenPointsOverSourceOnly()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double jan = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "JAN", () => new JanOptions(), _output);
            // Measured 53.1 ± 2.1 %, +25.5 points.
            Assert.True(jan >= sourceOnly + 0.13, $"JAN {jan:P1} is not 13 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void MddGainsTenPointsOverSourceOnly()
        {
            // Measured with the Digits sample, seeds 0, 1, 2: 44.5 / 44.9 / 41.6 % (mean 43.7) against source-only 27.6 %.
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double mdd = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "MDD", () => new MddOptions(), _output);
            Assert.True(mdd >= sourceOnly + 0.10, $"MDD {mdd:P1} is not 10 points above source-only {sourceOnly:P1}");
        }

        [Fact]
        public void MccAloneGainsElevenPointsAndAddsFourToMmd()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double mcc = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "MCC", () => new MccOptions(), _output);
            double mmd = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "MMD", () => new MmdOptions(), _output);
            double both = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "MMD+MCC", () => new MmdOptions { AddOns = { new MccAddOn() } }, _output);
            // Measured MCC 48.9 ± 5.1 % (+21.3), MMD 48.6 ± 0.4 %, MMD+MCC 57.7 ± 1.9 % (+9.1 over MMD).
            Assert.True(mcc >= sourceOnly + 0.11, $"MCC {mcc:P1} is not 11 points above source-only {sourceOnly:P1}");
            Assert.True(both >= mmd + 0.04, $"MMD+MCC {both:P1} is not 4 points above MMD alone {mmd:P1}");
        }

        // Self-training (FixMatch with distribution alignment), seeds 0, 1, 2 (source-only 27.6 %): alone 21.1 ± 8.8 % (pseudo-labels
        // of a source model this often wrong on the target mislead it); on top of DANN 48.0 / 55.3 / 44.4 % (DANN alone 45.9 / 42.5 / 41.7 %:
        // +5.8 points). Other CPUs' libtorch kernels give other trajectories: an AMD EPYC gave DANN+ST 37.8 / 49.2 / 48.3 % against DANN
        // 40.4 / 45.3 / 40.8 %; an Intel Xeon (AVX-512) seeds 0–5: 55.6 / 26.7 / 49.8 / 48.4 / 57.4 / 47.5 % (47.6 %) against DANN
        // 43.5 / 41.2 / 44.7 / 47.0 / 40.9 / 42.2 % (43.3 %), +4.3 points, above DANN on five seeds of six. Self-training makes the
        // training swing (seed 1 scored every 50 steps, 10 % of the rows held out: 29.8, 42.2, 34.2, 40.5, 43.3, 29.2, 42.9 % over
        // the last 300 steps, DANN alone 30.0 to 41.3 %), so a seed can end in a trough: the Xeon's seed 1 ended below source-only.
        // A mean of three such seeds moves by about 4 points from one CPU to the next (the Xeon's seeds 0–2: +0.9), hence six seeds;
        // demand half the gain and more seeds above DANN than not (removing the term gives exactly DANN's figures: 0 points, 0 seeds).
        [Fact]
        public void SelfTrainingAddsToDann()
        {
            int[] seeds = { 0, 1, 2, 3, 4, 5 };
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            var dann = DigitsBenchmark.TargetAccuracies(Source, Target, "DANN", () => new DannOptions(), _output, seeds: seeds);
            var both = DigitsBenchmark.TargetAccuracies(Source, Target, "DANN+ST", () => new DannOptions { AddOns = { new SelfTrainingAddOn() } }, _output, seeds: seeds);
            int above = both.Zip(dann, (b, d) => b > d ? 1 : 0).Sum();
            Assert.True(both.Average() >= dann.Average() + 0.02, $"DANN+ST {both.Average():P1} is not 2 points above DANN alone {dann.Average():P1} over seeds 0–5");
            Assert.True(above >= 4, $"DANN+ST is above DANN alone on {above} of 6 seeds, not at least 4");
            Assert.True(both.Average() >= sourceOnly + 0.10, $"DANN+ST {both.Average():P1} is not 10 points above source-only {sourceOnly:P1}");
        }

        // The other direction, mnist-opencv → optdigits, where the source model is right on about half of the target: self-training
        // alone 58.8 / 61.3 / 58.5 % against source-only 51.8 / 57.4 / 54.9 % (DANN+ST 68.5 ± 6.8 %).
        [Fact]
        public void SelfTrainingAloneGainsWhereTheSourceModelIsRightOnHalfTheTarget()
        {
            double sourceOnly = DigitsBenchmark.SourceOnly(Target, Source, _output);
            var selfTraining = DigitsBenchmark.TargetAccuracies(Target, Source, "SelfTraining", () => new SelfTrainingOptions(), _output);
            // Measured +4.8 points.
            Assert.True(selfTraining.Average() >= sourceOnly + 0.03, $"self-training {selfTraining.Average():P1} is not 3 points above source-only {sourceOnly:P1}");
            Assert.True(selfTraining.Min() > sourceOnly, $"self-training's worst seed {selfTraining.Min():P1} is below source-only {sourceOnly:P1}");
        }

        [Fact]
        public void TenLabeledTargetRowsPerClassAddToEveryMethod()
        {
            // Class criterion: 100 labeled target rows (10 per class) out of 4,000; the others stay unlabeled.
            const int labeled = 10;
            double sourceOnly = DigitsBenchmark.SourceOnly(Source, Target, _output);
            double semiSourceOnly = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "SourceOnly+labels",
                () => new SourceOnlyOptions { UseTargetLabels = true }, _output, labeled);
            double dann = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "DANN", () => new DannOptions(), _output);
            double semiDann = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "DANN+labels",
                () => new DannOptions { UseTargetLabels = true }, _output, labeled);
            // Measured 81.1 % with the labels against 27.6 % without.
            Assert.True(semiSourceOnly > sourceOnly + 0.30, $"source-only with target labels {semiSourceOnly:P1} is not 30 points above without {sourceOnly:P1}");
            Assert.True(semiDann > dann, $"DANN with target labels {semiDann:P1} vs without {dann:P1}");
        }

        [Fact]
        public void ClassCriterionWithTenLabeledTargetRowsPerClassBeatsSourceOnlyWithThem()
        {
            const int labeled = 10;
            double semiSourceOnly = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "SourceOnly+labels",
                () => new SourceOnlyOptions { UseTargetLabels = true }, _output, labeled);
            double classCriterion = DigitsBenchmark.MeanTargetAccuracy(Source, Target, "ClassCriterion+labels",
                () => new ClassCriterionOptions { UseTargetLabels = true }, _output, labeled);
            // Measured 89.0 % against 81.1 %.
            Assert.True(classCriterion >= semiSourceOnly + 0.04, $"class criterion {classCriterion:P1} is not 4 points above source-only with the same labels {semiSourceOnly:P1}");
        }

        [Fact]
        public void TargetLabelsRequestedButAbsentIsAnError()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(32, 0.5f, 1);
            var data = ml.Data.LoadFromEnumerable(rows.Select(r => new TestData.Row { Features = r.Features, IsTarget = r.IsTarget, Label = r.IsTarget ? null : r.Label }).ToList());
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var options = new DannOptions { UseTargetLabels = true, Iterations = 5, BatchSize = 8 };
            var ex = Assert.Throws<System.InvalidOperationException>(() => ml.Transforms.DomainAdapt(options).Fit(keyed));
            Assert.Contains("UseTargetLabels", ex.Message);
            Assert.Contains("'Label'", ex.Message);
        }
    }
}
