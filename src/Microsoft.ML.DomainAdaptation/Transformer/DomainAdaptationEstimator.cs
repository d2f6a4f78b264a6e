using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Trains a domain adaptation network on one view holding labeled source rows and unlabeled target rows (told
    /// apart by the Boolean domain column), and returns a <see cref="DomainAdaptationTransformer"/>.
    /// Create it with <c>mlContext.Transforms.DomainAdapt(options)</c>.
    /// </summary>
    public sealed class DomainAdaptationEstimator : IEstimator<DomainAdaptationTransformer>
    {
        private readonly IHost _host;
        private readonly DomainAdaptationOptions _options;

        internal DomainAdaptationEstimator(IHostEnvironment env, DomainAdaptationOptions options)
        {
            Contracts.CheckValue(env, nameof(env));
            _host = env.Register(nameof(DomainAdaptationEstimator));
            _host.CheckValue(options, nameof(options));
            // Before the first TorchSharp use (Validate parses Device): F# Interactive on Debian 12 needs a patched native library.
            Native.LibTorchSharpPreload.EnsureLoadable();
            // A copy, checked once: changing the caller's object afterwards changes nothing here (an unchecked change would
            // otherwise reach Fit: Iterations = 0 trained nothing, BatchSize < 0 overflowed), and the caller's object is never written.
            _options = options.Clone();
            _options.Validate();
        }

        /// <summary>A copy of the options the estimator trains with (copied when the estimator was made; changing it changes nothing).</summary>
        public DomainAdaptationOptions Options => _options.Clone();

        /// <summary>
        /// Checks the input columns (feature: known-size vector of Single; label: key; domain: Boolean) and returns
        /// the output schema, without training.
        /// </summary>
        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            _host.CheckValue(inputSchema, nameof(inputSchema));
            var o = _options;
            if (!inputSchema.TryFindColumn(o.FeatureColumnName, out var feature))
                throw SchemaErrors.MissingColumn(nameof(inputSchema), "feature", o.FeatureColumnName);
            if (feature.Kind != SchemaShape.Column.VectorKind.Vector || feature.ItemType != NumberDataViewType.Single)
                throw SchemaErrors.Mismatch(nameof(inputSchema), "feature", o.FeatureColumnName, "known-size vector of Single", feature.GetTypeString());
            if (!inputSchema.TryFindColumn(o.LabelColumnName, out var label))
                throw SchemaErrors.MissingColumn(nameof(inputSchema), "label", o.LabelColumnName);
            if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
                throw SchemaErrors.Mismatch(nameof(inputSchema), "label", o.LabelColumnName, "a key type (use MapValueToKey on the label)", label.GetTypeString());
            if (!inputSchema.TryFindColumn(o.DomainColumnName, out var domain))
                throw SchemaErrors.MissingColumn(nameof(inputSchema), "domain", o.DomainColumnName);
            if (domain.Kind != SchemaShape.Column.VectorKind.Scalar || domain.ItemType != BooleanDataViewType.Instance)
                throw SchemaErrors.Mismatch(nameof(inputSchema), "domain", o.DomainColumnName, "Boolean (false: source row, true: target row)", domain.GetTypeString());

            bool hasKeyValues = label.Annotations.TryFindColumn(AnnotationUtils.Kinds.KeyValues, out var keyValues)
                && keyValues.Kind == SchemaShape.Column.VectorKind.Vector;
            var textVector = new SchemaShape(hasKeyValues ? new[] { keyValues } : Array.Empty<SchemaShape.Column>());
            var slotNames = hasKeyValues
                ? new[] { new SchemaShape.Column(AnnotationUtils.Kinds.SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false) }
                : Array.Empty<SchemaShape.Column>();
            var scoreAnnotations = new SchemaShape(slotNames.Concat(new[]
            {
                new SchemaShape.Column(AnnotationUtils.Kinds.ScoreColumnKind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false),
                new SchemaShape.Column(AnnotationUtils.Kinds.ScoreValueKind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false),
            }));

            var columns = inputSchema.ToDictionary(c => c.Name);
            columns[o.EmbeddingColumnName] = new SchemaShape.Column(o.EmbeddingColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
            columns[o.ScoreColumnName] = new SchemaShape.Column(o.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, scoreAnnotations);
            columns[o.PredictedLabelColumnName] = new SchemaShape.Column(o.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, textVector);
            return new SchemaShape(columns.Values);
        }

        /// <summary>Reads the training rows of both domains, trains the network and returns the fitted transformer.</summary>
        public DomainAdaptationTransformer Fit(IDataView input)
        {
            _host.CheckValue(input, nameof(input));
            var (featureSize, classCount, classNames) = CheckInput(input.Schema);
            Training.TrainingDevice.Resolve(_options.Device); // before reading any row: a missing GPU fails at once
            var o = _options;
            using var data = DomainData.Read(input, o.FeatureColumnName, o.LabelColumnName, o.DomainColumnName, featureSize, classCount);
            return Train(data, classNames);
        }

        /// <summary>
        /// Every check of the input's columns that needs no row (those of <see cref="GetOutputSchema"/> and the exact types),
        /// giving what <see cref="DomainData.Read"/> needs.
        /// </summary>
        internal (int FeatureSize, int ClassCount, ClassNames ClassNames) CheckInput(DataViewSchema schema)
        {
            GetOutputSchema(SchemaShape.Create(schema));
            var o = _options;
            var featureType = (VectorDataViewType)schema[o.FeatureColumnName].Type;
            if (!featureType.IsKnownSize)
                throw SchemaErrors.Mismatch("input", "feature", o.FeatureColumnName, "known-size vector of Single", featureType.ToString());
            int featureSize = featureType.Size;
            // The architecture is checked against the column before any row is read (size, pixel layout).
            var backbone = o.CreateBackboneSpec(featureSize);
            backbone.CheckColumnLayout(featureType, o.FeatureColumnName);
            o.CheckInputNormalization(backbone);
            var labelColumn = schema[o.LabelColumnName];
            var labelType = (KeyDataViewType)labelColumn.Type;
            if (labelType.RawType != typeof(uint))
                throw SchemaErrors.Mismatch("input", "label", o.LabelColumnName, "Key<UInt32>", labelType.ToString());
            if (labelType.Count < 2 || labelType.Count > int.MaxValue)
                throw SchemaErrors.Mismatch("input", "label", o.LabelColumnName, "a key type of at least 2 classes", labelType.ToString());
            int classCount = (int)labelType.Count;
            return (featureSize, classCount, ClassNames.FromLabel(labelColumn, classCount));
        }

        /// <summary>Trains on rows already read (e.g. reverse validation's swapped domains) and returns the fitted transformer.</summary>
        internal DomainAdaptationTransformer Train(DomainData data, ClassNames classNames)
        {
            var o = _options;
            int featureSize = data.FeatureSize;
            var spec = o.WithInputNormalization(o.CreateNetworkSpec(o.CreateBackboneSpec(featureSize), data.ClassCount), data);
            if (data.SourceCount < o.BatchSize)
                throw new ArgumentOutOfRangeException(nameof(o.BatchSize), o.BatchSize, $"BatchSize ({o.BatchSize}) is larger than the {data.SourceCount} source rows; lower it.");
            if (data.TargetCount < o.BatchSize)
                throw new ArgumentOutOfRangeException(nameof(o.BatchSize), o.BatchSize, $"BatchSize ({o.BatchSize}) is larger than the {data.TargetCount} target rows; lower it.");

            if (o.UseTargetLabels && data.TargetLabels.All(l => l < 0))
                throw new InvalidOperationException(
                    $"{nameof(o.UseTargetLabels)} is true but no target row has a label in column '{o.LabelColumnName}'; label some target rows or set it to false.");

            if (o.TrainingHistoryPath is not null)
                AtomicFile.CheckWritable(o.TrainingHistoryPath, nameof(o.TrainingHistoryPath)); // not after the whole training
            int seed = o.Seed ?? _host.Rand.Next();
            DomainAdaptationTransformer Model(Networks.ScoringNetwork n, TrainingHistory h) => new(_host, o.MethodName, n, featureSize, o.FeatureColumnName,
                o.EmbeddingColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, classNames, o.LabelColumnName)
            {
                TrainingHistory = h,
            };
            var scoredStepCallback = o.Validation?.ScoredStepCallback;
            var (network, history, lastStep) = TrainingLoop.Train(_host, o, spec, data, seed,
                scoredStepCallback is null ? null : (step, n, h) => scoredStepCallback(step, Model(n, h)));
            if (lastStep is not null) // its history says it holds the last step
                o.Validation.LastStepCallback(Model(lastStep, new TrainingHistory(history.Method, history.Steps.ToList()) { SelectedStep = history.Steps[^1].Iteration }));
            return Model(network, history);
        }
    }
}
