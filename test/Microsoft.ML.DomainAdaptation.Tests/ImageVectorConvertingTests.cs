using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Transforms;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class ImageVectorConvertingTests
    {
        private sealed class Image
        {
            public float[] Pixels;
        }

        private static IDataView View(MLContext ml, float[][] images, params int[] dimensions)
        {
            var definition = SchemaDefinition.Create(typeof(Image));
            definition[nameof(Image.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
            return ml.Data.LoadFromEnumerable(images.Select(p => new Image { Pixels = p }).ToList(), definition);
        }

        private static float[][] Column(IDataView data, string name)
        {
            var rows = new List<float[]>();
            using var cursor = data.GetRowCursor(new[] { data.Schema[name] });
            var getter = cursor.GetGetter<VBuffer<float>>(data.Schema[name]);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                rows.Add(value.DenseValues().ToArray());
            }
            return rows.ToArray();
        }

        private static int[] Dimensions(IDataView data, string name) => ((VectorDataViewType)data.Schema[name].Type).Dimensions.ToArray();

        [Fact]
        public void HwcBecomesChwAsBuiltByHand()
        {
            var ml = new MLContext(seed: 0);
            // 2 × 2 pixels, 3 channels, interleaved: pixel p = (y, x) in row order has R, G, B = 3p + 1, 3p + 2, 3p + 3.
            var hwc = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
            var data = View(ml, new[] { hwc }, 2, 2, 3);
            var converted = ml.Transforms.ConvertImageVector("Chw", "Pixels", new ImageVectorConversionOptions { InputLayout = ImageVectorLayout.Hwc })
                .Fit(data).Transform(data);
            Assert.Equal(new[] { 3, 2, 2 }, Dimensions(converted, "Chw"));
            Assert.Equal(new float[] { 1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12 }, Column(converted, "Chw")[0]);

            // And back: C × H × W → H × W × C gives the input.
            var back = ml.Transforms.ConvertImageVector("Hwc", "Chw", new ImageVectorConversionOptions { OutputLayout = ImageVectorLayout.Hwc })
                .Fit(converted).Transform(converted);
            Assert.Equal(new[] { 2, 2, 3 }, Dimensions(back, "Hwc"));
            Assert.Equal(hwc, Column(back, "Hwc")[0]);
        }

        [Fact]
        public void ResizeIsBilinearWithHalfPixelCentres()
        {
            // [[0, 1], [2, 3]] → 4 × 4: source coordinates (i + 0.5) / 2 − 0.5 clamped at 0, i.e. weights 0, .25, .75, (edge) 1.
            var destination = new float[16];
            ImageVectorConvertingTransformer.ResizeBilinear(new float[] { 0, 1, 2, 3 }, 1, 2, 2, destination, 4, 4);
            var expected = new float[]
            {
                0.0f, 0.25f, 0.75f, 1.0f,
                0.5f, 0.75f, 1.25f, 1.5f,
                1.5f, 1.75f, 2.25f, 2.5f,
                2.0f, 2.25f, 2.75f, 3.0f,
            };
            Assert.Equal(expected, destination);
        }

        [Fact]
        public void ResizeMatchesTorchInterpolateOnRealDigits()
        {
            // The PyTorch reference resizes with interpolate(mode="bilinear", align_corners=False); libtorch's own
            // implementation is the independent reference: optdigits 8 × 8 → 28 × 28 and mnist-opencv 20 × 20 → 28 × 28.
            foreach (var (domain, size) in new[] { (Samples.DigitsDomains.OptDigits, 8), (Samples.DigitsDomains.MnistOpenCv, 20) })
            {
                var images = IdxFile.Read(Path.Combine(Samples.DigitsDomains.DataDirectory, domain, "images-idx3-ubyte.gz"));
                const int count = 20;
                var pixels = new float[count * size * size];
                Array.Copy(images.Values, pixels, pixels.Length);
                var ours = new float[count * 28 * 28];
                ImageVectorConvertingTransformer.ResizeBilinear(pixels, count, size, size, ours, 28, 28);
                using var scope = torch.NewDisposeScope();
                var reference = torch.nn.functional.interpolate(torch.tensor(pixels, new long[] { 1, count, size, size }),
                    new long[] { 28, 28 }, mode: torch.InterpolationMode.Bilinear, align_corners: false).data<float>().ToArray();
                double maxDifference = ours.Zip(reference, (a, b) => (double)Math.Abs(a - b)).Max();
                Assert.True(maxDifference <= 1e-3, $"{domain}: max |ours − torch| = {maxDifference} on pixels 0–255");
            }
        }

        [Fact]
        public void GreyBecomesColourScaledAndResized()
        {
            var ml = new MLContext(seed: 0);
            var data = View(ml, new[] { new float[] { 0, 255, 127.5f, 51 } }, 2, 2);   // H × W: one channel
            var converted = ml.Transforms.ConvertImageVector("Features", "Pixels", new ImageVectorConversionOptions
            {
                OutputChannels = 3,
                Offset = -127.5f,
                Scale = 1 / 127.5f,
            }).Fit(data).Transform(data);
            Assert.Equal(new[] { 3, 2, 2 }, Dimensions(converted, "Features"));
            var grey = new float[] { -1f, 1f, 0f, -0.6f };
            var values = Column(converted, "Features")[0];
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 4; p++)
                    Assert.Equal(grey[p], values[c * 4 + p], 5);

            // Resized to 4 × 4 and replicated: each plane is the grey plane's bilinear resize.
            var resized = ml.Transforms.ConvertImageVector("Features", "Pixels", new ImageVectorConversionOptions
            {
                OutputChannels = 3,
                OutputHeight = 4,
                OutputWidth = 4,
            }).Fit(data).Transform(data);
            var plane = new float[16];
            ImageVectorConvertingTransformer.ResizeBilinear(new float[] { 0, 255, 127.5f, 51 }, 1, 2, 2, plane, 4, 4);
            var colour = Column(resized, "Features")[0];
            Assert.Equal(48, colour.Length);
            for (int c = 0; c < 3; c++)
                Assert.Equal(plane, colour.Skip(c * 16).Take(16).ToArray());
        }

        [Fact]
        public void ColourBecomesGreyByLuminance()
        {
            var ml = new MLContext(seed: 0);
            // One pixel row of two pixels, H × W × C: (255, 0, 0) and (10, 20, 30).
            var data = View(ml, new[] { new float[] { 255, 0, 0, 10, 20, 30 } }, 1, 2, 3);
            var converted = ml.Transforms.ConvertImageVector("Grey", "Pixels", new ImageVectorConversionOptions
            {
                InputLayout = ImageVectorLayout.Hwc,
                OutputChannels = 1,
            }).Fit(data).Transform(data);
            Assert.Equal(new[] { 1, 1, 2 }, Dimensions(converted, "Grey"));
            var grey = Column(converted, "Grey")[0];
            Assert.Equal(0.299f * 255, grey[0], 3);
            Assert.Equal(0.299f * 10 + 0.587f * 20 + 0.114f * 30, grey[1], 3);   // 18.25
        }

        [Fact]
        public void SavesAndLoadsWithTheModel()
        {
            var ml = new MLContext(seed: 0);
            var random = new Random(3);
            var images = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 4 * 5 * 3).Select(_ => (float)random.Next(256)).ToArray()).ToArray();
            var data = View(ml, images, 4, 5, 3);
            var model = ml.Transforms.ConvertImageVector("Features", "Pixels", new ImageVectorConversionOptions
            {
                InputLayout = ImageVectorLayout.Hwc,
                OutputHeight = 7,
                OutputWidth = 6,
                Offset = -127.5f,
                Scale = 1 / 127.5f,
            }).Fit(data);
            var before = model.Transform(data);

            string path = Path.Combine(Path.GetTempPath(), "image-vector-" + Guid.NewGuid().ToString("N") + ".zip");
            try
            {
                ml.Model.Save(model, data.Schema, path);
                var loaded = new MLContext(seed: 1).Model.Load(path, out var inputSchema);
                Assert.Equal(data.Schema["Pixels"].Type, inputSchema["Pixels"].Type);
                var after = loaded.Transform(data);
                Assert.Equal(new[] { 3, 7, 6 }, Dimensions(after, "Features"));
                var a = Column(before, "Features");
                var b = Column(after, "Features");
                Assert.Equal(5, b.Length);
                for (int i = 0; i < a.Length; i++)
                    Assert.Equal(a[i], b[i]);
                Assert.All(b.SelectMany(v => v), v => Assert.InRange(v, -1f, 1f));
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void DimensionsThatDoNotFitNameTheColumn()
        {
            var ml = new MLContext(seed: 0);
            var plain = View(ml, new[] { new float[10] }, 10);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ConvertImageVector("Out", "Pixels").Fit(plain));
            Assert.Contains("'Pixels'", e.Message);
            Assert.Contains("InputHeight", e.Message);

            e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ConvertImageVector("Out", "Pixels",
                new ImageVectorConversionOptions { InputHeight = 3, InputWidth = 3, InputChannels = 1 }).Fit(plain));
            Assert.Contains("Column 'Pixels' has 10 values; InputHeight × InputWidth × InputChannels = 3 × 3 × 1 = 9", e.Message);

            var colour = View(ml, new[] { new float[12] }, 3, 2, 2);
            e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ConvertImageVector("Out", "Pixels",
                new ImageVectorConversionOptions { OutputChannels = 2 }).Fit(colour));
            Assert.Contains("'Pixels' has 3 channels", e.Message);

            e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ConvertImageVector("Out", "Missing").Fit(colour));
            Assert.Contains("'Missing'", e.Message);
        }
    }
}
