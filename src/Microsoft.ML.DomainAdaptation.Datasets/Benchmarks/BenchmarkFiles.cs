using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>What every benchmark loader shares: file checks, checksums, and turning decoded images into features.</summary>
    internal static class BenchmarkFiles
    {
        public static void RequireFile(string path, string dataset, string expected)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new ArgumentException($"A {dataset} file path is required ({expected}).", nameof(path));
            if (!File.Exists(path))
                throw new FileNotFoundException($"{dataset} file '{path}' does not exist; expected {expected}. Nothing is downloaded: get the file from the data set's distributor.", path);
        }

        public static void RequireFolder(string path, string dataset, string expected)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new ArgumentException($"A {dataset} folder is required ({expected}).", nameof(path));
            if (!Directory.Exists(path))
                throw new DirectoryNotFoundException($"{dataset} folder '{path}' does not exist; expected {expected}. Nothing is downloaded: get the data from the data set's distributor.");
        }

        /// <summary>Checks the SHA-256 of each listed file (paths relative to <paramref name="root"/>).</summary>
        public static void VerifySha256(string root, IDictionary<string, string> expected, string dataset)
        {
            if (expected is null)
                return;
            foreach (var (relative, hash) in expected.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                string path = Path.Combine(root, relative);
                if (!File.Exists(path))
                    throw new FileNotFoundException($"{dataset}: file '{relative}' listed in Sha256 does not exist under '{root}'.", path);
                using var stream = File.OpenRead(path);
                string actual = Convert.ToHexString(SHA256.HashData(stream));
                if (!string.Equals(actual, hash?.Trim(), StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"{dataset}: file '{path}' has SHA-256 {actual.ToLowerInvariant()}, expected {hash}. The file is damaged or another version.");
            }
        }

        /// <summary>
        /// Writes pixel values (0–255, planar, <paramref name="channels"/> × h × w) as features: scaled, and resized
        /// bilinearly when the output size differs.
        /// </summary>
        public static void ToFeatures(ReadOnlySpan<float> pixels, int channels, int height, int width, ImageDataOptions options,
            Span<float> destination, int newHeight, int newWidth)
        {
            if (height == newHeight && width == newWidth)
            {
                for (int i = 0; i < pixels.Length; i++)
                    destination[i] = (pixels[i] + options.OffsetImage) * options.ScaleImage;
                return;
            }
            Transforms.ImageVectorConvertingTransformer.ResizeBilinear(pixels, channels, height, width, destination, newHeight, newWidth);
            for (int i = 0; i < destination.Length; i++)
                destination[i] = (destination[i] + options.OffsetImage) * options.ScaleImage;
        }

        /// <summary>
        /// Crops <paramref name="bitmap"/> to <paramref name="crop"/> (whole image when null), resizes it to
        /// width × height with Skia's filtering (mipmaps when shrinking, so large photos do not alias) and writes
        /// planar RGB or grey features.
        /// </summary>
        public static void BitmapToFeatures(SKBitmap bitmap, SKRectI? crop, int channels, int height, int width, ImageDataOptions options, Span<float> destination)
        {
            using var rgba = bitmap.ColorType == SKColorType.Rgba8888 ? null : bitmap.Copy(SKColorType.Rgba8888);
            var source = rgba ?? bitmap;
            SKBitmap cropped = null;
            if (crop is SKRectI rect)
            {
                rect.Intersect(new SKRectI(0, 0, source.Width, source.Height));
                if (rect.Width <= 0 || rect.Height <= 0)
                    throw new InvalidDataException($"Crop {crop} lies outside the {source.Width}×{source.Height} image.");
                cropped = new SKBitmap();
                if (!source.ExtractSubset(cropped, rect))
                    throw new InvalidDataException($"Cannot crop the image to {rect}.");
            }
            using var _ = cropped;
            var region = cropped ?? source;
            // Same size: copy the pixels as they are (a filter would still smooth them).
            using var resized = region.Width == width && region.Height == height ? null
                : new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, region.AlphaType));
            if (resized != null && !region.ScalePixels(resized, SKFilterQuality.High))
                throw new InvalidDataException("Cannot resize the image.");
            var final = resized ?? region;
            // GetPixels (not GetPixelSpan, whose return type changed in SkiaSharp 3): the mlnet-da tool runs this under
            // SkiaSharp 3, which ScottPlot brings.
            ReadOnlySpan<byte> pixels = SyntheticDigits.Pixels(final);
            int plane = width * height, rowBytes = final.RowBytes; // a cropped subset keeps its parent's row stride
            for (int p = 0; p < plane; p++)
            {
                int at = (p / width) * rowBytes + 4 * (p % width);
                byte r = pixels[at], g = pixels[at + 1], b = pixels[at + 2];
                if (channels == 1)
                {
                    destination[p] = (0.299f * r + 0.587f * g + 0.114f * b + options.OffsetImage) * options.ScaleImage;
                }
                else
                {
                    destination[p] = options.ToFeature(r);
                    destination[plane + p] = options.ToFeature(g);
                    destination[2 * plane + p] = options.ToFeature(b);
                }
            }
        }

        public static string[] NumberNames(int count) => Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }
}
