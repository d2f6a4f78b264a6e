using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// <see cref="DomainAdaptationOptions.InputNormalization"/>: the per-image and per-channel formulas by hand-computed values,
    /// the normaliser in every method's training path and at scoring (a per-image model ignores each image's brightness and
    /// contrast), the model file (new format, statistics kept, bit-identical scores after Load), ONNX parity, and the refusals.
    /// </summary>
    public sealed class InputNormalizationTests : IDisposable
    {
        private const int Channels = 2, Side = 16;
        private static readonly ImageShape Image = new(Channels, Side, Side);
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        [Fact]
        public void PerImageMatchesHandComputedValues()
        {
            using var scope = NewDisposeScope();
            var shape = new ImageShape(2, 1, 2);
            // Row 1: channel 0 (1, 3): mean 2, variance 1; channel 1 (5, 5): constant, so 0. Row 2: (0, 4) and (−2, 2), variance 4 each.
            var input = tensor(new float[] { 1, 3, 5, 5, 0, 4, -2, 2 }, new long[] { 2, 4 });
            var output = InputNormalizerSpec.Create(InputNormalizationKind.PerImage, shape).Apply(input, shape).data<float>().ToArray();
            float one = 1 / MathF.Sqrt(1 + 1e-5f), two = 2 / MathF.Sqrt(4 + 1e-5f);
            var expected = new[] { -one, one, 0, 0, -two, two, -two, two };
            Assert.Equal(expected.Length, output.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], output[i], 6);
        }

        [Fact]
        public void PerChannelDatasetMatchesHandComputedValues()
        {
            using var scope = NewDisposeScope();
            var shape = new ImageShape(2, 1, 2);
            // Source row (1, 3 | 10, 10), target row (3, 5 | 10, 14): channel 0 holds 1, 3, 3, 5 (mean 3, variance 2), channel 1
            // holds 10, 10, 10, 14 (mean 11, variance 3).
            var spec = InputNormalizerSpec.Create(InputNormalizationKind.PerChannelDataset, shape, new float[] { 1, 3, 10, 10 }, new float[] { 3, 5, 10, 14 });
            Assert.Equal(new[] { 3f, 11f }, spec.Mean);
            Assert.Equal(MathF.Sqrt(2 + 1e-5f), spec.Std[0], 6);
            Assert.Equal(MathF.Sqrt(3 + 1e-5f), spec.Std[1], 6);
            var output = spec.Apply(tensor(new float[] { 1, 3, 10, 14 }, new long[] { 1, 4 }), shape).data<float>().ToArray();
            var expected = new[] { -2 / MathF.Sqrt(2 + 1e-5f), 0, -1 / MathF.Sqrt(3 + 1e-5f), 3 / MathF.Sqrt(3 + 1e-5f) };
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], output[i], 6);
        }

        [Fact]
        public void PerImageModelScoresAnImageAsTheSameImageWithOtherBrightnessAndContrast()
        {
            var ml = new MLContext(seed: 1);
            var data = ImageData(ml, 1, 0);
            var rescaled = ImageData(ml, 3, 0.7f);
            var perImage = Fit(ml, new SourceOnlyOptions { InputNormalization = InputNormalizationKind.PerImage }, data);
            double difference = MaxDifference(TestData.Column(perImage.Transform(data), "Score"), TestData.Column(perImage.Transform(rescaled), "Score"));
            Assert.True(difference <= 1e-4, $"per-image model: max |ΔScore| = {difference:G3} between an image and its rescaled copy");
            // Without the normaliser the same change moves the scores: the comparison above can fail.
            var plain = Fit(ml, new SourceOnlyOptions(), data);
            double plainDifference = MaxDifference(TestData.Column(plain.Transform(data), "Score"), TestData.Column(plain.Transform(rescaled), "Score"));
            Assert.True(plainDifference > 1e-2, $"model without input normalisation: max |ΔScore| = {plainDifference:G3}");
        }

        public static IEnumerable<object[]> Methods() => new (string Name, Func<DomainAdaptationOptions> Create)[]
        {
            ("SourceOnly", () => new SourceOnlyOptions()),
            ("DANN", () => new DannOptions()),
            ("MCD", () => new McdOptions()),
            ("ADDA", () => new AddaOptions()),
            ("AdaBN", () => new AdaBnOptions()),
        }.Select(m => new object[] { m.Name, m.Create });

        [Theory]
        [MemberData(nameof(Methods))]
        public void EveryTrainingPathSeesNormalisedPixels(string name, Func<DomainAdaptationOptions> create)
        {
            // Trained on images and on the same images × 3 + 0.7 (every row of both domains), a per-image normalised network sees
            // the same pixels up to ε: both trainings give the same model. A forward pass that skipped the normaliser (a method's
            // own call of the backbone, ADDA's second encoder, AdaBN's statistics pass) would see pixels three times larger.
            var ml = new MLContext(seed: 1);
            var data = ImageData(ml, 1, 0);
            var options = create();
            options.InputNormalization = InputNormalizationKind.PerImage;
            var model = Fit(ml, options, data);
            options = create();
            options.InputNormalization = InputNormalizationKind.PerImage;
            var rescaledModel = Fit(ml, options, ImageData(ml, 3, 0.7f));
            double difference = MaxDifference(TestData.Column(model.Transform(data), "Score"), TestData.Column(rescaledModel.Transform(data), "Score"));
            Assert.True(difference <= 1e-3, $"{name}: max |ΔScore| = {difference:G3} between the models trained on the images and on their rescaled copies");
        }

        [Theory]
        [InlineData(InputNormalizationKind.PerImage)]
        [InlineData(InputNormalizationKind.PerChannelDataset)]
        public void SavedModelKeepsTheNormaliserAndScoresBitIdentically(InputNormalizationKind kind)
        {
            var ml = new MLContext(seed: 1);
            var data = ImageData(ml, 1, 0);
            var model = Fit(ml, new DannOptions { InputNormalization = kind }, data);
            var spec = model.Network.Spec.Input;
            Assert.Equal(kind, spec.Kind);
            if (kind == InputNormalizationKind.PerChannelDataset)
            {
                // The statistics of every pixel of both domains, per channel (ImageData: channel 1 is channel 0 halved plus 0.25).
                var (mean, std) = ChannelStatistics(data);
                Assert.Equal(mean[0], spec.Mean[0], 4);
                Assert.Equal(mean[1], spec.Mean[1], 4);
                Assert.Equal(std[0], spec.Std[0], 4);
                Assert.Equal(std[1], spec.Std[1], 4);
            }
            string path = _folder.File($"{kind}.zip");
            ml.Model.Save(model, data.Schema, path);
            var loaded = (DomainAdaptationTransformer)new MLContext(seed: 5).Model.Load(path, out _);
            Assert.Equal(spec.ToString(), loaded.Network.Spec.Input.ToString());
            // OnnxRuntime (the default engine) agrees within 1e-5; two of its multi-threaded sessions differed in the last bit
            // once on a PerImage model (its reductions), so the model file is checked bit for bit under TorchSharp.
            var onnxBefore = TestData.Column(model.Transform(data), "Score");
            var onnxAfter = TestData.Column(loaded.Transform(data), "Score");
            for (int i = 0; i < onnxBefore.Length; i++)
            {
                for (int k = 0; k < onnxBefore[i].Length; k++)
                    Assert.Equal(onnxBefore[i][k], onnxAfter[i][k], 1e-5f);
            }
            model.ScoringEngine = ScoringEngine.TorchSharp;
            loaded.ScoringEngine = ScoringEngine.TorchSharp;
            var before = TestData.Column(model.Transform(data), "Score");
            var after = TestData.Column(loaded.Transform(data), "Score");
            Assert.Equal(before.Length, after.Length);
            for (int i = 0; i < before.Length; i++)
                Assert.Equal(before[i], after[i]);
            using var engine = new MLContext().Model.CreatePredictionEngine<ImageRow, ScoreRow>(loaded, data.Schema);
            var first = ml.Data.CreateEnumerable<ImageRow>(data, reuseRowObject: false).First();
            // One row scores on one thread, a batch on several: another summation order, so equal to rounding (a clean-clone
            // run saw 0.454956144 against 0.454956114).
            var single = engine.Predict(first).Score;
            for (int k = 0; k < single.Length; k++)
                Assert.Equal(before[0][k], single[k], 1e-6f);
        }

        [Theory]
        [InlineData(InputNormalizationKind.PerImage, "DANN")]
        [InlineData(InputNormalizationKind.PerChannelDataset, "DANN")]
        [InlineData(InputNormalizationKind.PerImage, "ADDA")]
        public void OnnxRuntimeGivesTheTransformersScores(InputNormalizationKind kind, string method)
        {
            var ml = new MLContext(seed: 1);
            var data = ImageData(ml, 1, 0);
            DomainAdaptationOptions options = method == "ADDA" ? new AddaOptions() : new DannOptions();
            options.InputNormalization = kind;
            var model = Fit(ml, options, data);
            var scored = model.Transform(data);
            var expectedScores = TestData.Column(scored, "Score");
            var expectedEmbeddings = TestData.Column(scored, "Embedding");
            var expectedKeys = scored.GetColumn<uint>("PredictedLabel").ToArray();
            var features = TestData.Column(data, "Features");

            string path = _folder.File($"{kind}-{method}.onnx");
            model.ExportToOnnx(path);
            using var session = new InferenceSession(path);
            var input = new DenseTensor<float>(features.SelectMany(f => f).ToArray(), new[] { features.Length, Image.Size });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
            var scores = results.Single(r => r.Name == "Score").AsTensor<float>();
            var embeddings = results.Single(r => r.Name == "Embedding").AsTensor<float>();
            var predicted = results.Single(r => r.Name == "PredictedLabel").AsTensor<long>();
            for (int i = 0; i < features.Length; i++)
                Assert.Equal(expectedKeys[i], (uint)predicted[i] + 1);
            double scoreDifference = TestData.MaxAbsDifference(scores, expectedScores);
            double embeddingDifference = TestData.MaxAbsDifference(embeddings, expectedEmbeddings);
            Assert.True(scoreDifference <= 1e-5, $"{kind} {method}: max |ΔScore| = {scoreDifference:G3}");
            Assert.True(embeddingDifference <= 1e-4 * Math.Max(1, expectedEmbeddings.Max(e => e.Max())), $"{kind} {method}: max |ΔEmbedding| = {embeddingDifference:G3}");
        }

        [Fact]
        public void PlainVectorBackboneIsRefusedNamingTheOption()
        {
            var ml = new MLContext(seed: 1);
            var options = TestData.Tiny(new SourceOnlyOptions { InputNormalization = InputNormalizationKind.PerImage });
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(TestData.BlobsView(ml)));
            Assert.Equal("InputNormalization", error.ParamName);
            Assert.Contains("PerImage", error.Message);
            Assert.Contains("plain vectors", error.Message);
            // A value outside the enumeration is refused when the estimator is made.
            var undefined = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new DannOptions { InputNormalization = (InputNormalizationKind)7 }));
            Assert.Equal("InputNormalization", undefined.ParamName);
        }

        [Fact]
        public void DirtTKeepsItsInitialModelsNormaliserAndRefusesAnother()
        {
            var ml = new MLContext(seed: 1);
            var data = ImageData(ml, 1, 0);
            var initial = Fit(ml, new SourceOnlyOptions { InputNormalization = InputNormalizationKind.PerChannelDataset }, data);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(
                new DirtTOptions { InitialModel = initial, InputNormalization = InputNormalizationKind.PerImage }));
            Assert.Equal("InputNormalization", error.ParamName);
            Assert.Contains("PerChannelDataset", error.Message);
            var refined = Fit(ml, new DirtTOptions { InitialModel = initial }, data, iterations: 5);
            Assert.Equal(initial.Network.Spec.Input, refined.Network.Spec.Input);
        }

        [Fact]
        public void NetworkDescriptionRoundTripsTheNormaliserAndOlderFormatsReadNone()
        {
            var backbone = new LeNetBackboneSpec(new ImageShape(3, 20, 24), 10, NormalizationKind.None);
            var spec = new NetworkSpec(backbone, 7, 5) { Input = new InputNormalizerSpec(InputNormalizationKind.PerChannelDataset, new[] { 0.5f, -1f, 2f }, new[] { 1f, 0.25f, 3f }) };
            var read = NetworkSpec.Read(new BinaryReader(new MemoryStream(Write(spec))), NetworkSpec.FormatWithInputNormalization);
            Assert.Equal(spec.Input.ToString(), read.Input.ToString());
            // A description written before the normaliser existed ends after the head: it reads as None and reads nothing more.
            var older = new NetworkSpec(backbone, 7, 5);
            var bytes = Write(older);
            var stream = new MemoryStream(bytes[..^8]); // without the None normaliser's kind and channel count
            Assert.Equal(InputNormalizationKind.None, NetworkSpec.Read(new BinaryReader(stream), NetworkSpec.FormatWithBackboneKinds).Input.Kind);
            Assert.Equal(stream.Length, stream.Position);
            // Statistics that cannot be right are refused.
            var bad = new NetworkSpec(backbone, 7, 5) { Input = new InputNormalizerSpec(InputNormalizationKind.PerChannelDataset, new[] { 0f }, new[] { 1f }) };
            Assert.Throws<InvalidDataException>(() => NetworkSpec.Read(new BinaryReader(new MemoryStream(Write(bad))), NetworkSpec.FormatWithInputNormalization));
        }

        private static byte[] Write(NetworkSpec spec)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer))
                spec.Write(writer);
            return buffer.ToArray();
        }

        private static DomainAdaptationTransformer Fit(MLContext ml, DomainAdaptationOptions options, IDataView data, int iterations = 30)
        {
            options.Iterations = iterations;
            options.BatchSize = 16;
            options.Seed = 5;
            options.ClassifierHiddenSize = 8;
            if (options is not DirtTOptions)
                options.Backbone = new LeNetBackboneOptions
                {
                    Channels = Channels, Height = Side, Width = Side, EmbeddingSize = 12,
                    Normalization = options is AdaBnOptions ? NormalizationKind.BatchNorm : NormalizationKind.None,
                };
            var keyed = TestData.KeyLabel(ml).Fit(data).Transform(data);
            return ml.Transforms.DomainAdapt(options).Fit(keyed);
        }

        private static double MaxDifference(float[][] a, float[][] b) =>
            a.Zip(b, (x, y) => x.Zip(y, (u, v) => (double)Math.Abs(u - v)).Max()).Max();

        private static (double[] Mean, double[] Std) ChannelStatistics(IDataView data)
        {
            var rows = TestData.Column(data, "Features");
            var mean = new double[Channels];
            var std = new double[Channels];
            int plane = Side * Side;
            for (int c = 0; c < Channels; c++)
            {
                var values = rows.SelectMany(r => r.Skip(c * plane).Take(plane)).Select(v => (double)v).ToArray();
                mean[c] = values.Average();
                std[c] = Math.Sqrt(values.Select(v => (v - mean[c]) * (v - mean[c])).Average() + 1e-5);
            }
            return (mean, std);
        }

        /// <summary>
        /// Two-channel 16 × 16 images: class 0 bright on the left, class 1 on the right, the target darker and noisier;
        /// channel 1 is channel 0 halved plus 0.25. Every pixel is then multiplied by <paramref name="scale"/> and shifted by
        /// <paramref name="shift"/> (the same rows otherwise).
        /// </summary>
        private static IDataView ImageData(MLContext ml, float scale, float shift)
        {
            var random = new Random(3);
            var rows = new List<ImageRow>();
            for (int domain = 0; domain < 2; domain++)
            {
                for (int i = 0; i < 48; i++)
                {
                    int cls = i % 2;
                    var pixels = new float[Image.Size];
                    for (int y = 0; y < Side; y++)
                    {
                        for (int x = 0; x < Side; x++)
                        {
                            float v = ((x < Side / 2) == (cls == 0) ? 1f : -1f) * (domain == 0 ? 1f : 0.6f) + (float)(random.NextDouble() - 0.5) * (domain == 0 ? 0.3f : 0.8f);
                            pixels[y * Side + x] = v * scale + shift;
                            pixels[Side * Side + y * Side + x] = (v / 2 + 0.25f) * scale + shift;
                        }
                    }
                    rows.Add(new ImageRow { Features = pixels, Label = cls == 0 ? "left" : "right", IsTarget = domain == 1 });
                }
            }
            return ml.Data.LoadFromEnumerable(rows);
        }

        public sealed class ImageRow
        {
            [VectorType(Channels, Side, Side)]
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        public sealed class ScoreRow
        {
            public float[] Score;
        }
    }
}
