using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Unsupervised validation scorers, domain-gap measures and the experiment API on cases with known answers.</summary>
    public class ModelSelectionTests
    {
        private static float[][] Rows(params float[][] rows) => rows;

        /// <summary>Embeddings are irrelevant to the label-only scorers: one constant value per row.</summary>
        private static float[][] Flat(int n) => Enumerable.Range(0, n).Select(_ => new[] { 0f }).ToArray();

        [Fact]
        public void SourceAccuracyIsTheFractionOfCorrectArgMaxes()
        {
            var probabilities = Rows(new[] { 0.9f, 0.1f }, new[] { 0.2f, 0.8f }, new[] { 0.6f, 0.4f }, new[] { 0.3f, 0.7f });
            var set = new ValidationSet(Flat(4), probabilities, new[] { 0, 1, 1, 1 }, Flat(1), Rows(new[] { 0.5f, 0.5f }));
            Assert.Equal(0.75, ValidationScorer.SourceAccuracy.Score(set), 12);
        }

        [Fact]
        public void TargetEntropyIsTheNegatedMeanEntropyInNats()
        {
            var target = Rows(new[] { 1f, 0f, 0f }, new[] { 0.5f, 0.5f, 0f }, new[] { 0.25f, 0.25f, 0.5f });
            var set = new ValidationSet(Flat(1), Rows(new[] { 1f, 0f, 0f }), new[] { 0 }, Flat(3), target);
            // H = 0, ln 2, and 2 · 0.25 ln 4 + 0.5 ln 2 = 1.5 ln 2: mean 2.5 ln 2 / 3, negated (higher is better).
            Assert.Equal(-2.5 * Math.Log(2) / 3, ValidationScorer.TargetEntropy.Score(set), 10);
        }

        [Fact]
        public void SoftNeighborhoodDensityOfTwoOneHotClustersMatchesHandComputedEntropy()
        {
            // Three rows predict class 0 with certainty, three class 1. Each row's similarities / τ (τ = 0.05): itself masked
            // to −20, its 2 cluster mates 20, the 3 others 0. SND is the entropy of that softmax, the same for every row.
            var target = Enumerable.Range(0, 6).Select(i => i < 3 ? new[] { 1f, 0f } : new[] { 0f, 1f }).ToArray();
            var set = new ValidationSet(Flat(1), Rows(new[] { 1f, 0f }), new[] { 0 }, Flat(6), target);
            double z = Math.Exp(-20) + 2 * Math.Exp(20) + 3;
            double[] logits = { -20, 20, 20, 0, 0, 0 };
            double expected = -logits.Sum(s => Math.Exp(s) / z * (s - Math.Log(z)));
            Assert.Equal(expected, ValidationScorer.SoftNeighborhoodDensity.Score(set), 9);
            Assert.Equal(Math.Log(2), expected, 6); // near-uniform over the two mates
        }

        [Fact]
        public void SoftNeighborhoodDensityRanksClusteredPredictionsAboveScatteredOnes()
        {
            var random = new Random(5);
            const int n = 200, k = 10;
            // Clustered: every row near one-hot on its class. Scattered: as confident, but in random directions (softmax of
            // random logits of spread 4), so a row's few nearest neighbours take its neighbour mass.
            var clustered = Enumerable.Range(0, n).Select(i => Normalise(Enumerable.Range(0, k).Select(c => c == i % k ? 20f + (float)random.NextDouble() : (float)random.NextDouble()).ToArray())).ToArray();
            var scattered = Enumerable.Range(0, n).Select(_ => Normalise(Enumerable.Range(0, k).Select(_ => (float)Math.Exp(4 * Gaussian(random))).ToArray())).ToArray();
            double Snd(float[][] target) => ValidationScorer.SoftNeighborhoodDensity.Score(new ValidationSet(Flat(1), Rows(new float[k].Select((_, c) => c == 0 ? 1f : 0f).ToArray()), new[] { 0 }, Flat(n), target));
            double clusteredSnd = Snd(clustered), scatteredSnd = Snd(scattered);
            // Clustered: ~uniform over the 19 mates of a class, entropy near ln 19.
            Assert.InRange(clusteredSnd, Math.Log(19) - 0.1, Math.Log(19) + 0.01);
            Assert.True(clusteredSnd > scatteredSnd + 0.2, $"SND clustered {clusteredSnd:F3} is not above scattered {scatteredSnd:F3}");
        }

        private static float[] Normalise(float[] v)
        {
            float sum = v.Sum();
            return v.Select(x => x / sum).ToArray();
        }

        [Theory]
        [InlineData(ValidationLoss.CrossEntropy)]
        [InlineData(ValidationLoss.ZeroOne)]
        public void ImportanceWeightedValidationWithEqualDomainsIsThePlainSourceRisk(ValidationLoss loss)
        {
            var random = new Random(2);
            const int n = 60;
            var embeddings = Enumerable.Range(0, n).Select(_ => new[] { (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
            var probabilities = Enumerable.Range(0, n).Select(_ => Normalise(new[] { (float)random.NextDouble() + 0.01f, (float)random.NextDouble() + 0.01f })).ToArray();
            var labels = Enumerable.Range(0, n).Select(i => i % 2).ToArray();
            // The target is the source itself: no classifier can tell them apart, every density ratio is 1.
            var set = new ValidationSet(embeddings, probabilities, labels, embeddings, probabilities);
            double plainRisk = Enumerable.Range(0, n).Average(i => loss == ValidationLoss.ZeroOne
                ? (probabilities[i][labels[i]] >= probabilities[i][1 - labels[i]] ? 0 : 1)
                : -Math.Log(probabilities[i][labels[i]]));
            Assert.Equal(-plainRisk, new ImportanceWeightedScorer { Loss = loss }.Score(set), 4);
            Assert.Equal(-plainRisk, new DeepEmbeddedValidationScorer { Loss = loss }.Score(set), 4);
        }

        [Fact]
        public void ImportanceWeightedValidationRecoversTheTargetErrorUnderCovariateShift()
        {
            // 1-d embedding. Source: 50 rows at −1 (classified right) and 50 at +1 (classified wrong): error 0.5.
            // Target: 100 rows at +1, where the model is always wrong: target error 1. The density ratio is ~0 at −1 and
            // (100 / 100) · p(t|+1) / p(s|+1) = 2 at +1, so IWV = (50 · 2 · 1) / 100 = 1.
            var source = Enumerable.Range(0, 100).Select(i => new[] { i < 50 ? -1f : 1f }).ToArray();
            var probabilities = Enumerable.Range(0, 100).Select(_ => new[] { 0.9f, 0.1f }).ToArray();
            var labels = Enumerable.Range(0, 100).Select(i => i < 50 ? 0 : 1).ToArray();
            var target = Enumerable.Range(0, 100).Select(_ => new[] { 1f }).ToArray();
            var set = new ValidationSet(source, probabilities, labels, target, target.Select(_ => new[] { 0.9f, 0.1f }).ToArray());
            Assert.Equal(0.5, ValidationScorer.SourceAccuracy.Score(set), 12);
            double iwv = new ImportanceWeightedScorer { Loss = ValidationLoss.ZeroOne }.Score(set);
            Assert.InRange(-iwv, 0.9, 1.1);
            double dev = new DeepEmbeddedValidationScorer { Loss = ValidationLoss.ZeroOne }.Score(set);
            Assert.InRange(-dev, 0.9, 1.1);
        }

        [Fact]
        public void DeepEmbeddedValidationMatchesHandComputedControlVariate()
        {
            // L = w ℓ = (1, 3); mean L = 2, mean w = 2, Cov(L, w) = Var(w) so η = −1: R = 2 + (−1)(2) − (−1) = 1, the true
            // risk of a constant loss of 1, where IWV says 2.
            Assert.Equal(1, DeepEmbeddedValidationScorer.Risk(new[] { 1.0, 3.0 }, new[] { 1.0, 1.0 }), 12);
            Assert.Equal(2, ImportanceWeightedScorer.Risk(new[] { 1.0, 3.0 }, new[] { 1.0, 1.0 }), 12);
            // Constant weights: Var(w) = 0, η = 0, DEV is IWV.
            Assert.Equal(ImportanceWeightedScorer.Risk(new[] { 1.0, 1.0, 1.0 }, new[] { 0.2, 0.4, 0.9 }),
                DeepEmbeddedValidationScorer.Risk(new[] { 1.0, 1.0, 1.0 }, new[] { 0.2, 0.4, 0.9 }), 12);
        }

        [Fact]
        public void DeepEmbeddedValidationControlVariateReducesVarianceOnASyntheticShift()
        {
            // Log-normal density ratios with E[w] = 1 and per-row losses around 0.3, independent of w: the true target risk is
            // 0.3. Over 400 validation sets of 100 rows, both estimators are unbiased; DEV's variance is several times smaller (8× here).
            var random = new Random(11);
            const double sigma = 1.0, risk = 0.3;
            var iwv = new List<double>();
            var dev = new List<double>();
            for (int trial = 0; trial < 400; trial++)
            {
                var w = new double[100];
                var l = new double[100];
                for (int i = 0; i < 100; i++)
                {
                    w[i] = Math.Exp(sigma * Gaussian(random) - sigma * sigma / 2);
                    l[i] = risk + 0.1 * Gaussian(random);
                }
                iwv.Add(ImportanceWeightedScorer.Risk(w, l));
                dev.Add(DeepEmbeddedValidationScorer.Risk(w, l));
            }
            Assert.InRange(iwv.Average(), risk - 0.02, risk + 0.02);
            Assert.InRange(dev.Average(), risk - 0.02, risk + 0.02);
            double Variance(List<double> x) => x.Sum(v => (v - x.Average()) * (v - x.Average())) / (x.Count - 1);
            Assert.True(Variance(dev) < Variance(iwv) / 4, $"DEV variance {Variance(dev):G3} is not 4× below IWV's {Variance(iwv):G3}");
        }

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        [Fact]
        public void MmdWithTheMedianHeuristicMatchesHandComputedValue()
        {
            // Source {0, 1}, target {2, 3} in 1-d. Distinct pairs' squared distances 1, 4, 9, 1, 4, 1: the (lower) median is
            // σ² = 1, k = exp(−d² / 2). Unbiased MMD² = k(0,1) + k(2,3) − 2 · mean(k(0,2), k(0,3), k(1,2), k(1,3)).
            var source = new[] { new[] { 0f }, new[] { 1f } };
            var target = new[] { new[] { 2f }, new[] { 3f } };
            double k(double d2) => Math.Exp(-d2 / 2);
            double expected = 2 * k(1) - 2 * (k(4) + k(9) + k(1) + k(4)) / 4;
            Assert.Equal(expected, DomainGap.Mmd(source, target), 6);
            var report = DomainGap.Measure(source, target);
            Assert.Equal(1, report.MmdBandwidth, 6);
            Assert.Equal(expected, report.Mmd, 6);
        }

        [Fact]
        public void ProxyADistanceIsTwoForSeparatedDomainsAndNearZeroForOneDistribution()
        {
            var random = new Random(4);
            float[] Point(double shift) => Enumerable.Range(0, 5).Select(_ => (float)(Gaussian(random) + shift)).ToArray();
            var source = Enumerable.Range(0, 300).Select(_ => Point(0)).ToArray();
            var same = Enumerable.Range(0, 300).Select(_ => Point(0)).ToArray();
            var far = Enumerable.Range(0, 300).Select(_ => Point(4)).ToArray();
            Assert.Equal(2, DomainGap.ProxyADistance(source, far), 6);
            double sameDistance = DomainGap.ProxyADistance(source, same);
            Assert.InRange(sameDistance, 0, 0.3);
            Assert.True(DomainGap.Mmd(source, far) > 10 * Math.Abs(DomainGap.Mmd(source, same)));
        }

        [Fact]
        public void ExperimentRanksCandidatesReportsEveryScoreAndHonoursItsBudget()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml, perDomain: 200)).Transform(TestData.BlobsView(ml, perDomain: 200));
            var result = ml.Transforms.DomainAdaptationExperiment(new DomainAdaptationExperimentOptions
            {
                Candidates = { TestData.Tiny(new DannOptions()), TestData.Tiny(new DeepCoralOptions()), TestData.Tiny(new DannOptions { DomainLossWeight = 0.1f }) },
                CandidateNames = { null, null, "DANN light" },
                Scorer = ValidationScorer.TargetEntropy,
            }).Run(data);
            Assert.Equal(new[] { "DANN", "DeepCORAL", "DANN light", "SourceOnly" }.OrderBy(n => n), result.Candidates.Select(c => c.Name).OrderBy(n => n));
            Assert.All(result.Candidates, c => Assert.Equal(new[] { "DEV", "IWV", "SND", "SourceAccuracy", "TargetEntropy" }, c.Scores.Keys.OrderBy(k => k)));
            var scores = result.Candidates.Select(c => c.Score).ToArray();
            Assert.Equal(scores.OrderByDescending(s => s), scores);
            Assert.Equal(result.Candidates.First(c => !c.IsSourceOnlyBaseline), result.BestAdapted);
            Assert.NotNull(result.Model);
            Assert.False(string.IsNullOrEmpty(result.Reason));
            // The baseline copies the first candidate's shared settings.
            Assert.Equal(60, result.SourceOnly.Options.Iterations);
            Assert.IsType<SourceOnlyOptions>(result.SourceOnly.Options);

            var hurried = new DomainAdaptationExperiment(ml, new DomainAdaptationExperimentOptions
            {
                Candidates = { TestData.Tiny(new DannOptions()) },
                TimeBudget = TimeSpan.FromTicks(1),
            }).Run(data);
            var skipped = hurried.Candidates.Single(c => c.Name == "DANN");
            Assert.Null(skipped.Model);
            Assert.Contains("time budget", skipped.Error);
            Assert.True(hurried.FellBackToSourceOnly);
        }

        [Fact]
        public void ExperimentOptionsAreChecked()
        {
            var ml = new MLContext(seed: 1);
            Assert.Equal("HeldOutFraction", Assert.Throws<ArgumentOutOfRangeException>(() => new DomainAdaptationExperiment(ml,
                new DomainAdaptationExperimentOptions { Candidates = { new DannOptions() }, HeldOutFraction = 1 })).ParamName);
            Assert.Equal("Candidates", Assert.Throws<ArgumentOutOfRangeException>(() => new DomainAdaptationExperiment(ml,
                new DomainAdaptationExperimentOptions())).ParamName);
            Assert.Equal("Iterations", Assert.Throws<ArgumentOutOfRangeException>(() => new DomainAdaptationExperiment(ml,
                new DomainAdaptationExperimentOptions { Candidates = { new DannOptions { Iterations = 0 } } })).ParamName);
        }
    }
}
