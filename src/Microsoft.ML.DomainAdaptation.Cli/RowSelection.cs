using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// A split file (<c>--source-rows</c>, <c>--target-rows</c>, <c>--rows</c>): the rows of a data path to use, one
    /// 0-based row index per line in the order of the data (IDX image, table data row after the header, image of a folder
    /// in the order <c>predict</c> lists them), as the digits' <c>train-indices.txt</c>/<c>test-indices.txt</c>. Blank
    /// lines are skipped; a number that is not a whole number, repeats or is past the data's rows is an error naming the
    /// file and its line. Rows are used in the file's order; messages and <c>predict</c>'s <c>Row</c> keep the data's own
    /// row numbers (counted from 1, so index i is row i + 1).
    /// </summary>
    internal sealed class RowSelection
    {
        private readonly int[] _lines; // the file's line (from 1) of each index

        private RowSelection(string option, string path, int[] indices, int[] lines) =>
            (Option, Path, Indices, _lines) = (option, path, indices, lines);

        public string Option { get; }
        public string Path { get; }
        public IReadOnlyList<int> Indices { get; }

        /// <summary>Reads a split file named by <paramref name="option"/>; null for no file.</summary>
        public static RowSelection Read(string path, string option)
        {
            if (path == null)
                return null;
            if (!File.Exists(path))
                throw new CliException(ExitCodes.BadInput, $"{option}: file '{path}' does not exist.");
            var indices = new List<int>();
            var lines = new List<int>();
            var seen = new Dictionary<int, int>();
            int line = 0;
            foreach (string text in File.ReadLines(path))
            {
                line++;
                string cell = text.Trim();
                if (cell.Length == 0)
                    continue;
                if (!int.TryParse(cell, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                    throw new CliException(ExitCodes.BadInput, $"{option}: file '{path}', line {line}: '{cell}' is not a row index (a whole number from 0; one per line).");
                if (seen.TryGetValue(index, out int first))
                    throw new CliException(ExitCodes.BadInput, $"{option}: file '{path}', line {line}: row index {index} is already on line {first}.");
                seen[index] = line;
                indices.Add(index);
                lines.Add(line);
            }
            if (indices.Count == 0)
                throw new CliException(ExitCodes.BadInput, $"{option}: file '{path}' holds no row index.");
            return new RowSelection(option, path, indices.ToArray(), lines.ToArray());
        }

        /// <summary>The indices, checked against the <paramref name="count"/> rows of <paramref name="dataPath"/>.</summary>
        public int[] Of(int count, string dataPath)
        {
            for (int i = 0; i < Indices.Count; i++)
            {
                if (Indices[i] >= count)
                    throw new CliException(ExitCodes.BadInput, $"{Option}: file '{Path}', line {_lines[i]}: row index {Indices[i]} is past the {count} rows of " +
                        $"'{dataPath}' (indices 0 to {count - 1}).");
            }
            return Indices.ToArray();
        }

        /// <summary>Every row of the data when no file was given, else the file's rows.</summary>
        public static int[] Of(RowSelection rows, int count, string dataPath) =>
            rows?.Of(count, dataPath) ?? Enumerable.Range(0, count).ToArray();
    }
}
