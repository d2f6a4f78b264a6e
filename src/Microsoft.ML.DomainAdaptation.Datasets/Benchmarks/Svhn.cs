using System;
using System.IO;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Settings of <c>mlContext.Data.LoadSvhn</c>. The native size is 32 × 32 RGB (Width/Height null keep it).</summary>
    public sealed class SvhnOptions : BenchmarkImageOptions
    {
        /// <summary>Convert to one grey channel (luminance 0.299 R + 0.587 G + 0.114 B), e.g. to adapt to grey digits.
        /// Default: false (3 channels, R, G, B).</summary>
        public bool Grayscale;
    }
}

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>
    /// SVHN cropped digits (Netzer et al. 2011), <c>train_32x32.mat</c> / <c>test_32x32.mat</c> / <c>extra_32x32.mat</c>:
    /// MATLAB level-5 files with <c>X</c>, 32 × 32 × 3 × N uint8 (column-major: row, column, channel, image), and
    /// <c>y</c>, N labels 1–10 where 10 is the digit 0.
    /// </summary>
    internal static class Svhn
    {
        private const int Side = 32, Plane = Side * Side;

        public static IDataView Load(string path, SvhnOptions options)
        {
            options ??= new SvhnOptions();
            options.Validate();
            BenchmarkFiles.RequireFile(path, "SVHN", "train_32x32.mat, test_32x32.mat or extra_32x32.mat (cropped digits, MATLAB level-5)");
            BenchmarkFiles.VerifySha256(Path.GetDirectoryName(Path.GetFullPath(path)), options.Sha256, "SVHN");
            var arrays = MatFile.Read(path);
            if (!arrays.TryGetValue("X", out var x) || !arrays.TryGetValue("y", out var y))
                throw new InvalidDataException($"SVHN file '{path}' lacks array {(arrays.ContainsKey("X") ? "'y'" : "'X'")}; expected X (32×32×3×N uint8) and y (N labels).");
            if (x.Dimensions.Length != 4 || x.Dimensions[0] != Side || x.Dimensions[1] != Side || x.Dimensions[2] != 3 || x.DataType != MatFile.MiUInt8)
                throw new InvalidDataException($"SVHN file '{path}': X has dimensions [{string.Join(", ", x.Dimensions)}] stored as type {x.DataType}; expected [32, 32, 3, N] of uint8.");
            int count = x.Dimensions[3];
            if (y.Count != count)
                throw new InvalidDataException($"SVHN file '{path}': y has {y.Count} labels for {count} images.");
            var labels = new uint[count];
            for (int i = 0; i < count; i++)
            {
                double v = y[i];
                if (v != Math.Floor(v) || v < 1 || v > 10)
                    throw new InvalidDataException($"SVHN file '{path}': label {v} of image {i} is outside 1–10.");
                labels[i] = v == 10 ? 1u : (uint)v + 1; // 10 is the digit 0 (key 1); digit d is key d + 1.
            }
            int channels = options.Grayscale ? 1 : 3;
            int height = options.Height ?? Side, width = options.Width ?? Side;
            var frozen = (SvhnOptions)options.MemberwiseCloneOptions();
            return new ImageRowsDataView(count, () => new Reader(x.Data, labels, frozen, height, width), frozen.FeatureColumnName,
                new[] { channels, height, width }, frozen.LabelColumnName, BenchmarkFiles.NumberNames(10));
        }

        private sealed class Reader : IImageRowReader
        {
            private readonly byte[] _x;
            private readonly uint[] _labels;
            private readonly SvhnOptions _options;
            private readonly int _height, _width;
            private readonly float[] _planes;

            public Reader(byte[] x, uint[] labels, SvhnOptions options, int height, int width)
            {
                (_x, _labels, _options, _height, _width) = (x, labels, options, height, width);
                _planes = new float[(options.Grayscale ? 1 : 3) * Plane];
            }

            public void ReadFeatures(long row, Span<float> destination)
            {
                // MATLAB order: element (r, c, ch) of image n is at r + 32 c + 1024 ch + 3072 n; features are (ch, r, c).
                var image = _x.AsSpan((int)(row * 3 * Plane), 3 * Plane);
                for (int r = 0; r < Side; r++)
                {
                    for (int c = 0; c < Side; c++)
                    {
                        int at = r + Side * c;
                        if (_options.Grayscale)
                            _planes[r * Side + c] = 0.299f * image[at] + 0.587f * image[Plane + at] + 0.114f * image[2 * Plane + at];
                        else
                        {
                            for (int ch = 0; ch < 3; ch++)
                                _planes[ch * Plane + r * Side + c] = image[ch * Plane + at];
                        }
                    }
                }
                BenchmarkFiles.ToFeatures(_planes, _options.Grayscale ? 1 : 3, Side, Side, _options, destination, _height, _width);
            }

            public uint ReadLabel(long row) => _labels[row];

            public string ReadPath(long row) => throw new NotSupportedException();

            public void Dispose()
            {
            }
        }
    }
}
