using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Samples
{
    /// <summary>
    /// The two real handwritten-digit domains shipped in data/digits (mnist-opencv: 20×20, optdigits: 8×8), read from
    /// their IDX files with their fixed train/test splits and brought to one size.
    /// </summary>
    /// <remarks>
    /// The resize is bilinear (as torch's interpolate with align_corners=false, the PyTorch reference's choice):
    /// ML.NET's ResizeImages samples the nearest pixel, which turns the 8×8 digits into blocks.
    /// </remarks>
    public static class DigitsDomains
    {
        public const string MnistOpenCv = "mnist-opencv";
        public const string OptDigits = "optdigits";

        /// <summary>The folder holding one sub-folder per domain (copied beside the program at build time).</summary>
        public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "data", "digits");

        private sealed class Row
        {
            public float[] Features;
            public float Label;
        }

        /// <summary>
        /// Rows of <paramref name="domain"/>'s "train" or "test" split: "Features" = size × size grey pixels scaled
        /// to [−1, 1], "Label" = the digit as Single.
        /// </summary>
        /// <param name="labeledPerClass">When ≥ 0, only the first <paramref name="labeledPerClass"/> rows of each class
        /// (in file order) keep their label; the others get a missing label (NaN), as for semi-supervised adaptation.</param>
        public static IDataView Load(MLContext mlContext, string domain, string split, int size = 28, int labeledPerClass = -1)
        {
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
                float label = labels.Values[r];
                perClass[label] = perClass.GetValueOrDefault(label) + 1;
                if (labeledPerClass >= 0 && perClass[label] > labeledPerClass)
                    label = float.NaN;
                var pixels = new ReadOnlySpan<float>(images.Values, r * height * width, height * width);
                var resized = ResizeBilinear(pixels, height, width, size, size);
                for (int i = 0; i < resized.Length; i++)
                    resized[i] = resized[i] / 127.5f - 1f;
                data.Add(new Row { Features = resized, Label = label });
            }
            var definition = SchemaDefinition.Create(typeof(Row));
            definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, size, size);
            return mlContext.Data.LoadFromEnumerable(data, definition);
        }

        /// <summary>Bilinear resize with half-pixel centres (align_corners = false), edges clamped.</summary>
        public static float[] ResizeBilinear(ReadOnlySpan<float> source, int height, int width, int newHeight, int newWidth)
        {
            var result = new float[newHeight * newWidth];
            float scaleY = (float)height / newHeight, scaleX = (float)width / newWidth;
            for (int y = 0; y < newHeight; y++)
            {
                float sy = Math.Max((y + 0.5f) * scaleY - 0.5f, 0);
                int y0 = Math.Min((int)sy, height - 1), y1 = Math.Min(y0 + 1, height - 1);
                float wy = sy - y0;
                for (int x = 0; x < newWidth; x++)
                {
                    float sx = Math.Max((x + 0.5f) * scaleX - 0.5f, 0);
                    int x0 = Math.Min((int)sx, width - 1), x1 = Math.Min(x0 + 1, width - 1);
                    float wx = sx - x0;
                    float top = source[y0 * width + x0] * (1 - wx) + source[y0 * width + x1] * wx;
                    float bottom = source[y1 * width + x0] * (1 - wx) + source[y1 * width + x1] * wx;
                    result[y * newWidth + x] = top * (1 - wy) + bottom * wy;
                }
            }
            return result;
        }
    }
}
