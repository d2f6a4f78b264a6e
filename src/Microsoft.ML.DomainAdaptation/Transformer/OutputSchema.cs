using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>
    /// The transformer's output schema over a given input schema: every input column, then the embedding, the class
    /// probabilities (with slot names and the multiclass score annotations ML.NET's evaluators look for) and the
    /// predicted key label (with the label's key values).
    /// </summary>
    internal sealed class OutputSchema
    {
        public OutputSchema(DataViewSchema input, string featureColumn, string embeddingColumn, string scoreColumn, string predictedLabelColumn,
            int featureSize, int embeddingSize, int classCount, Data.ClassNames classNames)
        {
            var feature = input.GetColumnOrNull(featureColumn)
                ?? throw Data.SchemaErrors.MissingColumn("inputSchema", "feature", featureColumn);
            if (feature.Type is not VectorDataViewType { ItemType: NumberDataViewType { RawType: var raw }, Size: var size } || raw != typeof(float) || size != featureSize)
                throw Data.SchemaErrors.Mismatch("inputSchema", "feature", featureColumn, $"Vector<Single, {featureSize}>", feature.Type.ToString());
            FeatureColumnIndex = feature.Index;
            InputCount = input.Count;

            var builder = new DataViewSchema.Builder();
            builder.AddColumns(input);
            builder.AddColumn(embeddingColumn, new VectorDataViewType(NumberDataViewType.Single, embeddingSize));

            var scoreAnnotations = new DataViewSchema.Annotations.Builder();
            classNames?.AddSlotNames(scoreAnnotations);
            scoreAnnotations.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification.AsMemory());
            scoreAnnotations.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreValueKind.Score.AsMemory());
            builder.AddColumn(scoreColumn, new VectorDataViewType(NumberDataViewType.Single, classCount), scoreAnnotations.ToAnnotations());

            var keyAnnotations = new DataViewSchema.Annotations.Builder();
            classNames?.AddKeyValues(keyAnnotations);
            builder.AddColumn(predictedLabelColumn, new KeyDataViewType(typeof(uint), classCount), keyAnnotations.ToAnnotations());

            Schema = builder.ToSchema();
            EmbeddingIndex = InputCount;
            ScoreIndex = InputCount + 1;
            PredictedLabelIndex = InputCount + 2;
            OutputIndices = new[] { EmbeddingIndex, ScoreIndex, PredictedLabelIndex };
        }

        public DataViewSchema Schema { get; }
        public int InputCount { get; }
        public int FeatureColumnIndex { get; }
        public int EmbeddingIndex { get; }
        public int ScoreIndex { get; }
        public int PredictedLabelIndex { get; }
        public int[] OutputIndices { get; }

        public bool[] ActiveFlags(IEnumerable<DataViewSchema.Column> columns)
        {
            var active = new bool[Schema.Count];
            foreach (var column in columns ?? Enumerable.Empty<DataViewSchema.Column>())
                active[column.Index] = true;
            return active;
        }

        /// <summary>Input columns a row with these active output columns reads through the row cursor.</summary>
        public IEnumerable<DataViewSchema.Column> InputColumnsNeeded(bool[] active, DataViewSchema input = null)
        {
            for (int i = 0; i < InputCount; i++)
            {
                if (active[i])
                    yield return (input ?? Schema)[i];
            }
        }
    }
}
