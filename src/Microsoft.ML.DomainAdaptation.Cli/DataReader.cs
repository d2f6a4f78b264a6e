using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Transforms;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// Reads the three kinds of data the tool takes, told apart by the path: a folder is an image folder
    /// (<c>class/image</c>), a .csv/.tsv/.txt file a table with a header, anything else an IDX file of images (with its
    /// labels in a second IDX file).
    /// </summary>
    internal static class DataReader
    {
        /// <summary>Settings of the first (source) read that fix the description.</summary>
        public sealed class Settings
        {
            public int? ImageSize { get; set; }
            public int? Channels { get; set; }
            public string LabelColumn { get; set; } = "Label";
        }

        /// <summary>
        /// Reads the labeled source raw (IDX pixels 0–255, table cells, image paths) and describes it: the model's input,
        /// feature shape and classes come from it. <c>Preprocessing</c> turns the rows into features.
        /// </summary>
        /// <remarks>With <paramref name="rows"/>, only the split file's rows are read, checked and used (columns and classes
        /// come from them).</remarks>
        public static (TabularData Data, DataDescription Description) ReadSource(MLContext mlContext, string path, string labelsPath, Settings settings, RowSelection rows = null)
        {
            var description = new DataDescription { Format = DataDescription.ChainFormat };
            TabularData data;
            switch (KindOf(path))
            {
                case Kind.Folder:
                    int size = settings.ImageSize ?? 32, channels = settings.Channels ?? 3;
                    description.Kind = "images";
                    description.Input = "folder";
                    description.Shape = new[] { channels, size, size };
                    data = ReadFolder(mlContext, path, description, rows);
                    break;
                case Kind.Table:
                    description.Kind = "table";
                    description.Input = "table";
                    description.LabelColumn = settings.LabelColumn;
                    data = ReadTable(path, description, source: true, "Source", rows);
                    break;
                default:
                    var images = ReadIdx(path);
                    description.Kind = "images";
                    description.Input = "idx";
                    description.InputShape = new[] { images.Dimensions[1], images.Dimensions[2] };
                    description.Shape = new[] { settings.Channels ?? 1, settings.ImageSize ?? images.Dimensions[1], settings.ImageSize ?? images.Dimensions[2] };
                    data = FromIdx(images, path, ResolveIdxLabels(path, labelsPath), description, rows);
                    break;
            }
            if (!data.HasLabels)
                throw new CliException(ExitCodes.BadInput, $"Source '{path}' has no labels ({LabelHint(path, description)}): the source domain must be labeled.");
            description.ClassNames = TabularData.ClassesOf(data);
            if (description.ClassNames.Length < 2)
                throw new CliException(ExitCodes.BadInput, $"Source '{path}' has {description.ClassNames.Length} class; at least 2 are needed.");
            return (data, description);
        }

        /// <summary>Reads data for the model: target, evaluation or scoring rows (labels optional); raw for a model that
        /// carries its preprocessing (<see cref="DataDescription.HasChain"/>), as features for one of an earlier version; only the
        /// rows of a split file (<paramref name="rows"/>) when one is given.</summary>
        public static TabularData Read(MLContext mlContext, string path, string labelsPath, DataDescription description, string role, RowSelection rows = null)
        {
            var kind = KindOf(path);
            if (description.IsImage && kind == Kind.Table || !description.IsImage && kind != Kind.Table)
                throw new CliException(ExitCodes.BadInput,
                    $"{role} '{path}' is {(kind == Kind.Table ? "a table" : "image data")} but the model was trained on {description}.");
            return kind switch
            {
                Kind.Folder => ReadFolder(mlContext, path, description, rows),
                Kind.Table => ReadTable(path, description, source: false, role, rows),
                _ => FromIdx(ReadIdx(path), path, ResolveIdxLabels(path, labelsPath), description, rows),
            };
        }

        private enum Kind { Idx, Folder, Table }

        /// <summary>Whether the path holds images (an IDX file or a folder) rather than a table; an error if it does not exist.</summary>
        public static bool IsImages(string path) => KindOf(path) != Kind.Table;

        private static Kind KindOf(string path)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new CliException(ExitCodes.BadInput, "A data path is required.");
            if (Directory.Exists(path))
                return Kind.Folder;
            if (!File.Exists(path))
                throw new CliException(ExitCodes.BadInput, $"Data path '{path}' does not exist (expected an IDX file, an image folder or a .csv/.tsv file).");
            string extension = Path.GetExtension(path).ToLowerInvariant();
            return extension is ".csv" or ".tsv" or ".txt" ? Kind.Table : Kind.Idx;
        }

        private static string LabelHint(string path, DataDescription description) => description.Kind switch
        {
            "table" => $"column '{description.LabelColumn}'",
            _ when Directory.Exists(path) => "class sub-folders",
            _ => "give the labels' IDX file with --source-labels, or put it beside the images as '*labels*idx1*'",
        };

        private static IdxFile ReadIdx(string path)
        {
            IdxFile file;
            try
            {
                file = IdxFile.Read(path);
            }
            catch (InvalidDataException e)
            {
                throw new CliException(ExitCodes.BadInput, $"'{path}' is neither a folder, a .csv/.tsv table nor a readable IDX file: {e.Message}", e);
            }
            if (file.Dimensions.Length != 3)
                throw new CliException(ExitCodes.BadInput,
                    $"IDX file '{path}' has {file.Dimensions.Length} dimensions ({string.Join(" × ", file.Dimensions)}); expected images: count × height × width.");
            return file;
        }

        private static IdxFile ReadIdxLabels(string path, int count, string imagesPath)
        {
            IdxFile file;
            try
            {
                file = IdxFile.Read(path);
            }
            catch (InvalidDataException e)
            {
                throw new CliException(ExitCodes.BadInput, $"Labels file '{path}' is not a readable IDX file: {e.Message}", e);
            }
            if (file.Dimensions.Length != 1)
                throw new CliException(ExitCodes.BadInput,
                    $"Labels file '{path}' has {file.Dimensions.Length} dimensions ({string.Join(" × ", file.Dimensions)}); expected one label per image.");
            if (file.Count != count)
                throw new CliException(ExitCodes.BadInput, $"Labels file '{path}' has {file.Count} labels for the {count} images of '{imagesPath}'.");
            int bad = Array.FindIndex(file.Values, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new CliException(ExitCodes.BadInput, $"Labels file '{path}', label {bad + 1}: {file.Values[bad]} is not a class (items count from 1).");
            return file;
        }

        /// <summary>The labels file given, else the MNIST naming convention beside the images (images → labels, idx3 → idx1).</summary>
        private static string ResolveIdxLabels(string imagesPath, string labelsPath)
        {
            if (labelsPath != null)
            {
                if (!File.Exists(labelsPath))
                    throw new CliException(ExitCodes.BadInput, $"Labels file '{labelsPath}' does not exist.");
                return labelsPath;
            }
            string name = Path.GetFileName(imagesPath);
            string guess = name.Replace("images", "labels").Replace("idx3", "idx1");
            string candidate = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(imagesPath)), guess);
            return guess != name && File.Exists(candidate) ? candidate : null;
        }

        /// <summary>IDX pixels: raw (0–255, the file's size) for a model that carries its preprocessing; for one of an
        /// earlier version resized bilinearly to the model's size and scaled to [−1, 1], as that version did.</summary>
        private static TabularData FromIdx(IdxFile images, string path, string labelsPath, DataDescription description, RowSelection rows)
        {
            int channels = description.Shape[0], height = description.Shape[1], width = description.Shape[2];
            int h = images.Dimensions[1], w = images.Dimensions[2];
            var order = RowSelection.Of(rows, images.Count, path);
            var labelValues = labelsPath == null ? null : ReadIdxLabels(labelsPath, images.Count, path).Values;
            var labels = labelValues == null ? null : order.Select(i => labelValues[i].ToString(CultureInfo.InvariantCulture)).ToArray();
            var features = new float[order.Length][];
            for (int k = 0; k < order.Length; k++)
            {
                int i = order[k];
                var pixels = new ReadOnlySpan<float>(images.Values, i * h * w, h * w);
                int bad = FirstNonFinite(pixels);
                if (bad >= 0)
                    throw new CliException(ExitCodes.BadInput,
                        $"IDX file '{path}', image {i + 1} (images count from 1), pixel {bad + 1}: {pixels[bad]} is not a finite number.");
                if (description.HasChain)
                {
                    features[k] = pixels.ToArray();
                    continue;
                }
                var grey = new float[height * width];
                if (h == height && w == width)
                    pixels.CopyTo(grey);
                else
                    ImageVectorConvertingTransformer.ResizeBilinear(pixels, 1, h, w, grey, height, width);
                var row = new float[channels * height * width];
                for (int c = 0; c < channels; c++)
                {
                    for (int p = 0; p < grey.Length; p++)
                        row[c * grey.Length + p] = grey[p] / 127.5f - 1f;
                }
                features[k] = row;
            }
            return new TabularData
            {
                Features = features, Labels = labels, RowNames = order.Select(i => (i + 1).ToString(CultureInfo.InvariantCulture)).ToArray(),
                Input = description.HasChain ? "idx" : null, InputShape = description.HasChain ? new[] { h, w } : null,
            };
        }

        private static int FirstNonFinite(ReadOnlySpan<float> values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                if (!float.IsFinite(values[i]))
                    return i;
            }
            return -1;
        }

        private static TabularData ReadFolder(MLContext mlContext, string folder, DataDescription description, RowSelection rows)
        {
            IDataView view;
            try
            {
                // A model that carries its preprocessing reads the paths only: its chain loads the images (ML.NET's LoadImages).
                view = mlContext.Data.LoadImageFolder(folder, new ImageFolderOptions
                {
                    LoadPixels = !description.HasChain,
                    Channels = description.Shape[0],
                    Height = description.Shape[1],
                    Width = description.Shape[2],
                });
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException)
            {
                throw new CliException(ExitCodes.BadInput, e.Message, e);
            }
            var classNames = default(VBuffer<ReadOnlyMemory<char>>);
            view.Schema["Label"].GetKeyValues(ref classNames);
            var names = classNames.DenseValues().Select(v => v.ToString()).ToArray();
            var features = new List<float[]>();
            var labels = new List<string>();
            var paths = new List<string>();
            using var cursor = view.GetRowCursor(view.Schema);
            var getFeatures = description.HasChain ? null : cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
            var getLabel = cursor.GetGetter<uint>(view.Schema["Label"]);
            var getPath = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["ImagePath"]);
            VBuffer<float> row = default;
            uint key = 0;
            ReadOnlyMemory<char> imagePath = default;
            while (cursor.MoveNext())
            {
                getLabel(ref key);
                getPath(ref imagePath);
                if (getFeatures != null)
                {
                    getFeatures(ref row);
                    features.Add(row.DenseValues().ToArray());
                }
                labels.Add(key == 0 ? null : names[key - 1]);
                paths.Add(imagePath.ToString());
            }
            var order = RowSelection.Of(rows, paths.Count, folder);
            return new TabularData
            {
                Features = description.HasChain ? null : order.Select(i => features[i]).ToArray(), Labels = order.Select(i => labels[i]).ToArray(),
                RowNames = order.Select(i => paths[i]).ToArray(), Input = description.HasChain ? "folder" : null,
            };
        }

        /// <summary>
        /// A table with a header. The source fixes the columns for every other table (target, evaluation, scoring): the
        /// label column, and as features every other column that holds numbers (most of its non-empty cells parse as
        /// numbers); columns of text or empty cells only are not used. Every cell of a feature column must then be a
        /// finite number, in any table: an empty, NaN, out-of-range or non-numeric cell is an error naming the data
        /// row, the line and the column. Source rows need a label; other tables may leave label cells empty.
        /// </summary>
        private static TabularData ReadTable(string path, DataDescription description, bool source, string role, RowSelection rows)
        {
            var table = CsvTable.Read(path);
            var names = table.Columns;
            var order = RowSelection.Of(rows, table.Rows.Count, path); // messages name a row by its place in the file
            var values = order.Select(i => table.Rows[i]).ToList();

            int labelIndex = Array.IndexOf(names, description.LabelColumn);
            if (labelIndex < 0)
                labelIndex = Array.FindIndex(names, n => string.Equals(n, description.LabelColumn, StringComparison.OrdinalIgnoreCase));
            if (source)
            {
                if (labelIndex < 0)
                    throw new CliException(ExitCodes.BadInput,
                        $"Label column '{description.LabelColumn}' not found in '{path}'; its columns are: {string.Join(", ", names)}. Name it with --label-column.");
                var numeric = names.Select((n, i) => i != labelIndex && HoldsNumbers(values.Select(r => r[i]))).ToArray();
                description.FeatureColumns = names.Where((n, i) => numeric[i]).ToArray();
                description.UnusedColumns = names.Where((n, i) => i != labelIndex && !numeric[i]).ToArray();
                if (description.FeatureColumns.Length == 0)
                    throw new CliException(ExitCodes.BadInput, $"Table '{path}' has no numeric feature column besides the label '{names[labelIndex]}'.");
                description.Shape = new[] { description.FeatureColumns.Length };
                int unlabeled = values.FindIndex(r => r[labelIndex].Length == 0);
                if (unlabeled >= 0)
                    throw new CliException(ExitCodes.BadInput,
                        $"{role} table '{path}', {table.Where(order[unlabeled])}, column '{names[labelIndex]}': the label is empty; every source row needs a label.");
            }
            var featureIndices = description.FeatureColumns.Select(c =>
            {
                int i = Array.IndexOf(names, c);
                return i >= 0 ? i : throw new CliException(ExitCodes.BadInput, $"{role} table '{path}' lacks the model's feature column '{c}'; its columns are: {string.Join(", ", names)}.");
            }).ToArray();

            var features = new float[values.Count][];
            for (int r = 0; r < values.Count; r++)
            {
                features[r] = new float[featureIndices.Length];
                for (int j = 0; j < featureIndices.Length; j++)
                {
                    string text = values[r][featureIndices[j]];
                    if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out features[r][j]) || !float.IsFinite(features[r][j]))
                    {
                        string problem = text.Length == 0 ? "the cell is empty"
                            : !IsNumber(text, out double number) ? $"'{text}' is not a number"
                            : double.IsFinite(number) ? $"'{text}' is out of the range of Single" : $"'{text}' is not finite";
                        throw new CliException(ExitCodes.BadInput, $"{role} table '{path}', {table.Where(order[r])}, column '{names[featureIndices[j]]}': " +
                            $"{problem}; every cell of a feature column must be a finite number (fix or remove the row).");
                    }
                }
            }
            var labels = labelIndex < 0 ? null : values.Select(r => r[labelIndex].Length == 0 ? null : r[labelIndex]).ToArray();
            var rowNames = order.Select(i => (i + 1).ToString(CultureInfo.InvariantCulture)).ToArray();
            // A model that carries its preprocessing standardises in its chain (Preprocessing): the cells as they are.
            if (description.HasChain)
                return new TabularData { Features = features, Labels = labels, RowNames = rowNames, Input = "table" };
            // Models of earlier versions: columns standardised with the source's statistics kept in data.json (and only
            // there: ML.NET's Model.Load + a raw row scored unstandardised values, the reason for the chain).
            foreach (var f in features)
            {
                for (int j = 0; j < f.Length; j++)
                    f[j] = (f[j] - description.FeatureMeans[j]) / description.FeatureScales[j];
            }
            return new TabularData { Features = features, Labels = labels, RowNames = rowNames };
        }

        /// <summary>A feature column: more than half of its non-empty cells are numbers (in range or not).</summary>
        private static bool HoldsNumbers(IEnumerable<string> cells)
        {
            int filled = 0, numbers = 0;
            foreach (var cell in cells.Where(c => c.Length > 0))
            {
                filled++;
                if (IsNumber(cell, out _))
                    numbers++;
            }
            return filled > 0 && 2 * numbers > filled;
        }

        private static bool IsNumber(string text, out double value) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
