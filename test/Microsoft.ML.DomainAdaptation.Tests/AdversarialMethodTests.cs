using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>MCD, ADDA and M-ADDA: options, what the saved model holds, and Save/Load parity.</summary>
    public class AdversarialMethodTests
    {
        private static T Small<T>(T options) where T : DomainAdaptationOptions
        {
            options.Iterations = 60;
            options.BatchSize = 32;
            options.Seed = 7;
            options.Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8 };
            options.ClassifierHiddenSize = 8;
            return options;
        }

        public static IEnumerable<object[]> Methods() => new[]
        {
            new object[] { "MCD" },
            new object[] { "ADDA" },
            new object[] { "M-ADDA" },
        };

        private static DomainAdaptationOptions Create(string method) => method switch
        {
            "MCD" => new McdOptions(),
            "ADDA" => new AddaOptions(),
            "M-ADDA" => new MAddaOptions(),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };

        private static DomainAdaptationTransformer Last(ITransformer model) =>
            Assert.IsType<DomainAdaptationTransformer>(((IEnumerable<ITransformer>)model).Last());

        private static float[] Values(IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
            parameters.SelectMany(p => p.data<float>().ToArray()).ToArray();

        [Theory]
        [MemberData(nameof(Methods))]
        public void SaveAndLoadGiveBitIdenticalScoresWithTheMethodsStateInsideTheModel(string method)
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(Create(method)))).Fit(data);
            var before = TestData.Column(model.Transform(data), "Score");
            var beforeEmbedding = TestData.Column(model.Transform(data), "Embedding");

            string path = Path.Combine(Directory.CreateTempSubdirectory("da").FullName, "model.zip");
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext(seed: 99);
            var loaded = fresh.Model.Load(path, out _);
            Assert.Equal(before, TestData.Column(loaded.Transform(data), "Score"));
            Assert.Equal(beforeEmbedding, TestData.Column(loaded.Transform(data), "Embedding"));
            Assert.True(fresh.MulticlassClassification.Evaluate(loaded.Transform(data)).MicroAccuracy > 0.9);

            var original = Last(model).Network;
            var restored = Last(loaded).Network;
            Assert.Equal(method, Last(loaded).MethodName);
            Assert.Equal(Values(original.parameters()), Values(restored.parameters()));
            switch (method)
            {
                case "MCD":
                    // Both heads are in the file, trained apart; the score is the mean of their probabilities.
                    Assert.Equal(HeadKind.AveragedPair, restored.Spec.Head);
                    Assert.Equal(Values(original.SecondClassifier.parameters()), Values(restored.SecondClassifier.parameters()));
                    Assert.NotEqual(Values(restored.classifier.parameters()), Values(restored.SecondClassifier.parameters()));
                    AssertScoresAre(restored, data, e => (nn.functional.softmax(restored.classifier.forward(e), 1) + nn.functional.softmax(restored.SecondClassifier.forward(e), 1)) / 2);
                    break;
                case "ADDA":
                    Assert.Equal(HeadKind.Softmax, restored.Spec.Head);
                    AssertScoresAre(restored, data, e => nn.functional.softmax(restored.classifier.forward(e), 1));
                    break;
                case "M-ADDA":
                    // The centres are in the file, filled (one per class), and the score is the nearest-centre softmax.
                    Assert.Equal(HeadKind.NearestCentre, restored.Spec.Head);
                    Assert.Equal(original.Centres.data<float>().ToArray(), restored.Centres.data<float>().ToArray());
                    Assert.True(restored.Centres.abs().sum(1).min().item<float>() > 0, "a class centre is still zero");
                    // The scale 1 / 2σ² is in the file too, learned (not the initial 1): softmax(−‖e − C_j‖² / 2σ²).
                    float scale = restored.CentreScale.item<float>();
                    Assert.Equal(original.CentreScale.item<float>(), scale);
                    Assert.True(scale > 0 && scale != 1, $"centre scale {scale}");
                    AssertScoresAre(restored, data, e => nn.functional.softmax(-cdist(e, restored.Centres).pow(2) * scale, 1));
                    break;
            }
        }

        private static void AssertScoresAre(ScoringNetwork network, IDataView data, Func<Tensor, Tensor> head)
        {
            using var scope = NewDisposeScope();
            var features = TestData.Column(data, "Features");
            var input = tensor(features.SelectMany(f => f).ToArray(), new long[] { features.Length, features[0].Length });
            using var noGrad = no_grad();
            var (embedding, probabilities) = network.Score(input);
            var expected = head(embedding);
            Assert.True(allclose(expected, probabilities, 1e-6, 1e-6), "the head does not compute what the method defines");
        }

        [Fact]
        public void AddaKeepsTheSourceClassifierFixedAndScoresWithTheAdaptedTargetEncoder()
        {
            // With a constant learning rate, ADDA's source stage (30 of 60 steps) is exactly a 30-step source-only
            // training: same initial weights, batches and SGD. The saved classifier must be that one, unchanged by the
            // adversarial stage, while the saved backbone is M_t, moved away from M_s.
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var adda = Small(new AddaOptions { PretrainFraction = 0.5f });
            adda.AnnealLearningRate = false;
            var sourceOnly = Small(new SourceOnlyOptions());
            sourceOnly.AnnealLearningRate = false;
            sourceOnly.Iterations = 30;
            var addaNetwork = Last(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(adda)).Fit(data)).Network;
            var sourceNetwork = Last(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(sourceOnly)).Fit(data)).Network;

            Assert.Equal(Values(sourceNetwork.classifier.parameters()), Values(addaNetwork.classifier.parameters()));
            Assert.NotEqual(Values(sourceNetwork.backbone.parameters()), Values(addaNetwork.backbone.parameters()));
        }

        [Fact]
        public void TrainingReportsEachStagesLosses()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var seen = new Dictionary<string, List<TrainingProgress>>();
            foreach (var method in new[] { "MCD", "ADDA", "M-ADDA" })
            {
                var options = Small(Create(method));
                options.ProgressInterval = 20;
                var reports = seen[method] = new List<TrainingProgress>();
                options.ProgressCallback = reports.Add;
                TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            }
            Assert.All(seen["MCD"], r => Assert.Equal(new[] { "classification", "discrepancy (classifiers)", "discrepancy (generator)" }, r.Losses.Keys.OrderBy(k => k)));
            // Steps 1–30 are the source stage, 31–60 the adversarial one.
            Assert.Equal(new[] { "classification" }, seen["ADDA"][0].Losses.Keys);
            Assert.Equal(new[] { "adversarial", "discriminator", "source anchor" }, seen["ADDA"][2].Losses.Keys.OrderBy(k => k));
            Assert.Equal(new[] { "triplet" }, seen["M-ADDA"][0].Losses.Keys);
            Assert.Equal(new[] { "adversarial", "centre", "discriminator", "source anchor" }, seen["M-ADDA"][2].Losses.Keys.OrderBy(k => k));
        }

        [Theory]
        [MemberData(nameof(Methods))]
        public void LabeledTargetRowsAreUsedWhenAsked(string method)
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(64, 0.5f, 1);
            var data = ml.Data.LoadFromEnumerable(rows);
            var options = Small(Create(method));
            options.UseTargetLabels = true;
            options.ProgressInterval = 60;
            var reports = new List<TrainingProgress>();
            options.ProgressCallback = reports.Add;
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            Assert.Contains("target classification", reports.Last().Losses.Keys);
            Assert.True(ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy > 0.9);
        }

        [Fact]
        public void InvalidOptionsAreRejectedWithTheOptionsName()
        {
            var ml = new MLContext(seed: 1);
            var cases = new (Func<DomainAdaptationOptions> Create, string Name)[]
            {
                (() => new McdOptions { DiscrepancyWeight = -1 }, "DiscrepancyWeight"),
                (() => new McdOptions { DiscrepancyWeight = float.NaN }, "DiscrepancyWeight"),
                (() => new McdOptions { GeneratorSteps = 0 }, "GeneratorSteps"),
                (() => new AddaOptions { PretrainFraction = 0 }, "PretrainFraction"),
                (() => new AddaOptions { PretrainFraction = 1 }, "PretrainFraction"),
                (() => new AddaOptions { PretrainFraction = -0.5f }, "PretrainFraction"),
                (() => new AddaOptions { DiscriminatorHiddenSize = 0 }, "DiscriminatorHiddenSize"),
                (() => new AddaOptions { AdversarialLearningRate = 0 }, "AdversarialLearningRate"),
                (() => new AddaOptions { AdversarialLearningRate = float.PositiveInfinity }, "AdversarialLearningRate"),
                (() => new AddaOptions { AdversarialOptimizer = (AdversarialOptimizerKind)7 }, "AdversarialOptimizer"),
                (() => new AddaOptions { DiscriminatorLabelSmoothing = -0.1f }, "DiscriminatorLabelSmoothing"),
                (() => new AddaOptions { SourceAnchorWeight = -1 }, "SourceAnchorWeight"),
                (() => new AddaOptions { DiscriminatorLabelSmoothing = 0.5f }, "DiscriminatorLabelSmoothing"),
                (() => new MAddaOptions { PretrainFraction = 1.5f }, "PretrainFraction"),
                (() => new MAddaOptions { TripletMargin = 0 }, "TripletMargin"),
                (() => new MAddaOptions { CentreWeight = -1 }, "CentreWeight"),
                (() => new MAddaOptions { CentreWeight = float.NaN }, "CentreWeight"),
            };
            foreach (var (create, name) in cases)
            {
                var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(create()));
                Assert.Equal(name, ex.ParamName);
                Assert.Contains(name, ex.Message);
            }
            // The boundaries that are allowed.
            ml.Transforms.DomainAdapt(new McdOptions { DiscrepancyWeight = 0, GeneratorSteps = 1 });
            ml.Transforms.DomainAdapt(new AddaOptions { DiscriminatorLabelSmoothing = 0, SourceAnchorWeight = 0, AdversarialOptimizer = AdversarialOptimizerKind.Adam });
            ml.Transforms.DomainAdapt(new MAddaOptions { CentreWeight = 0, PretrainFraction = 0.99f });
        }

        [Fact]
        public void OneStepTrainingsDoNotFail()
        {
            // The stage split clamps: with 1 or 2 iterations every method still trains and scores.
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml, perDomain: 32);
            foreach (int iterations in new[] { 1, 2 })
            {
                foreach (var method in new[] { "MCD", "ADDA", "M-ADDA" })
                {
                    var options = Small(Create(method));
                    options.Iterations = iterations;
                    var scores = TestData.Column(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data).Transform(data), "Score");
                    Assert.All(scores, s => Assert.Equal(1f, s.Sum(), 4));
                }
            }
        }
    }
}
