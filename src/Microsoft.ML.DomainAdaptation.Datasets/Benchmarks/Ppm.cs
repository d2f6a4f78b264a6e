using System;
using System.IO;
using System.Text;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>
    /// Netpbm images (GTSRB's format): P6 (binary RGB), P3 (text RGB), P5 (binary grey), P2 (text grey), maximum
    /// value up to 255. Skia does not decode them.
    /// </summary>
    internal static class Ppm
    {
        public static bool IsPpm(string path) =>
            path.EndsWith(".ppm", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pgm", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pnm", StringComparison.OrdinalIgnoreCase);

        /// <summary>Decodes a Netpbm file into an opaque RGBA bitmap.</summary>
        public static SKBitmap Decode(string path)
        {
            var bytes = File.ReadAllBytes(path);
            int at = 0;
            string magic = Token(bytes, ref at, path);
            if (magic != "P6" && magic != "P3" && magic != "P5" && magic != "P2")
                throw new InvalidDataException($"'{path}' is not a Netpbm image (magic '{magic}', expected P6, P3, P5 or P2).");
            int width = Number(bytes, ref at, path), height = Number(bytes, ref at, path), max = Number(bytes, ref at, path);
            if (width <= 0 || height <= 0 || max <= 0 || max > 255)
                throw new InvalidDataException($"'{path}': unsupported size {width}×{height} or maximum value {max} (1–255 supported).");
            bool colour = magic == "P6" || magic == "P3", binary = magic == "P6" || magic == "P5";
            int channels = colour ? 3 : 1;
            at++; // the single whitespace after the maximum value
            long needed = (long)width * height * channels;
            if (binary && bytes.Length - at < needed)
                throw new InvalidDataException($"'{path}' is truncated: {width}×{height} needs {needed} bytes of pixels, found {Math.Max(0, bytes.Length - at)}.");
            var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
            var pixels = SyntheticDigits.Pixels(bitmap);
            if (!binary)
                at--;
            for (long p = 0; p < (long)width * height; p++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int value = binary ? bytes[at++] : Number(bytes, ref at, path);
                    byte scaled = (byte)(max == 255 ? value : Math.Min(255, value * 255 / max));
                    // Grey images fill R, G and B alike.
                    for (int k = channels == 1 ? 0 : c; k <= (channels == 1 ? 2 : c); k++)
                        pixels[(int)(4 * p + k)] = scaled;
                }
                pixels[(int)(4 * p + 3)] = 255;
            }
            return bitmap;
        }

        public static (int Width, int Height) ReadSize(string path)
        {
            using var stream = File.OpenRead(path);
            var head = new byte[Math.Min(stream.Length, 512)];
            stream.ReadExactly(head);
            int at = 0;
            Token(head, ref at, path);
            return (Number(head, ref at, path), Number(head, ref at, path));
        }

        private static string Token(byte[] bytes, ref int at, string path)
        {
            while (true)
            {
                while (at < bytes.Length && char.IsWhiteSpace((char)bytes[at]))
                    at++;
                if (at < bytes.Length && bytes[at] == '#')
                {
                    while (at < bytes.Length && bytes[at] != '\n')
                        at++;
                    continue;
                }
                break;
            }
            int start = at;
            while (at < bytes.Length && !char.IsWhiteSpace((char)bytes[at]))
                at++;
            if (start == at)
                throw new InvalidDataException($"'{path}' is truncated in its Netpbm header or values.");
            return Encoding.ASCII.GetString(bytes, start, at - start);
        }

        private static int Number(byte[] bytes, ref int at, string path)
        {
            string token = Token(bytes, ref at, path);
            return int.TryParse(token, out int value) ? value : throw new InvalidDataException($"'{path}': '{token}' is not a number in the Netpbm header.");
        }
    }
}
