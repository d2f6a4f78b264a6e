// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Adaptation on top of a frozen pretrained ONNX network in one ML.NET pipeline (the PretrainedFeatures sample's way, with
    /// ResNet18 replaced by a small exported network): ApplyOnnxModel's output column is a vector of known size that
    /// DomainAdapt trains on, the result matches adapting on the same features computed beforehand, and the whole pipeline
    /// (ONNX featurizer included) saves and loads with identical scores.
    /// </summary>
    public sealed class PretrainedFeaturizerTests : IDisposable
    {
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        private sealed class FeaturizedRow
        {
            [VectorType(8)]
            public float[] Pretrained;
            public string Label;
            public bool IsTarget;
        }

        private static DomainAdaptationOptions Adaptation()
        {
            var options = TestData.Tiny(new DannOptions());
            options.FeatureColumnName = "Pretrained";
            options.EmbeddingColumnName = "AdaptedEmbedding"; // the featurizer's output is already called Embedding
            options.Seed = 11;
            return options;
        }

        [Fact]
        public void DomainAdaptOnAnOnnxFeaturizersOutputMatchesPrecomputedFeaturesAndSavesWhole()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            // The stand-in pretrained network: a source-only MLP exported to ONNX; its 8-d Embedding output is the featurizer.
            var featurizer = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new SourceOnlyOptions()))).Fit(data);
            string onnx = _folder.File("featurizer.onnx");
            featurizer.LastTransformer.ExportToOnnx(onnx);

            var pipeline = ml.Transforms.ApplyOnnxModel(new[] { "Embedding" }, new[] { "Features" }, onnx)
                .Append(ml.Transforms.CopyColumns("Pretrained", "Embedding"))
                .Append(TestData.KeyLabel(ml))
                .Append(ml.Transforms.DomainAdapt(Adaptation()));
            var model = pipeline.Fit(data);
            var scored = model.Transform(data);
            var pretrainedType = Assert.IsType<VectorDataViewType>(scored.Schema["Pretrained"].Type);
            Assert.Equal(8, pretrainedType.Size);
            var scores = TestData.Column(scored, "Score");

            // The same adaptation on features computed beforehand by the TorchSharp network (the sample's cache): the ONNX
            // features differ from them by float rounding only, so the adapted scores agree closely and the classes exactly.
            var features = TestData.Column(featurizer.Transform(data), "Embedding");
            var rows = TestData.Blobs(128, 0.5f, 1).Select((r, i) => new FeaturizedRow { Pretrained = features[i], Label = r.Label, IsTarget = r.IsTarget });
            var precomputed = ml.Data.LoadFromEnumerable(rows);
            var direct = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Adaptation())).Fit(precomputed);
            var directScores = TestData.Column(direct.Transform(precomputed), "Score");
            Assert.Equal(scores.Length, directScores.Length);
            double largest = scores.Zip(directScores).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
            Assert.True(largest < 1e-4, $"max |Δ| {largest}");
            Assert.Equal(directScores.Select(ArgMax), scores.Select(ArgMax));

            // The featurizer's ONNX bytes go into the model zip with the adaptation: Load alone scores identically.
            string path = _folder.File("model.zip");
            ml.Model.Save(model, data.Schema, path);
            var loaded = new MLContext(seed: 2).Model.Load(path, out _);
            Assert.Equal(scores, TestData.Column(loaded.Transform(data), "Score"));
        }

        private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());
    }
}
