using System;
using System.Collections.Generic;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>
    /// The lazy output of <see cref="DomainAdaptationTransformer.Transform"/>. A step of ML.NET's transform chain
    /// (<see cref="IDataTransform"/>) so that <c>mlContext.Model.ConvertToOnnx</c> finds it and the steps before it.
    /// </summary>
    internal sealed class ScoredDataView : ITransformCanSaveOnnx
    {
        private readonly IDataView _input;
        private readonly OutputSchema _schema;
        private readonly TransformerScoring _scorer;
        private readonly ISaveAsOnnx _onnx;

        public ScoredDataView(IDataView input, OutputSchema schema, TransformerScoring scorer, ISaveAsOnnx onnx)
        {
            _input = input;
            _schema = schema;
            _scorer = scorer;
            _onnx = onnx;
        }

        public IDataView Source => _input;

        public bool CanSaveOnnx(OnnxContext ctx) => _onnx.CanSaveOnnx(ctx);

        public void SaveAsOnnx(OnnxContext ctx) => _onnx.SaveAsOnnx(ctx);

        // The transformer is what ML.NET saves (Model.Save); this view is rebuilt from it by Transform.
        void ICanSaveModel.Save(ModelSaveContext ctx) =>
            throw new NotSupportedException("Save the DomainAdaptationTransformer (mlContext.Model.Save), not the view it returns.");

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
        private readonly TransformerScoring _scorer;

        public ScoringRowMapper(DataViewSchema inputSchema, OutputSchema schema, TransformerScoring scorer)
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
