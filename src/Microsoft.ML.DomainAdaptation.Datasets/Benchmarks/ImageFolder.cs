using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Settings of <c>mlContext.Data.LoadImageFolder</c>: a <c>root/class/…/image</c> tree (one domain of Office-31,
    /// Office-Home, VisDA, or <see cref="SyntheticDigits.WriteImages"/>' output).
    /// </summary>
    public sealed class ImageFolderOptions : BenchmarkImageOptions
    {
        /// <summary>Output column of each image's full path (text), for ML.NET's <c>LoadImages</c> with a null image
        /// folder. Default: "ImagePath".</summary>
        public string ImagePathColumnName = "ImagePath";

        /// <summary>Also decode the images into the <see cref="ImageDataOptions.FeatureColumnName"/> column
        /// (Channels × Height × Width, each image stretched to the size). Needs <see cref="BenchmarkImageOptions.Width"/>
        /// and <see cref="BenchmarkImageOptions.Height"/>. Default: false (path and label only).</summary>
        public bool LoadPixels;

        /// <summary>With <see cref="LoadPixels"/>: 3 (R, G, B) or 1 (luminance). Default: 3.</summary>
        public int Channels = 3;

        /// <summary>
        /// The classes, in key order. Default: null, the sub-folder names of the root in ordinal order. Give the list
        /// to keep the same keys across domains when a domain lacks a class folder; a sub-folder not listed is an error.
        /// </summary>
        public string[] ClassNames;

        /// <summary>File extensions read (case-insensitive). Default: .jpg, .jpeg, .png, .bmp, .gif, .webp, .ppm, .pgm.</summary>
        public string[] Extensions = { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".pgm" };

        internal override void Validate()
        {
            base.Validate();
            CheckName(ImagePathColumnName, nameof(ImagePathColumnName));
            Check(ImagePathColumnName != LabelColumnName && (!LoadPixels || ImagePathColumnName != FeatureColumnName),
                nameof(ImagePathColumnName), ImagePathColumnName, "must differ from the other output columns");
            Check(Channels == 1 || Channels == 3, nameof(Channels), Channels, "must be 1 (grey) or 3 (RGB)");
            if (LoadPixels)
            {
                Check(Width != null, nameof(Width), "null", "must be set when LoadPixels is true");
                Check(Height != null, nameof(Height), "null", "must be set when LoadPixels is true");
            }
            Check(Extensions != null && Extensions.Length > 0, nameof(Extensions), Extensions, "must list at least one extension");
            if (ClassNames != null)
                Check(ClassNames.Length > 0 && ClassNames.All(n => !string.IsNullOrWhiteSpace(n)) && ClassNames.Distinct().Count() == ClassNames.Length,
                    nameof(ClassNames), string.Join(", ", ClassNames), "must be distinct non-empty names");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>
    /// Rows of a <c>root/class/…/image</c> tree: one row per image file, label = the class folder directly under the
    /// root (files deeper inside it count too), in class order then ordinal path order.
    /// </summary>
    internal static class ImageFolder
    {
        public static IDataView Load(string root, ImageFolderOptions options)
        {
            options ??= new ImageFolderOptions();
            options.Validate();
            BenchmarkFiles.RequireFolder(root, "Image", "a folder with one sub-folder of images per class (root/class/image)");
            BenchmarkFiles.VerifySha256(root, options.Sha256, "Image folder");
            var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            if (folders.Length == 0)
                throw new InvalidDataException($"Image folder '{root}' has no class sub-folders; expected root/class/image.");
            var classes = options.ClassNames ?? folders;
            var unknown = folders.Except(classes).ToArray();
            if (unknown.Length > 0)
                throw new InvalidDataException($"Image folder '{root}' has sub-folders not in ClassNames: {string.Join(", ", unknown)}.");
            var extensions = new HashSet<string>(options.Extensions.Select(e => e.StartsWith('.') ? e : "." + e), StringComparer.OrdinalIgnoreCase);
            var paths = new List<string>();
            var labels = new List<uint>();
            for (int k = 0; k < classes.Length; k++)
            {
                string folder = Path.Combine(root, classes[k]);
                if (!Directory.Exists(folder))
                    continue;
                foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                    .Where(f => extensions.Contains(Path.GetExtension(f))).OrderBy(f => f, StringComparer.Ordinal))
                {
                    paths.Add(Path.GetFullPath(file));
                    labels.Add((uint)k + 1);
                }
            }
            if (paths.Count == 0)
                throw new InvalidDataException($"Image folder '{root}' holds no image files ({string.Join(", ", extensions)}) in its class sub-folders.");
            var frozen = (ImageFolderOptions)options.MemberwiseCloneOptions();
            var pathArray = paths.ToArray();
            var labelArray = labels.ToArray();
            return new ImageRowsDataView(pathArray.Length, () => new Reader(pathArray, labelArray, frozen),
                frozen.LoadPixels ? frozen.FeatureColumnName : null, frozen.LoadPixels ? new[] { frozen.Channels, frozen.Height.Value, frozen.Width.Value } : null,
                frozen.LabelColumnName, classes, frozen.ImagePathColumnName);
        }

        /// <summary>Decodes an image file with Skia (or the Netpbm reader), naming the file when it cannot.</summary>
        public static SKBitmap Decode(string path)
        {
            if (Ppm.IsPpm(path))
                return Ppm.Decode(path);
            return SKBitmap.Decode(path) ?? throw new InvalidDataException($"'{path}' is not an image SkiaSharp can decode (JPEG, PNG, BMP, GIF, WebP).");
        }

        private sealed class Reader : IImageRowReader
        {
            private readonly string[] _paths;
            private readonly uint[] _labels;
            private readonly ImageFolderOptions _options;

            public Reader(string[] paths, uint[] labels, ImageFolderOptions options) => (_paths, _labels, _options) = (paths, labels, options);

            public void ReadFeatures(long row, Span<float> destination)
            {
                using var bitmap = Decode(_paths[row]);
                BenchmarkFiles.BitmapToFeatures(bitmap, null, _options.Channels, _options.Height.Value, _options.Width.Value, _options, destination);
            }

            public uint ReadLabel(long row) => _labels[row];

            public string ReadPath(long row) => _paths[row];

            public void Dispose()
            {
            }
        }
    }
}
