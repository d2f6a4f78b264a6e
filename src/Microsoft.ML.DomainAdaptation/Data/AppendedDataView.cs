using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// Streams the rows of a source view followed by the rows of a target view, with a Boolean column that tells
    /// them apart. Nothing is copied: a cursor reads the source cursor to its end, then the target cursor.
    /// A column of the source that the target lacks is filled with its missing value (key 0, NaN) when its type has
    /// one, so a target without labels can be appended to a labeled source.
    /// </summary>
    internal sealed class AppendedDataView : IDataView
    {
        private readonly IDataView _source;
        private readonly IDataView _target;
        // For each output column but the domain column: its index in the source and in the target (-1: filled as missing).
        private readonly int[] _sourceIndex;
        private readonly int[] _targetIndex;
        private readonly int _domainIndex;

        public AppendedDataView(IDataView source, IDataView target, string domainColumnName)
        {
            _source = source ?? throw new ArgumentNullException(nameof(source));
            _target = target ?? throw new ArgumentNullException(nameof(target));
            if (string.IsNullOrWhiteSpace(domainColumnName))
                throw new ArgumentException("The domain column name must be a non-empty string.", nameof(domainColumnName));

            var builder = new DataViewSchema.Builder();
            var sourceIndex = new List<int>();
            var targetIndex = new List<int>();
            foreach (var column in source.Schema.Where(c => !c.IsHidden))
            {
                if (column.Name == domainColumnName)
                    throw new ArgumentOutOfRangeException(nameof(domainColumnName),
                        $"The source already has a column named '{domainColumnName}'; choose another domain column name.");
                var targetColumn = target.Schema.GetColumnOrNull(column.Name);
                if (targetColumn is null || targetColumn.Value.IsHidden)
                {
                    if (!HasMissingValue(column.Type))
                        throw SchemaErrors.MissingColumn(nameof(target), "target", column.Name);
                    targetIndex.Add(-1);
                }
                else
                {
                    if (!column.Type.Equals(targetColumn.Value.Type))
                        throw new ArgumentOutOfRangeException(nameof(target),
                            $"Column '{column.Name}' has type {column.Type} in the source but {targetColumn.Value.Type} in the target; both domains must have the same column types.");
                    targetIndex.Add(targetColumn.Value.Index);
                }
                sourceIndex.Add(column.Index);
                builder.AddColumn(column.Name, column.Type, column.Annotations);
            }
            _domainIndex = sourceIndex.Count;
            builder.AddColumn(domainColumnName, BooleanDataViewType.Instance);
            Schema = builder.ToSchema();
            _sourceIndex = sourceIndex.ToArray();
            _targetIndex = targetIndex.ToArray();
        }

        public DataViewSchema Schema { get; }

        public bool CanShuffle => false;

        public long? GetRowCount()
        {
            var s = _source.GetRowCount();
            var t = _target.GetRowCount();
            return s.HasValue && t.HasValue ? s + t : null;
        }

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random rand = null)
        {
            var active = new bool[Schema.Count];
            foreach (var column in columnsNeeded ?? Enumerable.Empty<DataViewSchema.Column>())
                active[column.Index] = true;
            return new Cursor(this, active);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random rand = null)
            => new[] { GetRowCursor(columnsNeeded, rand) };

        private static bool HasMissingValue(DataViewType type) =>
            type is KeyDataViewType || type == NumberDataViewType.Single || type == NumberDataViewType.Double;

        private sealed class Cursor : DataViewRowCursor
        {
            private readonly AppendedDataView _parent;
            private readonly bool[] _active;
            private readonly DataViewRowCursor _source;
            private readonly DataViewRowCursor _target;
            private bool _inTarget;
            private long _position = -1;

            public Cursor(AppendedDataView parent, bool[] active)
            {
                _parent = parent;
                _active = active;
                _source = parent._source.GetRowCursor(Needed(parent._source.Schema, parent._sourceIndex));
                _target = parent._target.GetRowCursor(Needed(parent._target.Schema, parent._targetIndex));
            }

            private IEnumerable<DataViewSchema.Column> Needed(DataViewSchema schema, int[] indices)
            {
                for (int i = 0; i < indices.Length; i++)
                {
                    if (_active[i] && indices[i] >= 0)
                        yield return schema[indices[i]];
                }
            }

            public override DataViewSchema Schema => _parent.Schema;

            public override long Position => _position;

            public override long Batch => 0;

            public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

            public override bool MoveNext()
            {
                if (!_inTarget)
                {
                    if (_source.MoveNext())
                    {
                        _position++;
                        return true;
                    }
                    _inTarget = true;
                }
                if (_target.MoveNext())
                {
                    _position++;
                    return true;
                }
                return false;
            }

            public override ValueGetter<DataViewRowId> GetIdGetter() =>
                (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (!_active[column.Index])
                    throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made.");
                if (column.Index == _parent._domainIndex)
                {
                    ValueGetter<bool> domain = (ref bool value) => value = _inTarget;
                    return (ValueGetter<TValue>)(Delegate)domain;
                }
                var fromSource = _source.GetGetter<TValue>(_parent._source.Schema[_parent._sourceIndex[column.Index]]);
                int targetIndex = _parent._targetIndex[column.Index];
                var fromTarget = targetIndex >= 0 ? _target.GetGetter<TValue>(_parent._target.Schema[targetIndex]) : MissingGetter<TValue>(column.Type);
                return (ref TValue value) =>
                {
                    if (_inTarget)
                        fromTarget(ref value);
                    else
                        fromSource(ref value);
                };
            }

            private static ValueGetter<TValue> MissingGetter<TValue>(DataViewType type)
            {
                Delegate getter = type switch
                {
                    KeyDataViewType key when key.RawType == typeof(uint) => (ValueGetter<uint>)((ref uint v) => v = 0),
                    KeyDataViewType key when key.RawType == typeof(ulong) => (ValueGetter<ulong>)((ref ulong v) => v = 0),
                    KeyDataViewType key when key.RawType == typeof(ushort) => (ValueGetter<ushort>)((ref ushort v) => v = 0),
                    KeyDataViewType key when key.RawType == typeof(byte) => (ValueGetter<byte>)((ref byte v) => v = 0),
                    _ when type == NumberDataViewType.Single => (ValueGetter<float>)((ref float v) => v = float.NaN),
                    _ when type == NumberDataViewType.Double => (ValueGetter<double>)((ref double v) => v = double.NaN),
                    _ => throw new InvalidOperationException($"No missing value for type {type}."),
                };
                return (ValueGetter<TValue>)getter;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    _source.Dispose();
                    _target.Dispose();
                }
                base.Dispose(disposing);
            }
        }
    }
}
