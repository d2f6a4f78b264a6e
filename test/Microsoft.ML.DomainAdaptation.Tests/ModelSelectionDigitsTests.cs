using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The experiment end to end on the real digits, optdigits → mnist-opencv (target labels dropped before it runs), at a small
    /// budget: source-only, MMD and MCC, 500 steps of 32 + 32 each, LeNet. Measured (seed 0): target accuracy 30.1 / 45.8 / 41.6 %;
    /// DEV ranked MCC first among the adapted candidates and its guard kept source-only.
    /// </summary>
    public class ModelSelectionDigitsTests
    {
        private const int Iterations = 500;
        private readonly ITestOutputHelper _output;

        public ModelSelectionDigitsTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void ExperimentOnRealDigitsChoosesNoWorseThanSourceOnlyAndReportsEveryScore()
        {
            var ml = new MLContext(seed: 0);
            var source = DigitsDomains.Load(ml, DigitsDomains.OptDigits, "train");
            var target = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "train");
            var unlabeledTarget = ml.Transforms.DropColumns("Label").Fit(target).Transform(target);
            var combined = ml.Data.CombineDomains(source, unlabeledTarget);
            var keys = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(combined);
            var data = ml.Data.Cache(keys.Transform(combined));
            var targetTest = ml.Data.Cache(keys.Transform(DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "test")));

            DomainAdaptationOptions LeNet(DomainAdaptationOptions options)
            {
                options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 };
                options.Iterations = Iterations;
                options.BatchSize = DigitsBenchmark.BatchSize;
                options.Seed = 0;
                return options;
            }

            // DEV ranks and guards (the shipped default is reverse validation, which needs more steps than this test affords for its
            // reverse models to learn: its default is chosen on the sample's measurements), with reverse validation reported too (a
            // tenth of the steps: here only its wiring on real rows is checked).
            Assert.IsType<ReverseValidationScorer>(new DomainAdaptationExperimentOptions().Scorer);
            var requested = ValidationScorer.All.Append(new ReverseValidationScorer { IterationFraction = 0.1 }).ToList();
            var result = ml.Transforms.DomainAdaptationExperiment(new DomainAdaptationExperimentOptions
            {
                Candidates = { LeNet(new MmdOptions()), LeNet(new MccOptions()) },
                Scorer = ValidationScorer.DeepEmbedded,
                ReportedScorers = requested,
            }).Run(data);

            var accuracy = result.Candidates.ToDictionary(c => c.Name, c => ml.MulticlassClassification.Evaluate(c.Model.Transform(targetTest)).MicroAccuracy);
            foreach (var c in result.Candidates)
                _output.WriteLine($"{c.Name}: target {accuracy[c.Name]:P1}, fitted in {c.FitTime.TotalSeconds:F0} s; {c}");
            _output.WriteLine($"Chose {result.Chosen.Name}: {result.Reason}");

            Assert.Equal(new[] { "MCC", "MMD", "SourceOnly" }, result.Candidates.Select(c => c.Name).OrderBy(n => n));
            Assert.All(result.Candidates, c => Assert.NotNull(c.Model));
            Assert.All(result.Candidates, c => Assert.Equal(requested.Select(s => s.Name).OrderBy(n => n), c.Scores.Keys.OrderBy(n => n)));
            Assert.All(result.Candidates, c => Assert.All(c.Scores.Where(s => s.Key != "SND"), s => Assert.False(double.IsNaN(s.Value), $"{c.Name}: {s.Key} is NaN")));
            var ranking = result.Candidates.Select(c => c.Score).ToArray();
            Assert.Equal(ranking.OrderByDescending(s => s), ranking);
            Assert.Equal("DEV", result.ScorerName);
            Assert.All(result.Candidates, c => Assert.Equal(c.Scores["DEV"], c.Score));

            // Held-out optdigits rows are learned by every candidate. Reverse validation is an accuracy (near chance at so few
            // reverse steps from pseudo-labels that are mostly wrong).
            Assert.All(result.Candidates, c => Assert.True(c.Scores["SourceAccuracy"] > 0.9, $"{c.Name}: held-out source accuracy {c.Scores["SourceAccuracy"]:P1}"));
            Assert.All(result.Candidates, c => Assert.InRange(c.Scores["RV"], 0, 1));

            // What the guard is for: the returned model is not worse on the target than source-only (2 points of tolerance),
            // and a fall-back says why.
            double sourceOnly = accuracy["SourceOnly"];
            Assert.True(accuracy[result.Chosen.Name] >= sourceOnly - 0.02, $"chose {result.Chosen.Name} at {accuracy[result.Chosen.Name]:P1}, source-only is {sourceOnly:P1}");
            Assert.Same(result.Chosen, result.FellBackToSourceOnly ? result.SourceOnly : result.BestAdapted);
            Assert.Contains(result.BestAdapted.Name, result.Reason);
            if (result.FellBackToSourceOnly)
                Assert.Contains("negative-transfer guard", result.Reason);
            // Adaptation does help at this budget (MMD is the best candidate in the package's digits tests), so the experiment
            // has something to choose.
            // Measured 45.8 % against 30.1 %.
            Assert.True(accuracy["MMD"] >= sourceOnly + 0.08, $"MMD {accuracy["MMD"]:P1} is not 8 points above source-only {sourceOnly:P1}");
        }
    }
}
