using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// Rows held in memory as an <see cref="IDataView"/> of named columns of any type: the raw input of a model zip (one
    /// Single column per table column, an image-path column, a pixel vector), which <c>LoadFromEnumerable</c> cannot
    /// give with column names known only at run time.
    /// </summary>
    internal sealed class RowsDataView : IDataView
    {
        private readonly long _rowCount;
        private readonly Func<long, Delegate>[] _getters; // per column: row → ValueGetter<T> filling that row's value

        private RowsDataView(long rowCount, DataViewSchema schema, Func<long, Delegate>[] getters)
        {
            _rowCount = rowCount;
            Schema = schema;
            _getters = getters;
        }

        public DataViewSchema Schema { get; }

        public bool CanShuffle => false;

        public long? GetRowCount() => _rowCount;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random rand = null) =>
            new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random rand = null) =>
            new[] { GetRowCursor(columnsNeeded, rand) };

        /// <summary>Collects the columns of a view.</summary>
        public sealed class Builder
        {
            private readonly long _rowCount;
            private readonly DataViewSchema.Builder _schema = new DataViewSchema.Builder();
            private readonly List<Func<long, Delegate>> _getters = new List<Func<long, Delegate>>();

            public Builder(long rowCount) => _rowCount = rowCount;

            public Builder AddSingle(string name, Func<long, float> value)
            {
                _schema.AddColumn(name, NumberDataViewType.Single);
                _getters.Add(row => (ValueGetter<float>)((ref float v) => v = value(row)));
                return this;
            }

            public Builder AddText(string name, Func<long, string> value)
            {
                _schema.AddColumn(name, TextDataViewType.Instance);
                _getters.Add(row => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = (value(row) ?? "").AsMemory()));
                return this;
            }

            public Builder AddVector(string name, int[] dimensions, Func<long, float[]> value)
            {
                _schema.AddColumn(name, new VectorDataViewType(NumberDataViewType.Single, dimensions));
                _getters.Add(row => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                {
                    var values = value(row);
                    var editor = VBufferEditor.Create(ref v, values.Length);
                    values.CopyTo(editor.Values);
                    v = editor.Commit();
                }));
                return this;
            }

            public RowsDataView Build() => new RowsDataView(_rowCount, _schema.ToSchema(), _getters.ToArray());
        }

        private sealed class Cursor : DataViewRowCursor
        {
            private readonly RowsDataView _parent;
            private readonly HashSet<int> _active;
            private long _position = -1;

            public Cursor(RowsDataView parent, HashSet<int> active) => (_parent, _active) = (parent, active);

            public override DataViewSchema Schema => _parent.Schema;

            public override long Position => _position;

            public override long Batch => 0;

            public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

            public override bool MoveNext()
            {
                if (_position + 1 >= _parent._rowCount)
                {
                    _position = _parent._rowCount;
                    return false;
                }
                _position++;
                return true;
            }

            public override ValueGetter<DataViewRowId> GetIdGetter() =>
                (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (!IsColumnActive(column))
                    throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
                var forRow = _parent._getters[column.Index];
                if (forRow(0) is not ValueGetter<TValue>)
                    throw new InvalidOperationException($"Column '{column.Name}' is of type {column.Type}, not {typeof(TValue).Name}.");
                return (ref TValue value) => ((ValueGetter<TValue>)forRow(_position))(ref value);
            }
        }
    }
}
