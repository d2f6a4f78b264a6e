using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Settings of <c>mlContext.Data.SaveAsImageFolder</c>: which columns hold the pixels and the class, and the pixel
    /// scaling to undo. The same settings given to <c>LoadImageFolder</c> (with <see cref="ImageFolderOptions.LoadPixels"/>)
    /// read the features back (to within the 8-bit rounding).
    /// </summary>
    public sealed class ImageFolderWriteOptions : ImageDataOptions
    {
    }
}

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>Writes rows of pixels as a <c>root/class/row.png</c> tree, the layout <see cref="ImageFolder"/> reads.</summary>
    internal static class ImageFolderWriter
    {
        public static string[] Write(IDataView data, string folder, ImageFolderWriteOptions options)
        {
            if (data is null)
                throw new ArgumentNullException(nameof(data));
            if (string.IsNullOrWhiteSpace(folder))
                throw new ArgumentException("An output folder is required.", nameof(folder));
            options ??= new ImageFolderWriteOptions();
            options.Validate();
            var features = data.Schema.GetColumnOrNull(options.FeatureColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(options.FeatureColumnName), options.FeatureColumnName, $"Feature column '{options.FeatureColumnName}' not found.");
            var dimensions = features.Type is VectorDataViewType vector && vector.ItemType == NumberDataViewType.Single && vector.IsKnownSize
                ? vector.Dimensions.ToArray() : null;
            // C × H × W, or H × W for grey images.
            if (dimensions is null || dimensions.Length < 2 || dimensions.Length > 3 || (dimensions.Length == 3 && dimensions[0] != 1 && dimensions[0] != 3))
                throw new ArgumentOutOfRangeException(nameof(options.FeatureColumnName), options.FeatureColumnName,
                    $"Schema mismatch for feature column '{options.FeatureColumnName}': expected a known-size vector of Single with dimensions C × H × W (C = 1 or 3) or H × W, got {features.Type}" +
                    (dimensions is null ? "." : $" of dimensions {string.Join(" × ", dimensions)}."));
            int channels = dimensions.Length == 3 ? dimensions[0] : 1;
            int height = dimensions[^2], width = dimensions[^1], plane = height * width;
            var label = data.Schema.GetColumnOrNull(options.LabelColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(options.LabelColumnName), options.LabelColumnName, $"Label column '{options.LabelColumnName}' not found.");
            Func<DataViewRowCursor, Func<string>> labelGetter = label.Type switch
            {
                KeyDataViewType key => cursor => KeyName(cursor, label, key),
                NumberDataViewType n when n == NumberDataViewType.Single => cursor =>
                {
                    var get = cursor.GetGetter<float>(label);
                    float value = 0;
                    return () => { get(ref value); return float.IsNaN(value) ? null : value.ToString(CultureInfo.InvariantCulture); };
                },
                _ => throw new ArgumentOutOfRangeException(nameof(options.LabelColumnName), options.LabelColumnName,
                    $"Schema mismatch for label column '{options.LabelColumnName}': expected a key or Single, got {label.Type}."),
            };

            var paths = new List<string>();
            var created = new HashSet<string>();
            using var bitmap = new SKBitmap(new SKImageInfo(width, height, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
            using var cursor = data.GetRowCursor(new[] { features, label });
            var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
            var getLabel = labelGetter(cursor);
            var buffer = default(VBuffer<float>);
            var dense = new float[channels * plane];
            long row = -1;
            while (cursor.MoveNext())
            {
                row++;
                string className = getLabel();
                if (className is null)
                    continue;
                getFeatures(ref buffer);
                buffer.CopyTo(dense);
                var target = SyntheticDigits.Pixels(bitmap);
                for (int p = 0; p < plane; p++)
                {
                    if (channels == 1)
                    {
                        target[p] = ToByte(dense[p], options);
                    }
                    else
                    {
                        target[4 * p] = ToByte(dense[p], options);
                        target[4 * p + 1] = ToByte(dense[plane + p], options);
                        target[4 * p + 2] = ToByte(dense[2 * plane + p], options);
                        target[4 * p + 3] = 255;
                    }
                }
                string classFolder = Path.Combine(folder, className);
                if (created.Add(classFolder))
                    Directory.CreateDirectory(classFolder);
                string path = Path.Combine(classFolder, row.ToString("D5", CultureInfo.InvariantCulture) + ".png");
                using (var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100))
                using (var file = File.Create(path))
                    encoded.SaveTo(file);
                paths.Add(path);
            }
            return paths.ToArray();
        }

        /// <summary>The inverse of <see cref="ImageDataOptions.ToFeature"/>, rounded and clamped to 0–255.</summary>
        private static byte ToByte(float feature, ImageDataOptions options)
            => (byte)Math.Clamp(MathF.Round(feature / options.ScaleImage - options.OffsetImage), 0f, 255f);

        /// <summary>Key values as folder names when the key has text values; else the key's number − 1 ("0" for key 1).</summary>
        private static Func<string> KeyName(DataViewRowCursor cursor, DataViewSchema.Column label, KeyDataViewType key)
        {
            string[] names = null;
            if (label.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { ItemType: TextDataViewType })
            {
                var values = default(VBuffer<ReadOnlyMemory<char>>);
                label.GetKeyValues(ref values);
                names = values.DenseValues().Select(v => v.ToString()).ToArray();
            }
            var get = cursor.GetGetter<uint>(label);
            uint value = 0;
            return () =>
            {
                get(ref value);
                if (value == 0)
                    return null;
                return names != null && value <= names.Length ? names[value - 1] : (value - 1).ToString(CultureInfo.InvariantCulture);
            };
        }
    }
}
