using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Settings of <c>mlContext.Data.LoadGtsrb</c>. Images vary in size (15–250 pixels); the output is
    /// Width × Height, 32 × 32 when they are null.</summary>
    public sealed class GtsrbOptions : BenchmarkImageOptions
    {
        /// <summary>Crop each image to its annotated region of interest (Roi.X1 … Roi.Y2, corners included) before
        /// resizing. Default: true.</summary>
        public bool CropToRoi = true;

        /// <summary>Convert to one grey channel (luminance). Default: false (3 channels, R, G, B).</summary>
        public bool Grayscale;
    }
}

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>
    /// GTSRB, the German Traffic Sign Recognition Benchmark (Stallkamp et al. 2012), 43 classes: the training layout
    /// (<c>000NN/</c> folders of <c>.ppm</c> images with <c>GT-000NN.csv</c> in each) or the test layout (one folder
    /// of images with a <c>GT-*.csv</c> beside them). Annotations are
    /// <c>Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId</c>; without ClassId (the unlabeled test file)
    /// the label is missing.
    /// </summary>
    internal static class Gtsrb
    {
        public const int ClassCount = 43;
        private const int DefaultSide = 32;
        private const string Expected = "per-class folders 000NN/ holding .ppm images and GT-000NN.csv (training layout), or .ppm images with a GT-*.csv beside them (test layout)";
        private static readonly string[] Columns = { "Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2" };

        private sealed record Entry(string Path, SKRectI Roi, uint Label);

        public static IDataView Load(string folder, GtsrbOptions options)
        {
            options ??= new GtsrbOptions();
            options.Validate();
            BenchmarkFiles.RequireFolder(folder, "GTSRB", Expected);
            BenchmarkFiles.VerifySha256(folder, options.Sha256, "GTSRB");
            var annotationFiles = new List<string>();
            foreach (var classFolder in Directory.GetDirectories(folder).Where(d => Regex.IsMatch(Path.GetFileName(d), "^[0-9]{5}$")).OrderBy(d => d, StringComparer.Ordinal))
            {
                string csv = Path.Combine(classFolder, $"GT-{Path.GetFileName(classFolder)}.csv");
                if (!File.Exists(csv))
                    throw new FileNotFoundException($"GTSRB class folder '{classFolder}' has no annotation file GT-{Path.GetFileName(classFolder)}.csv.", csv);
                annotationFiles.Add(csv);
            }
            annotationFiles.AddRange(Directory.GetFiles(folder, "GT-*.csv").OrderBy(f => f, StringComparer.Ordinal));
            if (annotationFiles.Count == 0)
                throw new FileNotFoundException($"No GTSRB annotations found in '{folder}'; expected {Expected}.");

            var entries = annotationFiles.SelectMany(ReadAnnotations).ToArray();
            if (entries.Length == 0)
                throw new InvalidDataException($"The GTSRB annotations in '{folder}' list no images.");
            int height = options.Height ?? DefaultSide, width = options.Width ?? DefaultSide;
            var frozen = (GtsrbOptions)options.MemberwiseCloneOptions();
            return new ImageRowsDataView(entries.Length, () => new Reader(entries, frozen, height, width), frozen.FeatureColumnName,
                new[] { frozen.Grayscale ? 1 : 3, height, width }, frozen.LabelColumnName, BenchmarkFiles.NumberNames(ClassCount));
        }

        private static IEnumerable<Entry> ReadAnnotations(string csv)
        {
            var lines = File.ReadAllLines(csv);
            if (lines.Length == 0)
                throw new InvalidDataException($"GTSRB annotation file '{csv}' is empty; expected a header {string.Join(";", Columns)};ClassId.");
            var header = lines[0].Trim().Split(';');
            var index = Columns.Select(c => Array.IndexOf(header, c)).ToArray();
            if (index.Any(i => i < 0))
                throw new InvalidDataException($"GTSRB annotation file '{csv}' has header '{lines[0]}'; expected the columns {string.Join(";", Columns)}[;ClassId].");
            int classIndex = Array.IndexOf(header, "ClassId");
            string folder = Path.GetDirectoryName(csv);
            var entries = new List<Entry>();
            for (int line = 1; line < lines.Length; line++)
            {
                if (string.IsNullOrWhiteSpace(lines[line]))
                    continue;
                var fields = lines[line].Trim().Split(';');
                if (fields.Length < header.Length)
                    throw new InvalidDataException($"GTSRB annotation file '{csv}', line {line + 1}: {fields.Length} fields, expected {header.Length}.");
                int Int(int column, string name) => int.TryParse(fields[column], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                    : throw new InvalidDataException($"GTSRB annotation file '{csv}', line {line + 1}: {name} '{fields[column]}' is not an integer.");
                string path = Path.Combine(folder, fields[index[0]]);
                if (!File.Exists(path))
                    throw new FileNotFoundException($"GTSRB image '{fields[index[0]]}' listed in '{csv}' (line {line + 1}) does not exist.", path);
                int w = Int(index[1], "Width"), h = Int(index[2], "Height");
                int x1 = Int(index[3], "Roi.X1"), y1 = Int(index[4], "Roi.Y1"), x2 = Int(index[5], "Roi.X2"), y2 = Int(index[6], "Roi.Y2");
                if (x1 < 0 || y1 < 0 || x2 < x1 || y2 < y1 || x2 >= w || y2 >= h)
                    throw new InvalidDataException($"GTSRB annotation file '{csv}', line {line + 1}: region ({x1}, {y1})–({x2}, {y2}) does not fit the {w}×{h} image.");
                uint label = 0;
                if (classIndex >= 0)
                {
                    int classId = Int(classIndex, "ClassId");
                    if (classId < 0 || classId >= ClassCount)
                        throw new InvalidDataException($"GTSRB annotation file '{csv}', line {line + 1}: ClassId {classId} is outside 0–{ClassCount - 1}.");
                    label = (uint)classId + 1;
                }
                entries.Add(new Entry(path, new SKRectI(x1, y1, x2 + 1, y2 + 1), label));
            }
            return entries;
        }

        private sealed class Reader : IImageRowReader
        {
            private readonly Entry[] _entries;
            private readonly GtsrbOptions _options;
            private readonly int _height, _width;

            public Reader(Entry[] entries, GtsrbOptions options, int height, int width) => (_entries, _options, _height, _width) = (entries, options, height, width);

            public void ReadFeatures(long row, Span<float> destination)
            {
                var entry = _entries[row];
                using var bitmap = Ppm.IsPpm(entry.Path) ? Ppm.Decode(entry.Path) : ImageFolder.Decode(entry.Path);
                BenchmarkFiles.BitmapToFeatures(bitmap, _options.CropToRoi ? entry.Roi : null, _options.Grayscale ? 1 : 3, _height, _width, _options, destination);
            }

            public uint ReadLabel(long row) => _entries[row].Label;

            public string ReadPath(long row) => _entries[row].Path;

            public void Dispose()
            {
            }
        }
    }
}
