using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// A delimited text table as its author sees it: a header of unique, non-empty names, then one record per line
    /// (quotes as in RFC 4180: <c>"a,b"</c>, <c>""</c> for a quote, line breaks inside quotes). Blank lines are skipped.
    /// Every record must have the header's number of cells; errors name the file, the data row and the line.
    /// </summary>
    /// <remarks>
    /// Not ML.NET's TextLoader: it pads short records and drops extra cells without a word, and does not report the
    /// file's line numbers, which the tool's messages give.
    /// </remarks>
    internal sealed class CsvTable
    {
        private CsvTable(string path, string[] columns, List<string[]> rows, List<int> lines)
        {
            Path = path;
            Columns = columns;
            Rows = rows;
            Lines = lines;
        }

        public string Path { get; }

        /// <summary>The header's column names, trimmed.</summary>
        public string[] Columns { get; }

        /// <summary>The data rows' cells (unquoted cells trimmed); data row r (1-based) is <c>Rows[r - 1]</c>.</summary>
        public List<string[]> Rows { get; }

        /// <summary>The 1-based line of the file each data row starts on.</summary>
        public List<int> Lines { get; }

        /// <summary>"data row 3 (line 4)": how messages name a row; data rows count from 1, after the header.</summary>
        public string Where(int rowIndex) => $"data row {rowIndex + 1} (line {Lines[rowIndex]})";

        /// <summary>Reads a table: tab-separated for .tsv (or a header with tabs and no commas), comma-separated otherwise.</summary>
        public static CsvTable Read(string path) => Parse(File.ReadAllText(path), path, System.IO.Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase));

        /// <summary>Parses the text of a table (see <see cref="Read"/>); <paramref name="path"/> only names it in messages.</summary>
        public static CsvTable Parse(string text, string path, bool tabSeparated = false)
        {
            var records = Records(text, path, tabSeparated ? '\t' : SeparatorOf(text)).ToList();
            if (records.Count == 0)
                throw new CliException(ExitCodes.BadInput, $"Table '{path}' is empty; expected a header line then one row per example.");
            var (header, _) = records[0];
            var columns = header.Select(c => c.Text).ToArray();
            for (int i = 0; i < columns.Length; i++)
            {
                if (columns[i].Length == 0)
                    throw new CliException(ExitCodes.BadInput, $"Table '{path}': column {i + 1} of the header (line 1) has no name; every column needs one.");
                int first = Array.IndexOf(columns, columns[i]);
                if (first != i)
                    throw new CliException(ExitCodes.BadInput, $"Table '{path}': the header (line 1) names columns {first + 1} and {i + 1} both '{columns[i]}'; names must be unique.");
            }
            var rows = new List<string[]>(records.Count - 1);
            var lines = new List<int>(records.Count - 1);
            foreach (var (cells, line) in records.Skip(1))
            {
                if (cells.Count != columns.Length)
                    throw new CliException(ExitCodes.BadInput,
                        $"Table '{path}', data row {rows.Count + 1} (line {line}): {cells.Count} cells where the header has {columns.Length} columns.");
                rows.Add(cells.Select(c => c.Text).ToArray());
                lines.Add(line);
            }
            if (rows.Count == 0)
                throw new CliException(ExitCodes.BadInput, $"Table '{path}' has a header but no rows.");
            return new CsvTable(path, columns, rows, lines);
        }

        /// <summary>Comma, unless the first line has tabs and no commas.</summary>
        private static char SeparatorOf(string text)
        {
            int end = text.IndexOfAny(new[] { '\r', '\n' });
            var first = end < 0 ? text.AsSpan() : text.AsSpan(0, end);
            return first.Contains('\t') && !first.Contains(',') ? '\t' : ',';
        }

        private readonly record struct Cell(string Text);

        /// <summary>The records of the text with the line each starts on; blank lines skipped.</summary>
        private static IEnumerable<(List<Cell> Cells, int Line)> Records(string text, string path, char separator)
        {
            int line = 1, i = 0;
            if (text.Length > 0 && text[0] == '\uFEFF')
                i = 1;
            var cell = new StringBuilder();
            while (i < text.Length)
            {
                int start = line;
                var cells = new List<Cell>();
                bool blank = true;
                while (true)
                {
                    // One cell: optional spaces, then a quoted part or plain text, up to the separator or the line's end.
                    cell.Clear();
                    bool quoted = false;
                    while (i < text.Length && (text[i] == ' ' || text[i] == '\t' && separator != '\t'))
                        i++;
                    if (i < text.Length && text[i] == '"')
                    {
                        quoted = true;
                        blank = false;
                        int opened = line;
                        i++;
                        while (true)
                        {
                            if (i >= text.Length)
                                throw new CliException(ExitCodes.BadInput, $"Table '{path}', line {opened}: a quoted cell opened there is never closed.");
                            char c = text[i++];
                            if (c == '"')
                            {
                                if (i < text.Length && text[i] == '"')
                                {
                                    cell.Append('"');
                                    i++;
                                    continue;
                                }
                                break;
                            }
                            if (c == '\n')
                                line++;
                            cell.Append(c);
                        }
                    }
                    // Plain text (or what follows a closing quote, kept as spreadsheets do).
                    while (i < text.Length && text[i] != separator && text[i] != '\n' && text[i] != '\r')
                        cell.Append(text[i++]);
                    string value = quoted ? cell.ToString().TrimEnd() : cell.ToString().Trim();
                    if (value.Length > 0)
                        blank = false;
                    cells.Add(new Cell(value));
                    if (i < text.Length && text[i] == separator)
                    {
                        blank = false;
                        i++;
                        continue;
                    }
                    break;
                }
                // The line's end: \n, \r\n or \r.
                if (i < text.Length && text[i] == '\r')
                    i++;
                if (i < text.Length && text[i] == '\n')
                    i++;
                line++;
                if (!blank)
                    yield return (cells, start);
            }
        }
    }
}
