using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation.Samples
{
    /// <summary>Writes a PNG of digit images, a band of rows per domain, from views whose Features are 1 × size × size in [−1, 1].</summary>
    internal static class DigitGrid
    {
        private const int Scale = 2, Gap = 6;

        public static void Write(string path, IReadOnlyList<(string Name, IDataView Data)> domains, int size, int columns, int rowsPerDomain)
        {
            int cell = size * Scale;
            int width = columns * cell;
            int height = domains.Count * (rowsPerDomain * cell + Gap) - Gap;
            using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
            bitmap.Erase(new SKColor(128, 128, 128));
            for (int d = 0; d < domains.Count; d++)
            {
                var images = Read(domains[d].Data, columns * rowsPerDomain, size * size);
                for (int i = 0; i < images.Count; i++)
                {
                    int x0 = i % columns * cell, y0 = d * (rowsPerDomain * cell + Gap) + i / columns * cell;
                    for (int y = 0; y < cell; y++)
                        for (int x = 0; x < cell; x++)
                        {
                            float value = images[i][y / Scale * size + x / Scale];
                            byte grey = (byte)Math.Clamp((value + 1f) * 127.5f, 0f, 255f);
                            bitmap.SetPixel(x0 + x, y0 + y, new SKColor(grey, grey, grey));
                        }
                }
            }
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            Directory.CreateDirectory(directory);
            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            using var file = File.Create(path);
            png.SaveTo(file);
        }

        private static List<float[]> Read(IDataView data, int count, int length)
        {
            var column = data.Schema["Features"];
            var images = new List<float[]>();
            using var cursor = data.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            var buffer = default(VBuffer<float>);
            while (images.Count < count && cursor.MoveNext())
            {
                getter(ref buffer);
                if (buffer.Length != length)
                    throw new InvalidOperationException($"Features has {buffer.Length} values; the grid expects {length}.");
                images.Add(buffer.DenseValues().ToArray());
            }
            return images;
        }
    }
}
