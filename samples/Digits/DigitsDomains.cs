using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Transforms;

namespace Microsoft.ML.DomainAdaptation.Samples
{
    /// <summary>
    /// The two real handwritten-digit domains shipped in data/digits (mnist-opencv: 20×20, optdigits: 8×8), read from
    /// their IDX files with their fixed train/test splits and brought to one size.
    /// </summary>
    /// <remarks>
    /// The resize is bilinear (the library's <see cref="ImageVectorConvertingTransformer.ResizeBilinear"/>, as torch's
    /// interpolate with align_corners=false, the PyTorch reference's choice): ML.NET's ResizeImages samples the nearest
    /// pixel, which turns the 8×8 digits into blocks.
    /// </remarks>
    public static class DigitsDomains
    {
        public const string MnistOpenCv = "mnist-opencv";
        public const string OptDigits = "optdigits";

        /// <summary>
        /// Suffix of a photo-blended domain: "mnist-opencv-photo" is mnist-opencv's digits blended into random patches of colour
        /// photographs (data/photos), as MNIST-M was built from MNIST (each channel |patch − digit|). Its rows are colour.
        /// </summary>
        public const string PhotoSuffix = "-photo";

        /// <summary>
        /// Digits rendered from the system's fonts (the Datasets package's <see cref="SyntheticDigits"/>, as the SynthToReal
        /// sample uses them): 20,000 "train" rows (seed 0) and 2,000 "test" rows (seed 1), bright on dark like the real ones.
        /// </summary>
        public const string Synthetic = "synthetic";

        /// <summary>Every domain name <see cref="Load"/> takes.</summary>
        public static readonly string[] Names = { MnistOpenCv, OptDigits, MnistOpenCv + PhotoSuffix, OptDigits + PhotoSuffix, Synthetic };

        /// <summary>The folder holding one sub-folder per domain (copied beside the program at build time).</summary>
        public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "data", "digits");

        private sealed class Row
        {
            public float[] Features;
            public float Label;
        }

        /// <summary>
        /// Rows of <paramref name="domain"/>'s "train" or "test" split: "Features" = <paramref name="channels"/> × size × size
        /// pixels (planar) scaled to [−1, 1], "Label" = the digit as Single. Grey digits asked for in 3 channels are replicated
        /// into each; a photo-blended domain (<see cref="PhotoSuffix"/>) is colour and needs 3.
        /// </summary>
        /// <param name="labeledPerClass">When ≥ 0, only the first <paramref name="labeledPerClass"/> rows of each class
        /// (in file order) keep their label; the others get a missing label (NaN), as for semi-supervised adaptation.</param>
        public static IDataView Load(MLContext mlContext, string domain, string split, int size = 28, int labeledPerClass = -1, int channels = 1)
        {
            if (channels != 1 && channels != 3)
                throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey) or 3 (colour).");
            if (domain == Synthetic)
                return LoadSynthetic(mlContext, split, size, labeledPerClass, channels);
            bool photo = domain.EndsWith(PhotoSuffix, StringComparison.Ordinal);
            if (photo)
                domain = domain[..^PhotoSuffix.Length];
            if (photo && channels != 3)
                throw new ArgumentOutOfRangeException(nameof(channels), channels, $"The photo-blended domain '{domain}{PhotoSuffix}' is colour: ask for 3 channels.");
            var photos = photo ? IdxFile.Read(Path.Combine(PhotoDirectory, "photos-idx4-ubyte.gz")) : null;
            string folder = Path.Combine(DataDirectory, domain);
            if (!Directory.Exists(folder))
                throw new DirectoryNotFoundException($"Digits domain '{domain}' not found at '{folder}'.");
            var rows = File.ReadAllLines(Path.Combine(folder, $"{split}-indices.txt"))
                .Where(line => line.Length > 0).Select(int.Parse).ToArray();
            var images = IdxFile.Read(Path.Combine(folder, "images-idx3-ubyte.gz"));
            var labels = IdxFile.Read(Path.Combine(folder, "labels-idx1-ubyte.gz"));
            int height = images.Dimensions[1], width = images.Dimensions[2];

            var data = new List<Row>(rows.Length);
            var perClass = new Dictionary<float, int>();
            foreach (int r in rows)
            {
                float label = KeptLabel(labels.Values[r], perClass, labeledPerClass);
                var pixels = new ReadOnlySpan<float>(images.Values, r * height * width, height * width);
                var resized = new float[size * size];
                ImageVectorConvertingTransformer.ResizeBilinear(pixels, 1, height, width, resized, size, size);
                float[] features = photo ? new float[channels * size * size] : Replicated(resized, channels);
                if (photo)
                    BlendIntoPhoto(resized, size, photos, new Random(r * 7919 + 17), features);
                for (int i = 0; i < features.Length; i++)
                    features[i] = features[i] / 127.5f - 1f;
                data.Add(new Row { Features = features, Label = label });
            }
            return ToDataView(mlContext, data, channels, size);
        }

        // The row's label, or NaN once labeledPerClass rows of its class have kept theirs (counted in perClass).
        private static float KeptLabel(float label, Dictionary<float, int> perClass, int labeledPerClass)
        {
            perClass[label] = perClass.GetValueOrDefault(label) + 1;
            return labeledPerClass >= 0 && perClass[label] > labeledPerClass ? float.NaN : label;
        }

        // A grey image in each of `channels` planes.
        private static float[] Replicated(ReadOnlySpan<float> grey, int channels)
        {
            var features = new float[channels * grey.Length];
            for (int c = 0; c < channels; c++)
                grey.CopyTo(features.AsSpan(c * grey.Length));
            return features;
        }

        private static IDataView ToDataView(MLContext mlContext, List<Row> data, int channels, int size)
        {
            var definition = SchemaDefinition.Create(typeof(Row));
            definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, channels, size, size);
            return mlContext.Data.LoadFromEnumerable(data, definition);
        }

        /// <summary>The synthetic digits as rows of <see cref="Load"/>'s schema (the label as Single, replicated channels).</summary>
        private static IDataView LoadSynthetic(MLContext mlContext, string split, int size, int labeledPerClass, int channels)
        {
            if (split is not ("train" or "test"))
                throw new ArgumentException($"split must be \"train\" or \"test\", not '{split}'.", nameof(split));
            var rendered = mlContext.Data.LoadSyntheticDigits(new SyntheticDigitsOptions
            {
                Rows = split == "train" ? 20_000 : 2_000,
                Seed = split == "train" ? 0 : 1,
                Height = size,
                Width = size,
            });
            var data = new List<Row>();
            var perClass = new Dictionary<float, int>();
            using (var cursor = rendered.GetRowCursor(rendered.Schema))
            {
                var getFeatures = cursor.GetGetter<VBuffer<float>>(rendered.Schema["Features"]);
                var getLabel = cursor.GetGetter<uint>(rendered.Schema["Label"]);
                VBuffer<float> pixels = default;
                uint key = 0;
                while (cursor.MoveNext())
                {
                    getFeatures(ref pixels);
                    getLabel(ref key);
                    // Keys 1..10 are the digits 0..9; the pixels are in [−1, 1] already.
                    data.Add(new Row { Features = Replicated(pixels.GetValues(), channels), Label = KeptLabel(key - 1, perClass, labeledPerClass) });
                }
            }
            return ToDataView(mlContext, data, channels, size);
        }

        /// <summary>The background photographs of the photo-blended domains (copied beside the program at build time).</summary>
        public static string PhotoDirectory => Path.Combine(AppContext.BaseDirectory, "data", "photos");

        /// <summary>
        /// MNIST-M's blend: a random size × size patch of a random photograph (from the row's own seeded generator, so a row
        /// always gets the same background), each channel |patch − digit| with both in 0–255; written planar into
        /// <paramref name="output"/> (3 × size × size).
        /// </summary>
        private static void BlendIntoPhoto(float[] digit, int size, IdxFile photos, Random random, float[] output)
        {
            int count = photos.Dimensions[0], photoHeight = photos.Dimensions[1], photoWidth = photos.Dimensions[2];
            if (size > photoHeight || size > photoWidth)
                throw new ArgumentOutOfRangeException(nameof(size), size, $"Photo-blended digits can be at most {photoHeight} × {photoWidth}.");
            int p = random.Next(count), top = random.Next(photoHeight - size + 1), left = random.Next(photoWidth - size + 1);
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        float background = photos.Values[((p * photoHeight + top + y) * photoWidth + left + x) * 3 + c];
                        output[(c * size + y) * size + x] = Math.Abs(background - digit[y * size + x]);
                    }
                }
            }
        }
    }
}
