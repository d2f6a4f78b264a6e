using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class DataTests
    {
        private sealed class Labeled
        {
            [VectorType(2)] public float[] Features;
            public float Label;
        }

        private sealed class Unlabeled
        {
            [VectorType(2)] public float[] Features;
        }

        [Fact]
        public void CombineDomainsAppendsTargetRowsWithDomainFlagAndMissingLabels()
        {
            var ml = new MLContext(seed: 1);
            var source = ml.Data.LoadFromEnumerable(new[] { new Labeled { Features = new float[] { 1, 2 }, Label = 3 }, new Labeled { Features = new float[] { 3, 4 }, Label = 5 } });
            var target = ml.Data.LoadFromEnumerable(new[] { new Unlabeled { Features = new float[] { 5, 6 } } });
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(source);

            var combined = ml.Data.CombineDomains(keyed.Transform(source), target);

            Assert.Equal(3, combined.GetRowCount());
            Assert.Equal(BooleanDataViewType.Instance, combined.Schema["IsTarget"].Type);
            var features = TestData.Column(combined, "Features");
            Assert.Equal(new[] { 1f, 2, 3, 4, 5, 6 }, features.SelectMany(f => f).ToArray());
            var domains = combined.GetColumn<bool>("IsTarget").ToArray();
            Assert.Equal(new[] { false, false, true }, domains);
            var labels = combined.GetColumn<uint>("Label").ToArray();
            Assert.Equal(new uint[] { 1, 2, 0 }, labels);
            // Key values of the source label survive.
            VBuffer<float> keyValues = default;
            combined.Schema["Label"].GetKeyValues(ref keyValues);
            Assert.Equal(new[] { 3f, 5f }, keyValues.DenseValues().ToArray());
        }

        [Fact]
        public void CombineDomainsRejectsMismatchedTypesAndMissingColumns()
        {
            var ml = new MLContext(seed: 1);
            var source = ml.Data.LoadFromEnumerable(new[] { new Labeled { Features = new float[] { 1, 2 }, Label = 3 } });
            var wrong = ml.Data.LoadFromEnumerable(new[] { new { Features = "text" } });
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Data.CombineDomains(source, wrong));
            Assert.Contains("'Features'", ex.Message);
            Assert.Contains("target", ex.Message);

            // Keys made in each domain separately differ in their count: the message says to key after combining.
            var keyedSource = ml.Transforms.Conversion.MapValueToKey("Label").Fit(source).Transform(source);
            var twoLabels = ml.Data.LoadFromEnumerable(new[] { new Labeled { Features = new float[] { 1, 2 }, Label = 1 }, new Labeled { Features = new float[] { 1, 2 }, Label = 2 } });
            var keyedTarget = ml.Transforms.Conversion.MapValueToKey("Label").Fit(twoLabels).Transform(twoLabels);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Data.CombineDomains(keyedSource, keyedTarget));
            Assert.Contains("'Label'", ex.Message);
            Assert.Contains("combine the domains first, then map the label to a key", ex.Message);

            ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Data.CombineDomains(source, source, "Label"));
            Assert.Contains("'Label'", ex.Message);
        }

        private sealed class TextLabeled
        {
            [VectorType(2)] public float[] Features;
            public string Label;
            public bool Flag;
            public int Count;
            public double Weight;
            [VectorType(3)] public float[] Extra;
            [VectorType(2)] public string[] Tags;
        }

        [Fact]
        public void CombineDomainsFillsAnyColumnTheTargetLacksWithItsMissingValue()
        {
            var ml = new MLContext(seed: 1);
            var source = ml.Data.LoadFromEnumerable(new[]
            {
                new TextLabeled { Features = new float[] { 1, 2 }, Label = "cat", Flag = true, Count = 3, Weight = 0.5, Extra = new float[] { 1, 2, 3 }, Tags = new[] { "x", "y" } },
            });
            var target = ml.Data.LoadFromEnumerable(new[] { new Unlabeled { Features = new float[] { 5, 6 } } });

            var combined = ml.Data.CombineDomains(source, target);

            Assert.Equal(new[] { "cat", "" }, combined.GetColumn<string>("Label").ToArray());
            Assert.Equal(new[] { true, false }, combined.GetColumn<bool>("Flag").ToArray());
            Assert.Equal(new[] { 3, 0 }, combined.GetColumn<int>("Count").ToArray());
            Assert.Equal(new[] { 0.5, double.NaN }, combined.GetColumn<double>("Weight").ToArray());
            var extra = TestData.Column(combined, "Extra");
            Assert.Equal(new float[] { 1, 2, 3 }, extra[0]);
            Assert.Equal(new[] { float.NaN, float.NaN, float.NaN }, extra[1]);
            var tags = combined.GetColumn<string[]>("Tags").ToArray();
            Assert.Equal(new[] { "x", "y" }, tags[0]);
            Assert.Equal(new[] { "", "" }, tags[1]);
        }

        /// <summary>
        /// The README's flow with the usual CSV case: a text label on the source only, combined, then keyed on the combined view
        /// (the target's empty labels become the missing key, not a class), adapted and evaluated on a labeled target.
        /// </summary>
        [Fact]
        public void TextLabelOnTheSourceOnlyCombinesKeysAdaptsAndEvaluates()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(64, 0.5f, 1);
            var source = ml.Data.LoadFromEnumerable(rows.Where(r => !r.IsTarget).Select(r => new TextRow { Features = r.Features, Label = r.Label }).ToList());
            var unlabeledTarget = ml.Data.LoadFromEnumerable(rows.Where(r => r.IsTarget).Select(r => new Unlabeled4 { Features = r.Features }).ToList());
            var labeledTarget = ml.Data.LoadFromEnumerable(rows.Where(r => r.IsTarget).Select(r => new TextRow { Features = r.Features, Label = r.Label }).ToList());

            var combined = ml.Data.CombineDomains(source, unlabeledTarget);
            var options = TestData.Tiny(new DannOptions());
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.DomainAdapt(options)).Fit(combined);

            var keyed = model.Transform(combined);
            Assert.Equal(2UL, ((KeyDataViewType)keyed.Schema["Label"].Type).Count); // "a" and "b", no class for the target's empty label
            Assert.Equal(64, keyed.GetColumn<uint>("Label").Count(k => k == 0));
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(labeledTarget));
            // Two blobs 2 apart with σ 0.5, shifted by 0.5: well above chance after 60 steps.
            Assert.InRange(metrics.MicroAccuracy, 0.8, 1.0);
        }

        private sealed class TextRow
        {
            [VectorType(4)] public float[] Features;
            public string Label;
        }

        private sealed class Unlabeled4
        {
            [VectorType(4)] public float[] Features;
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void IdxFilesRoundTripThroughLoadFromIdx(bool gzip)
        {
            string dir = Directory.CreateTempSubdirectory("idx").FullName;
            string images = Path.Combine(dir, "images.idx"), labels = Path.Combine(dir, "labels.idx");
            var pixels = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 10)).ToArray();
            WriteIdx(images, new[] { 3, 2, 2 }, pixels, gzip);
            WriteIdx(labels, new[] { 3 }, new byte[] { 7, 8, 9 }, gzip);

            var ml = new MLContext(seed: 1);
            var view = ml.Data.LoadFromIdx(images, labels, rowIndices: new[] { 2, 0 });

            var type = (VectorDataViewType)view.Schema["Features"].Type;
            Assert.Equal(new[] { 2, 2 }, type.Dimensions.ToArray());
            var features = TestData.Column(view, "Features");
            Assert.Equal(new float[] { 80, 90, 100, 110 }, features[0]);
            Assert.Equal(new float[] { 0, 10, 20, 30 }, features[1]);
            Assert.Equal(new float[] { 9, 7 }, view.GetColumn<float>("Label").ToArray());
        }

        [Fact]
        public void IdxReaderReportsTruncatedFilesAndMismatchedLabels()
        {
            string dir = Directory.CreateTempSubdirectory("idx").FullName;
            string images = Path.Combine(dir, "images.idx"), labels = Path.Combine(dir, "labels.idx");
            WriteIdx(images, new[] { 3, 2, 2 }, new byte[12], gzip: false);
            var bytes = File.ReadAllBytes(images);
            File.WriteAllBytes(images, bytes[..^3]);
            var ex = Assert.Throws<InvalidDataException>(() => IdxFile.Read(images));
            Assert.Contains("truncated", ex.Message);

            WriteIdx(images, new[] { 3, 2, 2 }, new byte[12], gzip: false);
            WriteIdx(labels, new[] { 2 }, new byte[2], gzip: false);
            var ml = new MLContext(seed: 1);
            ex = Assert.Throws<InvalidDataException>(() => ml.Data.LoadFromIdx(images, labels));
            Assert.Contains("3 values", ex.Message);
        }

        [Fact]
        public void ShippedDigitsHaveTheDocumentedShapesAndSplits()
        {
            var mnist = IdxFile.Read(Path.Combine(Samples.DigitsDomains.DataDirectory, "mnist-opencv", "images-idx3-ubyte.gz"));
            Assert.Equal(new[] { 5000, 20, 20 }, mnist.Dimensions);
            var opt = IdxFile.Read(Path.Combine(Samples.DigitsDomains.DataDirectory, "optdigits", "images-idx3-ubyte.gz"));
            Assert.Equal(new[] { 1797, 8, 8 }, opt.Dimensions);
            var ml = new MLContext(seed: 1);
            Assert.Equal(1438, Samples.DigitsDomains.Load(ml, "optdigits", "train").GetColumn<float>("Label").Count());
            Assert.Equal(1000, Samples.DigitsDomains.Load(ml, "mnist-opencv", "test").GetColumn<float>("Label").Count());
        }

        internal static void WriteIdx(string path, int[] dims, byte[] values, bool gzip)
        {
            using var file = File.Create(path);
            using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Optimal) : file;
            stream.Write(new byte[] { 0, 0, 0x08, (byte)dims.Length });
            foreach (int d in dims)
                stream.Write(new[] { (byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d });
            stream.Write(values);
        }
    }
}
