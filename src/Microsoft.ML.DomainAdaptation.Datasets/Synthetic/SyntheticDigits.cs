using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Data;
using Microsoft.ML.DomainAdaptation.Data.Synthetic;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Synthetic digits rendered with real fonts: the rows of <c>mlContext.Data.LoadSyntheticDigits</c>, here written
    /// as PNG files for inspection or reuse.
    /// </summary>
    public static class SyntheticDigits
    {
        /// <summary>The label's key values: "0" … "9" (key k is digit k − 1).</summary>
        public static readonly string[] ClassNames = Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray();

        /// <summary>
        /// Writes rows 0 … <paramref name="count"/> − 1 of the synthetic digits of <paramref name="options"/> as PNG
        /// files <c>folder/&lt;digit&gt;/&lt;row&gt;.png</c> (row on five or more digits: <c>3/00012.png</c>), the
        /// layout <c>LoadImageFolder</c> reads back. Grey images for <see cref="SyntheticDigitsOptions.Channels"/> = 1,
        /// RGB for 3. The pixels are those the data view scales into features. Existing files are overwritten.
        /// </summary>
        /// <param name="options">The synthetic digits (Rows is ignored: <paramref name="count"/> rows are written).</param>
        /// <param name="folder">Output folder; created if missing.</param>
        /// <param name="count">Number of images, positive.</param>
        /// <returns>The paths written, in row order.</returns>
        public static string[] WriteImages(SyntheticDigitsOptions options, string folder, int count)
        {
            if (options is null)
                throw new ArgumentNullException(nameof(options));
            if (string.IsNullOrWhiteSpace(folder))
                throw new ArgumentException("An output folder is required.", nameof(folder));
            ImageDataOptions.Check(count > 0, nameof(count), count, "must be positive");
            options.Validate();
            var fonts = FontSet.Load(options.FontPaths);
            using var renderer = new DigitRenderer(options, fonts);
            var pixels = new byte[renderer.PixelCount];
            var paths = new string[count];
            foreach (var name in ClassNames)
                Directory.CreateDirectory(Path.Combine(folder, name));
            var colourType = options.Channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888;
            using var bitmap = new SKBitmap(new SKImageInfo(options.Width, options.Height, colourType, SKAlphaType.Opaque));
            int plane = options.Width * options.Height;
            for (int row = 0; row < count; row++)
            {
                int digit = renderer.Render(row, pixels);
                var target = Pixels(bitmap);
                if (options.Channels == 1)
                {
                    pixels.AsSpan(0, plane).CopyTo(target);
                }
                else
                {
                    for (int p = 0; p < plane; p++)
                    {
                        target[4 * p] = pixels[p];
                        target[4 * p + 1] = pixels[plane + p];
                        target[4 * p + 2] = pixels[2 * plane + p];
                        target[4 * p + 3] = 255;
                    }
                }
                string path = Path.Combine(folder, ClassNames[digit], row.ToString("D5", CultureInfo.InvariantCulture) + ".png");
                using (var data = bitmap.Encode(SKEncodedImageFormat.Png, 100))
                using (var file = File.Create(path))
                    data.SaveTo(file);
                paths[row] = path;
            }
            return paths;
        }

        /// <summary>The bitmap's pixel memory, writable (SkiaSharp 2.88 exposes it read-only as a span).</summary>
        internal static unsafe Span<byte> Pixels(SKBitmap bitmap) => new Span<byte>((void*)bitmap.GetPixels(), bitmap.ByteCount);

        /// <summary>The view behind <c>LoadSyntheticDigits</c>: fonts are found once, pixels rendered when read.</summary>
        internal static IDataView CreateDataView(SyntheticDigitsOptions options)
        {
            if (options is null)
                throw new ArgumentNullException(nameof(options));
            options.Validate();
            // A copy: later changes to the caller's options must not change rows already promised by this view.
            var frozen = (SyntheticDigitsOptions)options.MemberwiseCloneOptions();
            var fonts = FontSet.Load(frozen.FontPaths);
            return new ImageRowsDataView(frozen.Rows, () => new Reader(frozen, fonts), frozen.FeatureColumnName,
                new[] { frozen.Channels, frozen.Height, frozen.Width }, frozen.LabelColumnName, ClassNames);
        }

        private sealed class Reader : IImageRowReader
        {
            private readonly SyntheticDigitsOptions _options;
            private readonly DigitRenderer _renderer;
            private readonly byte[] _pixels;

            public Reader(SyntheticDigitsOptions options, FontSet fonts)
            {
                _options = options;
                _renderer = new DigitRenderer(options, fonts);
                _pixels = new byte[_renderer.PixelCount];
            }

            public void ReadFeatures(long row, Span<float> destination)
            {
                _renderer.Render(row, _pixels);
                for (int i = 0; i < _pixels.Length; i++)
                    destination[i] = _options.ToFeature(_pixels[i]);
            }

            // The label needs no rendering.
            public uint ReadLabel(long row) => (uint)DigitRenderer.Label(_options.Seed, row) + 1;

            public string ReadPath(long row) => throw new NotSupportedException();

            public void Dispose() => _renderer.Dispose();
        }
    }
}
