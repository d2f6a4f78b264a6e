// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Scoring through OnnxRuntime (issue 18): the same scores as TorchSharp within 1e-5 and the same predicted labels, for
    /// Transform and PredictionEngine, bit-identical after Save/Load under either engine; the fallback to TorchSharp with
    /// its reason logged once; the error when OnnxRuntime is asked for and cannot run; disposal.
    /// </summary>
    public sealed class OnnxRuntimeScoringTests : IDisposable
    {
        private const int Side = 16;
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        private sealed class Row
        {
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        private sealed class Prediction
        {
            public float[] Score;
            public float[] Embedding;
            public uint PredictedLabel;
        }

        private sealed record Case(IDataView Data, List<Row> Rows, SchemaDefinition Definition, TransformerChain<DomainAdaptationTransformer> Model);

        private static Case Train(MLContext ml, string kind)
        {
            List<Row> rows;
            DomainAdaptationOptions options;
            int size;
            if (kind == "ResNet")
            {
                // 3 × 32 × 32 stripes, 0–255; ImageNet weights from the ResNet18 featurizer package.
                rows = PretrainedBackboneTests.Stripes(12, seed: 1).Select(r => new Row { Features = r.Features, Label = r.Label, IsTarget = r.IsTarget }).ToList();
                size = rows[0].Features.Length;
                options = new DannOptions { Backbone = new ResNetBackboneOptions { ImageSize = 32, EmbeddingSize = 32 }, ClassifierHiddenSize = 0, LearningRate = 0.01f };
            }
            else
            {
                bool images = kind == "LeNet";
                size = images ? Side * Side : 4;
                var random = new Random(3);
                rows = new List<Row>();
                for (int domain = 0; domain < 2; domain++)
                {
                    for (int i = 0; i < 48; i++)
                    {
                        int cls = i % 2;
                        var features = new float[size];
                        for (int j = 0; j < size; j++)
                            features[j] = ((j % Side < Side / 2) == (cls == 0) ? 1f : -1f) * (domain == 0 ? 1f : 0.6f) + (float)(random.NextDouble() - 0.5) * (domain == 0 ? 0.3f : 0.8f);
                        rows.Add(new Row { Features = features, Label = cls == 0 ? "a" : "b", IsTarget = domain == 1 });
                    }
                }
                options = new DannOptions
                {
                    Backbone = images ? new LeNetBackboneOptions { Channels = 1, Height = Side, Width = Side, EmbeddingSize = 12 }
                        : new MlpBackboneOptions { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8 },
                    ClassifierHiddenSize = 8,
                };
            }
            options.Iterations = kind == "ResNet" ? 3 : 30;
            options.BatchSize = 8;
            options.Seed = 5;
            var definition = SchemaDefinition.Create(typeof(Row));
            definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            var data = ml.Data.LoadFromEnumerable(rows, definition);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            return new Case(data, rows, definition, model);
        }

        private static (float[][] Score, float[][] Embedding, uint[] Predicted) Scores(ITransformer model, IDataView data)
        {
            var scored = model.Transform(data);
            return (TestData.Column(scored, "Score"), TestData.Column(scored, "Embedding"), scored.GetColumn<uint>("PredictedLabel").ToArray());
        }

        private static Prediction[] Predictions(MLContext ml, ITransformer model, Case c, int count)
        {
            // Not disposed: PredictionEngine.Dispose disposes the transformer too.
            var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(model, inputSchemaDefinition: c.Definition);
            // Predict(row, ref prediction) reuses the output object: copy what it gives.
            var prediction = new Prediction();
            return c.Rows.Take(count).Select(r =>
            {
                engine.Predict(r, ref prediction);
                return new Prediction { Score = prediction.Score.ToArray(), Embedding = prediction.Embedding.ToArray(), PredictedLabel = prediction.PredictedLabel };
            }).ToArray();
        }

        private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
            Assert.True(worst <= tolerance, $"{what}: max abs difference {worst:G3} > {tolerance:G3}");
        }

        // The same predicted class, unless TorchSharp's two best probabilities are within rounding of each other (then either).
        private static void AssertSameLabel(float[] torchScore, uint torchLabel, uint onnxLabel, string what)
        {
            var sorted = torchScore.OrderByDescending(p => p).ToArray();
            if (sorted[0] - sorted[1] > 2e-5f)
                Assert.True(torchLabel == onnxLabel, $"{what}: TorchSharp predicts {torchLabel}, OnnxRuntime {onnxLabel}");
        }

        private static double EmbeddingTolerance(float[][] embeddings) => 1e-5 * Math.Max(1, embeddings.Max(e => e.Max(Math.Abs)));

        [Theory]
        [InlineData("MLP")]
        [InlineData("LeNet")]
        [InlineData("ResNet")]
        public void OnnxRuntimeScoresAsTorchSharpAndBothReloadBitIdentical(string kind)
        {
            var ml = new MLContext(seed: 1);
            var c = Train(ml, kind);
            var transformer = c.Model.LastTransformer;
            Assert.Equal(ScoringEngine.Auto, transformer.ScoringEngine);
            Assert.Equal(ScoringEngine.OnnxRuntime, transformer.Scoring.Resolve()); // the tests reference the native runtime

            var onnx = Scores(c.Model, c.Data);
            int single = kind == "ResNet" ? 4 : 12;
            var onnxRows = Predictions(ml, c.Model, c, single);
            transformer.ScoringEngine = ScoringEngine.TorchSharp;
            Assert.Equal(ScoringEngine.TorchSharp, transformer.Scoring.Resolve());
            var torch = Scores(c.Model, c.Data);
            var torchRows = Predictions(ml, c.Model, c, single);

            // The two engines differ (other kernels), by rounding only.
            Assert.NotEqual(torch.Score.SelectMany(s => s), onnx.Score.SelectMany(s => s));
            double embeddingTolerance = EmbeddingTolerance(torch.Embedding);
            for (int i = 0; i < c.Rows.Count; i++)
            {
                AssertClose(torch.Score[i], onnx.Score[i], 1e-5, $"Transform, row {i}, Score");
                AssertClose(torch.Embedding[i], onnx.Embedding[i], embeddingTolerance, $"Transform, row {i}, Embedding");
                AssertSameLabel(torch.Score[i], torch.Predicted[i], onnx.Predicted[i], $"Transform, row {i}");
            }
            for (int i = 0; i < onnxRows.Length; i++)
            {
                AssertClose(torchRows[i].Score, onnxRows[i].Score, 1e-5, $"PredictionEngine, row {i}, Score");
                AssertClose(torchRows[i].Embedding, onnxRows[i].Embedding, embeddingTolerance, $"PredictionEngine, row {i}, Embedding");
                AssertSameLabel(torchRows[i].Score, torchRows[i].PredictedLabel, onnxRows[i].PredictedLabel, $"PredictionEngine, row {i}");
                // One row alone (one thread, its own session) agrees with the batch of the same engine to rounding.
                AssertClose(onnx.Score[i], onnxRows[i].Score, 1e-5, $"OnnxRuntime row {i} alone and in a batch");
            }

            if (kind == "ResNet")
                return; // its 45 MB model file: PretrainedBackboneTests reloads it (under Auto, i.e. OnnxRuntime)

            // Save/Load into a fresh context: the engine setting is not in the file (Auto again), and each engine gives
            // bit for bit what it gave before.
            string path = _folder.File($"{kind}.zip");
            ml.Model.Save(c.Model, c.Data.Schema, path);
            var fresh = new MLContext(seed: 99);
            var loaded = fresh.Model.Load(path, out _);
            var loadedTransformer = ((TransformerChain<ITransformer>)loaded).OfType<DomainAdaptationTransformer>().Single();
            Assert.Equal(ScoringEngine.Auto, loadedTransformer.ScoringEngine);
            var reloadedOnnx = Scores(loaded, c.Data);
            var reloadedOnnxRows = Predictions(fresh, loaded, c, 12);
            loadedTransformer.ScoringEngine = ScoringEngine.TorchSharp;
            var reloadedTorch = Scores(loaded, c.Data);
            var reloadedTorchRows = Predictions(fresh, loaded, c, 12);
            Assert.Equal(onnx.Score, reloadedOnnx.Score);
            Assert.Equal(onnx.Embedding, reloadedOnnx.Embedding);
            Assert.Equal(onnx.Predicted, reloadedOnnx.Predicted);
            Assert.Equal(torch.Score, reloadedTorch.Score);
            Assert.Equal(torch.Embedding, reloadedTorch.Embedding);
            Assert.Equal(torch.Predicted, reloadedTorch.Predicted);
            for (int i = 0; i < onnxRows.Length; i++)
            {
                Assert.Equal(onnxRows[i].Score, reloadedOnnxRows[i].Score);
                Assert.Equal(onnxRows[i].Embedding, reloadedOnnxRows[i].Embedding);
                Assert.Equal(torchRows[i].Score, reloadedTorchRows[i].Score);
                Assert.Equal(torchRows[i].Embedding, reloadedTorchRows[i].Embedding);
            }
        }

        [Fact]
        public void WithoutTheNativeRuntimeAutoFallsBackToTorchSharpAndLogsWhyOnceAndOnnxRuntimeThrows()
        {
            var ml = new MLContext(seed: 1);
            var c = Train(ml, "MLP");
            var transformer = c.Model.LastTransformer;
            transformer.ScoringEngine = ScoringEngine.TorchSharp;
            var torch = Scores(c.Model, c.Data);
            var torchRows = Predictions(ml, c.Model, c, 3);

            var messages = new List<string>();
            ml.Log += (_, e) =>
            {
                lock (messages)
                {
                    if (e.Message.Contains("scores with TorchSharp", StringComparison.Ordinal))
                        messages.Add(e.Message);
                }
            };
            // What OnnxRuntime's managed API throws when libonnxruntime cannot be loaded.
            int attempts = 0;
            transformer.Scoring.CreateOnnx = () =>
            {
                attempts++;
                throw new TypeInitializationException("Microsoft.ML.OnnxRuntime.NativeMethods", new DllNotFoundException("Unable to load shared library 'onnxruntime'"));
            };
            transformer.ScoringEngine = ScoringEngine.Auto;
            var fallback = Scores(c.Model, c.Data);
            var fallbackRows = Predictions(ml, c.Model, c, 3);
            Scores(c.Model, c.Data);
            Assert.Equal(ScoringEngine.TorchSharp, transformer.Scoring.Resolve());
            Assert.Equal(torch.Score, fallback.Score); // really TorchSharp: bit for bit
            Assert.Equal(torch.Embedding, fallback.Embedding);
            for (int i = 0; i < torchRows.Length; i++)
                Assert.Equal(torchRows[i].Score, fallbackRows[i].Score);
            Assert.Equal(1, attempts);
            var message = Assert.Single(messages);
            Assert.Contains("native library could not be loaded", message);
            Assert.Contains("Unable to load shared library 'onnxruntime'", message);
            Assert.Contains("Microsoft.ML.OnnxRuntime", message);

            transformer.ScoringEngine = ScoringEngine.OnnxRuntime;
            var error = Assert.Throws<InvalidOperationException>(() => Scores(c.Model, c.Data));
            Assert.Contains("ScoringEngine is OnnxRuntime", error.Message);
            Assert.Contains("native library could not be loaded", error.Message);
            Assert.Throws<InvalidOperationException>(() => ml.Model.CreatePredictionEngine<Row, Prediction>(c.Model, inputSchemaDefinition: c.Definition));
            Assert.Single(messages); // the error is the report, not a second log line

            // A network whose export fails falls back the same way, with that reason.
            var other = Train(new MLContext(seed: 1), "MLP").Model.LastTransformer;
            other.Scoring.CreateOnnx = () => throw new NotSupportedException("no ONNX node for this layer");
            Assert.Equal(ScoringEngine.TorchSharp, other.Scoring.Resolve());
            other.ScoringEngine = ScoringEngine.OnnxRuntime;
            Assert.Contains("could not be scored through its ONNX export (NotSupportedException: no ONNX node for this layer)",
                Assert.Throws<InvalidOperationException>(() => other.Scoring.Resolve()).Message);

            Assert.Throws<ArgumentOutOfRangeException>(() => transformer.ScoringEngine = (ScoringEngine)7);
        }

        [Fact]
        public void AnActiveOpenMpWaitIsLoggedAsAWarningWhenTheOnnxRuntimeSessionIsBuilt()
        {
            List<string> Warnings(MLContext ml)
            {
                var warnings = new List<string>();
                ml.Log += (_, e) =>
                {
                    lock (warnings)
                    {
                        if (e.Kind == ChannelMessageKind.Warning)
                            warnings.Add(e.Message);
                    }
                };
                return warnings;
            }

            var active = new MLContext(seed: 1);
            var c = Train(active, "MLP");
            var activeWarnings = Warnings(active);
            c.Model.LastTransformer.Scoring.EnvironmentVariables = name => name == "OMP_WAIT_POLICY" ? "ACTIVE" : null;
            Scores(c.Model, c.Data);
            Scores(c.Model, c.Data);
            var warning = Assert.Single(activeWarnings); // once: when the session is built
            Assert.Contains("OMP_WAIT_POLICY=ACTIVE", warning);
            Assert.Contains("ScoringEngine to TorchSharp", warning);

            var passive = new MLContext(seed: 1);
            var p = Train(passive, "MLP");
            var passiveWarnings = Warnings(passive);
            p.Model.LastTransformer.Scoring.EnvironmentVariables = name => name == "OMP_WAIT_POLICY" ? "PASSIVE" : null;
            Scores(p.Model, p.Data);
            Assert.Equal(ScoringEngine.OnnxRuntime, p.Model.LastTransformer.Scoring.Resolve());
            Assert.Empty(passiveWarnings);
        }

        [Fact]
        public void ASingleRowScoresThroughOnnxRuntimeWithoutAllocating()
        {
            var ml = new MLContext(seed: 1);
            var c = Train(ml, "LeNet");
            var transformer = c.Model.LastTransformer;
            using var row = transformer.Scoring.Bind(1); // what a PredictionEngine's row holds
            Assert.Equal(ScoringEngine.OnnxRuntime, row.Engine);
            var torch = new float[transformer.ClassCount];
            var torchEmbedding = new float[transformer.EmbeddingSize];
            for (int i = 0; i < 3; i++)
            {
                c.Rows[i].Features.CopyTo(row.Features, 0);
                row.Score(1);
                transformer.Scoring.Torch.Score(row.Features, 1, torchEmbedding, torch);
                AssertClose(torch, row.Probabilities, 1e-5, $"row {i}");
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
                row.Score(1);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        [Fact]
        public void TheSessionIsBuiltOnceUnderConcurrentScoringAndDisposalStopsEveryEngine()
        {
            var ml = new MLContext(seed: 1);
            var c = Train(ml, "LeNet");
            var transformer = c.Model.LastTransformer;
            var create = transformer.Scoring.CreateOnnx;
            int builds = 0;
            transformer.Scoring.CreateOnnx = () =>
            {
                Interlocked.Increment(ref builds);
                return create();
            };
            var results = new (float[][] Score, float[][] Embedding, uint[] Predicted)[4];
            Parallel.For(0, results.Length, i => results[i] = Scores(c.Model, c.Data));
            Assert.Equal(1, builds);
            for (int i = 1; i < results.Length; i++)
                Assert.Equal(results[0].Score, results[i].Score);

            // Views, cursors and engines made before the disposal, under either engine, refuse afterwards.
            var scored = c.Model.Transform(c.Data);
            using var cursor = scored.GetRowCursor(scored.Schema);
            var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
            Assert.True(cursor.MoveNext()); // its first batch is scored when a value is read
            var onnxEngine = ml.Model.CreatePredictionEngine<Row, Prediction>(c.Model, inputSchemaDefinition: c.Definition);
            transformer.ScoringEngine = ScoringEngine.TorchSharp;
            var torchEngine = ml.Model.CreatePredictionEngine<Row, Prediction>(c.Model, inputSchemaDefinition: c.Definition);
            Assert.Equal(2u, onnxEngine.Predict(c.Rows[1]).PredictedLabel);

            transformer.Dispose();
            VBuffer<float> value = default;
            Assert.Throws<ObjectDisposedException>(() => getScore(ref value));
            Assert.Throws<ObjectDisposedException>(() => onnxEngine.Predict(c.Rows[0]));
            Assert.Throws<ObjectDisposedException>(() => torchEngine.Predict(c.Rows[0]));
            Assert.Throws<ObjectDisposedException>(() => scored.GetRowCursor(scored.Schema));
            Assert.Throws<ObjectDisposedException>(() => transformer.Scoring.Resolve());
        }
    }
}
