using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Backbones describe themselves: each kind round-trips through the model file by its name, model files of the formats
    /// before kinds and before the input normalisation still load with identical scores, and an image backbone refuses a column whose dimensions say the pixels
    /// are interleaved (H × W × C) instead of reading them with scrambled channels.
    /// </summary>
    public sealed class BackboneSpecTests
    {
        public sealed class ImageRow
        {
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        [Theory]
        [InlineData("mlp")]
        [InlineData("lenet")]
        public void EachBackboneRoundTripsByItsKindName(string which)
        {
            BackboneSpec spec = which == "mlp"
                ? new MlpBackboneSpec(20, new[] { 16, 12 }, 8, NormalizationKind.BatchNorm)
                : new LeNetBackboneSpec(new ImageShape(3, 20, 24), 10, NormalizationKind.InstanceNorm);
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                new NetworkSpec(spec, 7, 5, HeadKind.AveragedPair).Write(writer);
            buffer.Position = 0;
            var read = NetworkSpec.Read(new BinaryReader(buffer), NetworkSpec.FormatWithInputNormalization);
            Assert.Equal(spec.ToString(), read.Backbone.ToString());
            Assert.Equal(spec.GetType(), read.Backbone.GetType());
            Assert.Equal((7, 5, HeadKind.AveragedPair), (read.ClassifierHiddenSize, read.ClassCount, read.Head));
        }

        [Fact]
        public void UnknownBackboneKindFailsNamingIt()
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                writer.Write("Transformer9000");
            buffer.Position = 0;
            var error = Assert.Throws<InvalidDataException>(() => BackboneSpec.ReadAnyKind(new BinaryReader(buffer)));
            Assert.Contains("Transformer9000", error.Message);
            Assert.Contains("LeNet", error.Message);
        }

        [Theory]
        [InlineData("mlp-batchnorm-dann")]
        [InlineData("lenet-instancenorm-mcd")]
        [InlineData("lenet-batchnorm-dann")]
        public void ModelsOfOlderFormatsLoadWithIdenticalScores(string name)
        {
            // Written by older versions with the rows and scores beside them (data/legacy-models/README.md): at 338e262 (model
            // format 0x00010003, before backbone kinds) and at ca8d19c (0x00010004, before the input normalisation).
            string folder = Path.Combine(AppContext.BaseDirectory, "data", "legacy-models");
            var ml = new MLContext(seed: 0);
            var model = ml.Model.Load(Path.Combine(folder, name + ".zip"), out var schema);
            // The scores were recorded by TorchSharp scoring, on another CPU: the same weights give the same scores up to the
            // last bit or two of a float (libtorch picks its SIMD kernels by CPU: 3e-8 apart on an AVX-512 Xeon), while a
            // weight read wrongly moves them by far more than 1e-6. (OnnxRuntime, the default engine, agrees within 1e-5:
            // OnnxRuntimeScoringTests.)
            foreach (var transformer in AllTransformers(model).OfType<DomainAdaptationTransformer>())
                transformer.ScoringEngine = ScoringEngine.TorchSharp;
            var lines = File.ReadAllLines(Path.Combine(folder, name + ".csv"));
            var features = lines.Select(l => Parse(l.Split(';')[0])).ToArray();
            var expected = lines.Select(l => Parse(l.Split(';')[1])).ToArray();
            var rows = features.Select(f => new ImageRow { Features = f, Label = "0", IsTarget = true }).ToList();
            var shape = ((VectorDataViewType)schema["Features"].Type).Dimensions.ToArray();
            var definition = SchemaDefinition.Create(typeof(ImageRow));
            definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, shape);
            var data = ml.Data.LoadFromEnumerable(rows, definition);
            var scored = model.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
            Assert.Equal(expected.Length, scored.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i].Length, scored[i].Length);
                for (int j = 0; j < expected[i].Length; j++)
                    Assert.True(Math.Abs(expected[i][j] - scored[i][j]) <= 1e-6, $"row {i}, score {j}: {scored[i][j]:R} against the recorded {expected[i][j]:R}");
            }
        }

        private static IEnumerable<ITransformer> AllTransformers(ITransformer model) =>
            model is IEnumerable<ITransformer> chain ? chain.SelectMany(AllTransformers) : new[] { model };

        [Fact]
        public void InterleavedPixelColumnIsRefusedBeforeTrainingSayingHowToReorder()
        {
            var ml = new MLContext(seed: 0);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(ml, new[] { 16, 16, 3 }));
            Assert.Equal("Backbone", error.ParamName);
            Assert.Contains("'Features'", error.Message);
            Assert.Contains("height × width × channels", error.Message);
            Assert.Contains("interleavePixelColors: false", error.Message);
            // Dimensions that are neither layout are refused too; the planar layout trains.
            Assert.Throws<ArgumentOutOfRangeException>(() => Fit(ml, new[] { 3, 8, 32 }));
            Assert.Equal(2, Fit(ml, new[] { 3, 16, 16 }).ClassCount);
        }

        private static DomainAdaptationTransformer Fit(MLContext ml, int[] dimensions)
        {
            var random = new Random(1);
            var rows = Enumerable.Range(0, 32).Select(i => new ImageRow
            {
                Features = Enumerable.Range(0, 768).Select(_ => (float)random.NextDouble()).ToArray(),
                Label = (i % 2).ToString(),
                IsTarget = i >= 16,
            }).ToList();
            var definition = SchemaDefinition.Create(typeof(ImageRow));
            definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
            var data = ml.Data.LoadFromEnumerable(rows, definition);
            var options = new SourceOnlyOptions
            {
                Backbone = new LeNetBackboneOptions { Channels = 3, Height = 16, Width = 16, EmbeddingSize = 4 },
                Iterations = 2, BatchSize = 8, Seed = 1, ClassifierHiddenSize = 0,
            };
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            return ml.Transforms.DomainAdapt(options).Fit(keyed);
        }

        private static float[] Parse(string values) =>
            values.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }
}
