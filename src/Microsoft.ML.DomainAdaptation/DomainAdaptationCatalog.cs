using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Data;

namespace Microsoft.ML
{
    /// <summary>Catalog extensions for deep domain adaptation.</summary>
    public static class DomainAdaptationCatalog
    {
        /// <summary>
        /// Trains a network whose embedding is domain-invariant, with the method the options name
        /// (<see cref="SourceOnlyOptions"/>, <see cref="DannOptions"/>, <see cref="DeepCoralOptions"/>).
        /// The input holds both domains, told apart by the Boolean column <see cref="DomainAdaptationOptions.DomainColumnName"/>.
        /// </summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="options">The method and its settings.</param>
        /// <example><code>
        /// var data = mlContext.Data.CombineDomains(source, target);
        /// var model = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.Transforms.DomainAdapt(new DannOptions()))
        ///     .Fit(data);
        /// </code></example>
        public static DomainAdaptationEstimator DomainAdapt(this TransformsCatalog catalog, DomainAdaptationOptions options)
            => new DomainAdaptationEstimator(((IInternalCatalog)catalog).Environment, options);

        /// <summary>
        /// One view of both domains: the rows of <paramref name="source"/> then those of <paramref name="target"/>,
        /// with a Boolean column (false: source, true: target). Rows are streamed, not copied. A column both views have must
        /// have the same type in both; a column of the source that the target lacks (typically the label) reads as missing on
        /// target rows: key 0, NaN, empty text (which MapValueToKey maps to the missing key), else the type's default (false, 0).
        /// Map a text label to a key after combining, so both domains share one key type.
        /// </summary>
        /// <example><code>
        /// var data = mlContext.Data.CombineDomains(source, unlabeledTarget);   // "Label" is text, on source rows only
        /// var model = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.Transforms.DomainAdapt(new DannOptions()))
        ///     .Fit(data);
        /// </code></example>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="source">The labeled source domain.</param>
        /// <param name="target">The target domain.</param>
        /// <param name="domainColumnName">Name of the added Boolean column. Default: "IsTarget".</param>
        public static IDataView CombineDomains(this DataOperationsCatalog catalog, IDataView source, IDataView target, string domainColumnName = "IsTarget")
            => new AppendedDataView(source, target, domainColumnName);

        /// <summary>
        /// Asks every training running under <paramref name="mlContext"/> to stop: domain adaptation stops at its next step
        /// with an <see cref="System.OperationCanceledException"/> (ML.NET 5 has this on <see cref="MLContext"/> only
        /// through an internal interface). See also <see cref="DomainAdaptationOptions.CancellationToken"/>.
        /// </summary>
        /// <param name="mlContext">The context the training runs under.</param>
        public static void CancelExecution(this MLContext mlContext) => mlContext.CancelExecution(); // The internal instance method (publicized at build).


        /// <summary>
        /// The step that makes an exported model scored with <c>mlContext.Transforms.ApplyOnnxModel</c> ready for
        /// <c>MulticlassClassification.Evaluate</c>: the ONNX output <see cref="DomainAdaptationTransformer.PredictedLabelColumnName"/>
        /// (int64, the 0-based class index) becomes a key with <see cref="DomainAdaptationTransformer.ClassCount"/> values,
        /// index i → key i + 1, the key the transformer itself predicts (its key values are the indices 0..K−1, not the
        /// label's class names). The <see cref="DomainAdaptationTransformer.ScoreColumnName"/> output needs no conversion:
        /// ApplyOnnxModel gives it as a vector of K probabilities. Metrics are then those of the transformer.
        /// </summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="transformer">The fitted transformer that was exported with <see cref="DomainAdaptationTransformer.ExportToOnnx(string)"/>.</param>
        /// <example><code>
        /// model.LastTransformer.ExportToOnnx("model.onnx");
        /// var scoring = mlContext.Transforms.ApplyOnnxModel(new[] { "Score", "PredictedLabel" }, new[] { "Features" }, "model.onnx")
        ///     .Append(mlContext.Transforms.OnnxClassIndexToKey(model.LastTransformer));
        /// var metrics = mlContext.MulticlassClassification.Evaluate(scoring.Fit(test).Transform(test));
        /// </code></example>
        public static IEstimator<ITransformer> OnnxClassIndexToKey(this TransformsCatalog catalog, DomainAdaptationTransformer transformer)
        {
            var env = ((IInternalCatalog)catalog).Environment;
            env.CheckValue(transformer, nameof(transformer));
            var indices = DataViewConstructionUtils.CreateFromEnumerable(env, Enumerable.Range(0, transformer.ClassCount).Select(i => new ClassIndex { Index = i }).ToList());
            return catalog.Conversion.MapValueToKey(transformer.PredictedLabelColumnName, transformer.PredictedLabelColumnName, keyData: indices);
        }

        private sealed class ClassIndex
        {
            public long Index;
        }

        /// <summary>
        /// Loads images (or any arrays) from an IDX file, the format of MNIST, optionally with their labels from a
        /// second IDX file. Gzip-compressed files are read as they are.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="imagesPath">IDX file of N items (e.g. N × height × width bytes).</param>
        /// <param name="labelsPath">Optional 1-D IDX file of N labels; without it there is no label column.</param>
        /// <param name="rowIndices">Optional 0-based rows to keep, in the order given (e.g. a fixed train split).</param>
        /// <param name="featureColumnName">The features column: a vector of Single with the item's dimensions (values as stored, e.g. 0–255).</param>
        /// <param name="labelColumnName">The label column, of type Single.</param>
        public static IDataView LoadFromIdx(this DataOperationsCatalog catalog, string imagesPath, string labelsPath = null,
            IEnumerable<int> rowIndices = null, string featureColumnName = "Features", string labelColumnName = "Label")
            => IdxDataView.Load(catalog, imagesPath, labelsPath, rowIndices, featureColumnName, labelColumnName);
    }
}
