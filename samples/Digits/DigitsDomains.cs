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
                var resized = new float[size * size];
                ImageVectorConvertingTransformer.ResizeBilinear(pixels, 1, height, width, resized, size, size);
                for (int i = 0; i < resized.Length; i++)
                    resized[i] = resized[i] / 127.5f - 1f;
                data.Add(new Row { Features = resized, Label = label });
            }
            var definition = SchemaDefinition.Create(typeof(Row));
            definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, size, size);
            return mlContext.Data.LoadFromEnumerable(data, definition);
        }
    }
}
