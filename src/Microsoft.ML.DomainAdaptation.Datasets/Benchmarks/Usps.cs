using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using PureHDF;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Settings of <c>mlContext.Data.LoadUsps</c>. The native size is 16 × 16 grey (Width/Height null keep it).</summary>
    public sealed class UspsOptions : BenchmarkImageOptions
    {
        /// <summary>For <c>usps.h5</c>: the group to read, "train" (7,291 rows) or "test" (2,007). Ignored for the text
        /// files, whose split is the file itself. Default: "train".</summary>
        public string Split = "train";

        internal override void Validate()
        {
            base.Validate();
            CheckName(Split, nameof(Split));
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>
    /// USPS handwritten digits (Hull 1994), 16 × 16 grey, bright ink on a dark background, in either distribution:
    /// <c>usps.h5</c> (HDF5, as on Kaggle: groups train and test, each with <c>data</c>, N × 256 values in [0, 1],
    /// and <c>target</c>, N digits) or <c>zip.train</c>/<c>zip.test</c> (text, optionally gzipped, as with "The
    /// Elements of Statistical Learning": one row per line, the digit then 256 values in [−1, 1]).
    /// Either way a value becomes a 0–255 pixel (0 for the background) before the options' scaling.
    /// </summary>
    internal static class Usps
    {
        private const int Side = 16, Pixels = Side * Side;
        private const string Expected = "usps.h5 (HDF5 with groups train/test holding datasets data and target) or zip.train / zip.test (text, optionally .gz)";

        public static IDataView Load(string path, UspsOptions options)
        {
            options ??= new UspsOptions();
            options.Validate();
            BenchmarkFiles.RequireFile(path, "USPS", Expected);
            BenchmarkFiles.VerifySha256(Path.GetDirectoryName(Path.GetFullPath(path)), options.Sha256, "USPS");
            var (pixels, labels) = IsHdf5(path) ? ReadHdf5(path, options.Split) : ReadText(path);
            int height = options.Height ?? Side, width = options.Width ?? Side;
            var frozen = (UspsOptions)options.MemberwiseCloneOptions();
            return new ImageRowsDataView(labels.Length, () => new ArrayReader(pixels, labels, 1, Side, Side, frozen, height, width),
                frozen.FeatureColumnName, new[] { 1, height, width }, frozen.LabelColumnName, BenchmarkFiles.NumberNames(10));
        }

        private static bool IsHdf5(string path)
        {
            // The HDF5 signature sits at offset 0 (or 512, 1024 … with a user block; h5py writes none).
            var signature = new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A };
            using var stream = File.OpenRead(path);
            var head = new byte[8];
            return stream.Read(head, 0, 8) == 8 && head.AsSpan().SequenceEqual(signature);
        }

        private static (float[] Pixels, uint[] Labels) ReadHdf5(string path, string split)
        {
            using var file = H5File.OpenRead(path);
            if (!file.LinkExists(split))
                throw new InvalidDataException($"USPS file '{path}' has no group '{split}' (it has: {string.Join(", ", file.Children().Select(c => c.Name))}); set UspsOptions.Split.");
            var group = file.Group(split);
            foreach (var name in new[] { "data", "target" })
            {
                if (!group.LinkExists(name))
                    throw new InvalidDataException($"USPS file '{path}': group '{split}' has no dataset '{name}'; expected datasets data (N × 256) and target (N).");
            }
            var data = group.Dataset("data");
            var target = group.Dataset("target");
            var dims = data.Space.Dimensions;
            if (dims.Length != 2 || dims[1] != Pixels)
                throw new InvalidDataException($"USPS file '{path}': '{split}/data' has shape [{string.Join(", ", dims)}], expected [N, {Pixels}].");
            var values = ReadNumbers(data, path, $"{split}/data");
            var targets = ReadNumbers(target, path, $"{split}/target");
            int count = (int)dims[0];
            if (targets.Length != count)
                throw new InvalidDataException($"USPS file '{path}': '{split}/target' has {targets.Length} values for {count} images.");
            var pixels = new float[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                if (!(values[i] >= -1e-6 && values[i] <= 1 + 1e-6))
                    throw new InvalidDataException($"USPS file '{path}': '{split}/data' holds {values[i]} at index {i}, outside [0, 1].");
                pixels[i] = (float)(values[i] * 255);
            }
            return (pixels, ToKeys(targets, path));
        }

        private static double[] ReadNumbers(IH5Dataset dataset, string path, string name)
        {
            var type = dataset.Type;
            return (type.Class, type.Size) switch
            {
                (H5DataTypeClass.FloatingPoint, 8) => dataset.Read<double[]>(),
                (H5DataTypeClass.FloatingPoint, 4) => Array.ConvertAll(dataset.Read<float[]>(), v => (double)v),
                (H5DataTypeClass.FixedPoint, 8) => Array.ConvertAll(dataset.Read<long[]>(), v => (double)v),
                (H5DataTypeClass.FixedPoint, 4) => Array.ConvertAll(dataset.Read<int[]>(), v => (double)v),
                (H5DataTypeClass.FixedPoint, 2) => Array.ConvertAll(dataset.Read<short[]>(), v => (double)v),
                (H5DataTypeClass.FixedPoint, 1) => Array.ConvertAll(dataset.Read<byte[]>(), v => (double)v),
                _ => throw new InvalidDataException($"USPS file '{path}': '{name}' has type {type.Class} of {type.Size} bytes; expected integers or floating-point numbers."),
            };
        }

        private static (float[] Pixels, uint[] Labels) ReadText(string path)
        {
            using var file = File.OpenRead(path);
            int b0 = file.ReadByte(), b1 = file.ReadByte();
            file.Position = 0;
            using Stream stream = b0 == 0x1f && b1 == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var reader = new StreamReader(stream);
            var pixels = new List<float>();
            var labels = new List<double>();
            string line;
            int lineNumber = 0;
            while ((line = reader.ReadLine()) != null)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                    continue;
                var fields = line.Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length != 1 + Pixels)
                    throw new InvalidDataException($"USPS file '{path}', line {lineNumber}: {fields.Length} values, expected the digit and {Pixels} pixel values.");
                labels.Add(Parse(fields[0], path, lineNumber));
                for (int i = 1; i < fields.Length; i++)
                {
                    double v = Parse(fields[i], path, lineNumber);
                    if (!(v >= -1 - 1e-6 && v <= 1 + 1e-6))
                        throw new InvalidDataException($"USPS file '{path}', line {lineNumber}: value {fields[i]} is outside [−1, 1].");
                    pixels.Add((float)((v + 1) * 127.5));
                }
            }
            if (labels.Count == 0)
                throw new InvalidDataException($"USPS file '{path}' holds no rows; expected {Expected}.");
            return (pixels.ToArray(), ToKeys(labels.ToArray(), path));
        }

        private static double Parse(string text, string path, int line) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"USPS file '{path}', line {line}: '{text}' is not a number.");

        private static uint[] ToKeys(double[] digits, string path)
        {
            var keys = new uint[digits.Length];
            for (int i = 0; i < digits.Length; i++)
            {
                double d = digits[i];
                if (d != Math.Floor(d) || d < 0 || d > 9)
                    throw new InvalidDataException($"USPS file '{path}': label {d} of row {i} is not a digit 0–9.");
                keys[i] = (uint)d + 1;
            }
            return keys;
        }
    }

    /// <summary>Rows of images held in one array of 0–255 values (planar C×H×W per row) with their keys.</summary>
    internal sealed class ArrayReader : IImageRowReader
    {
        private readonly float[] _pixels;
        private readonly uint[] _labels;
        private readonly int _channels, _height, _width, _newHeight, _newWidth;
        private readonly ImageDataOptions _options;

        public ArrayReader(float[] pixels, uint[] labels, int channels, int height, int width, ImageDataOptions options, int newHeight, int newWidth)
        {
            (_pixels, _labels, _channels, _height, _width, _options, _newHeight, _newWidth) = (pixels, labels, channels, height, width, options, newHeight, newWidth);
        }

        public void ReadFeatures(long row, Span<float> destination)
        {
            int size = _channels * _height * _width;
            BenchmarkFiles.ToFeatures(_pixels.AsSpan((int)row * size, size), _channels, _height, _width, _options, destination, _newHeight, _newWidth);
        }

        public uint ReadLabel(long row) => _labels[row];

        public string ReadPath(long row) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
