using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Methods;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Options shared by every domain adaptation method: columns, the network, and the training loop.
    /// Each method has its own options class deriving from this one (<see cref="SourceOnlyOptions"/>,
    /// <see cref="DannOptions"/>, <see cref="DeepCoralOptions"/>); pass it to
    /// <see cref="DomainAdaptationCatalog.DomainAdapt(TransformsCatalog, DomainAdaptationOptions)"/>.
    /// </summary>
    /// <remarks>
    /// The input is one <see cref="IDataView"/> holding both domains, told apart by the Boolean
    /// <see cref="DomainColumnName"/> column (false: labeled source row; true: target row, whose label is ignored).
    /// <see cref="DataOperationsCatalog"/>'s <c>CombineDomains</c> builds it from two views.
    /// </remarks>
    public abstract class DomainAdaptationOptions
    {
        /// <summary>Input column of features: a known-size vector of <see cref="float"/>. Default: "Features".</summary>
        public string FeatureColumnName = "Features";

        /// <summary>Input column of labels: a key type (use MapValueToKey). Read on source rows only. Default: "Label".</summary>
        public string LabelColumnName = "Label";

        /// <summary>Input Boolean column: false for a source row, true for a target row. Default: "IsTarget".</summary>
        public string DomainColumnName = "IsTarget";

        /// <summary>Output column of the learned domain-invariant embedding (vector of <see cref="float"/>). Default: "Embedding".</summary>
        public string EmbeddingColumnName = "Embedding";

        /// <summary>Output column of class probabilities, as ML.NET's multiclass trainers give it. Default: "Score".</summary>
        public string ScoreColumnName = "Score";

        /// <summary>Output key column of the most probable class, with the label's key values. Default: "PredictedLabel".</summary>
        public string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>The network's feature extractor. Default: <see cref="MlpBackboneOptions"/> (one hidden layer of 256, embedding of 100).
        /// Use <see cref="LeNetBackboneOptions"/> for image pixels.</summary>
        public BackboneOptions Backbone = new MlpBackboneOptions();

        /// <summary>
        /// How the network standardises each input image before its backbone: <see cref="InputNormalizationKind.None"/> (default),
        /// <see cref="InputNormalizationKind.PerImage"/> (each image by its own per-channel mean and variance, as DIRT-T's
        /// instance-normalised inputs) or <see cref="InputNormalizationKind.PerChannelDataset"/> (per-channel statistics of the
        /// training rows of both domains, stored in the model). Part of the network: applied at training, scoring and in the
        /// ONNX export. Image backbones only (a backbone reading plain vectors is refused when <c>Fit</c> starts, before any row
        /// is read). <see cref="DirtTOptions"/> keeps its initial model's and takes only None here.
        /// </summary>
        public InputNormalizationKind InputNormalization = InputNormalizationKind.None;

        /// <summary>
        /// A random view of each source batch that the method trains on in place of the rows themselves (the supervised loss
        /// and the method's alignment see the same view; target rows are untouched): <see cref="AugmentationKind.None"/>
        /// (default), <see cref="AugmentationKind.Weak"/> (translation), <see cref="AugmentationKind.Strong"/> (translation,
        /// rotation, contrast, brightness, noise), <see cref="AugmentationKind.Resolution"/> (translation and a random loss of
        /// resolution) or <see cref="AugmentationKind.Colour"/> (translation and a random coloured background, for a grey
        /// source and a colour target). Labeled data is augmented in self-ensembling (French et al., 2018) and FixMatch (Sohn et al., 2020);
        /// it widens the source distribution over differences such as stroke width, resolution or contrast between collections.
        /// Drawn from a generator of its own seeded from <see cref="Seed"/>, so runs repeat; such runs cannot be resumed from a
        /// checkpoint. Held-out validation rows and scoring are never augmented; DIRT-T reads no source row and ignores it.
        /// </summary>
        public AugmentationKind SourceAugmentation = AugmentationKind.None;
        /// <summary>Hidden width of the classifier head on the embedding; 0 makes the head a single linear layer. Default: 100.</summary>
        public int ClassifierHiddenSize = 100;

        /// <summary>Number of training steps; each step sees one batch of each domain. Default: 2000. Must be positive.</summary>
        public int Iterations = 2000;

        /// <summary>Rows per domain in each step (a step sees <see cref="BatchSize"/> source and <see cref="BatchSize"/> target rows). Default: 64.
        /// Each domain must have at least this many rows.</summary>
        public int BatchSize = 64;

        /// <summary>Initial learning rate of SGD. Default: 0.01. Must be positive.</summary>
        public float LearningRate = 0.01f;

        /// <summary>SGD momentum, in [0, 1). Default: 0.9.</summary>
        public float Momentum = 0.9f;

        /// <summary>L2 weight decay, non-negative. Default: 5e-4.</summary>
        public float WeightDecay = 5e-4f;

        /// <summary>Anneal the learning rate as lr / (1 + 10 p)^0.75, p the training progress in [0, 1] (Ganin et al.).
        /// Default: true; false keeps it constant.</summary>
        public bool AnnealLearningRate = true;

        /// <summary>
        /// Semi-supervised adaptation: also learn from the target rows that carry a label (class criterion). Each step
        /// then draws a batch of labeled target rows and adds their cross-entropy to the method's loss.
        /// Default: false (target labels are ignored even when present).
        /// </summary>
        public bool UseTargetLabels;

        /// <summary>Weight of the labeled-target cross-entropy when <see cref="UseTargetLabels"/> is true. Default: 1. Must be non-negative.</summary>
        public float TargetLabelWeight = 1f;

        /// <summary>
        /// Losses added to the method's own at each step (<see cref="MccAddOn"/>, <see cref="SelfTrainingAddOn"/>,
        /// <see cref="EntropyAddOn"/>, <see cref="VatAddOn"/>), e.g. <c>new DannOptions { AddOns = { new MccAddOn() } }</c>.
        /// Default: empty (<see cref="MccOptions"/>, <see cref="SelfTrainingOptions"/> and <see cref="VadaOptions"/> start with
        /// theirs). Methods with their own optimisation phases (MCD, ADDA, M-ADDA, class criterion) take none.
        /// </summary>
        public IList<AddOnLoss> AddOns = new List<AddOnLoss>();

        /// <summary>
        /// Where training runs: "cpu" (default), "cuda" or "cuda:N". CUDA needs the library built with
        /// <c>-p:DomainAdaptationTorchDevice=cuda</c> (TorchSharp's CUDA natives) on a machine with an NVIDIA GPU; otherwise
        /// <c>Fit</c> fails with an error naming this option. The fitted transformer always scores on the CPU (or export it to
        /// ONNX and score on a GPU with OnnxRuntime).
        /// </summary>
        public string Device = "cpu";

        /// <summary>Seed of weight initialisation and batch sampling. Default: null, which takes one from the
        /// <see cref="MLContext"/>'s random source (so <c>new MLContext(seed: 1)</c> gives repeatable models).</summary>
        public int? Seed;

        /// <summary>
        /// Threads libtorch trains with (a process-wide setting, left as set after training); between 1 and the processor count.
        /// Default: null, which trains a small network without convolutions (fewer than 32 M multiply-adds per batch forward
        /// pass, e.g. a 512-d MLP at batch 64) and a small convolutional one (LeNet: under 512 M multiply-adds per batch, e.g. 28 × 28
        /// at batch 64) on one thread and others on libtorch's default (one per core), putting libtorch's
        /// count back afterwards. On a machine shared with other busy processes, fewer threads than cores is often faster: a
        /// thread waiting for a descheduled partner stalls every operation (the library also sets OpenMP's passive wait policy
        /// before libtorch loads; README, Benchmark).
        /// </summary>
        public int? NumberOfThreads;

        /// <summary>Steps between two progress reports on the MLContext log and <see cref="ProgressCallback"/>. Default: 100.</summary>
        public int ProgressInterval = 100;

        /// <summary>Stops training at the next step with an <see cref="OperationCanceledException"/> when cancelled. Default: none.</summary>
        public System.Threading.CancellationToken CancellationToken;

        /// <summary>Called every <see cref="ProgressInterval"/> steps and at the last one with the step's losses. Default: null.</summary>
        public Action<TrainingProgress> ProgressCallback;

        /// <summary>
        /// A CSV file to write the per-step <see cref="TrainingHistory"/> into when training ends (losses by name, learning
        /// rate, scheduled coefficients). Default: null (not written; the history is still on
        /// <see cref="DomainAdaptationTransformer.TrainingHistory"/>).
        /// </summary>
        public string TrainingHistoryPath;

        /// <summary>
        /// Choosing the step without target labels: score the network every few steps on held-out rows of both domains with an
        /// unsupervised criterion, keep the best step's weights and stop early (<see cref="TrainingValidation"/>). Default: null
        /// (every row is trained on and the model is the last step's).
        /// </summary>
        public TrainingValidation Validation;

        /// <summary>
        /// A file to write the training's state to every <see cref="CheckpointInterval"/> steps (trained modules, optimizer state,
        /// random generator, history so far), written to a temporary name and renamed. Continue a killed run with
        /// <see cref="ResumeFrom"/>. Default: null (no checkpoints). Methods and add-ons with state of their own (weighted MMD,
        /// ADDA, M-ADDA, self-training, VAT) are refused.
        /// </summary>
        public string CheckpointPath;

        /// <summary>Steps between two checkpoints (<see cref="CheckpointPath"/>). Default: 500. Must be positive.</summary>
        public int CheckpointInterval = 500;

        /// <summary>
        /// A checkpoint (<see cref="CheckpointPath"/>) to continue training from, with the same method, steps, batch size and seed
        /// that wrote it: the final weights are those of an uninterrupted run. Not combined with <see cref="Validation"/>.
        /// Default: null (train from the first step).
        /// </summary>
        public string ResumeFrom;

        /// <summary>The name the method reports in logs and progress.</summary>
        internal abstract string MethodName { get; }

        /// <summary>How the method's scoring network turns embeddings into probabilities.</summary>
        internal virtual Networks.HeadKind Head => Networks.HeadKind.Softmax;

        /// <summary>The backbone normalisation the method trains with, given the one the options ask for.</summary>
        internal virtual NormalizationKind RequiredNormalization(NormalizationKind requested) => requested;

        /// <summary>The backbone to train for features of <paramref name="featureSize"/> values: by default <see cref="Backbone"/>'s
        /// (a warm start such as <see cref="DirtTOptions"/> takes its initial model's).</summary>
        internal virtual Networks.BackboneSpec CreateBackboneSpec(int featureSize) => Backbone.CreateSpec(featureSize, RequiredNormalization(Backbone.Normalization));

        /// <summary>The network to train: the backbone <paramref name="backbone"/> with this method's head over <paramref name="classCount"/> classes.</summary>
        internal virtual Networks.NetworkSpec CreateNetworkSpec(Networks.BackboneSpec backbone, int classCount) =>
            new Networks.NetworkSpec(backbone, ClassifierHiddenSize, classCount, Head);

        /// <summary>
        /// Throws an <see cref="ArgumentOutOfRangeException"/> naming <see cref="InputNormalization"/> when it is set and
        /// <paramref name="backbone"/> reads plain vectors (no image channels to standardise).
        /// </summary>
        internal void CheckInputNormalization(Networks.BackboneSpec backbone)
        {
            if (InputNormalization != InputNormalizationKind.None && backbone.Image is null)
                throw new ArgumentOutOfRangeException(nameof(InputNormalization), InputNormalization,
                    $"{nameof(InputNormalization)} is {InputNormalization}, which standardises image channels, but the backbone ({backbone}) reads plain vectors; " +
                    $"use an image backbone (e.g. {nameof(LeNetBackboneOptions)}) or set {nameof(InputNormalization)} to None.");
        }

        /// <summary>
        /// <paramref name="spec"/> with the input normalisation of <see cref="InputNormalization"/>, its statistics computed on
        /// the training rows of both domains (<paramref name="data"/>); unchanged for None (DIRT-T's network keeps its initial model's).
        /// </summary>
        internal Networks.NetworkSpec WithInputNormalization(Networks.NetworkSpec spec, Data.DomainData data)
        {
            if (InputNormalization == InputNormalizationKind.None)
                return spec;
            CheckInputNormalization(spec.Backbone);
            return spec with { Input = Networks.InputNormalizerSpec.Create(InputNormalization, spec.Backbone.Image.Value,
                data.SourceFeatures.Blocks().Concat(data.TargetFeatures.Blocks())) };
        }

        /// <summary>True when the method trains with the shared step, which adds the <see cref="AddOns"/>.</summary>
        internal virtual bool UsesSharedStep => true;

        /// <summary>Whether the method takes <paramref name="addOn"/>: by default every add-on when it trains with the shared step.</summary>
        internal virtual bool SupportsAddOn(AddOnLoss addOn) => UsesSharedStep;

        /// <summary>True when an add-on is on: methods that otherwise skip target batches must draw them.</summary>
        internal bool HasAddOns => AddOns is { Count: > 0 };

        /// <summary>
        /// A deep copy: same method and settings, with its own backbone options and arrays, so that changing the caller's
        /// object (or its backbone) after an estimator was made changes nothing in it. Delegates, the cancellation token and
        /// strings are shared (immutable or meant to be shared). Method options hold only values; a method whose options hold
        /// a mutable object overrides this.
        /// </summary>
        internal virtual DomainAdaptationOptions Clone()
        {
            var copy = OptionsCopy.Deep(this);
            copy.AddOns = AddOns?.Select(a => a?.Clone()).ToList();
            copy.Validation = Validation?.Clone();
            return copy;
        }

        /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming <see cref="AddOns"/> unless it holds a <typeparamref name="T"/>
        /// with a positive weight (the add-on a method such as <see cref="MccOptions"/> is made of).</summary>
        internal void RequireAddOn<T>() where T : AddOnLoss
        {
            if (!AddOns.OfType<T>().Any(a => a.Weight > 0))
                throw new ArgumentOutOfRangeException(nameof(AddOns), $"{nameof(AddOns)} must hold a {typeof(T).Name} with a positive weight for {MethodName}, whose loss it is.");
        }

        /// <summary>Creates the method's training module.</summary>
        internal abstract AdaptationMethod CreateMethod(MethodContext context);

        /// <summary>Checks the method's own options; called before any data is read.</summary>
        internal virtual void ValidateMethodOptions()
        {
        }

        /// <summary>Checks every option, throwing an <see cref="ArgumentOutOfRangeException"/> naming the first invalid one.</summary>
        internal void Validate()
        {
            CheckName(FeatureColumnName, nameof(FeatureColumnName));
            CheckName(LabelColumnName, nameof(LabelColumnName));
            CheckName(DomainColumnName, nameof(DomainColumnName));
            CheckName(EmbeddingColumnName, nameof(EmbeddingColumnName));
            CheckName(ScoreColumnName, nameof(ScoreColumnName));
            CheckName(PredictedLabelColumnName, nameof(PredictedLabelColumnName));
            CheckOutputNames();
            if (Backbone is null)
                throw new ArgumentNullException(nameof(Backbone), "A backbone is required (MlpBackboneOptions or LeNetBackboneOptions).");
            Backbone.Validate();
            Check(Enum.IsDefined(InputNormalization), nameof(InputNormalization), InputNormalization, "must be None, PerImage or PerChannelDataset");
            Check(Enum.IsDefined(SourceAugmentation), nameof(SourceAugmentation), SourceAugmentation, "must be None, Weak, Strong, Resolution or Colour");
            Check(ClassifierHiddenSize >= 0, nameof(ClassifierHiddenSize), ClassifierHiddenSize, "must be non-negative");
            Check(Iterations > 0, nameof(Iterations), Iterations, "must be positive");
            Check(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
            Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive number");
            Check(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
            Check(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be non-negative");
            Check(NumberOfThreads is null || NumberOfThreads > 0 && NumberOfThreads <= Environment.ProcessorCount, nameof(NumberOfThreads), NumberOfThreads, $"must be between 1 and the processor count ({Environment.ProcessorCount}) when set");
            Check(TargetLabelWeight >= 0 && float.IsFinite(TargetLabelWeight), nameof(TargetLabelWeight), TargetLabelWeight, "must be non-negative");
            Check(ProgressInterval > 0, nameof(ProgressInterval), ProgressInterval, "must be positive");
            Check(TrainingHistoryPath is null || !string.IsNullOrWhiteSpace(TrainingHistoryPath), nameof(TrainingHistoryPath), TrainingHistoryPath, "must be a file path when set");
            Check(Training.TrainingDevice.TryParse(Device, out _), nameof(Device), Device, "must be \"cpu\", \"cuda\" or \"cuda:N\"");
            if (AddOns is null)
                throw new ArgumentNullException(nameof(AddOns), $"{nameof(AddOns)} must be a list (empty for none).");
            for (int i = 0; i < AddOns.Count; i++)
            {
                var addOn = AddOns[i] ?? throw new ArgumentNullException(nameof(AddOns), $"{nameof(AddOns)}[{i}] is null.");
                if (!SupportsAddOn(addOn))
                    throw new ArgumentOutOfRangeException(nameof(AddOns), addOn.Name,
                        $"{nameof(AddOns)} holds {addOn.Name}, which {MethodName} does not take: its own optimisation phases do not use the shared step's add-on losses.");
                addOn.Validate();
            }
            if (AddOns.OfType<MccAddOn>().Any(a => a.Weight > 0))
                CheckBatchOfTwo("the MCC add-on (on one row its class confusion is constant)");
            Validation?.Validate();
            Check(CheckpointInterval > 0, nameof(CheckpointInterval), CheckpointInterval, "must be positive");
            Check(CheckpointPath is null || !string.IsNullOrWhiteSpace(CheckpointPath), nameof(CheckpointPath), CheckpointPath, "must be a file path when set");
            Check(ResumeFrom is null || !string.IsNullOrWhiteSpace(ResumeFrom), nameof(ResumeFrom), ResumeFrom, "must be a file path when set");
            Check(SourceAugmentation == AugmentationKind.None || CheckpointPath is null && ResumeFrom is null, nameof(SourceAugmentation), SourceAugmentation,
                "must be None with checkpoints (its generator is not in them, so a resumed run would differ)");
            Check(ResumeFrom is null || Validation is null, nameof(ResumeFrom), ResumeFrom, "cannot be combined with Validation yet (the best step's weights are not in checkpoints)");
            ValidateMethodOptions();
            if (RequiredNormalization(Backbone.Normalization) == NormalizationKind.BatchNorm)
                Check(BatchSize >= 2, nameof(BatchSize), BatchSize, "must be at least 2 with batch normalisation (batch statistics of one row are undefined)");
        }

        /// <summary>
        /// Two output columns of one name would hide one of them, and an output named as the label would replace the label that
        /// Evaluate compares with: both are rejected, naming both options.
        /// </summary>
        private void CheckOutputNames()
        {
            var outputs = new[]
            {
                (Name: nameof(EmbeddingColumnName), Value: EmbeddingColumnName),
                (Name: nameof(ScoreColumnName), Value: ScoreColumnName),
                (Name: nameof(PredictedLabelColumnName), Value: PredictedLabelColumnName),
            };
            for (int i = 0; i < outputs.Length; i++)
            {
                for (int j = i + 1; j < outputs.Length; j++)
                {
                    if (outputs[i].Value == outputs[j].Value)
                        throw new ArgumentOutOfRangeException(outputs[j].Name, outputs[j].Value,
                            $"{outputs[i].Name} and {outputs[j].Name} are both '{outputs[i].Value}'; each output column needs its own name, or one hides the other.");
                }
                if (outputs[i].Value == LabelColumnName)
                    throw new ArgumentOutOfRangeException(outputs[i].Name, outputs[i].Value,
                        $"{outputs[i].Name} and {nameof(LabelColumnName)} are both '{LabelColumnName}'; the output would hide the label column that evaluation compares with.");
            }
        }

        /// <summary>
        /// Rejects batches of one row for a loss computed across the rows of a batch (a covariance, central moments, the class
        /// confusion, pairs of rows): on one row it is undefined (a covariance divides by n − 1) or constant, which trains nothing.
        /// </summary>
        internal void CheckBatchOfTwo(string loss) =>
            Check(BatchSize >= 2, nameof(BatchSize), BatchSize, $"must be at least 2 for {loss}, which is computed across the rows of a batch");

        private static void CheckName(string value, string name)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be a non-empty column name.");
        }

        /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the option when <paramref name="condition"/> is false.</summary>
        internal static void Check(bool condition, string name, object value, string requirement)
        {
            if (!condition)
                throw new ArgumentOutOfRangeException(name, value, $"{name} {requirement}; got {value}.");
        }
    }
}
