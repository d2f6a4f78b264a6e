using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>
    /// A row of the transformer's output: input columns pass through, the three output columns come from the
    /// network. As a cursor it scores in batches: a second input cursor, reading only the feature column, runs ahead
    /// to fill the next batch when the row cursor reaches it (both cursors see the same rows in the same order).
    /// Wrapping a single row (the PredictionEngine path), it scores that row alone when its outputs are read.
    /// </summary>
    internal sealed class ScoredCursor : DataViewRowCursor
    {
        private readonly OutputSchema _schema;
        private readonly TransformerScoring _scorer;
        private readonly BatchScorer _batch;
        private readonly DataViewRow _row;
        private readonly DataViewRowCursor _rowCursor;
        private readonly DataViewRowCursor _featureCursor;
        private readonly ValueGetter<VBuffer<float>> _getFeatures;
        private readonly bool[] _active;
        private readonly bool _scoring;

        private readonly int _capacity;
        private readonly float[] _features;
        private readonly float[] _embeddings;
        private readonly float[] _probabilities;
        private VBuffer<float> _featureRow;
        private long _batchStart;
        private int _batchRows;
        private long _scoredPosition = -1;

        private ScoredCursor(OutputSchema schema, TransformerScoring scorer, DataViewRow row, DataViewRowCursor rowCursor, DataViewRowCursor featureCursor, bool[] active, int capacity)
        {
            _schema = schema;
            _scorer = scorer;
            _row = row;
            _rowCursor = rowCursor;
            _featureCursor = featureCursor;
            _active = active;
            _scoring = schema.OutputIndices.Any(i => active[i]);
            _capacity = capacity;
            if (_scoring)
            {
                var featureSource = featureCursor ?? row;
                _getFeatures = featureSource.GetGetter<VBuffer<float>>(featureSource.Schema[schema.FeatureColumnIndex]);
                // The engine (TorchSharp or OnnxRuntime) is chosen now, from the transformer's setting.
                _batch = scorer.Bind(capacity);
                _features = _batch.Features;
                _embeddings = _batch.Embeddings;
                _probabilities = _batch.Probabilities;
            }
        }

        /// <summary>A batch-scoring cursor over <paramref name="input"/>.</summary>
        public static DataViewRowCursor Create(OutputSchema schema, TransformerScoring scorer, IDataView input, bool[] active, Random rand, int batchSize)
        {
            var inputColumns = schema.InputColumnsNeeded(active, input.Schema);
            int? seed = rand?.Next();
            var rowCursor = input.GetRowCursor(inputColumns, seed is int s1 ? new Random(s1) : null);
            DataViewRowCursor featureCursor = null;
            if (schema.OutputIndices.Any(i => active[i]))
                featureCursor = input.GetRowCursor(new[] { input.Schema[schema.FeatureColumnIndex] }, seed is int s2 ? new Random(s2) : null);
            try
            {
                return new ScoredCursor(schema, scorer, rowCursor, rowCursor, featureCursor, active, batchSize);
            }
            catch
            {
                rowCursor.Dispose();
                featureCursor?.Dispose();
                throw;
            }
        }

        /// <summary>A row scoring <paramref name="input"/> alone (for PredictionEngine and row-to-row mappers).</summary>
        public static DataViewRow CreateRow(OutputSchema schema, TransformerScoring scorer, DataViewRow input, bool[] active) =>
            new ScoredCursor(schema, scorer, input, null, null, active, 1);

        public override DataViewSchema Schema => _schema.Schema;

        public override long Position => _row.Position;

        public override long Batch => _row.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _row.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override bool MoveNext()
        {
            if (_rowCursor is null)
                throw new InvalidOperationException("This row wraps a single input row and cannot move.");
            return _rowCursor.MoveNext();
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made.");
            int index = column.Index;
            if (index < _schema.InputCount)
                return _row.GetGetter<TValue>(_row.Schema[index]);

            Delegate getter;
            if (index == _schema.EmbeddingIndex)
                getter = VectorGetter(_embeddings, _scorer.EmbeddingSize);
            else if (index == _schema.ScoreIndex)
                getter = VectorGetter(_probabilities, _scorer.ClassCount);
            else
                getter = (ValueGetter<uint>)((ref uint value) =>
                {
                    int offset = Offset() * _scorer.ClassCount;
                    int best = 0;
                    for (int k = 1; k < _scorer.ClassCount; k++)
                    {
                        if (_probabilities[offset + k] > _probabilities[offset + best])
                            best = k;
                    }
                    value = float.IsNaN(_probabilities[offset]) ? 0u : (uint)best + 1;
                });
            return (ValueGetter<TValue>)getter;
        }

        private ValueGetter<VBuffer<float>> VectorGetter(float[] source, int size) =>
            (ref VBuffer<float> value) =>
            {
                int offset = Offset() * size;
                var editor = VBufferEditor.Create(ref value, size);
                source.AsSpan(offset, size).CopyTo(editor.Values);
                value = editor.Commit();
            };

        /// <summary>Scores up to the current row if needed; returns the row's index in the scored batch.</summary>
        private int Offset()
        {
            long position = _row.Position;
            if (_featureCursor is null)
            {
                if (_scoredPosition != position)
                {
                    ReadFeatures(0);
                    _batch.Score(1);
                    _scoredPosition = position;
                }
                return 0;
            }
            // Rows whose outputs were never read still move the feature cursor, one batch at a time.
            while (position >= _batchStart + _batchRows)
            {
                _batchStart += _batchRows;
                _batchRows = 0;
                while (_batchRows < _capacity && _featureCursor.MoveNext())
                {
                    ReadFeatures(_batchRows);
                    _batchRows++;
                }
                if (_batchRows == 0)
                    throw new InvalidOperationException(
                        $"Row {position + 1} could not be scored: the input view gave fewer rows to the feature cursor than to the row cursor. Cache the input (mlContext.Data.Cache) before scoring.");
                _batch.Score(_batchRows);
            }
            return (int)(position - _batchStart);
        }

        private void ReadFeatures(int slot)
        {
            _getFeatures(ref _featureRow);
            if (_featureRow.Length != _scorer.FeatureSize)
                throw new InvalidOperationException(
                    $"Feature column '{_schema.Schema[_schema.FeatureColumnIndex].Name}' has a row of {_featureRow.Length} values; the model was trained on {_scorer.FeatureSize}.");
            _featureRow.CopyTo(_features.AsSpan(slot * _scorer.FeatureSize, _scorer.FeatureSize));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _rowCursor?.Dispose();
                _featureCursor?.Dispose();
                _batch?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
