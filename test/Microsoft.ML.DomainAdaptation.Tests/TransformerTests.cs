// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class TransformerTests
    {
        private static DomainAdaptationOptions Small(DomainAdaptationOptions options) => TestData.Tiny(options);

        public static IEnumerable<object[]> Methods() => new[]
        {
            new object[] { new SourceOnlyOptions() },
            new object[] { new DannOptions() },
            new object[] { new DeepCoralOptions() },
            new object[] { new ClassCriterionOptions() },
            new object[] { new McdOptions() },
            new object[] { new CdanOptions { EntropyConditioning = true } },
            new object[] { new JanOptions() },
            new object[] { new MccOptions() },
            new object[] { new MddOptions() },
            new object[] { new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = 0.5f }) },
        };

        [Fact]
        public void MccAddsToSharedStepMethodsAndIsRejectedByTheOthers()
        {
            var ml = new MLContext(seed: 1);
            var reports = new List<TrainingProgress>();
            var dann = Small(new DannOptions { AddOns = { new MccAddOn { Weight = 0.5f } } });
            dann.ProgressInterval = 60;
            dann.ProgressCallback = reports.Add;
            TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(dann)).Fit(TestData.BlobsView(ml));
            Assert.Contains("mcc", reports.Single().Losses.Keys);
            Assert.Contains("domain", reports.Single().Losses.Keys);
            foreach (var options in new DomainAdaptationOptions[] { new McdOptions(), new AddaOptions(), new MAddaOptions(), new ClassCriterionOptions() })
            {
                options.AddOns.Add(new MccAddOn());
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(options));
                Assert.Equal("AddOns", error.ParamName);
                Assert.Contains("MccAddOn", error.Message);
            }
            Assert.Equal("AddOns", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new MccOptions(new MccAddOn { Weight = 0 }))).ParamName);
            Assert.Equal("MccAddOn.Temperature", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new DannOptions { AddOns = { new MccAddOn { Temperature = 0 } } })).ParamName);
        }

        [Theory]
        [MemberData(nameof(Methods))]
        public void SaveAndLoadGiveBitIdenticalScoresAndAWorkingPredictionEngine(DomainAdaptationOptions options)
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(options))).Fit(data);
            var before = TestData.Column(model.Transform(data), "Score");

            string path = Path.Combine(Directory.CreateTempSubdirectory("da").FullName, "model.zip");
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext(seed: 99);
            var loaded = fresh.Model.Load(path, out var schema);
            var after = TestData.Column(loaded.Transform(data), "Score");

            Assert.Equal(before.Length, after.Length);
            for (int i = 0; i < before.Length; i++)
                Assert.Equal(before[i], after[i]);

            // One row at a time the network runs other kernels than on a batch: equal to rounding, and bit-identical
            // between the original and the loaded model.
            var engine = fresh.Model.CreatePredictionEngine<TestData.Row, Prediction>(loaded);
            var originalEngine = ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model);
            var rows = TestData.Blobs(128, 0.5f, 1);
            for (int i = 0; i < 5; i++)
            {
                var prediction = engine.Predict(rows[i]);
                Assert.Equal(originalEngine.Predict(rows[i]).Score, prediction.Score);
                for (int k = 0; k < before[i].Length; k++)
                    Assert.Equal(before[i][k], prediction.Score[k], 5);
                Assert.Equal(8, prediction.Embedding.Length);
            }
        }

        private sealed class Prediction
        {
            public float[] Score;
            public float[] Embedding;
            public uint PredictedLabel;
        }

        [Fact]
        public void OutputWorksWithEvaluateAndFeedsAnMLNetTrainer()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml, shift: 0.3f);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(new DannOptions()))).Fit(data);
            var scored = model.Transform(data);

            var schema = scored.Schema;
            Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 8), schema["Embedding"].Type);
            Assert.Equal(2, ((VectorDataViewType)schema["Score"].Type).Size);
            Assert.Equal(new KeyDataViewType(typeof(uint), 2), schema["PredictedLabel"].Type);
            VBuffer<ReadOnlyMemory<char>> names = default;
            schema["Score"].GetSlotNames(ref names);
            Assert.Equal(new[] { "a", "b" }, names.DenseValues().Select(n => n.ToString()));
            schema["PredictedLabel"].GetKeyValues(ref names);
            Assert.Equal(new[] { "a", "b" }, names.DenseValues().Select(n => n.ToString()));

            var metrics = ml.MulticlassClassification.Evaluate(scored);
            Assert.True(metrics.MicroAccuracy > 0.9, $"accuracy {metrics.MicroAccuracy}");
            Assert.Equal(2, metrics.ConfusionMatrix.NumberOfClasses);

            // Probabilities sum to one; PredictedLabel is their argmax.
            var scores = TestData.Column(scored, "Score");
            var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
            for (int i = 0; i < scores.Length; i++)
            {
                Assert.Equal(1f, scores[i].Sum(), 4);
                Assert.Equal((uint)Array.IndexOf(scores[i], scores[i].Max()) + 1, predicted[i]);
            }

            var sdca = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Embedding", maximumNumberOfIterations: 20)
                .Fit(scored);
            var sdcaMetrics = ml.MulticlassClassification.Evaluate(sdca.Transform(scored));
            Assert.True(sdcaMetrics.MicroAccuracy > 0.9, $"SDCA on the embedding: accuracy {sdcaMetrics.MicroAccuracy}");
        }

        [Fact]
        public void TransformScoresInBatchesAndMatchesRowByRowScoring()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml, perDomain: 400);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(new SourceOnlyOptions()))).Fit(data);
            // 800 rows cross several 256-row batches; a row-by-row engine must agree with the batched cursor.
            var batched = TestData.Column(model.Transform(data), "Score");
            var engine = ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model);
            var rows = TestData.Blobs(400, 0.5f, 1);
            Assert.Equal(rows.Count, batched.Length);
            for (int i = 0; i < rows.Count; i += 37)
            {
                var single = engine.Predict(rows[i]).Score;
                for (int k = 0; k < single.Length; k++)
                    Assert.Equal(batched[i][k], single[k], 5);
            }
        }

        [Fact]
        public void SameSeedGivesSameModelAndProgressIsReported()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var reports = new List<TrainingProgress>();
            var logged = new List<string>();
            ml.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Info) logged.Add(e.Message); };
            var options = Small(new DannOptions());
            options.ProgressInterval = 20;
            options.ProgressCallback = reports.Add;
            var first = TestData.Column(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data).Transform(data), "Score");
            var second = TestData.Column(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(new DannOptions()))).Fit(data).Transform(data), "Score");
            var other = Small(new DannOptions());
            other.Seed = 8;
            var third = TestData.Column(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(other)).Fit(data).Transform(data), "Score");

            Assert.Equal(first, second);
            Assert.NotEqual(first, third);
            Assert.Equal(new[] { 20, 40, 60 }, reports.Select(r => r.Iteration));
            Assert.All(reports, r => Assert.Contains("domain", r.Losses.Keys));
            Assert.All(reports, r => Assert.Contains("classification", r.Losses.Keys));
            Assert.Contains(logged, m => m.Contains("DANN step 60/60"));
        }
    

        /// <summary>Same seed, data and threads: bit-identical scores; another seed: other scores. Every method.</summary>
        [Theory]
        [MemberData(nameof(BadInputTests.EveryMethod), MemberType = typeof(BadInputTests))]
        public void EveryMethodIsDeterministicForASeedAndDependsOnIt(string name, Func<DomainAdaptationOptions> create)
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            float[][] Scores(int seed)
            {
                var options = Small(create());
                options.Seed = seed;
                options.UseTargetLabels = false;
                return TestData.Column(TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data).Transform(data), "Score");
            }
            var first = Scores(3);
            Assert.True(first.Zip(Scores(3)).All(p => p.First.SequenceEqual(p.Second)), $"{name}: the same seed gave other scores");
            Assert.False(first.Zip(Scores(4)).All(p => p.First.SequenceEqual(p.Second)), $"{name}: seeds 3 and 4 gave the same scores");
        }

        private sealed class FloatLabelRow
        {
            [VectorType(4)] public float[] Features;
            public float Label;
            public bool IsTarget;
        }

        [Fact]
        public void PredictedLabelKeepsTheLabelsOwnKeyValuesThroughSaveAndLoad()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(64, 0.5f, 1).Select(r => new FloatLabelRow { Features = r.Features, Label = r.Label == "a" ? 3 : 7, IsTarget = r.IsTarget }).ToList();
            var data = ml.Data.LoadFromEnumerable(rows);
            var model = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(ml.Transforms.DomainAdapt(Small(new DeepCoralOptions())))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedValue", "PredictedLabel"))
                .Fit(data);
            string path = Path.Combine(Directory.CreateTempSubdirectory("da").FullName, "model.zip");
            ml.Model.Save(model, data.Schema, path);
            var loaded = new MLContext(seed: 2).Model.Load(path, out _);

            foreach (var scored in new[] { model.Transform(data), loaded.Transform(data) })
            {
                VBuffer<ReadOnlyMemory<char>> slotNames = default;
                scored.Schema["Score"].GetSlotNames(ref slotNames);
                Assert.Equal(new[] { "3", "7" }, slotNames.DenseValues().Select(n => n.ToString()));
                var predicted = scored.GetColumn<float>("PredictedValue").ToArray();
                var labels = rows.Select(r => r.Label).ToArray();
                Assert.All(predicted, p => Assert.True(p == 3 || p == 7));
                Assert.True(predicted.Zip(labels).Count(x => x.First == x.Second) > rows.Count * 0.8);
            }
        }
    }
}
