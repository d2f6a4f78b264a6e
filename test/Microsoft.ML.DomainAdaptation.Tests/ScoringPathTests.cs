// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Transformer;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The fast scoring path (issue 18) gives exactly what the plain one gives: pooling, batches, partial reads.</summary>
    public class ScoringPathTests
    {
        [Fact]
        public void MaxPool2x2EqualsMaxPool2dExactlyWithAndWithoutGradients()
        {
            using var scope = NewDisposeScope();
            manual_seed(3);
            // Small integers: many ties inside windows (the backward's tie rule shows); odd sides: a dropped row and column; NaNs.
            var input = randint(-3, 4, new long[] { 2, 3, 9, 11 }).to_type(ScalarType.Float32);
            input[0, 1, 4, 5] = tensor(float.NaN);
            input[1, 2, 0, 0] = tensor(float.NaN);
            var pool = new MaxPool2x2();
            Tensor fast;
            using (no_grad())
                fast = pool.forward(input);
            Tensor fastInference;
            using (inference_mode())
                fastInference = pool.forward(input).clone();
            var reference = nn.functional.max_pool2d(input, 2);
            Assert.Equal(new long[] { 2, 3, 4, 5 }, fast.shape);
            AssertSameValues(reference, fast);
            AssertSameValues(reference, fastInference);
            Assert.Equal(2, fast.isnan().sum().item<long>());

            // With gradients it is max_pool2d itself: the same gradient, all of a window's to its first maximum.
            var a = input.nan_to_num(0).requires_grad_(true);
            var b = input.nan_to_num(0).requires_grad_(true);
            var upstream = rand(2, 3, 4, 5);
            (pool.forward(a) * upstream).sum().backward();
            (nn.functional.max_pool2d(b, 2) * upstream).sum().backward();
            AssertSameValues(b.grad, a.grad);
        }

        [Fact]
        public void LeNetScoresAsItsTrainingForwardToRounding()
        {
            var ml = new MLContext(seed: 1);
            var random = new Random(2);
            var rows = Enumerable.Range(0, 40).Select(i => new ImageRow
            {
                // Values of a few levels: equal neighbours make ties inside the pooling windows.
                Features = Enumerable.Range(0, 18 * 18).Select(_ => random.Next(4) / 3f).ToArray(),
                Label = (i % 2).ToString(),
                IsTarget = i >= 20,
            }).ToList();
            var definition = SchemaDefinition.Create(typeof(ImageRow));
            definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, 18, 18);
            var data = ml.Data.LoadFromEnumerable(rows, definition);
            var options = new SourceOnlyOptions
            {
                Backbone = new LeNetBackboneOptions { Channels = 1, Height = 18, Width = 18, EmbeddingSize = 6 },
                Iterations = 5, BatchSize = 8, Seed = 1,
            };
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            // TorchSharp scoring (OnnxRuntime agrees to rounding: OnnxRuntimeScoringTests).
            model.LastTransformer.ScoringEngine = ScoringEngine.TorchSharp;
            var scored = TestData.Column(model.Transform(data), "Score");
            var embedded = TestData.Column(model.Transform(data), "Embedding");

            // The same network with gradients on (libtorch's max_pool2d, as in training).
            var network = model.LastTransformer.Network;
            using var scope = NewDisposeScope();
            var input = tensor(rows.SelectMany(r => r.Features).ToArray(), new long[] { rows.Count, 18 * 18 });
            Assert.True(is_grad_enabled());
            var embedding = network.backbone.forward(input);
            var probabilities = network.Probabilities(embedding);
            // Training runs the layers after the first pooling in channels-last layout (MaxPool2x2), whose convolution sums
            // in another order: equal to float rounding, not bit for bit (the pooling itself is exact: the test above).
            double worst = 0;
            for (int i = 0; i < rows.Count; i++)
            {
                var e = embedding[i].data<float>().ToArray();
                var p = probabilities[i].data<float>().ToArray();
                for (int j = 0; j < e.Length; j++)
                    worst = Math.Max(worst, Math.Abs(e[j] - embedded[i][j]) / (1 + Math.Abs(e[j])));
                for (int j = 0; j < p.Length; j++)
                    worst = Math.Max(worst, Math.Abs(p[j] - scored[i][j]));
            }
            Assert.True(worst <= 1e-6, $"scoring differs from the training forward by {worst:E2}");
        }

        [Fact]
        public void CursorScoresEqualTheScorersBatchesAndPartialReadsGiveTheSameValues()
        {
            var ml = new MLContext(seed: 1);
            // 300 rows a domain: 600 rows, batches of 256, 256 and 88.
            var data = TestData.BlobsView(ml, perDomain: 300);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new SourceOnlyOptions()))).Fit(data);
            var transformer = model.LastTransformer;
            transformer.ScoringEngine = ScoringEngine.TorchSharp;
            var scored = model.Transform(data);
            var score = TestData.Column(scored, "Score");
            var embedding = TestData.Column(scored, "Embedding");
            Assert.Equal(600, score.Length);

            // Exactly the TorchSharp scorer's output on the same batches of rows.
            var features = TestData.Blobs(300, 0.5f, 1).Select(r => r.Features).ToArray();
            var scorer = new NetworkScorer(transformer.Network, transformer.FeatureSize);
            int batch = DomainAdaptationTransformer.ScoringBatchSize;
            for (int start = 0; start < features.Length; start += batch)
            {
                int n = Math.Min(batch, features.Length - start);
                var flat = features.Skip(start).Take(n).SelectMany(f => f).ToArray();
                var embeddings = new float[n * transformer.EmbeddingSize];
                var probabilities = new float[n * transformer.ClassCount];
                scorer.Score(flat, n, embeddings, probabilities);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(probabilities.AsSpan(i * transformer.ClassCount, transformer.ClassCount).ToArray(), score[start + i]);
                    Assert.Equal(embeddings.AsSpan(i * transformer.EmbeddingSize, transformer.EmbeddingSize).ToArray(), embedding[start + i]);
                }
            }

            // Either engine: a cursor whose getters are called on a few rows only (skipping whole batches), for one output
            // column at a time, gives what the full read gave.
            foreach (var engine in new[] { ScoringEngine.TorchSharp, ScoringEngine.OnnxRuntime })
            {
                transformer.ScoringEngine = engine;
                scored = model.Transform(data);
                AssertPartialReadsGiveTheFullReadsValues(scored, TestData.Column(scored, "Score"), TestData.Column(scored, "Embedding"));
            }
        }

        private static void AssertPartialReadsGiveTheFullReadsValues(IDataView scored, float[][] score, float[][] embedding)
        {
            var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
            var sparse = new[] { 5, 6, 300, 599 };
            foreach (var column in new[] { "Score", "Embedding" })
            {
                using var cursor = scored.GetRowCursor(new[] { scored.Schema[column] });
                var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema[column]);
                var expected = column == "Score" ? score : embedding;
                VBuffer<float> value = default;
                int row = 0, read = 0;
                while (cursor.MoveNext())
                {
                    if (sparse.Contains(row))
                    {
                        getter(ref value);
                        getter(ref value); // twice on the same row: the same value, no second scoring of another row
                        Assert.Equal(expected[row], value.DenseValues().ToArray());
                        read++;
                    }
                    row++;
                }
                Assert.Equal(600, row);
                Assert.Equal(sparse.Length, read);
            }
            using (var cursor = scored.GetRowCursor(new[] { scored.Schema["PredictedLabel"], scored.Schema["IsTarget"] }))
            {
                var getPredicted = cursor.GetGetter<uint>(scored.Schema["PredictedLabel"]);
                var getTarget = cursor.GetGetter<bool>(scored.Schema["IsTarget"]);
                Assert.False(cursor.IsColumnActive(scored.Schema["Score"]));
                int row = 0;
                uint key = 0;
                bool isTarget = false;
                while (cursor.MoveNext())
                {
                    getTarget(ref isTarget);
                    Assert.Equal(row >= 300, isTarget);
                    if (row % 97 == 3)
                    {
                        getPredicted(ref key);
                        Assert.Equal(predicted[row], key);
                        Assert.Equal((uint)Array.IndexOf(score[row], score[row].Max()) + 1, key);
                    }
                    row++;
                }
                Assert.Equal(600, row);
            }
            // Only an input column: the rows pass through unscored.
            var targets = scored.GetColumn<bool>("IsTarget").ToArray();
            Assert.Equal(300, targets.Count(t => t));
        }

        [Fact]
        public void FewRowsScoreOnOneThreadAndTheThreadCountIsPutBack()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new SourceOnlyOptions()))).Fit(data);
            var transformer = model.LastTransformer;
            var scorer = new NetworkScorer(transformer.Network, transformer.FeatureSize);
            var rows = TestData.Blobs(128, 0.5f, 1);
            int before = get_num_threads();
            try
            {
                set_num_threads(Math.Min(2, Environment.ProcessorCount));
                int threads = get_num_threads();
                var embeddings = new float[NetworkScorer.SingleThreadRows * transformer.EmbeddingSize];
                var probabilities = new float[NetworkScorer.SingleThreadRows * transformer.ClassCount];
                foreach (int n in new[] { 1, NetworkScorer.SingleThreadRows - 1, NetworkScorer.SingleThreadRows })
                {
                    scorer.Score(rows.Take(n).SelectMany(r => r.Features).ToArray(), n, embeddings, probabilities);
                    Assert.Equal(threads, get_num_threads());
                }
                // The engine (one row a call, on one thread) agrees with the batched cursor to rounding.
                var batched = TestData.Column(model.Transform(data), "Score");
                var engine = ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model);
                for (int i = 0; i < 20; i++)
                {
                    var single = engine.Predict(rows[i]).Score;
                    for (int k = 0; k < single.Length; k++)
                        Assert.Equal(batched[i][k], single[k], 5);
                }
                Assert.Equal(threads, get_num_threads());
            }
            finally
            {
                set_num_threads(before);
            }
        }

        private sealed class Prediction
        {
            public float[] Score;
        }

        private static void AssertSameValues(Tensor expected, Tensor actual)
        {
            Assert.Equal(expected.shape, actual.shape);
            var e = expected.contiguous().data<float>().ToArray();
            var a = actual.contiguous().data<float>().ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(e[i].Equals(a[i]), $"value {i}: expected {e[i]}, got {a[i]}"); // NaN equals NaN here
        }

        private sealed class ImageRow
        {
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }
    }
}
