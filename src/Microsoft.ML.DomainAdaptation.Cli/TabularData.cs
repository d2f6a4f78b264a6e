using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// Rows read from a path into memory: features of one shape, optional text labels (null = missing), and a name per
    /// row for the predictions file (the image's path, or the row number).
    /// </summary>
    internal sealed class TabularData
    {
        /// <summary>The rows' values: features as the network sees them, or (raw data of a <see cref="DataDescription.HasChain"/>
        /// model, before <c>Preprocessing.Featurize</c>) IDX pixels 0–255 or the table's cells; null for image paths.</summary>
        public float[][] Features;
        public string[] Labels;
        public string[] RowNames;

        /// <summary>Raw data: "idx", "folder" or "table"; null once featurized (or read for a model of an earlier version).</summary>
        public string Input;

        /// <summary>Raw IDX data: the images' height and width.</summary>
        public int[] InputShape;

        public int Count => RowNames.Length;
        public bool HasLabels => Labels != null && Labels.Any(l => l != null);

        /// <summary>A view with "Features" (the model's shape) and "Label" (a key over the model's classes; 0 = missing,
        /// dropped with <paramref name="withLabels"/> false, or, unless <paramref name="requireKnownLabels"/>, not a class).</summary>
        public IDataView ToDataView(MLContext mlContext, DataDescription description, bool withLabels = true, bool requireKnownLabels = true)
        {
            // LoadFromEnumerable reads a uint field of a key column as a 0-based index (stored + 1); values past the
            // count read as missing (key 0).
            var classIndex = description.ClassNames.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => (uint)c.i);
            var rows = new Row[Count];
            for (int i = 0; i < Count; i++)
            {
                uint key = Missing;
                string label = withLabels ? Labels?[i] : null;
                if (label != null && !classIndex.TryGetValue(label, out key))
                {
                    key = requireKnownLabels
                        ? throw new CliException(ExitCodes.BadInput,
                            $"Row {RowNames[i]} has label '{label}', which is not one of the model's classes ({string.Join(", ", description.ClassNames)}).")
                        : Missing;
                }
                rows[i] = new Row { Features = Features[i], Label = key };
            }
            return mlContext.Data.LoadFromEnumerable(rows, Schema(description));
        }

        private const uint Missing = uint.MaxValue;

        private static SchemaDefinition Schema(DataDescription description)
        {
            var definition = SchemaDefinition.Create(typeof(Row));
            definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, description.Shape);
            int k = description.ClassNames.Length;
            var label = definition[nameof(Row.Label)];
            label.ColumnType = new KeyDataViewType(typeof(uint), k);
            var names = new VBuffer<ReadOnlyMemory<char>>(k, description.ClassNames.Select(n => n.AsMemory()).ToArray());
            label.AddAnnotation("KeyValues", names, new VectorDataViewType(TextDataViewType.Instance, k));
            return definition;
        }

        /// <summary>SHA-256 of the row count and the features as the model sees them (labels aside): the same rows read
        /// again give the same value, whatever file they came from.</summary>
        public string Fingerprint()
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(BitConverter.GetBytes(Count));
            foreach (var row in Features)
                hash.AppendData(MemoryMarshal.AsBytes(row.AsSpan()));
            return Convert.ToHexString(hash.GetHashAndReset());
        }

        /// <summary>The classes of a labeled source, in the order of their keys: numeric order when every label is a number.</summary>
        public static string[] ClassesOf(TabularData source)
        {
            var distinct = source.Labels.Where(l => l != null).Distinct().ToArray();
            bool numeric = distinct.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            return numeric
                ? distinct.OrderBy(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray()
                : distinct.OrderBy(l => l, StringComparer.Ordinal).ToArray();
        }

        private sealed class Row
        {
            public float[] Features;
            public uint Label;
        }
    }

    /// <summary>Exit codes of mlnet-da.</summary>
    internal static class ExitCodes
    {
        public const int Success = 0;

        /// <summary>The command line does not parse (System.CommandLine's own code).</summary>
        public const int Usage = 1;

        /// <summary>A path, method, column or data the command cannot use.</summary>
        public const int BadInput = 2;

        /// <summary>Training or scoring failed (e.g. diverged).</summary>
        public const int Failed = 3;
    }

    /// <summary>An error shown to the user as it is, without a stack trace.</summary>
    internal sealed class CliException : Exception
    {
        public CliException(int exitCode, string message, Exception inner = null)
            : base(message, inner) => ExitCode = exitCode;

        public int ExitCode { get; }
    }
}
