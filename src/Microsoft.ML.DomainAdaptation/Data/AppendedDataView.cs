using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// Streams the rows of a source view followed by the rows of a target view, with a Boolean column that tells
    /// them apart. Nothing is copied: a cursor reads the source cursor to its end, then the target cursor.
    /// A column of the source that the target lacks reads as missing on target rows, whatever its type (see
    /// <see cref="MissingValue"/>), so a target without labels (keys, numbers or text) can be appended to a labeled source.
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
                    if (!(column.Type is PrimitiveDataViewType || column.Type is VectorDataViewType))
                        throw new ArgumentOutOfRangeException(nameof(target),
                            $"Could not find target column '{column.Name}': its type {column.Type} has no missing value to fill target rows with; add the column to the target or drop it from the source.");
                    targetIndex.Add(-1);
                }
                else
                {
                    if (!column.Type.Equals(targetColumn.Value.Type))
                        throw new ArgumentOutOfRangeException(nameof(target), $"Column '{column.Name}' has type {column.Type} in the source but " +
                            $"{targetColumn.Value.Type} in the target; both domains must have the same column types." +
                            (column.Type is KeyDataViewType || targetColumn.Value.Type is KeyDataViewType
                                ? " Keys made separately in each domain differ: combine the domains first, then map the label to a key (MapValueToKey) on the combined view."
                                : ""));
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

        /// <summary>
        /// The value a target row reads in a column the target lacks: ML.NET's missing value where the type has one (key 0, NaN,
        /// empty text, which MapValueToKey maps to the missing key 0), otherwise the type's default (false, 0, …). A vector holds
        /// that value in every slot (variable-size vectors are empty).
        /// </summary>
        internal static object MissingValue(PrimitiveDataViewType type)
        {
            if (type == NumberDataViewType.Single)
                return float.NaN;
            if (type == NumberDataViewType.Double)
                return double.NaN;
            return type.RawType.IsValueType ? Activator.CreateInstance(type.RawType) : null;
        }

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
                Delegate getter;
                if (type is VectorDataViewType vector)
                {
                    getter = (Delegate)typeof(Cursor).GetMethod(nameof(MissingVectorGetter), BindingFlags.NonPublic | BindingFlags.Static)!
                        .MakeGenericMethod(vector.ItemType.RawType).Invoke(null, new[] { vector.Size, MissingValue(vector.ItemType) });
                }
                else if (type is PrimitiveDataViewType primitive)
                {
                    getter = (Delegate)typeof(Cursor).GetMethod(nameof(ConstantGetter), BindingFlags.NonPublic | BindingFlags.Static)!
                        .MakeGenericMethod(primitive.RawType).Invoke(null, new[] { MissingValue(primitive) });
                }
                else
                {
                    throw new InvalidOperationException($"Column type {type} has no missing value to fill target rows with; add the column to the target.");
                }
                if (getter is not ValueGetter<TValue> typed)
                    throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{type.RawType}'.");
                return typed;
            }

            private static ValueGetter<T> ConstantGetter<T>(T value) => (ref T v) => v = value;

            // Dense, so every slot reads the same (a sparse text vector's implicit slots read as null, not empty text).
            private static ValueGetter<VBuffer<T>> MissingVectorGetter<T>(int size, T value) =>
                (ref VBuffer<T> v) =>
                {
                    var editor = VBufferEditor.Create(ref v, size);
                    editor.Values.Fill(value);
                    v = editor.Commit();
                };

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
