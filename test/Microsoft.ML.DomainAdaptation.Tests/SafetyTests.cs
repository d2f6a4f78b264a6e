using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// No silent failures (issue 17): options are copied and checked once, a disposed model refuses to work, conflicting
    /// settings and unwritable paths fail before training with the option named.
    /// </summary>
    public class SafetyTests
    {
        private static DannOptions Options() => new DannOptions
        {
            Iterations = 5,
            BatchSize = 8,
            Seed = 1,
            Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 4 }, EmbeddingSize = 4 },
        };

        private static IDataView Data(MLContext ml) => TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml, perDomain: 32)).Transform(TestData.BlobsView(ml, perDomain: 32));

        /// <summary>Every field of an options object (and of its backbone), as text, to tell whether anything changed.</summary>
        private static string Describe(object options)
        {
            var parts = new List<string>();
            for (var type = options.GetType(); type != typeof(object); type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly))
                {
                    object value = field.GetValue(options);
                    parts.Add($"{field.Name}={value switch
                    {
                        BackboneOptions backbone => "{" + Describe(backbone) + "}",
                        int[] array => string.Join("/", array),
                        CancellationToken token => token.GetHashCode().ToString(),
                        _ => value?.ToString() ?? "null",
                    }}");
                }
            }
            return string.Join(", ", parts);
        }

        [Fact]
        public void ChangingTheOptionsAfterTheEstimatorIsMadeChangesNothingAndTheyAreNeverWritten()
        {
            var ml = new MLContext(seed: 1);
            var options = Options();
            var backbone = (MlpBackboneOptions)options.Backbone;
            var estimator = ml.Transforms.DomainAdapt(options);

            // What issue 17 found: Iterations = 0 after construction trained nothing; BatchSize = -3 overflowed.
            options.Iterations = 0;
            options.BatchSize = -3;
            options.ScoreColumnName = "PredictedLabel";
            backbone.EmbeddingSize = 0;
            backbone.HiddenLayerSizes[0] = -1;
            string changed = Describe(options);

            using var model = estimator.Fit(Data(ml));
            Assert.Equal(5, model.TrainingHistory.Steps.Count);
            Assert.Equal(4, model.EmbeddingSize);
            Assert.Equal("Score", model.ScoreColumnName);
            Assert.Equal(changed, Describe(options)); // the caller's object is as the caller left it

            // Options gives a copy: changing it changes nothing either.
            var copy = estimator.Options;
            Assert.NotSame(options, copy);
            Assert.NotSame(backbone, copy.Backbone);
            copy.Iterations = 1;
            ((MlpBackboneOptions)copy.Backbone).HiddenLayerSizes[0] = 99;
            Assert.Equal(5, estimator.Options.Iterations);
            Assert.Equal(new[] { 4 }, ((MlpBackboneOptions)estimator.Options.Backbone).HiddenLayerSizes);
        }

        [Fact]
        public void TheExperimentNeverWritesIntoTheCallersOptions()
        {
            var ml = new MLContext(seed: 1);
            var candidate = TestData.Tiny(new DannOptions());
            candidate.Iterations = 20;
            candidate.BatchSize = 16; // 80 % of 32 rows per domain train
            candidate.ProgressInterval = 5;
            using var cancellation = new CancellationTokenSource();
            candidate.CancellationToken = cancellation.Token;
            var tokensSeen = new List<bool>();
            // Read during training: the token on the caller's object must stay the caller's, even with a time budget.
            candidate.ProgressCallback = p => tokensSeen.Add(candidate.CancellationToken == cancellation.Token);
            string before = Describe(candidate);
            var experimentOptions = new DomainAdaptationExperimentOptions
            {
                Candidates = { candidate },
                Scorer = ValidationScorer.TargetEntropy,
                ReportedScorers = new List<ValidationScorer>(),
                TimeBudget = TimeSpan.FromMinutes(30),
            };
            var experiment = ml.Transforms.DomainAdaptationExperiment(experimentOptions);
            candidate.Iterations = 0; // after the experiment was made: not seen by it
            experimentOptions.Candidates.Clear();

            var result = experiment.Run(Data(ml));

            var dann = result.Candidates.Single(c => c.Name == "DANN");
            Assert.NotNull(dann.Model);
            Assert.Equal(20, dann.Model.TrainingHistory.Steps.Count);
            Assert.Equal(20, result.SourceOnly.Model.TrainingHistory.Steps.Count);
            Assert.NotEmpty(tokensSeen);
            Assert.All(tokensSeen, Assert.True);
            candidate.Iterations = 20;
            Assert.Equal(before, Describe(candidate));
        }

        [Fact]
        public void TheBaselineIsAPlainSourceOnlyWithOnlyTheCommonSettings()
        {
            var template = new SelfTrainingOptions(new SelfTrainingAddOn { Weight = 2, Threshold = 0.5f, DistributionAlignment = false, Warmup = 0.5f })
            {
                FeatureColumnName = "F", LabelColumnName = "L", DomainColumnName = "D", EmbeddingColumnName = "E",
                ScoreColumnName = "S", PredictedLabelColumnName = "P",
                Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 7 }, EmbeddingSize = 3 },
                ClassifierHiddenSize = 5, Iterations = 11, BatchSize = 13, LearningRate = 0.5f, Momentum = 0.5f, WeightDecay = 0.1f,
                AnnealLearningRate = false, Device = "cpu", Seed = 17, NumberOfThreads = 1, ProgressInterval = 3, InputNormalization = InputNormalizationKind.PerImage,
                CancellationToken = new CancellationTokenSource().Token, ProgressCallback = _ => { },
                // Not common: none of these may reach the baseline.
                UseTargetLabels = true, TargetLabelWeight = 2, TrainingHistoryPath = "candidate-history.csv",
                Validation = new TrainingValidation(), CheckpointPath = "candidate.ckpt", CheckpointInterval = 7,
            };
            var baseline = DomainAdaptationExperiment.MakeSourceOnly(template);

            var common = new HashSet<string>
            {
                "FeatureColumnName", "LabelColumnName", "DomainColumnName", "EmbeddingColumnName", "ScoreColumnName", "PredictedLabelColumnName",
                "ClassifierHiddenSize", "Iterations", "BatchSize", "LearningRate", "Momentum", "WeightDecay", "AnnealLearningRate", "Device",
                "Seed", "NumberOfThreads", "ProgressInterval", "CancellationToken", "ProgressCallback", "InputNormalization",
            };
            var fresh = new SourceOnlyOptions();
            foreach (var field in typeof(DomainAdaptationOptions).GetFields(BindingFlags.Instance | BindingFlags.Public))
            {
                if (field.Name is nameof(DomainAdaptationOptions.Backbone) or nameof(DomainAdaptationOptions.AddOns))
                    continue;
                // Common settings come from the template; every other one (including options added later) is the default.
                object expected = field.GetValue(common.Contains(field.Name) ? template : fresh);
                Assert.True(Equals(expected, field.GetValue(baseline)), $"{field.Name}: {field.GetValue(baseline)}, expected {expected}");
            }
            Assert.Empty(baseline.AddOns);
            Assert.Null(baseline.TrainingHistoryPath);
            Assert.False(baseline.UseTargetLabels);
            var backbone = Assert.IsType<MlpBackboneOptions>(baseline.Backbone);
            Assert.NotSame(template.Backbone, backbone);
            Assert.Equal(new[] { 7 }, backbone.HiddenLayerSizes);
            Assert.Equal(3, backbone.EmbeddingSize);
        }

        [Fact]
        public void TheExperimentsBaselineTrainsWithoutTheFirstCandidatesSelfTrainingOrHistoryFile()
        {
            var ml = new MLContext(seed: 1);
            using var folder = new TempFolder();
            string history = Path.Combine(folder.Path, "self-training.csv");
            var candidate = (SelfTrainingOptions)TestData.Tiny(new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = 0.5f }) { TrainingHistoryPath = history });
            candidate.Iterations = 20;
            candidate.BatchSize = 16; // 80 % of 32 rows per domain train
            var result = ml.Transforms.DomainAdaptationExperiment(new DomainAdaptationExperimentOptions
            {
                Candidates = { candidate },
                Scorer = ValidationScorer.TargetEntropy,
                ReportedScorers = new List<ValidationScorer>(),
            }).Run(Data(ml));

            Assert.Equal(new[] { "classification" }, result.SourceOnly.Model.TrainingHistory.LossNames);
            var selfTraining = result.Candidates.Single(c => c.Name == "SelfTraining").Model.TrainingHistory;
            Assert.Contains("self-training", selfTraining.LossNames);
            // The file is the candidate's alone (the baseline writes none).
            Assert.Contains("self-training", TrainingHistory.ReadCsv(history).LossNames);
            Assert.Equal(new[] { "self-training.csv" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        }

        [Theory]
        [InlineData("Score", "Score", "PredictedLabel", "ScoreColumnName", "EmbeddingColumnName")]
        [InlineData("Embedding", "PredictedLabel", "PredictedLabel", "PredictedLabelColumnName", "ScoreColumnName")]
        [InlineData("Embedding", "Score", "Label", "PredictedLabelColumnName", "LabelColumnName")]
        public void OutputColumnsThatWouldHideAnotherColumnAreRejected(string embedding, string score, string predicted, string option, string other)
        {
            var options = Options();
            options.EmbeddingColumnName = embedding;
            options.ScoreColumnName = score;
            options.PredictedLabelColumnName = predicted;
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(1).Transforms.DomainAdapt(options));
            Assert.Equal(option, ex.ParamName);
            Assert.Contains(option, ex.Message);
            Assert.Contains(other, ex.Message);
        }

        [Fact]
        public void ADisposedTransformerRefusesToScoreSaveOrExport()
        {
            var ml = new MLContext(seed: 1);
            var data = Data(ml);
            var model = ml.Transforms.DomainAdapt(Options()).Fit(data);
            var scoredBefore = model.Transform(data);
            var engine = ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model);
            var row = new TestData.Row { Features = new float[] { 1, 1, 1, 1 }, Label = "a" };
            Assert.InRange(engine.Predict(row).PredictedLabel, 1u, 2u); // works before

            model.Dispose();
            model.Dispose(); // twice is fine

            Assert.Throws<ObjectDisposedException>(() => model.Transform(data));
            Assert.Throws<ObjectDisposedException>(() => scoredBefore.GetRowCursor(scoredBefore.Schema));
            Assert.Throws<ObjectDisposedException>(() => engine.Predict(row));
            Assert.Throws<ObjectDisposedException>(() => ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model));
            using var folder = new TempFolder();
            string onnx = Path.Combine(folder.Path, "model.onnx");
            Assert.Throws<ObjectDisposedException>(() => model.ExportToOnnx(onnx));
            Assert.Throws<ObjectDisposedException>(() => model.ExportToOnnx(new MemoryStream()));
            string zip = Path.Combine(folder.Path, "model.zip");
            var saveError = Record.Exception(() => ml.Model.Save(model, data.Schema, zip));
            Assert.IsType<ObjectDisposedException>(saveError.GetBaseException());
            Assert.False(File.Exists(onnx));
        }

        private sealed class Prediction
        {
            public uint PredictedLabel;
        }

        public static IEnumerable<object[]> LossesOverRowsOfABatch() => new Func<DomainAdaptationOptions>[]
        {
            () => new DeepCoralOptions(), () => new CmdOptions(), () => new MccOptions(), () => new DannOptions { AddOns = { new MccAddOn() } },
            () => new ClassCriterionOptions(), () => new MmdOptions(), () => new JanOptions(), () => new WeightedMmdOptions(),
        }.Select((create, i) => new object[] { $"{i}-{create().GetType().Name}", create });

        /// <summary>A batch of one row made DeepCORAL "diverge" (a covariance divides by n − 1): every such loss rejects it.</summary>
        [Theory]
        [MemberData(nameof(LossesOverRowsOfABatch))]
        public void BatchesOfOneRowAreRejectedWhereALossNeedsTwo(string name, Func<DomainAdaptationOptions> create)
        {
            var options = create();
            options.BatchSize = 1;
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(1).Transforms.DomainAdapt(options));
            Assert.True(ex.ParamName == "BatchSize", $"{name}: {ex.ParamName}");
            Assert.Contains("at least 2", ex.Message);
            options.BatchSize = 2;
            new MLContext(1).Transforms.DomainAdapt(options);
        }

        [Fact]
        public void MethodsWhoseLossesAreRowWiseTrainOnBatchesOfOneRow()
        {
            var ml = new MLContext(seed: 1);
            foreach (var options in new DomainAdaptationOptions[] { new SourceOnlyOptions(), Options() })
            {
                options.BatchSize = 1;
                options.Iterations = 3;
                options.Seed = 1;
                options.Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 4 }, EmbeddingSize = 4 };
                using var model = ml.Transforms.DomainAdapt(options).Fit(Data(ml));
                Assert.Equal(3, model.TrainingHistory.Steps.Count);
            }
        }

        [Fact]
        public void AnUnwritableHistoryPathFailsBeforeTrainingNamingTheOption()
        {
            var ml = new MLContext(seed: 1);
            using var folder = new TempFolder();
            string file = Path.Combine(folder.Path, "a-file");
            File.WriteAllText(file, "not a folder");
            var progress = new List<int>();
            foreach (string path in new[] { Path.Combine(file, "history.csv"), folder.Path })
            {
                var options = Options();
                options.TrainingHistoryPath = path;
                options.ProgressInterval = 1;
                options.ProgressCallback = p => progress.Add(p.Iteration);
                var ex = Assert.Throws<ArgumentException>(() => ml.Transforms.DomainAdapt(options).Fit(Data(ml)));
                Assert.Equal("TrainingHistoryPath", ex.ParamName);
                Assert.Contains("TrainingHistoryPath", ex.Message);
                Assert.Contains(path, ex.Message);
            }
            Assert.Empty(progress); // not one step was spent
            Assert.Equal(new[] { "a-file" }, Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
        }

        [Fact]
        public void TheHistoryIsWrittenWholeOverAnOldFileAndLeavesNoTemporaryFile()
        {
            var ml = new MLContext(seed: 1);
            using var folder = new TempFolder();
            string path = Path.Combine(folder.Path, "sub", "history.csv");
            Directory.CreateDirectory(Path.GetDirectoryName(path));
            File.WriteAllText(path, new string('x', 100_000)); // longer than the new history: no tail may survive
            var options = Options();
            options.TrainingHistoryPath = path;
            using var model = ml.Transforms.DomainAdapt(options).Fit(Data(ml));

            var read = TrainingHistory.ReadCsv(path);
            Assert.Equal(5, read.Steps.Count);
            Assert.Equal(model.TrainingHistory.LossNames, read.LossNames);
            Assert.DoesNotContain("x", File.ReadAllText(path));
            Assert.Equal(new[] { "history.csv" }, Directory.GetFileSystemEntries(Path.GetDirectoryName(path)).Select(Path.GetFileName));
        }
    }
}
