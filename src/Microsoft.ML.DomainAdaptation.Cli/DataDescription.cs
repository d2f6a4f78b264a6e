using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// How mlnet-da turned files into features for a model, kept in the model zip beside ML.NET's entries so that
    /// evaluate, predict and report read new data the same way (size, channels, columns, classes).
    /// </summary>
    internal sealed class DataDescription
    {
        /// <summary>The zip entry; ML.NET's Model.Load ignores entries it does not know.</summary>
        public const string EntryName = "MlnetDa/data.json";

        /// <summary>The <see cref="Format"/> of models whose ML.NET pipeline starts at the raw input (see <c>Preprocessing</c>).</summary>
        public const int ChainFormat = 2;

        /// <summary>
        /// <see cref="ChainFormat"/>: the zip's ML.NET model is one chain from the raw input (image path, IDX pixels, table
        /// columns) to the class names, and this entry only says how the tool reads files. 0 (absent): a model of an earlier
        /// version, whose pipeline starts at the features: the tool resizes and scales images and standardises tables
        /// (<see cref="FeatureMeans"/>, <see cref="FeatureScales"/>) itself before it.
        /// </summary>
        public int Format { get; set; }

        /// <summary>The zip holds the whole chain from the raw input.</summary>
        [JsonIgnore]
        public bool HasChain => Format >= ChainFormat;

        /// <summary>What the chain reads: "idx" (pixel vectors of IDX images), "folder" (image paths) or "table" (columns).
        /// Null in models of earlier versions.</summary>
        public string Input { get; set; }

        /// <summary>IDX input: the height and width of the source's images, the chain's input column size.</summary>
        public int[] InputShape { get; set; }

        /// <summary>"images" (IDX files or image folders) or "table" (CSV/TSV).</summary>
        public string Kind { get; set; }

        /// <summary>Feature shape: channels, height, width for images; the column count for tables.</summary>
        public int[] Shape { get; set; }

        /// <summary>Tables: the feature columns, in order.</summary>
        public string[] FeatureColumns { get; set; }

        /// <summary>Tables: the source's columns that are neither the label nor features (text or empty), as read; not saved.</summary>
        [JsonIgnore]
        public string[] UnusedColumns { get; set; }

        /// <summary>Tables of models of earlier versions: each feature column's source mean, subtracted before the network
        /// sees it (now ML.NET's NormalizeMeanVariance in the chain).</summary>
        public float[] FeatureMeans { get; set; }

        /// <summary>Tables of models of earlier versions: each feature column's source standard deviation (1 for a constant column), divided by.</summary>
        public float[] FeatureScales { get; set; }

        /// <summary>Tables: the label column.</summary>
        public string LabelColumn { get; set; }

        /// <summary>The classes, in key order (key k+1 = ClassNames[k]).</summary>
        public string[] ClassNames { get; set; }

        /// <summary>Fingerprints (<see cref="TabularData.Fingerprint"/>) of the training source and target rows, so that
        /// evaluate can say when it is given rows the model was trained on. Null in models of earlier versions.</summary>
        public string SourceFingerprint { get; set; }

        /// <inheritdoc cref="SourceFingerprint"/>
        public string TargetFingerprint { get; set; }

        /// <summary>What <paramref name="data"/> was during training, as a sentence for the user, or null if neither domain.</summary>
        public string TrainingRoleOf(TabularData data)
        {
            if (SourceFingerprint == null && TargetFingerprint == null)
                return null;
            string fingerprint = data.Fingerprint();
            return fingerprint == SourceFingerprint
                ? "Note: these rows are the labeled source the model was trained on; the metrics are training metrics, not a held-out estimate."
                : fingerprint == TargetFingerprint
                    ? "Note: these rows are the unlabeled target the model was trained on (their labels were not used, their features were): " +
                      "a transductive estimate, not one on held-out target rows."
                    : null;
        }

        public string Method { get; set; }
        public string Network { get; set; }
        public int Iterations { get; set; }
        public int Seed { get; set; }

        public bool IsImage => Kind == "images";

        public void WriteInto(string modelPath)
        {
            using var zip = ZipFile.Open(modelPath, ZipArchiveMode.Update);
            zip.GetEntry(EntryName)?.Delete();
            using var stream = zip.CreateEntry(EntryName).Open();
            JsonSerializer.Serialize(stream, this, new JsonSerializerOptions { WriteIndented = true });
        }

        public static DataDescription ReadFrom(string modelPath)
        {
            if (!File.Exists(modelPath))
                throw new CliException(ExitCodes.BadInput, $"Model file '{modelPath}' does not exist.");
            try
            {
                using var zip = ZipFile.OpenRead(modelPath);
                var entry = zip.GetEntry(EntryName)
                    ?? throw new CliException(ExitCodes.BadInput,
                        $"Model file '{modelPath}' has no '{EntryName}' entry: it was not written by 'mlnet-da train', so the tool does not know how to read data for it.");
                using var stream = entry.Open();
                var description = JsonSerializer.Deserialize<DataDescription>(stream);
                if (description?.Shape == null || description.ClassNames == null || description.ClassNames.Length == 0)
                    throw new CliException(ExitCodes.BadInput, $"Model file '{modelPath}': its '{EntryName}' entry is incomplete.");
                return description;
            }
            catch (InvalidDataException e)
            {
                throw new CliException(ExitCodes.BadInput, $"Model file '{modelPath}' is not a zip file ({e.Message}).", e);
            }
        }

        public override string ToString() => IsImage
            ? $"images {string.Join(" × ", Shape)} (channels × height × width), {ClassNames.Length} classes"
            : $"table of {FeatureColumns.Length} feature columns, label '{LabelColumn}', {ClassNames.Length} classes" +
              (UnusedColumns is { Length: > 0 } ? $" (not features: {string.Join(", ", UnusedColumns.Select(c => $"'{c}'"))}, not numeric)" : "");
    }
}
