using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// Reads one row of an image data set by its index. Each cursor gets its own reader, so a reader may keep
    /// scratch buffers (a canvas, a decoder) without locking.
    /// </summary>
    internal interface IImageRowReader : IDisposable
    {
        /// <summary>Writes row <paramref name="row"/>'s pixels (planar C×H×W, already scaled) into <paramref name="destination"/>.</summary>
        void ReadFeatures(long row, Span<float> destination);

        /// <summary>Row <paramref name="row"/>'s label as a key: 1..K, 0 when missing.</summary>
        uint ReadLabel(long row);

        /// <summary>Row <paramref name="row"/>'s image file, for views with a path column.</summary>
        string ReadPath(long row);
    }

    /// <summary>
    /// A view of images addressed by row index: features (a known-size vector of Single), an optional key label with
    /// text key values, an optional image path. Values are computed when a cursor asks for them, so the view holds
    /// nothing but what the reader needs (a file's bytes, a font list). Because a row depends only on its index,
    /// shuffled cursors and cursor sets see the same rows, and the view can shuffle.
    /// </summary>
    internal sealed class ImageRowsDataView : IDataView
    {
        private readonly long _rowCount;
        private readonly Func<IImageRowReader> _createReader;
        private readonly int _featureIndex = -1, _labelIndex = -1, _pathIndex = -1;
        private readonly int _featureSize;

        /// <param name="rowCount">Number of rows.</param>
        /// <param name="createReader">Makes one reader per cursor.</param>
        /// <param name="featureColumn">Name of the pixel column, or null for none.</param>
        /// <param name="featureDimensions">Its dimensions (e.g. C, H, W).</param>
        /// <param name="labelColumn">Name of the key label column, or null for none.</param>
        /// <param name="classNames">The label's key values (key k is class k − 1).</param>
        /// <param name="pathColumn">Name of the image path column (text), or null for none.</param>
        public ImageRowsDataView(long rowCount, Func<IImageRowReader> createReader, string featureColumn, int[] featureDimensions,
            string labelColumn, IReadOnlyList<string> classNames, string pathColumn = null)
        {
            _rowCount = rowCount;
            _createReader = createReader;
            var builder = new DataViewSchema.Builder();
            int index = 0;
            if (pathColumn != null)
            {
                builder.AddColumn(pathColumn, TextDataViewType.Instance);
                _pathIndex = index++;
            }
            if (featureColumn != null)
            {
                builder.AddColumn(featureColumn, new VectorDataViewType(NumberDataViewType.Single, featureDimensions));
                _featureSize = featureDimensions.Aggregate(1, (a, b) => a * b);
                _featureIndex = index++;
            }
            if (labelColumn != null)
            {
                var names = classNames.Select(n => n.AsMemory()).ToArray();
                var annotations = new DataViewSchema.Annotations.Builder();
                annotations.Add(AnnotationUtils.Kinds.KeyValues, new VectorDataViewType(TextDataViewType.Instance, names.Length),
                    (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(names.Length, (ReadOnlyMemory<char>[])names.Clone()));
                builder.AddColumn(labelColumn, new KeyDataViewType(typeof(uint), names.Length), annotations.ToAnnotations());
                _labelIndex = index++;
            }
            Schema = builder.ToSchema();
        }

        public DataViewSchema Schema { get; }

        public bool CanShuffle => true;

        public long? GetRowCount() => _rowCount;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random rand = null)
        {
            var active = new bool[Schema.Count];
            foreach (var column in columnsNeeded ?? Enumerable.Empty<DataViewSchema.Column>())
                active[column.Index] = true;
            long[] order = null;
            if (rand != null)
            {
                order = new long[_rowCount];
                for (long i = 0; i < order.Length; i++)
                    order[i] = i;
                for (long i = order.Length - 1; i > 0; i--)
                {
                    long j = (long)(rand.NextDouble() * (i + 1));
                    (order[i], order[j]) = (order[j], order[i]);
                }
            }
            return new Cursor(this, active, order);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random rand = null)
            => new[] { GetRowCursor(columnsNeeded, rand) };

        private sealed class Cursor : DataViewRowCursor
        {
            private readonly ImageRowsDataView _parent;
            private readonly bool[] _active;
            private readonly long[] _order;
            private readonly IImageRowReader _reader;
            private long _position = -1;
            private long _row = -1;
            // Getters may be called more than once per row: the pixels are computed once per row.
            private float[] _features;
            private long _featuresRow = -1;

            public Cursor(ImageRowsDataView parent, bool[] active, long[] order)
            {
                _parent = parent;
                _active = active;
                _order = order;
                _reader = parent._createReader();
            }

            public override DataViewSchema Schema => _parent.Schema;

            public override long Position => _position;

            public override long Batch => 0;

            public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

            public override bool MoveNext()
            {
                if (_position + 1 >= _parent._rowCount)
                {
                    _position = _parent._rowCount;
                    return false;
                }
                _position++;
                _row = _order?[_position] ?? _position;
                return true;
            }

            public override ValueGetter<DataViewRowId> GetIdGetter() =>
                (ref DataViewRowId id) => id = new DataViewRowId((ulong)_row, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (!_active[column.Index])
                    throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made.");
                Delegate getter;
                if (column.Index == _parent._featureIndex)
                {
                    getter = (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                    {
                        var features = Features();
                        var editor = VBufferEditor.Create(ref value, features.Length);
                        features.AsSpan().CopyTo(editor.Values);
                        value = editor.Commit();
                    });
                }
                else if (column.Index == _parent._labelIndex)
                {
                    getter = (ValueGetter<uint>)((ref uint value) => value = _reader.ReadLabel(_row));
                }
                else
                {
                    getter = (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = _reader.ReadPath(_row).AsMemory());
                }
                return getter as ValueGetter<TValue>
                    ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}, not {typeof(TValue).Name}.");
            }

            private float[] Features()
            {
                if (_featuresRow != _row)
                {
                    _features ??= new float[_parent._featureSize];
                    _reader.ReadFeatures(_row, _features);
                    _featuresRow = _row;
                }
                return _features;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                    _reader.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
