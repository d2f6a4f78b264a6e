using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FsCheck.Xunit;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Property tests of <c>CombineDomains</c> and <see cref="DomainData.Read"/> on random schemas, row counts and missing
    /// values: either the right view / rows, or an ArgumentException / InvalidOperationException naming the column; never an
    /// exception from inside .NET or libtorch. FsCheck draws the structure (column kinds, which target columns exist or
    /// differ, row counts) and shrinks it on failure; the values come from a seeded generator. Replay fixes the run.
    /// </summary>
    public class DataPropertyTests
    {
        private const string Replay = "(20261127,12345)";

        /// <summary>The column kinds the generators choose from (index = kind).</summary>
        private static readonly DataViewType[] Kinds =
        {
            NumberDataViewType.Single, NumberDataViewType.Double, BooleanDataViewType.Instance, NumberDataViewType.Int32,
            TextDataViewType.Instance, new KeyDataViewType(typeof(uint), 3), new VectorDataViewType(NumberDataViewType.Single, 3),
            new VectorDataViewType(NumberDataViewType.Single), new VectorDataViewType(TextDataViewType.Instance, 2),
        };

        [Property(MaxTest = 40, Replay = Replay)]
        public void CombineDomainsGivesEveryRowOrNamesTheColumn(byte[] sourceKinds, byte[] targetMask, byte sourceRows, byte targetRows, int seed)
        {
            sourceKinds ??= Array.Empty<byte>();
            targetMask ??= Array.Empty<byte>();
            var random = new Random(seed);
            // Source columns c0, c1…; one named as the domain column when the first kind byte is large.
            var sourceColumns = sourceKinds.Take(6).Select((k, i) => (Name: i == 0 && k > 240 ? "IsTarget" : $"c{i}", Type: Kinds[k % Kinds.Length])).ToList();
            // Each source column is in the target (same type), missing, or of another type; plus a target-only column.
            var targetColumns = new List<(string Name, DataViewType Type)>();
            for (int i = 0; i < sourceColumns.Count; i++)
            {
                int mode = i < targetMask.Length ? targetMask[i] % 4 : 0;
                if (mode == 1 || mode == 3)
                    targetColumns.Add(sourceColumns[i]);
                else if (mode == 2)
                    targetColumns.Add((sourceColumns[i].Name, Kinds[(Array.IndexOf(Kinds, sourceColumns[i].Type) + 1) % Kinds.Length]));
            }
            targetColumns.Add(("onlyInTarget", NumberDataViewType.Single));
            var source = new MemoryView(sourceColumns, Rows(random, sourceColumns, sourceRows % 6));
            var target = new MemoryView(targetColumns, Rows(random, targetColumns, targetRows % 6));

            IDataView combined;
            try
            {
                combined = new MLContext(1).Data.CombineDomains(source, target);
            }
            catch (ArgumentException e)
            {
                var clash = sourceColumns.FirstOrDefault(c => c.Name == "IsTarget" || targetColumns.Any(t => t.Name == c.Name && !t.Type.Equals(c.Type)));
                Assert.True(clash.Name != null, $"Rejected a valid pair: {e.Message}");
                Assert.Contains($"'{clash.Name}'", e.Message);
                return;
            }
            Assert.DoesNotContain(sourceColumns, c => c.Name == "IsTarget" || targetColumns.Any(t => t.Name == c.Name && !t.Type.Equals(c.Type)));

            // Expected: source rows as they are, then target rows with the target's value or the column's missing value.
            Assert.Equal(sourceColumns.Select(c => c.Name).Append("IsTarget"), combined.Schema.Select(c => c.Name));
            Assert.Equal(source.RowCount + target.RowCount, combined.GetRowCount());
            var expected = source.Values.Select(r => r.Append(false).ToArray())
                .Concat(target.Values.Select(r => sourceColumns.Select(c =>
                {
                    int t = targetColumns.FindIndex(x => x.Name == c.Name);
                    return t >= 0 ? r[t] : MissingOf(c.Type);
                }).Append(true).ToArray())).ToList();
            var actual = ReadAll(combined);
            Assert.Equal(expected.Count, actual.Count);
            for (int r = 0; r < expected.Count; r++)
                Assert.Equal(expected[r].Select(Show), actual[r].Select(Show));
        }

        /// <summary>Feature, label and domain columns of random kinds (right or wrong), random values with missing and bad ones.</summary>
        [Property(MaxTest = 100, Replay = Replay)]
        public void DomainDataReadGivesTheRowsOrNamesTheColumnAndRow(byte featureKind, byte labelKind, byte domainKind, byte rowCount, int seed)
        {
            var random = new Random(seed);
            // Mostly the right types (so that most cases reach the rows), sometimes a wrong or missing column.
            int featureSize = 1 + featureKind % 3;
            var featureTypes = new DataViewType[]
            {
                new VectorDataViewType(NumberDataViewType.Single), NumberDataViewType.Single, new VectorDataViewType(NumberDataViewType.Double, featureSize), null,
            };
            var featureType = featureKind / 3 % 20 is int fi && fi < featureTypes.Length ? featureTypes[fi] : new VectorDataViewType(NumberDataViewType.Single, featureSize);
            int classes = 2 + labelKind % 3;
            var labelTypes = new DataViewType[]
            {
                new KeyDataViewType(typeof(uint), 1), new KeyDataViewType(typeof(ulong), classes), TextDataViewType.Instance, NumberDataViewType.Single, null,
            };
            var labelType = labelKind / 3 % 20 is int li && li < labelTypes.Length ? labelTypes[li] : new KeyDataViewType(typeof(uint), classes);
            var domainTypes = new DataViewType[] { NumberDataViewType.Single, null };
            var domainType = domainKind % 16 < domainTypes.Length ? domainTypes[domainKind % 16] : BooleanDataViewType.Instance;
            var columns = new List<(string Name, DataViewType Type)>();
            void Add(string name, DataViewType type)
            {
                if (type != null)
                    columns.Add((name, type));
            }
            Add("Features", featureType);
            Add("Label", labelType);
            Add("IsTarget", domainType);
            var view = new MemoryView(columns, Rows(random, columns, rowCount % 12));

            var estimator = new MLContext(1).Transforms.DomainAdapt(new SourceOnlyOptions { BatchSize = 1 });
            int size, classCount;
            try
            {
                (size, classCount, _) = estimator.CheckInput(view.Schema);
            }
            catch (ArgumentException e)
            {
                Assert.True(new[] { "'Features'", "'Label'", "'IsTarget'" }.Any(e.Message.Contains), e.Message);
                return;
            }

            // The oracle: the first bad row (numbered from 1), else the rows split by domain.
            int f = columns.FindIndex(c => c.Name == "Features"), l = columns.FindIndex(c => c.Name == "Label"), d = columns.FindIndex(c => c.Name == "IsTarget");
            string error = null;
            var sourceRows = new List<object[]>();
            var targetRows = new List<object[]>();
            for (int r = 0; r < view.RowCount && error is null; r++)
            {
                var row = view.Values[r];
                var features = ((VBuffer<float>)row[f]).DenseValues().ToArray();
                uint key = (uint)row[l];
                if (features.Length != size)
                    error = $"Row {r + 1} of feature column 'Features'";
                else if (key > classCount)
                    error = $"Row {r + 1} of label column 'Label'";
                else if (features.Any(v => !float.IsFinite(v)))
                    error = $"Row {r + 1} of feature column 'Features'";
                else if (!(bool)row[d] && key == 0)
                    error = $"Row {r + 1} is a source row";
                else
                    ((bool)row[d] ? targetRows : sourceRows).Add(row);
            }
            if (error is null && sourceRows.Count == 0)
                error = "no source rows";
            else if (error is null && targetRows.Count == 0)
                error = "no target rows";
            else if (error is null && sourceRows.Select(r => (uint)r[l]).Distinct().Count() < 2)
                error = "single class";

            DomainData data;
            try
            {
                data = DomainData.Read(view, "Features", "Label", "IsTarget", size, classCount);
            }
            catch (InvalidOperationException e)
            {
                Assert.True(error != null, $"Rejected valid rows: {e.Message}");
                Assert.Contains(error, e.Message);
                return;
            }
            Assert.True(error is null, $"Accepted rows the oracle rejects ({error}).");
            Assert.Equal(sourceRows.Count, data.SourceCount);
            Assert.Equal(targetRows.Count, data.TargetCount);
            Assert.Equal(sourceRows.SelectMany(r => ((VBuffer<float>)r[f]).DenseValues()), data.SourceFeatures.ToArray());
            Assert.Equal(targetRows.SelectMany(r => ((VBuffer<float>)r[f]).DenseValues()), data.TargetFeatures.ToArray());
            Assert.Equal(sourceRows.Select(r => (long)(uint)r[l] - 1), data.SourceLabels);
            Assert.Equal(targetRows.Select(r => (uint)r[l] == 0 ? -1L : (uint)r[l] - 1), data.TargetLabels);
        }

        /// <summary>Random values of each column's type: NaN, infinities, missing keys, empty text, occasionally a vector of the wrong length.</summary>
        private static List<object[]> Rows(Random random, List<(string Name, DataViewType Type)> columns, int count) =>
            Enumerable.Range(0, count).Select(_ => columns.Select(c => Value(random, c.Type)).ToArray()).ToList();

        private static object Value(Random random, DataViewType type)
        {
            float Number() => random.Next(10) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => -0f, _ => (float)Math.Round(random.NextDouble() * 4 - 2, 2) };
            switch (type)
            {
                case KeyDataViewType key:
                    // 0 is missing; count + 1 is out of range (only a hand-made view can hold it).
                    int draw = random.Next(40);
                    ulong k = draw == 0 ? key.Count + 1 : draw < 5 ? 0 : 1 + (ulong)random.Next((int)key.Count);
                    return key.RawType == typeof(uint) ? (uint)k : (object)k;
                case VectorDataViewType vector:
                    // A known-size vector is sometimes given the wrong length, as a faulty upstream view could.
                    int length = vector.IsKnownSize ? (random.Next(40) == 0 ? vector.Size + 1 : vector.Size) : random.Next(0, 4);
                    if (vector.ItemType == NumberDataViewType.Single)
                        return new VBuffer<float>(length, Enumerable.Range(0, length).Select(_ => random.Next(12) == 0 ? Number() : (float)random.Next(-3, 4)).ToArray());
                    if (vector.ItemType == NumberDataViewType.Double)
                        return new VBuffer<double>(length, Enumerable.Range(0, length).Select(_ => (double)Number()).ToArray());
                    return new VBuffer<ReadOnlyMemory<char>>(length, Enumerable.Range(0, length).Select(_ => (random.Next(3) == 0 ? "" : "t" + random.Next(3)).AsMemory()).ToArray());
            }
            if (type == NumberDataViewType.Single)
                return Number();
            if (type == NumberDataViewType.Double)
                return (double)Number();
            if (type == BooleanDataViewType.Instance)
                return random.Next(2) == 0;
            if (type == NumberDataViewType.Int32)
                return random.Next(-2, 3);
            return (random.Next(3) == 0 ? "" : "w" + random.Next(3)).AsMemory();
        }

        private static object MissingOf(DataViewType type) => type switch
        {
            KeyDataViewType => 0u,
            VectorDataViewType { ItemType: var item } v when item == NumberDataViewType.Single => new VBuffer<float>(v.Size, Enumerable.Repeat(float.NaN, v.Size).ToArray()),
            VectorDataViewType v => new VBuffer<ReadOnlyMemory<char>>(v.Size, new ReadOnlyMemory<char>[v.Size]),
            _ when type == NumberDataViewType.Single => float.NaN,
            _ when type == NumberDataViewType.Double => double.NaN,
            _ when type == BooleanDataViewType.Instance => false,
            _ when type == NumberDataViewType.Int32 => 0,
            _ => ReadOnlyMemory<char>.Empty,
        };

        /// <summary>A value as text, so values of any type compare (NaN equals NaN, vectors by their dense values).</summary>
        private static string Show(object value) => value switch
        {
            VBuffer<float> v => "[" + string.Join(" ", v.DenseValues().Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
            VBuffer<double> v => "[" + string.Join(" ", v.DenseValues().Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
            VBuffer<ReadOnlyMemory<char>> v => "[" + string.Join(" ", v.DenseValues().Select(x => "'" + x + "'")) + "]",
            float x => x.ToString("R", CultureInfo.InvariantCulture),
            double x => x.ToString("R", CultureInfo.InvariantCulture),
            ReadOnlyMemory<char> x => "'" + x + "'",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };

        private static List<object[]> ReadAll(IDataView view)
        {
            var rows = new List<object[]>();
            using var cursor = view.GetRowCursor(view.Schema);
            var getters = view.Schema.Select(c => Getter(cursor, c)).ToArray();
            while (cursor.MoveNext())
                rows.Add(getters.Select(g => g()).ToArray());
            return rows;
        }

        private static Func<object> Getter(DataViewRowCursor cursor, DataViewSchema.Column column)
        {
            Func<object> Make<T>()
            {
                var getter = cursor.GetGetter<T>(column);
                return () =>
                {
                    T value = default;
                    getter(ref value);
                    return value is VBuffer<float> f ? new VBuffer<float>(f.Length, f.DenseValues().ToArray())
                        : value is VBuffer<ReadOnlyMemory<char>> t ? new VBuffer<ReadOnlyMemory<char>>(t.Length, t.DenseValues().ToArray())
                        : value;
                };
            }
            var type = column.Type;
            if (type is VectorDataViewType vector)
                return vector.ItemType == NumberDataViewType.Single ? Make<VBuffer<float>>() : Make<VBuffer<ReadOnlyMemory<char>>>();
            if (type is KeyDataViewType)
                return Make<uint>();
            if (type == NumberDataViewType.Single)
                return Make<float>();
            if (type == NumberDataViewType.Double)
                return Make<double>();
            if (type == BooleanDataViewType.Instance)
                return Make<bool>();
            if (type == NumberDataViewType.Int32)
                return Make<int>();
            return Make<ReadOnlyMemory<char>>();
        }

        /// <summary>A view over rows held as objects, of any schema (LoadFromEnumerable needs a class per schema).</summary>
        private sealed class MemoryView : IDataView
        {
            public MemoryView(List<(string Name, DataViewType Type)> columns, List<object[]> values)
            {
                var builder = new DataViewSchema.Builder();
                foreach (var (name, type) in columns)
                    builder.AddColumn(name, type);
                Schema = builder.ToSchema();
                Values = values;
            }

            public List<object[]> Values { get; }

            public int RowCount => Values.Count;

            public DataViewSchema Schema { get; }

            public bool CanShuffle => false;

            public long? GetRowCount() => Values.Count;

            public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random rand = null) => new Cursor(this);

            public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random rand = null) => new[] { GetRowCursor(columnsNeeded) };

            private sealed class Cursor : DataViewRowCursor
            {
                private readonly MemoryView _view;
                private int _position = -1;

                public Cursor(MemoryView view) => _view = view;

                public override DataViewSchema Schema => _view.Schema;

                public override long Position => _position;

                public override long Batch => 0;

                public override bool IsColumnActive(DataViewSchema.Column column) => true;

                public override bool MoveNext() => ++_position < _view.Values.Count;

                public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

                public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
                {
                    if (column.Type.RawType != typeof(TValue))
                        throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue)}.");
                    return (ref TValue value) => value = (TValue)_view.Values[_position][column.Index];
                }
            }
        }
    }
}
