using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The exported ONNX model, scored with OnnxRuntime and through ML.NET's ApplyOnnxModel, gives the transformer's
    /// probabilities and embedding (max abs difference ≤ 1e-5) and its predicted classes, for every backbone,
    /// normalisation and head.
    /// </summary>
    public sealed class OnnxExportTests : IDisposable
    {
        private const int Side = 16;
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        public static IEnumerable<object[]> Configurations() => new (string Name, Func<DomainAdaptationOptions> Create, bool Images)[]
        {
            ("MLP SourceOnly", () => new SourceOnlyOptions(), false),
            ("MLP BatchNorm DANN", () => new DannOptions { Backbone = Mlp(NormalizationKind.BatchNorm) }, false),
            ("MLP AdaBN", () => new AdaBnOptions(), false),
            ("MLP MCD", () => new McdOptions(), false),
            ("MLP ADDA", () => new AddaOptions(), false),
            ("MLP M-ADDA", () => new MAddaOptions(), false),
            ("MLP one-layer classifier CORAL", () => new DeepCoralOptions { ClassifierHiddenSize = 0 }, false),
            ("LeNet DANN", () => new DannOptions(), true),
            ("LeNet BatchNorm SourceOnly", () => new SourceOnlyOptions { Backbone = new LeNetBackboneOptions { Normalization = NormalizationKind.BatchNorm } }, true),
            ("LeNet InstanceNorm MMD", () => new MmdOptions { Backbone = new LeNetBackboneOptions { Normalization = NormalizationKind.InstanceNorm } }, true),
            ("LeNet CDAN", () => new CdanOptions(), true),
            ("MLP MDD", () => new MddOptions(), false),
            ("LeNet SelfTraining", () => new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = 0.5f }), true),
            ("MLP DANN+SelfTraining", () => new DannOptions { AddOns = { new SelfTrainingAddOn { Threshold = 0.5f } } }, false),
        }.Select(c => new object[] { c.Name, c.Create, c.Images });

        private static MlpBackboneOptions Mlp(NormalizationKind normalization = NormalizationKind.None) =>
            new() { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8, Normalization = normalization };

        [Theory]
        [MemberData(nameof(Configurations))]
        public void OnnxRuntimeGivesTheTransformersScores(string name, Func<DomainAdaptationOptions> create, bool images)
        {
            var ml = new MLContext(seed: 1);
            var (data, size) = images ? (ImageData(ml), Side * Side) : (TestData.BlobsView(ml), 4);
            var options = create();
            options.Iterations = 40;
            options.BatchSize = 16;
            options.Seed = 5;
            options.ClassifierHiddenSize = options.ClassifierHiddenSize == 0 ? 0 : 8;
            var normalization = options.Backbone.Normalization;
            options.Backbone = images ? new LeNetBackboneOptions { Channels = 1, Height = Side, Width = Side, Normalization = normalization, EmbeddingSize = 12 }
                : Mlp(normalization);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            var scored = model.Transform(data);
            var expectedScores = TestData.Column(scored, "Score");
            var expectedEmbeddings = TestData.Column(scored, "Embedding");
            var expectedKeys = scored.GetColumn<uint>("PredictedLabel").ToArray();
            var features = TestData.Column(data, "Features");

            string path = _folder.File($"{name.Replace(' ', '_')}.onnx");
            model.LastTransformer.ExportToOnnx(path);
            using var session = new InferenceSession(path);
            var input = new DenseTensor<float>(features.SelectMany(f => f).ToArray(), new[] { features.Length, size });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
            var scores = results.Single(r => r.Name == "Score").AsTensor<float>();
            var embeddings = results.Single(r => r.Name == "Embedding").AsTensor<float>();
            var predicted = results.Single(r => r.Name == "PredictedLabel").AsTensor<long>();

            double maxScoreDifference = 0, maxEmbeddingDifference = 0;
            for (int i = 0; i < features.Length; i++)
            {
                for (int k = 0; k < expectedScores[i].Length; k++)
                    maxScoreDifference = Math.Max(maxScoreDifference, Math.Abs(scores[i, k] - expectedScores[i][k]));
                for (int d = 0; d < expectedEmbeddings[i].Length; d++)
                    maxEmbeddingDifference = Math.Max(maxEmbeddingDifference, Math.Abs(embeddings[i, d] - expectedEmbeddings[i][d]));
                // The ONNX output is the 0-based class index; the ML.NET key is 1-based.
                Assert.Equal(expectedKeys[i], (uint)predicted[i] + 1);
            }
            Assert.True(maxScoreDifference <= 1e-5, $"{name}: max |ΔScore| = {maxScoreDifference:G3}");
            Assert.True(maxEmbeddingDifference <= 1e-4 * Math.Max(1, expectedEmbeddings.Max(e => e.Max())), $"{name}: max |ΔEmbedding| = {maxEmbeddingDifference:G3}");
        }

        [Fact]
        public void ApplyOnnxModelInAnMLNetPipelineGivesTheSameScores()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var options = TestData.Tiny(new DannOptions());
            var keyed = TestData.KeyLabel(ml).Fit(data);
            var model = keyed.Append(ml.Transforms.DomainAdapt(options).Fit(keyed.Transform(data)));
            string path = _folder.File("dann.onnx");
            model.LastTransformer.ExportToOnnx(path);

            var onnxScored = ml.Transforms.ApplyOnnxModel(outputColumnNames: new[] { "Score" }, inputColumnNames: new[] { "Features" }, modelFile: path)
                .Fit(data).Transform(data);
            var expected = TestData.Column(model.Transform(data), "Score");
            var actual = TestData.Column(onnxScored, "Score");
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                for (int k = 0; k < expected[i].Length; k++)
                    Assert.True(Math.Abs(expected[i][k] - actual[i][k]) <= 1e-5, $"row {i} class {k}: {expected[i][k]} vs {actual[i][k]}");
        }

        public static IEnumerable<object[]> EvaluateMethods() => new (string Name, Func<DomainAdaptationOptions> Create)[]
        {
            ("SourceOnly", () => new SourceOnlyOptions()),
            ("DANN", () => new DannOptions()),
            ("DeepCORAL", () => new DeepCoralOptions()),
            ("MCD", () => new McdOptions()),
            ("M-ADDA", () => new MAddaOptions()),
        }.Select(c => new object[] { c.Name, c.Create });

        /// <summary>ApplyOnnxModel + OnnxClassIndexToKey, then Evaluate: the transformer's own metrics.</summary>
        [Theory]
        [MemberData(nameof(EvaluateMethods))]
        public void EvaluateThroughApplyOnnxModelGivesTheTransformersMetrics(string name, Func<DomainAdaptationOptions> create)
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var options = TestData.Tiny(create());
            options.Iterations = 20; // Few steps: some rows stay misclassified, so the metrics are not trivially equal.
            var keyed = TestData.KeyLabel(ml).Fit(data);
            var keyedData = keyed.Transform(data);
            var transformer = ml.Transforms.DomainAdapt(options).Fit(keyedData);
            string path = _folder.File($"{name}.onnx");
            transformer.ExportToOnnx(path);

            var onnxScored = ml.Transforms.ApplyOnnxModel(new[] { "Score", "PredictedLabel" }, new[] { "Features" }, path)
                .Append(ml.Transforms.OnnxClassIndexToKey(transformer))
                .Fit(keyedData).Transform(keyedData);
            var expected = ml.MulticlassClassification.Evaluate(transformer.Transform(keyedData));
            var actual = ml.MulticlassClassification.Evaluate(onnxScored);
            Assert.Equal(expected.MicroAccuracy, actual.MicroAccuracy);
            Assert.Equal(expected.MacroAccuracy, actual.MacroAccuracy);
            Assert.True(Math.Abs(expected.LogLoss - actual.LogLoss) <= 1e-5, $"{name}: LogLoss {expected.LogLoss} vs {actual.LogLoss}");
            Assert.Equal(expected.ConfusionMatrix.Counts.SelectMany(r => r), actual.ConfusionMatrix.Counts.SelectMany(r => r));
            Console.WriteLine($"{name}: MicroAccuracy {expected.MicroAccuracy:F6} / {actual.MicroAccuracy:F6}, MacroAccuracy {expected.MacroAccuracy:F6} / {actual.MacroAccuracy:F6}, LogLoss {expected.LogLoss:F8} / {actual.LogLoss:F8}");
        }

        [Fact]
        public void ExportReplacesTheFileWholeAndLeavesNoTemporaryFile()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new SourceOnlyOptions()))).Fit(data);
            string path = _folder.File("model.onnx");
            System.IO.File.WriteAllText(path, "an older file");
            model.LastTransformer.ExportToOnnx(path);
            using (new InferenceSession(path)) { }
            Assert.Equal(new[] { "model.onnx" }, System.IO.Directory.GetFiles(_folder.Path).Select(System.IO.Path.GetFileName));
        }

        /// <summary>16 × 16 one-channel images: class 0 a bright left half, class 1 a bright right half; the target is darker and noisier.</summary>
        private static IDataView ImageData(MLContext ml)
        {
            var random = new Random(3);
            var rows = new List<ImageRow>();
            for (int domain = 0; domain < 2; domain++)
            {
                for (int i = 0; i < 48; i++)
                {
                    int cls = i % 2;
                    var pixels = new float[Side * Side];
                    for (int y = 0; y < Side; y++)
                        for (int x = 0; x < Side; x++)
                            pixels[y * Side + x] = ((x < Side / 2) == (cls == 0) ? 1f : -1f) * (domain == 0 ? 1f : 0.6f) + (float)(random.NextDouble() - 0.5) * (domain == 0 ? 0.3f : 0.8f);
                    rows.Add(new ImageRow { Features = pixels, Label = cls == 0 ? "left" : "right", IsTarget = domain == 1 });
                }
            }
            return ml.Data.LoadFromEnumerable(rows);
        }

        private sealed class ImageRow
        {
            [VectorType(Side * Side)]
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }
    }
}
