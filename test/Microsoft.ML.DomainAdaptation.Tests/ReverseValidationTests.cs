using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Reverse validation on cases with a known answer, and inside the experiment.</summary>
    public class ReverseValidationTests
    {
        private sealed class Row
        {
            [VectorType(4)]
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        /// <summary>
        /// Two overlapping Gaussian classes (means ±0.3 per feature, σ = 1: about 73 % Bayes accuracy, so accuracies are not
        /// stuck at 100 %). With <paramref name="identicalDomains"/>, the target rows are exact copies of the source rows.
        /// </summary>
        private static IDataView Data(MLContext ml, int perDomain, int seed, bool identicalDomains)
        {
            var random = new Random(seed);
            var source = new List<Row>();
            for (int i = 0; i < perDomain; i++)
            {
                int cls = i % 2;
                var f = Enumerable.Range(0, 4).Select(_ => (float)(Gaussian(random) + (cls == 0 ? -0.3 : 0.3))).ToArray();
                source.Add(new Row { Features = f, Label = cls == 0 ? "a" : "b" });
            }
            var target = identicalDomains
                ? source.Select(r => new Row { Features = r.Features, Label = r.Label, IsTarget = true })
                : source.Select(r => new Row { Features = r.Features.Select(v => v + 0.5f).ToArray(), Label = r.Label, IsTarget = true });
            var view = ml.Data.LoadFromEnumerable(source.Concat(target).ToList());
            return ml.Data.Cache(ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view));
        }

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        /// <summary>The 0-based true classes of the target rows ("a" = 0, "b" = 1, in row order).</summary>
        private static long[] TrueTargetClasses(int perDomain) => Enumerable.Range(0, perDomain).Select(i => (long)(i % 2)).ToArray();

        [Theory]
        [InlineData("SourceOnly")]
        [InlineData("DANN")]
        public void PerfectPseudoLabelsOnIdenticalDomainsGiveTheForwardModelsSourceAccuracy(string method)
        {
            // Target = source row for row and pseudo-labels = the true classes: the swapped data is the original data, so the
            // reverse model is the model the same options train on it with the reverse budget, to the bit.
            var ml = new MLContext(seed: 1);
            var training = Data(ml, 300, seed: 3, identicalDomains: true);
            var heldOut = Data(ml, 200, seed: 4, identicalDomains: true);
            DomainAdaptationOptions Options() => TestData.Tiny(method == "DANN" ? new DannOptions() : new SourceOnlyOptions());
            var candidate = ml.Transforms.DomainAdapt(Options()).Fit(training);
            var scorer = new ReverseValidationScorer { IterationFraction = 0.5 };
            double reverse = scorer.Score(new ValidationContext(ml, candidate, Options(), training, heldOut), TrueTargetClasses(300));

            var halfBudget = Options();
            halfBudget.Iterations = 30;
            var forward = ml.Transforms.DomainAdapt(halfBudget).Fit(training);
            double expected = ValidationScorer.SourceAccuracy.Score(forward, heldOut);
            Assert.Equal(expected, reverse, 12);
            Assert.InRange(expected, 0.6, 0.85); // overlapping classes: neither chance nor perfect, so equality says something
        }

        [Fact]
        public void SwappedPseudoLabelsGiveALowScoreAndTrueOnesAHighOne()
        {
            // Two well-separated classes (means ±1, σ = 0.5), the target shifted by 0.5; pseudo-labels either the true classes or
            // their opposites. The reverse model learns the labels it is given, so with swapped ones it gets the held-out source
            // rows mostly wrong.
            var ml = new MLContext(seed: 1);
            var training = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml, perDomain: 300, seed: 5)).Transform(TestData.BlobsView(ml, perDomain: 300, seed: 5));
            var heldOut = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml, perDomain: 200, seed: 6)).Transform(TestData.BlobsView(ml, perDomain: 200, seed: 6));
            var options = TestData.Tiny(new SourceOnlyOptions());
            options.Iterations = 200;
            var candidate = ml.Transforms.DomainAdapt(options).Fit(training);
            var context = new ValidationContext(ml, candidate, options, training, heldOut);
            var scorer = new ReverseValidationScorer { IterationFraction = 1 };
            double right = scorer.Score(context, TrueTargetClasses(300));
            double swapped = scorer.Score(context, TrueTargetClasses(300).Select(c => 1 - c).ToArray());
            Assert.True(right > 0.9, $"reverse validation with the true target classes is {right:P1}, expected above 90 %");
            Assert.True(swapped < 0.1, $"reverse validation with swapped target classes is {swapped:P1}, expected below 10 %");
        }

        [Fact]
        public void ScoresWithTheCandidatesOwnPredictionsAndNeedsAContext()
        {
            var ml = new MLContext(seed: 1);
            var training = Data(ml, 300, seed: 3, identicalDomains: false);
            var heldOut = Data(ml, 200, seed: 4, identicalDomains: false);
            var options = TestData.Tiny(new DannOptions());
            var candidate = ml.Transforms.DomainAdapt(options).Fit(training);
            var set = ValidationSet.Create(candidate, heldOut);
            var scorer = new ReverseValidationScorer();

            // The candidate's argmax on the target training rows are the pseudo-labels.
            var scored = candidate.Transform(training);
            var isTarget = ml.Data.CreateEnumerable<DomainFlag>(scored, reuseRowObject: false).Select(r => r.IsTarget).ToArray();
            var predicted = TestData.Column(scored, "Score").Where((_, i) => isTarget[i])
                .Select(p => (long)Array.IndexOf(p, p.Max())).ToArray();
            var context = new ValidationContext(ml, candidate, options, training, heldOut);
            Assert.Equal(scorer.Score(context, predicted), scorer.Score(set, context), 12);

            Assert.Throws<NotSupportedException>(() => scorer.Score(set));
            Assert.Equal("IterationFraction", Assert.Throws<ArgumentOutOfRangeException>(
                () => new ReverseValidationScorer { IterationFraction = 0 }.Score(set, context)).ParamName);
            Assert.DoesNotContain(ValidationScorer.All, s => s is ReverseValidationScorer);
        }

        private sealed class DomainFlag
        {
            public bool IsTarget { get; set; }
        }

        [Fact]
        public void ExperimentRanksByReverseValidation()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml, perDomain: 200)).Transform(TestData.BlobsView(ml, perDomain: 200));
            var result = ml.Transforms.DomainAdaptationExperiment(new DomainAdaptationExperimentOptions
            {
                Candidates = { TestData.Tiny(new DannOptions()), TestData.Tiny(new DeepCoralOptions()) },
                Scorer = ValidationScorer.ReverseValidation,
                ReportedScorers = { ValidationScorer.ReverseValidation },
            }).Run(data);
            Assert.All(result.Candidates, c => Assert.Equal(new[] { "DEV", "IWV", "RV", "SND", "SourceAccuracy", "TargetEntropy" }, c.Scores.Keys.OrderBy(k => k)));
            Assert.All(result.Candidates, c => Assert.InRange(c.Score, 0, 1));
            var scores = result.Candidates.Select(c => c.Score).ToArray();
            Assert.Equal(scores.OrderByDescending(s => s), scores);
            Assert.Equal("RV", result.ScorerName);
            // Blobs 2σ apart with a 0.5 shift: every candidate's pseudo-labels are mostly right, and so is the reverse model.
            Assert.All(result.Candidates, c => Assert.True(c.Score > 0.8, $"{c.Name}: RV {c.Score:P1}"));
        }
    }
}
