using System;
using System.Collections.Generic;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>The lazy output of <see cref="DomainAdaptationTransformer.Transform"/>.</summary>
    internal sealed class ScoredDataView : IDataView
    {
        private readonly IDataView _input;
        private readonly OutputSchema _schema;
        private readonly NetworkScorer _scorer;

        public ScoredDataView(IDataView input, OutputSchema schema, NetworkScorer scorer)
        {
            _input = input;
            _schema = schema;
            _scorer = scorer;
        }

        public DataViewSchema Schema => _schema.Schema;

        public bool CanShuffle => _input.CanShuffle;

        public long? GetRowCount() => _input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random rand = null)
        {
            _scorer.ThrowIfDisposed();
            return ScoredCursor.Create(_schema, _scorer, _input, _schema.ActiveFlags(columnsNeeded), rand, DomainAdaptationTransformer.ScoringBatchSize);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random rand = null) =>
            new[] { GetRowCursor(columnsNeeded, rand) };
    }

    /// <summary>Row-to-row mapping for PredictionEngine: scores each row as it comes.</summary>
    internal sealed class ScoringRowMapper : IRowToRowMapper
    {
        private readonly OutputSchema _schema;
        private readonly NetworkScorer _scorer;

        public ScoringRowMapper(DataViewSchema inputSchema, OutputSchema schema, NetworkScorer scorer)
        {
            InputSchema = inputSchema;
            _schema = schema;
            _scorer = scorer;
        }

        public DataViewSchema InputSchema { get; }

        public DataViewSchema OutputSchema => _schema.Schema;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        {
            var active = _schema.ActiveFlags(dependingColumns);
            bool scoring = false;
            foreach (int i in _schema.OutputIndices)
                scoring |= active[i];
            if (scoring)
                active[_schema.FeatureColumnIndex] = true;
            return _schema.InputColumnsNeeded(active, InputSchema);
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        {
            _scorer.ThrowIfDisposed();
            return ScoredCursor.CreateRow(_schema, _scorer, input, _schema.ActiveFlags(activeColumns));
        }
    }
}
