using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.ML.DomainAdaptation.Cli;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Property tests of the readers behind mlnet-da, in-process: random tables (schemas, row counts, quoting, blank lines,
    /// missing, NaN, out-of-range and text cells, corrupt headers) and random IDX files (types, ranks, sizes, gzip, truncation,
    /// corrupt headers). Each gives either the table the file holds or an error naming the file (and, for tables, a data
    /// row, its line and a column that are really at fault); never an exception from inside .NET. Fixed replay seeds.
    /// </summary>
    public sealed class ReaderPropertyTests : IDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnet-da-properties-" + Guid.NewGuid().ToString("N"));

        public ReaderPropertyTests() => Directory.CreateDirectory(_folder);

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        // ---------------------------------------------------------------- tables

        private enum ColumnKind { Numbers, Text, Empty }

        /// <summary>A generated table: its cells as written (unquoted values), where each data row starts, and how it was damaged.</summary>
        private sealed class TableCase
        {
            public string[] Names;
            public ColumnKind[] Kinds; // per column; the label column's kind is Text
            public int LabelIndex;
            public string LabelName; // what --label-column asks for (sometimes a name the table lacks)
            public List<string[]> Rows = new List<string[]>();
            public List<int> Lines = new List<int>();
            public bool Tab;
            public string Text;
            public string HeaderDamage; // null, or what was done to the header or a record's shape
            public int BadRecord = -1; // the data row (0-based) whose cell count was changed

            public override string ToString() => $"{HeaderDamage ?? "intact"}, label '{LabelName}' at {LabelIndex}:\n{Text}";
        }

        private static readonly string[] BadNumbers = { "", "NaN", "1e39", "-1e40", "abc", "Infinity", "1.2.3", "-" };

        private static Gen<TableCase> Tables() =>
            from columns in Gen.Choose(1, 5)
            from rowCount in Gen.Choose(1, 12)
            from seed in Gen.Choose(0, int.MaxValue - 1)
            select MakeTable(columns, rowCount, new Random(seed));

        /// <summary>Builds a table from a seed: plain random choices, so that a failing case replays from FsCheck's seed.</summary>
        private static TableCase MakeTable(int columns, int rowCount, Random random)
        {
            var t = new TableCase { Tab = random.Next(3) == 0 };
            int total = columns + 1;
            t.LabelIndex = random.Next(total);
            t.Names = Enumerable.Range(0, total).Select(i => i == t.LabelIndex ? "Label" : "c" + i).ToArray();
            t.Kinds = Enumerable.Range(0, total).Select(i => i == t.LabelIndex ? ColumnKind.Text
                : random.Next(10) switch { < 7 => ColumnKind.Numbers, < 9 => ColumnKind.Text, _ => ColumnKind.Empty }).ToArray();
            t.LabelName = random.Next(12) == 0 ? "Target" : random.Next(4) == 0 ? "label" : "Label";
            var classes = random.Next(2) == 0 ? new[] { "0", "1", "2" } : new[] { "cat", "dog", "a, b" };
            for (int r = 0; r < rowCount; r++)
            {
                var row = new string[total];
                for (int c = 0; c < total; c++)
                {
                    row[c] = c == t.LabelIndex ? (random.Next(15) == 0 ? "" : classes[random.Next(classes.Length)])
                        : t.Kinds[c] switch
                        {
                            ColumnKind.Numbers => random.Next(12) == 0 ? BadNumbers[random.Next(BadNumbers.Length)]
                                : ((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 6))).ToString("R", CultureInfo.InvariantCulture),
                            ColumnKind.Text => random.Next(6) == 0 ? "" : random.Next(3) == 0 ? "line\nbreak \"q\"" : "id" + random.Next(1000),
                            _ => "",
                        };
                }
                t.Rows.Add(row);
            }
            if (random.Next(6) == 0)
            {
                switch (random.Next(4))
                {
                    case 0: t.HeaderDamage = "duplicate name"; t.Names[random.Next(total)] = t.Names[(t.LabelIndex + 1) % total] == "Label" ? "Label" : t.Names[(t.LabelIndex + 1) % total]; break;
                    case 1: t.HeaderDamage = "empty name"; t.Names[random.Next(total)] = ""; break;
                    case 2: t.HeaderDamage = "record with a missing cell"; t.BadRecord = random.Next(rowCount); break;
                    default: t.HeaderDamage = "unclosed quote"; break;
                }
                if (t.HeaderDamage == "duplicate name" && t.Names.Distinct().Count() == total)
                    t.HeaderDamage = null; // the draw renamed a column to its own name
            }

            // The text: header, records with quoting where needed (and sometimes where not), blank lines, \n or \r\n.
            char separator = t.Tab ? '\t' : ',';
            string newline = random.Next(2) == 0 ? "\n" : "\r\n";
            var text = new StringBuilder();
            int line = 1;
            string Quote(string cell) => cell.IndexOfAny(new[] { separator, '"', '\n', '\r' }) >= 0 || random.Next(8) == 0 && cell.Length > 0
                ? "\"" + cell.Replace("\"", "\"\"") + "\"" : cell;
            text.Append(string.Join(separator, t.Names.Select(Quote))).Append(newline);
            line++;
            for (int r = 0; r < rowCount; r++)
            {
                if (random.Next(8) == 0)
                {
                    text.Append(newline);
                    line++;
                }
                var cells = t.Rows[r].Select(Quote).ToList();
                if (r == t.BadRecord)
                    cells.RemoveAt(cells.Count - 1);
                if (t.HeaderDamage == "unclosed quote" && r == rowCount - 1)
                    cells[0] = "\"" + cells[0];
                t.Lines.Add(line);
                string record = string.Join(separator, cells);
                line += record.Count(ch => ch == '\n');
                text.Append(record).Append(newline);
                line++;
            }
            t.Text = text.ToString();
            return t;
        }

        private string Write(TableCase t)
        {
            string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + (t.Tab ? ".tsv" : ".csv"));
            File.WriteAllText(path, t.Text);
            return path;
        }

        private static bool IsNumberLike(string cell) => double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

        private static bool IsFiniteSingle(string cell) =>
            float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v);

        /// <summary>The documented rule: a feature column is one where more than half of the non-empty cells are numbers.</summary>
        private static bool HoldsNumbers(TableCase t, int c)
        {
            var filled = t.Rows.Select(r => r[c]).Where(v => v.Length > 0).ToArray();
            return filled.Length > 0 && 2 * filled.Count(IsNumberLike) > filled.Length;
        }

        private static int LabelIndexOf(TableCase t) =>
            Array.IndexOf(t.Names, t.LabelName) is int i and >= 0 ? i : Array.FindIndex(t.Names, n => string.Equals(n, t.LabelName, StringComparison.OrdinalIgnoreCase));

        /// <summary>An error's message: it names the file; a row it names is "data row N (line L)" with L the line where data
        /// row N starts; a column it names at such a row holds a bad cell there (empty label, or a feature cell that is not a
        /// finite Single).</summary>
        private static void AssertPointsAtTheFault(TableCase t, string path, CliException e, bool source)
        {
            Assert.Equal(ExitCodes.BadInput, e.ExitCode);
            Assert.Contains(path, e.Message);
            var at = Regex.Match(e.Message, @"data row (\d+) \(line (\d+)\)(?:, column '([^']*)')?");
            if (!at.Success)
                return;
            int row = int.Parse(at.Groups[1].Value) - 1, line = int.Parse(at.Groups[2].Value);
            Assert.InRange(row, 0, t.Rows.Count - 1);
            Assert.Equal(t.Lines[row], line);
            if (!at.Groups[3].Success)
            {
                Assert.Equal(t.BadRecord, row); // a record's shape
                return;
            }
            int column = Array.IndexOf(t.Names, at.Groups[3].Value);
            Assert.True(column >= 0, e.Message);
            string cell = t.Rows[row][column];
            if (column == LabelIndexOf(t))
                Assert.True(source && cell.Length == 0, e.Message);
            else
                Assert.False(IsFiniteSingle(cell), e.Message);
        }

        /// <summary>As the training source: the columns the rule chooses, the values of the cells, the labels; or an error at a real fault.</summary>
        [Property(MaxTest = 40, Replay = "(20261127,7)")]
        public Property SourceTablesReadAsWrittenOrFailNamingRowAndColumn() => Prop.ForAll(Tables().ToArbitrary(), t =>
        {
            string path = Write(t);
            int label = LabelIndexOf(t);
            var features = Enumerable.Range(0, t.Names.Length).Where(c => c != label && HoldsNumbers(t, c)).ToArray();
            bool valid = t.HeaderDamage == null && label >= 0 && features.Length > 0
                && t.Rows.All(r => r[label].Length > 0 && features.All(c => IsFiniteSingle(r[c])))
                && t.Rows.Select(r => r[label]).Distinct().Count() >= 2;
            try
            {
                var (data, description) = DataReader.ReadSource(new MLContext(0), path, null, new DataReader.Settings { LabelColumn = t.LabelName });
                Assert.True(valid, "read a table that has a fault: " + t);
                Assert.Equal(features.Select(c => t.Names[c]), description.FeatureColumns);
                Assert.Equal(t.Rows.Count, data.Count);
                for (int r = 0; r < t.Rows.Count; r++)
                {
                    Assert.Equal(t.Rows[r][label], data.Labels[r]);
                    Assert.Equal((r + 1).ToString(CultureInfo.InvariantCulture), data.RowNames[r]);
                    for (int j = 0; j < features.Length; j++)
                    {
                        float expected = float.Parse(t.Rows[r][features[j]], CultureInfo.InvariantCulture);
                        Assert.Equal(expected, data.Features[r][j]); // raw: the model's chain standardises (mlnet-da Preprocessing)
                    }
                }
            }
            catch (CliException e)
            {
                Assert.False(valid, $"{e.Message}\n{t}");
                AssertPointsAtTheFault(t, path, e, source: true);
            }
        });

        /// <summary>As target or evaluation data of a model whose features are the table's numeric columns: empty labels are
        /// missing, a bad feature cell is an error at its row and column; a model column the table lacks is named.</summary>
        [Property(MaxTest = 40, Replay = "(20261128,9)")]
        public Property TargetTablesReadAsWrittenOrFailNamingRowAndColumn() => Prop.ForAll(Tables().ToArbitrary(), Gen.Choose(0, 4).ToArbitrary(), (t, extra) =>
        {
            string path = Write(t);
            int label = LabelIndexOf(t);
            var features = Enumerable.Range(0, t.Names.Length).Where(c => c != label && t.Kinds[c] == ColumnKind.Numbers).ToArray();
            // Sometimes the model has a column the table lacks.
            var modelColumns = features.Select(c => t.Names[c]).Concat(extra == 0 ? new[] { "absent" } : Array.Empty<string>()).ToArray();
            var description = new DataDescription
            {
                Kind = "table", LabelColumn = t.LabelName, FeatureColumns = modelColumns, Shape = new[] { modelColumns.Length },
                FeatureMeans = new float[modelColumns.Length], FeatureScales = Enumerable.Repeat(1f, modelColumns.Length).ToArray(),
                ClassNames = new[] { "0", "1" },
            };
            bool valid = t.HeaderDamage == null && extra != 0 && t.Rows.All(r => features.All(c => IsFiniteSingle(r[c])));
            try
            {
                var data = DataReader.Read(new MLContext(0), path, null, description, "Target");
                Assert.True(valid, "read a table that has a fault: " + t);
                Assert.Equal(t.Rows.Count, data.Count);
                for (int r = 0; r < t.Rows.Count; r++)
                {
                    Assert.Equal(label < 0 || t.Rows[r][label].Length == 0 ? null : t.Rows[r][label], data.Labels?[r]);
                    Assert.Equal(features.Select(c => float.Parse(t.Rows[r][c], CultureInfo.InvariantCulture)), data.Features[r]);
                }
            }
            catch (CliException e)
            {
                Assert.False(valid, $"{e.Message}\n{t}");
                AssertPointsAtTheFault(t, path, e, source: false);
                if (extra == 0 && t.HeaderDamage == null && !Regex.IsMatch(e.Message, "data row"))
                    Assert.Contains("'absent'", e.Message);
            }
        });

        /// <summary>evaluate's note: the training rows are recognised, a table with one cell changed, one row fewer or the rows
        /// in another order is not.</summary>
        [Fact]
        public void FingerprintsTellTheTrainingRowsFromOthers()
        {
            TabularData Rows(params float[][] features) => new TabularData { Features = features, RowNames = new string[features.Length] };
            var description = new DataDescription
            {
                SourceFingerprint = Rows(new[] { 1f, 2f }, new[] { 3f, 4f }).Fingerprint(),
                TargetFingerprint = Rows(new[] { 5f, 6f }).Fingerprint(),
            };
            Assert.Contains("labeled source", description.TrainingRoleOf(Rows(new[] { 1f, 2f }, new[] { 3f, 4f })));
            Assert.Contains("unlabeled target", description.TrainingRoleOf(Rows(new[] { 5f, 6f })));
            Assert.Null(description.TrainingRoleOf(Rows(new[] { 1f, 2f }, new[] { 3f, 4.0001f })));
            Assert.Null(description.TrainingRoleOf(Rows(new[] { 1f, 2f })));
            Assert.Null(description.TrainingRoleOf(Rows(new[] { 3f, 4f }, new[] { 1f, 2f })));
            Assert.Null(new DataDescription().TrainingRoleOf(Rows(new[] { 5f, 6f }))); // a model without fingerprints
        }

        // ---------------------------------------------------------------- IDX files

        /// <summary>A generated IDX file: what it holds, the bytes written, and the damage done to them.</summary>
        private sealed class IdxCase
        {
            public byte Type;
            public int[] Dimensions;
            public float[] Values;
            public byte[] Bytes;
            public bool Gzip;
            public string Damage; // null, "trailing bytes" (still readable), "truncated", or a header change
            public bool GzipTruncated; // the compressed file cut short (may still hold every byte: only the trailer lost)

            public override string ToString() => $"type 0x{Type:X2}, {string.Join(" × ", Dimensions)}, gzip {Gzip} (truncated {GzipTruncated}), {Damage ?? "intact"}, {Bytes.Length} bytes";
        }

        private static Gen<IdxCase> IdxFiles() =>
            from seed in Gen.Choose(0, int.MaxValue - 1)
            select MakeIdx(new Random(seed));

        private static IdxCase MakeIdx(Random random)
        {
            var types = new byte[] { 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E };
            var c = new IdxCase { Type = types[random.Next(types.Length)], Gzip = random.Next(3) == 0 };
            c.Dimensions = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(1, 6)).ToArray();
            int count = c.Dimensions.Aggregate(1, (a, b) => a * b);
            c.Values = new float[count];
            var body = new List<byte> { 0, 0, c.Type, (byte)c.Dimensions.Length };
            foreach (int d in c.Dimensions)
                body.AddRange(BigEndian(d));
            for (int i = 0; i < count; i++)
            {
                switch (c.Type)
                {
                    case 0x08: c.Values[i] = (byte)random.Next(256); body.Add((byte)c.Values[i]); break;
                    case 0x09: c.Values[i] = (sbyte)random.Next(-128, 128); body.Add((byte)(sbyte)c.Values[i]); break;
                    case 0x0B: c.Values[i] = (short)random.Next(short.MinValue, short.MaxValue); body.AddRange(BigEndian((short)c.Values[i])); break;
                    case 0x0C: int v = random.Next(-1 << 20, 1 << 20); c.Values[i] = v; body.AddRange(BigEndian(v)); break;
                    case 0x0D: c.Values[i] = (float)(random.NextDouble() * 100 - 50); body.AddRange(BigEndian(BitConverter.SingleToInt32Bits(c.Values[i]))); break;
                    default:
                        double x = random.NextDouble() * 100 - 50;
                        c.Values[i] = (float)x;
                        long bits = BitConverter.DoubleToInt64Bits(x);
                        body.AddRange(BigEndian((int)(bits >> 32)).Concat(BigEndian((int)bits)));
                        break;
                }
            }
            switch (random.Next(8))
            {
                case 0: c.Damage = "truncated"; break;
                case 1: c.Damage = "trailing bytes"; body.AddRange(new byte[random.Next(1, 9)]); break;
                case 2:
                    // One or more sizes in the millions or billions: their product must not wrap around nor be allocated.
                    c.Damage = "huge dimension";
                    int first = random.Next(c.Dimensions.Length);
                    for (int d = 0; d < c.Dimensions.Length; d++)
                    {
                        if (d == first || random.Next(2) == 0)
                            body[4 + 4 * d + random.Next(2)] = (byte)(random.Next(3) switch { 0 => 0x7F, 1 => 0xFF, _ => 0x01 });
                    }
                    break;
                case 3: c.Damage = "rank"; body[3] = (byte)random.Next(0, 256); break;
                case 4: c.Damage = "type"; body[2] = (byte)random.Next(0, 256); break;
                case 5: c.Damage = "magic"; body[random.Next(2)] = (byte)random.Next(1, 256); break;
            }
            c.Bytes = c.Damage == "truncated" ? body.Take(random.Next(0, body.Count)).ToArray() : body.ToArray();
            if (c.Gzip)
            {
                using var memory = new MemoryStream();
                using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
                    gzip.Write(c.Bytes);
                c.Bytes = memory.ToArray();
                if (random.Next(4) == 0)
                {
                    c.GzipTruncated = true;
                    c.Bytes = c.Bytes.Take(random.Next(2, c.Bytes.Length)).ToArray();
                }
            }
            return c;
        }

        private static IEnumerable<byte> BigEndian(int value) => new[] { (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value };

        private static IEnumerable<byte> BigEndian(short value) => new[] { (byte)(value >> 8), (byte)value };

        /// <summary>Sizes whose product passes what an array holds, or wraps around 64 bits, fail as such before any allocation.</summary>
        [Theory]
        [InlineData(new[] { 0x7FFFFFFF, 0x7FFFFFFF, 4 })]
        [InlineData(new[] { 65536, 65536, 65536, 65536, 65536 })]
        [InlineData(new[] { 1 << 30, 2, 1 })]
        public void IdxSizesPastAnArrayFailNamingTheFile(int[] dimensions)
        {
            string path = Path.Combine(_folder, "huge.idx");
            File.WriteAllBytes(path, new byte[] { 0, 0, 0x08, (byte)dimensions.Length }.Concat(dimensions.SelectMany(BigEndian)).Concat(new byte[16]).ToArray());
            var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("more than one array can hold", e.Message);
        }

        /// <summary>An intact file (or one with trailing bytes) reads as written; a damaged one reads as a consistent array or
        /// fails with InvalidDataException naming the file; a truncated one always fails.</summary>
        [Property(MaxTest = 100, Replay = "(20261129,11)")]
        public Property IdxFilesReadAsWrittenOrFailNamingTheFile() => Prop.ForAll(IdxFiles().ToArbitrary(), c =>
        {
            string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + (c.Gzip ? ".gz" : ".idx"));
            File.WriteAllBytes(path, c.Bytes);
            try
            {
                var file = IdxFile.Read(path);
                // A changed rank or type may still describe a readable array; sizes past an array's reach or missing bytes may not.
                Assert.True(c.Damage is null or "trailing bytes" or "rank" or "type", $"read a damaged file: {c}");
                Assert.Equal(file.Dimensions.Aggregate(1L, (a, b) => a * b), file.Values.LongLength);
                if (c.Damage is null or "trailing bytes")
                {
                    Assert.Equal(c.Dimensions, file.Dimensions);
                    Assert.Equal(c.Values, file.Values);
                }
            }
            catch (InvalidDataException e)
            {
                Assert.False(c.Damage is null or "trailing bytes" && !c.GzipTruncated, $"{e.Message} ({c})");
                Assert.Contains(path, e.Message);
            }
        });
    }
}
