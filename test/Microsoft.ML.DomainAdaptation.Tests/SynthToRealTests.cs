using System;
using System.Collections.Concurrent;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Synthetic digits (rendered from the system's fonts) → real handwritten digits (mnist-opencv), CI-sized: 5,000
    /// synthetic rows, LeNet, 1,000 steps of 32 + 32, seeds 0 and 1 (DA_SYNTH_SEEDS overrides them); target labels are never
    /// used for training.
    /// </summary>
    public class SynthToRealTests
    {
        private const string Target = DigitsDomains.MnistOpenCv;
        private static readonly int[] Seeds = (Environment.GetEnvironmentVariable("DA_SYNTH_SEEDS") ?? "0,1").Split(',').Select(int.Parse).ToArray();
        private static readonly ConcurrentDictionary<string, double[]> Results = new();
        private static readonly Lazy<(IDataView Training, IDataView TargetTest)> Data = new(Load);
        private readonly ITestOutputHelper _output;

        public SynthToRealTests(ITestOutputHelper output) => _output = output;

        private static (IDataView, IDataView) Load()
        {
            var ml = new MLContext(seed: 0);
            var source = ml.Data.LoadSyntheticDigits(new SyntheticDigitsOptions { Rows = 5000, Seed = 0 });
            var target = DigitsDomains.Load(ml, Target, "train");
            var unlabeled = ml.Transforms.DropColumns("Label").Fit(target).Transform(target);
            var test = DigitsDomains.Load(ml, Target, "test");
            // Real labels are digits as Single: keys by value (0 → 1 … 9 → 10) are the synthetic keys "0" … "9".
            var keyedTest = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(test).Transform(test);
            return (ml.Data.Cache(ml.Data.CombineDomains(source, unlabeled)), ml.Data.Cache(keyedTest));
        }

        private double[] TargetAccuracies(string name, Func<DomainAdaptationOptions> create)
        {
            var accuracies = Results.GetOrAdd(name, _ =>
            {
                var ml = new MLContext(seed: 0);
                var (training, test) = Data.Value;
                return Seeds.Select(seed =>
                {
                    var options = create();
                    options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 };
                    options.Iterations = 1000;
                    options.BatchSize = 32;
                    options.Seed = seed;
                    var model = ml.Transforms.DomainAdapt(options).Fit(training);
                    return ml.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
                }).ToArray();
            });
            _output.WriteLine($"synthetic -> {Target} {name}: real target accuracy {string.Join(" / ", accuracies.Select(a => a.ToString("P1")))}, mean {accuracies.Average():P1}");
            return accuracies;
        }

        [Fact]
        public void SourceOnlyOnSyntheticDigitsIsFarAboveChanceOnRealDigits()
        {
            var sourceOnly = TargetAccuracies("SourceOnly", () => new SourceOnlyOptions());
            // Ten classes: chance is 10 %. Measured 61.9 / 60.7 / 64.3 % (seeds 0, 1, 2).
            Assert.All(sourceOnly, a => Assert.True(a > 0.55, $"source-only real-digit accuracy {a:P1} is not far above chance"));
        }

        [Fact]
        public void DeepCoralGainsTwoPointsOverSourceOnly()
        {
            // Deep CORAL is the method that gains at this size: measured 65.8 / 65.6 / 67.5 % (seeds 0, 1, 2), +3.2 to
            // +4.9 points over source-only on every seed. DANN does not gain here (60.1 / 60.3 / 64.2 %, −0.8 on
            // average), so it is not asserted.
            double sourceOnly = TargetAccuracies("SourceOnly", () => new SourceOnlyOptions()).Average();
            double coral = TargetAccuracies("DeepCORAL", () => new DeepCoralOptions()).Average();
            Assert.True(coral >= sourceOnly + 0.02, $"Deep CORAL {coral:P1} is not 2 points above source-only {sourceOnly:P1}");
        }
    }
}
