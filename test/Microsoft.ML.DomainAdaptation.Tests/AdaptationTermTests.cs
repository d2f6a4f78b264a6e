using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.Transforms;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// One test per method that fails when the method's adaptation term is removed or its sign flipped: each trains the method
    /// for a few hundred steps on small synthetic shifted domains and compares the quantity the term optimises (domain gap,
    /// covariance or moment distance, classifier discrepancy, distance to the class centres, class confusion, confidence on the
    /// target, batch-norm statistics) with the same training at weight 0, or with source-only where the method has no weight.
    /// Each margin was checked against a sabotaged copy of the method (sign flipped, term zeroed), which fails it.
    /// </summary>
    public class AdaptationTermTests
    {
        private const int Dimensions = 6;
        private const int Classes = 3;
        private readonly ITestOutputHelper _output;

        public AdaptationTermTests(ITestOutputHelper output) => _output = output;

        private sealed class Row
        {
            [VectorType(Dimensions)]
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        /// <summary>
        /// Three Gaussian classes (class c is centred at 2 on the coordinates j with j mod 3 = c, spread 0.6); the target is the
        /// source rescaled per coordinate (× 1.8 on even, × 0.6 on odd coordinates) and shifted by 1.5. A source-only MLP is right
        /// on about three target rows in four.
        /// </summary>
        private static List<Row> Domains(int perDomain = 300, int seed = 5, double targetShift = 1.5)
        {
            var random = new Random(seed);
            var rows = new List<Row>();
            for (int domain = 0; domain < 2; domain++)
            {
                for (int i = 0; i < perDomain; i++)
                {
                    int cls = i % Classes;
                    var features = new float[Dimensions];
                    for (int j = 0; j < Dimensions; j++)
                    {
                        double x = (j % Classes == cls ? 2 : 0) + 0.6 * Gaussian(random);
                        if (domain == 1)
                            x = x * (j % 2 == 0 ? 1.8 : 0.6) + targetShift;
                        features[j] = (float)x;
                    }
                    rows.Add(new Row { Features = features, Label = ((char)('a' + cls)).ToString(), IsTarget = domain == 1 });
                }
            }
            return rows;
        }

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        /// <summary>A small MLP (32 → 16), 200 steps (or <paramref name="iterations"/>) of 32 + 32 rows, one thread, seed 3; the method's own options otherwise.</summary>
        private static T Small<T>(T options, int iterations = 200) where T : DomainAdaptationOptions
        {
            options.Iterations = iterations;
            options.BatchSize = 32;
            options.Seed = 3;
            options.NumberOfThreads = 1;
            options.Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 32 }, EmbeddingSize = 16, Normalization = options.Backbone.Normalization };
            options.ClassifierHiddenSize = 16;
            return options;
        }

        /// <summary>A trained model and its outputs on the training rows of each domain.</summary>
        private sealed class Trained
        {
            public DomainAdaptationTransformer Model;
            public float[][] SourceEmbedding, TargetEmbedding, TargetScore, TargetFeatures;
            public int[] SourceLabels, TargetLabels;

            /// <summary>MMD² between the domains' embeddings at the median-heuristic bandwidth (scale-free).</summary>
            public double Gap => DomainGap.Mmd(SourceEmbedding, TargetEmbedding);

            public double TargetAccuracy => TargetScore.Select((s, i) => Array.IndexOf(s, s.Max()) == TargetLabels[i] ? 1.0 : 0).Average();

            /// <summary>Mean entropy of the target rows' class probabilities.</summary>
            public double TargetEntropy
            {
                get
                {
                    using var scope = NewDisposeScope();
                    return MinimumClassConfusion.Entropy(Tensor(TargetScore)).mean().item<float>();
                }
            }
        }

        private static Trained Train(DomainAdaptationOptions options, List<Row> rows = null)
        {
            rows ??= Domains();
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(rows);
            var model = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            var scored = model.Transform(data);
            var embedding = TestData.Column(scored, "Embedding");
            var score = TestData.Column(scored, "Score");
            var source = Enumerable.Range(0, rows.Count).Where(i => !rows[i].IsTarget).ToArray();
            var target = Enumerable.Range(0, rows.Count).Where(i => rows[i].IsTarget).ToArray();
            return new Trained
            {
                Model = model.LastTransformer,
                SourceEmbedding = source.Select(i => embedding[i]).ToArray(),
                TargetEmbedding = target.Select(i => embedding[i]).ToArray(),
                TargetScore = target.Select(i => score[i]).ToArray(),
                TargetFeatures = target.Select(i => rows[i].Features).ToArray(),
                SourceLabels = source.Select(i => rows[i].Label[0] - 'a').ToArray(),
                TargetLabels = target.Select(i => rows[i].Label[0] - 'a').ToArray(),
            };
        }

        private static Tensor Tensor(float[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length });

        private void Report(string what, double with, double without) =>
            _output.WriteLine($"{what}: with the term {with:G4}, without {without:G4} (ratio {with / without:G3})");

        /// <summary>Asserts that the term brought <paramref name="with"/> below <paramref name="ratio"/> × <paramref name="without"/>.</summary>
        private void AssertShrinks(string what, double with, double without, double ratio)
        {
            Report(what, with, without);
            Assert.True(without > 0, $"{what} without the term is {without:G4}: the domains do not differ");
            Assert.True(with < ratio * without, $"{what} with the term {with:G4} is not below {ratio} × {without:G4} without it");
        }

        [Fact]
        public void SourceOnlyIgnoresTheTargetRows()
        {
            // The baseline has no term: other target rows leave every weight, hence every source row's score, as it was.
            var first = Train(Small(new SourceOnlyOptions()), Domains(targetShift: 1.5));
            var second = Train(Small(new SourceOnlyOptions()), Domains(targetShift: -3));
            Assert.Equal(first.SourceEmbedding, second.SourceEmbedding);
        }

        [Fact]
        public void DannDomainTermShrinksTheDomainGap()
        {
            // Measured 0.032 against 0.157 at weight 0; with the gradient reversal's sign flipped the backbone helps the
            // discriminator and the gap grows.
            var with = Train(Small(new DannOptions()));
            var without = Train(Small(new DannOptions { DomainLossWeight = 0 }));
            AssertShrinks("DANN: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void CdanDomainTermShrinksTheDomainGap(bool entropyConditioning)
        {
            // Measured 0.034 (CDAN) and 0.033 (CDAN+E) against 0.157.
            var with = Train(Small(new CdanOptions { EntropyConditioning = entropyConditioning }));
            var without = Train(Small(new CdanOptions { EntropyConditioning = entropyConditioning, DomainLossWeight = 0 }));
            AssertShrinks($"CDAN{(entropyConditioning ? "+E" : "")}: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
        }

        [Fact]
        public void DeepCoralTermShrinksTheCovarianceDistance()
        {
            // Measured 0.0104 against 0.0170.
            var with = Train(Small(new DeepCoralOptions()));
            var without = Train(Small(new DeepCoralOptions { CoralWeight = 0 }));
            using var scope = NewDisposeScope();
            AssertShrinks("Deep CORAL: CORAL distance of the embeddings",
                CoralLoss.Compute(Tensor(with.SourceEmbedding), Tensor(with.TargetEmbedding)).item<float>(),
                CoralLoss.Compute(Tensor(without.SourceEmbedding), Tensor(without.TargetEmbedding)).item<float>(), 0.8);
        }

        public static IEnumerable<object[]> MmdVariants() => new[]
        {
            new object[] { MmdKernel.MultiGaussian, MmdEstimator.Unbiased },
            new object[] { MmdKernel.Gaussian, MmdEstimator.Biased },
            new object[] { MmdKernel.MultiGaussian, MmdEstimator.Linear },
        };

        [Theory]
        [MemberData(nameof(MmdVariants))]
        public void MmdTermShrinksTheDomainGap(MmdKernel kernel, MmdEstimator estimator)
        {
            // Measured −0.002, 0.003 and 0.0001 against 0.157.
            var with = Train(Small(new MmdOptions { Kernel = kernel, Estimator = estimator }));
            var without = Train(Small(new MmdOptions { Kernel = kernel, Estimator = estimator, MmdWeight = 0 }));
            AssertShrinks($"MMD ({kernel}, {estimator}): domain gap (MMD²)", with.Gap, without.Gap, 0.5);
        }

        [Fact]
        public void WeightedMmdTermShrinksTheDomainGap()
        {
            // Measured 0.016 against 0.157.
            var with = Train(Small(new WeightedMmdOptions()));
            var without = Train(Small(new WeightedMmdOptions { MmdWeight = 0 }));
            AssertShrinks("WeightedMMD: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
        }

        [Fact]
        public void CmdTermShrinksTheMomentDistance()
        {
            // Measured 0.011 against 1.21.
            var with = Train(Small(new CmdOptions()));
            var without = Train(Small(new CmdOptions { CmdWeight = 0 }));
            using var scope = NewDisposeScope();
            AssertShrinks("CMD: central moment discrepancy of tanh(embedding)",
                CmdLoss.Compute(Tensor(with.SourceEmbedding).tanh(), Tensor(with.TargetEmbedding).tanh(), 5).item<float>(),
                CmdLoss.Compute(Tensor(without.SourceEmbedding).tanh(), Tensor(without.TargetEmbedding).tanh(), 5).item<float>(), 0.5);
        }

        [Fact]
        public void JanTermShrinksTheDomainGap()
        {
            // Measured −0.002 against 0.157.
            var with = Train(Small(new JanOptions()));
            var without = Train(Small(new JanOptions { MmdWeight = 0 }));
            AssertShrinks("JAN: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
        }

        [Fact]
        public void McdDiscrepancyTermShrinksTheDomainGap()
        {
            // At the default weight (1, four generator updates of 1/4) the gap fell only to 0.80 of weight 0's in 200 steps
            // (0.126 against 0.157); at weight 4 with one generator update per step to 0.24: that setting tests the direction.
            var with = Train(Small(new McdOptions { DiscrepancyWeight = 4, GeneratorSteps = 1 }));
            var without = Train(Small(new McdOptions { DiscrepancyWeight = 0, GeneratorSteps = 1 }));
            double discrepancy;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                discrepancy = Discrepancy(with.Model, with.TargetEmbedding);
                Report("MCD: classifier discrepancy on the target", discrepancy, Discrepancy(without.Model, without.TargetEmbedding));
            }
            Report("MCD: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            AssertShrinks("MCD: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
            // Step B alone (the classifiers maximising their discrepancy, step C removed) also shrank the gap (0.27 of weight 0's)
            // but left the classifiers disagreeing more on the target: mean |p1 − p2| 0.35, 0.66 with step C's sign flipped,
            // 0.21 with both steps.
            Assert.True(discrepancy < 0.28, $"the two classifiers disagree on the target: discrepancy {discrepancy:G3}");
        }

        private static double Discrepancy(DomainAdaptationTransformer model, float[][] embedding)
        {
            var e = Tensor(embedding);
            return ClassifierDiscrepancy.Compute(model.Network.classifier.forward(e), model.Network.SecondClassifier.forward(e)).item<float>();
        }

        [Fact]
        public void AddaAdversarialStageShrinksTheDomainGap()
        {
            // ADDA's adversarial loss has no weight: compare with source-only on the same seed and steps. 1,000 steps (500
            // adversarial): at its default tenth of the learning rate the 100 adversarial steps of 200 do not align yet (gap 0.183
            // against 0.157, target accuracy 48.0 against 77.3 %; 0.005 at the full rate). Measured 0.049 against 0.149 (400
            // steps: 0.098 against 0.157), target accuracy 99.7 % for both.
            var with = Train(Small(new AddaOptions(), iterations: 1000));
            var without = Train(Small(new SourceOnlyOptions(), iterations: 1000));
            Report("ADDA vs source-only: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            AssertShrinks("ADDA vs source-only: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
        }

        [Fact]
        public void MAddaCentreTermPullsTheTargetRowsToTheCentres()
        {
            // The adversarial stage (shared with ADDA) shrinks the gap: 0.055 against source-only's 0.157. The centre term is
            // weak here (0.96 of weight 0's distance at the default weight 1): weight 10 brings it to 0.87.
            var with = Train(Small(new MAddaOptions { CentreWeight = 10 }));
            var without = Train(Small(new MAddaOptions { CentreWeight = 0 }));
            var sourceOnly = Train(Small(new SourceOnlyOptions()));
            AssertShrinks("M-ADDA vs source-only: domain gap (MMD²)", with.Gap, sourceOnly.Gap, 0.5);
            Report("M-ADDA: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            AssertShrinks("M-ADDA: target rows' distance to the nearest centre (relative)",
                CentreLoss.Compute(Tensor(with.TargetEmbedding), with.Model.Network.Centres).item<float>(),
                CentreLoss.Compute(Tensor(without.TargetEmbedding), without.Model.Network.Centres).item<float>(), 0.93);
        }

        [Fact]
        public void ClassCriterionTermsMakeTheSourceClassesCompact()
        {
            // Without target labels: the class criterion on the source rows plus MMD. At its default weights (0.01) the spread fell
            // to 0.86 of weight 0's; at 0.1 to 0.74.
            var with = Train(Small(new ClassCriterionOptions { CompactnessWeight = 0.1f, SeparationWeight = 0.1f }));
            var without = Train(Small(new ClassCriterionOptions { CompactnessWeight = 0, SeparationWeight = 0, MmdWeight = 0 }));
            AssertShrinks("ClassCriterion: domain gap (MMD²)", with.Gap, without.Gap, 0.5);
            AssertShrinks("ClassCriterion: within-class / between-class spread of the source embedding", Spread(with), Spread(without), 0.85);
        }

        /// <summary>Within-class squared distance to the class mean over the squared distance between class means (scale-free).</summary>
        private static double Spread(Trained trained)
        {
            using var scope = NewDisposeScope();
            var embedding = Tensor(trained.SourceEmbedding);
            var labels = tensor(trained.SourceLabels.Select(l => (long)l).ToArray());
            var (compactness, _) = ClassCriterionLoss.Compute(embedding, labels, Classes, 0);
            var means = stack(Enumerable.Range(0, Classes).Select(c => embedding.index_select(0, labels.eq(c).nonzero().squeeze(1)).mean(new long[] { 0 })).ToArray());
            var between = (means.unsqueeze(0) - means.unsqueeze(1)).pow(2).sum(2).sum() / (Classes * (Classes - 1));
            return (compactness / between).item<float>();
        }

        [Fact]
        public void AdaBnTargetStatisticsRaiseTargetAccuracy()
        {
            var with = Train(Small(new AdaBnOptions()));
            var without = Train(Small(new SourceOnlyOptions { Backbone = new MlpBackboneOptions { Normalization = NormalizationKind.BatchNorm } }));
            // AdaBN has no weight: the same batch-norm network trained source-only is the baseline. Measured 100 % against 92 %.
            Report("AdaBN vs source-only with batch norm: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            Assert.True(with.TargetAccuracy > without.TargetAccuracy + 0.05, $"AdaBN {with.TargetAccuracy:P1} against {without.TargetAccuracy:P1}");
        }

        [Fact]
        public void MddDisparityTermRaisesTargetAccuracy()
        {
            var with = Train(Small(new MddOptions()));
            var without = Train(Small(new MddOptions { DisparityWeight = 0 }));
            Report("MDD: domain gap", with.Gap, without.Gap);
            Report("MDD: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            // Measured 85.7 % against 77.3 % (gap 0.103 against 0.157).
            Assert.True(with.TargetAccuracy > without.TargetAccuracy + 0.05, $"MDD {with.TargetAccuracy:P1} against {without.TargetAccuracy:P1} at weight 0");
        }

        [Fact]
        public void MccTermLowersTheTargetClassConfusion()
        {
            // MccOptions needs a positive weight: source-only is the baseline. Measured 0.373 against 0.492.
            var with = Train(Small(new MccOptions()));
            var without = Train(Small(new SourceOnlyOptions()));
            Report("MCC vs source-only: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            using var scope = NewDisposeScope();
            AssertShrinks("MCC vs source-only: target class confusion",
                MinimumClassConfusion.Compute(Tensor(with.TargetScore).clamp_min(1e-12).log(), 2.5).item<float>(),
                MinimumClassConfusion.Compute(Tensor(without.TargetScore).clamp_min(1e-12).log(), 2.5).item<float>(), 0.8);
        }

        private static double Confident(Trained t) => t.TargetScore.Count(s => s.Max() >= 0.95) / (double)t.TargetScore.Length;

        [Fact]
        public void SelfTrainingTermMakesTheTargetPredictionsConfident()
        {
            // Pseudo-labels at 0.8 (at the default 0.95 few target rows qualify in 200 steps: entropy 0.94 of source-only's).
            // Measured: entropy 0.336 against 0.391, rows at probability ≥ 0.95 60 % against 47 %.
            var with = Train(Small(new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = 0.8f })));
            var without = Train(Small(new SourceOnlyOptions()));
            Report("SelfTraining vs source-only: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            Report("SelfTraining vs source-only: target rows at probability ≥ 0.95", Confident(with), Confident(without));
            AssertShrinks("SelfTraining vs source-only: target entropy", with.TargetEntropy, without.TargetEntropy, 0.92);
            Assert.True(Confident(with) > Confident(without) + 0.08, $"confident target rows {Confident(with):P1} against {Confident(without):P1}");
        }

        [Fact]
        public void EntropyAddOnLowersTheTargetEntropy()
        {
            // The add-on on source-only at weight 0.3 against the same training without it. Measured 0.158 against 0.391.
            var with = Train(Small(new SourceOnlyOptions { AddOns = { new EntropyAddOn { Weight = 0.3f } } }));
            var without = Train(Small(new SourceOnlyOptions()));
            Report("EntropyAddOn vs source-only: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            AssertShrinks("EntropyAddOn vs source-only: target entropy", with.TargetEntropy, without.TargetEntropy, 0.8);
        }

        /// <summary>Mean KL between the target rows' predictions and those at the adversarial perturbation of radius ε (fixed generator).</summary>
        private static double AdversarialKl(Trained trained, double epsilon)
        {
            using var scope = NewDisposeScope();
            var network = trained.Model.Network;
            network.eval();
            var x = Tensor(trained.TargetFeatures);
            using var generator = new Generator(11, CPU);
            return VatAddOn.Compute(network.forward, x, network.forward(x).detach(), epsilon, 0.01, generator).item<float>();
        }

        [Fact]
        public void VatAddOnMakesTheTargetPredictionsSmooth()
        {
            // Target-side VAT alone (SourceWeight 0) at radius 1 against source-only: the KL under the adversarial perturbation of
            // the target rows falls. Measured 0.059 against 0.149.
            var with = Train(Small(new SourceOnlyOptions { AddOns = { new VatAddOn { Weight = 1, SourceWeight = 0, Epsilon = 1 } } }));
            var without = Train(Small(new SourceOnlyOptions()));
            Report("VatAddOn vs source-only: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            AssertShrinks("VatAddOn vs source-only: adversarial KL on the target (ε = 1)", AdversarialKl(with, 1), AdversarialKl(without, 1), 0.7);
        }

        [Fact]
        public void VadaTargetTermsLowerTheTargetEntropyAndSmoothTheTarget()
        {
            // VADA against the same DANN (VADA's λ_d) with source VAT and no target terms. At the paper's λ_t = 0.01 the target
            // terms change nothing measurable in 200 steps (entropy 0.826 against 0.829): they are tested at λ_t = 0.3.
            // ε = 1 here: the default 3.5 suits standardised 784-pixel rows, not these 6-d rows of scale 2. Measured 0.282
            // against 0.423 (the target VAT alone is tested on its add-on above).
            var vada = new VadaOptions();
            foreach (var addOn in vada.AddOns)
                addOn.Weight = 0.3f;
            vada.AddOns.OfType<VatAddOn>().Single().Epsilon = 1;
            var with = Train(Small(vada));
            var without = Train(Small(new DannOptions { DomainLossWeight = vada.DomainLossWeight, AddOns = { new VatAddOn { Weight = 0, SourceWeight = 1, Epsilon = 1 } } }));
            Report("VADA: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            Report("VADA: adversarial KL on the target (ε = 1)", AdversarialKl(with, 1), AdversarialKl(without, 1));
            AssertShrinks("VADA: target entropy", with.TargetEntropy, without.TargetEntropy, 0.8);
        }

        /// <summary>Mean squared difference between the target rows' class probabilities on a strongly and a weakly augmented view.</summary>
        private static double AugmentationSensitivity(Trained trained)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var network = trained.Model.Network;
            network.eval();
            using var augmentation = new Training.Augmentations.Augmentation(network.Spec, 5);
            var x = Tensor(trained.TargetFeatures);
            var weak = nn.functional.softmax(network.forward(augmentation.Weak(x)), 1);
            var strong = nn.functional.softmax(network.forward(augmentation.Strong(x)), 1);
            return (strong - weak).pow(2).mean().item<float>();
        }

        [Fact]
        public void SelfEnsemblingConsistencyMakesTheTargetPredictionsAgreeAcrossViews()
        {
            // The consistency term makes the student's predictions on strongly augmented target rows match the teacher's on
            // weakly augmented ones. At the default threshold 0.968 no teacher prediction on these domains is confident enough
            // within 200 steps (identical models with and without the term); at 0.5 most rows count. Measured 0.0087 against
            // 0.0169 at weight 10 (0.0130 at the default 3).
            var with = Train(Small(new SelfEnsemblingOptions { ConfidenceThreshold = 0.5f, ConsistencyWeight = 10 }));
            var without = Train(Small(new SelfEnsemblingOptions { ConfidenceThreshold = 0.5f, ConsistencyWeight = 0 }));
            Report("SelfEnsembling: target accuracy", with.TargetAccuracy, without.TargetAccuracy);
            Report("SelfEnsembling: target entropy", with.TargetEntropy, without.TargetEntropy);
            AssertShrinks("SelfEnsembling: strong vs weak view disagreement on the target", AugmentationSensitivity(with), AugmentationSensitivity(without), 0.8);
        }
    }
}
