using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Transformer;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(DomainAdaptationTransformer), null, typeof(SignatureLoadModel),
    "Domain Adaptation Transformer", DomainAdaptationTransformer.LoaderSignature)]

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// A fitted domain adaptation network. Adds to its input the columns <c>Embedding</c> (the domain-invariant
    /// features), <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (a key with the label's values), so
    /// that <c>MulticlassClassification.Evaluate</c> and any ML.NET trainer on the embedding work as usual.
    /// Saved and loaded with <c>mlContext.Model.Save</c> / <c>Load</c>, the network's weights inside the model file.
    /// </summary>
    public sealed class DomainAdaptationTransformer : ITransformer, ICanSaveModel, IDisposable, Microsoft.ML.Model.OnnxConverter.ISaveAsOnnx
    {
        internal const string LoaderSignature = "DomainAdaptTransformer";
        private const string NetworkStreamName = "TorchNetwork.bin";
        /// <summary>Rows scored together by <see cref="Transform"/>.</summary>
        internal const int ScoringBatchSize = 256;

        private readonly IHost _host;
        private readonly ScoringNetwork _network;
        private readonly TransformerScoring _scorer;
        private readonly ClassNames _classNames;

        internal DomainAdaptationTransformer(IHostEnvironment env, string methodName, ScoringNetwork network, int featureSize,
            string featureColumn, string embeddingColumn, string scoreColumn, string predictedLabelColumn, ClassNames classNames,
            string labelColumn)
        {
            _host = env.Register(nameof(DomainAdaptationTransformer));
            MethodName = methodName;
            _network = network;
            _network.eval();
            _scorer = new TransformerScoring(_host, new NetworkScorer(network, featureSize), CreateOnnxRuntimeScorer);
            FeatureColumnName = featureColumn;
            EmbeddingColumnName = embeddingColumn;
            ScoreColumnName = scoreColumn;
            PredictedLabelColumnName = predictedLabelColumn;
            _classNames = classNames;
            LabelColumnName = labelColumn;
        }

        /// <summary>The method that trained the network, e.g. "DANN".</summary>
        public string MethodName { get; }

        /// <summary>
        /// Every training step's losses, learning rate and scheduled coefficients, from <c>Fit</c>. Null for a transformer
        /// loaded from a model file: the history is not part of the model (write it with
        /// <see cref="DomainAdaptationOptions.TrainingHistoryPath"/> or <see cref="TrainingHistory.WriteCsv(string)"/>).
        /// </summary>
        public TrainingHistory TrainingHistory { get; internal init; }

        /// <summary>The input column of features.</summary>
        public string FeatureColumnName { get; }

        /// <summary>
        /// The label column the network was trained on. Data scored with a key column of this name must have as many classes
        /// as the network (see <see cref="ClassCount"/>); otherwise the predicted and the true keys would not match.
        /// </summary>
        public string LabelColumnName { get; }

        /// <summary>The output column of the embedding.</summary>
        public string EmbeddingColumnName { get; }

        /// <summary>The output column of class probabilities.</summary>
        public string ScoreColumnName { get; }

        /// <summary>The output key column of the predicted class.</summary>
        public string PredictedLabelColumnName { get; }

        /// <summary>Number of values the feature column must have.</summary>
        public int FeatureSize => _scorer.FeatureSize;

        /// <summary>Size of the embedding.</summary>
        public int EmbeddingSize => _scorer.EmbeddingSize;

        /// <summary>Number of classes.</summary>
        public int ClassCount => _scorer.ClassCount;

        internal ScoringNetwork Network => _network;

        internal TransformerScoring Scoring => _scorer;

        /// <summary>
        /// What runs the network when this transformer scores: <see cref="ScoringEngine.Auto"/> (the default: OnnxRuntime when its
        /// native library loads, else TorchSharp), <see cref="ScoringEngine.OnnxRuntime"/> or <see cref="ScoringEngine.TorchSharp"/>.
        /// Read when a cursor of a transformed view or a prediction engine is made; those made before keep their engine.
        /// </summary>
        /// <remarks>
        /// Not saved with the model: the engine depends on what the scoring application ships (a native OnnxRuntime or not),
        /// not on the network, so a model saved where OnnxRuntime runs loads and scores where it does not. Set it after
        /// <c>mlContext.Model.Load</c> (on the <see cref="DomainAdaptationTransformer"/> in the loaded chain) to choose.
        /// OnnxRuntime scores the transformer's own ONNX export (<see cref="ExportToOnnx(Stream)"/>), built into an in-memory
        /// session at the first scoring: class probabilities within about 1e-6 of TorchSharp's, the same predicted labels
        /// except for ties to rounding; TorchSharp gives bit for bit what the training's forward pass gives.
        /// </remarks>
        public ScoringEngine ScoringEngine
        {
            get => _scorer.Engine;
            set
            {
                if (!Enum.IsDefined(value))
                    throw _host.ExceptParam(nameof(value), $"Unknown scoring engine {(int)value}; use Auto, OnnxRuntime or TorchSharp.");
                _scorer.Engine = value;
            }
        }

        // The OnnxRuntime scorer over this transformer's own export; batches use the threads the library's policy gives libtorch.
        private OnnxRuntimeScorer CreateOnnxRuntimeScorer()
        {
            using var model = new MemoryStream();
            ExportToOnnx(model);
            int batchThreads = Training.ThreadPolicy.DefaultThreads(_network, ScoringBatchSize) ?? TorchSharp.torch.get_num_threads();
            return new OnnxRuntimeScorer(model.ToArray(), FeatureColumnName, EmbeddingColumnName, ScoreColumnName,
                FeatureSize, EmbeddingSize, ClassCount, batchThreads);
        }

        bool ITransformer.IsRowToRowMapper => true;

        /// <inheritdoc />
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
        {
            _host.CheckValue(inputSchema, nameof(inputSchema));
            return MakeOutputSchema(inputSchema).Schema;
        }

        /// <summary>Scores <paramref name="input"/> lazily, in batches of rows, as its cursors move.</summary>
        public IDataView Transform(IDataView input)
        {
            _host.CheckValue(input, nameof(input));
            _scorer.ThrowIfDisposed();
            return new ScoredDataView(input, MakeOutputSchema(input.Schema), _scorer, this);
        }

        IRowToRowMapper ITransformer.GetRowToRowMapper(DataViewSchema inputSchema)
        {
            _host.CheckValue(inputSchema, nameof(inputSchema));
            _scorer.ThrowIfDisposed();
            return new ScoringRowMapper(inputSchema, MakeOutputSchema(inputSchema), _scorer);
        }

        private OutputSchema MakeOutputSchema(DataViewSchema input)
        {
            if (LabelColumnName != null && input.GetColumnOrNull(LabelColumnName) is { Type: KeyDataViewType key } && key.Count != (ulong)ClassCount)
                throw _host.ExceptSchemaMismatch(nameof(input), "label", LabelColumnName, $"a key type with {ClassCount} values, the classes the model was trained on",
                    $"a key type with {key.Count} values");
            return new OutputSchema(input, FeatureColumnName, EmbeddingColumnName, ScoreColumnName, PredictedLabelColumnName,
                FeatureSize, EmbeddingSize, ClassCount, _classNames);
        }

        /// <summary>
        /// Writes the network as an ONNX model (opset 17) for OnnxRuntime or <c>mlContext.Transforms.ApplyOnnxModel</c>. Input:
        /// <see cref="FeatureColumnName"/>, float [N, <see cref="FeatureSize"/>]. Outputs: <see cref="EmbeddingColumnName"/> float
        /// [N, <see cref="EmbeddingSize"/>], <see cref="ScoreColumnName"/> float [N, <see cref="ClassCount"/>] (the class
        /// probabilities this transformer gives), and <see cref="PredictedLabelColumnName"/> int64 [N]: the 0-based class index,
        /// i.e. the ML.NET key value minus 1. Written to a temporary file, then moved over <paramref name="path"/>, so a crash
        /// never leaves a half-written model there.
        /// </summary>
        /// <remarks>To export a whole ML.NET chain (featurizers, then this network) as one graph, use <c>mlContext.Model.ConvertToOnnx(model, data, stream)</c>
        /// (package Microsoft.ML.OnnxConverter); there <see cref="PredictedLabelColumnName"/> is the ML.NET key (uint32, index + 1).</remarks>
        public void ExportToOnnx(string path)
        {
            _host.CheckNonEmpty(path, nameof(path));
            _scorer.ThrowIfDisposed();
            AtomicFile.Write(path, (Stream file) => ExportToOnnx(file));
        }

        /// <summary>Writes the network as an ONNX model to <paramref name="stream"/>; see <see cref="ExportToOnnx(string)"/>.</summary>
        public void ExportToOnnx(Stream stream)
        {
            _host.CheckValue(stream, nameof(stream));
            _scorer.ThrowIfDisposed();
            var bytes = Onnx.OnnxExporter.Export(_network, FeatureSize, FeatureColumnName, EmbeddingColumnName, ScoreColumnName, PredictedLabelColumnName,
                typeof(DomainAdaptationTransformer).Assembly.GetName().Version?.ToString() ?? "0");
            stream.Write(bytes);
        }

        // mlContext.Model.ConvertToOnnx: ML.NET walks the transformed views and asks each to add itself to one graph; ours
        // (ScoredDataView) hands over to these, so featurizers before the network and the network export as one model.
        bool Microsoft.ML.Model.OnnxConverter.ICanSaveOnnx.CanSaveOnnx(Microsoft.ML.Model.OnnxConverter.OnnxContext ctx) => true;

        void Microsoft.ML.Model.OnnxConverter.ISaveAsOnnx.SaveAsOnnx(Microsoft.ML.Model.OnnxConverter.OnnxContext ctx)
        {
            _host.CheckValue(ctx, nameof(ctx));
            _scorer.ThrowIfDisposed();
            if (!ctx.ContainsColumn(FeatureColumnName))
                throw _host.Except($"ONNX conversion: the feature column '{FeatureColumnName}' has no ONNX variable; a step before the domain adaptation transformer could not be converted.");
            var bytes = Onnx.OnnxExporter.Export(_network, FeatureSize, FeatureColumnName, EmbeddingColumnName, ScoreColumnName, PredictedLabelColumnName,
                typeof(DomainAdaptationTransformer).Assembly.GetName().Version?.ToString() ?? "0");
            Onnx.OnnxContextBridge.Save(ctx, bytes, FeatureColumnName, (EmbeddingColumnName, new VectorDataViewType(NumberDataViewType.Single, EmbeddingSize)),
                (ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, ClassCount)), (PredictedLabelColumnName, new KeyDataViewType(typeof(uint), ClassCount)));
        }

        /// <summary>
        /// Releases the network's native memory and the OnnxRuntime sessions. Afterwards <see cref="Transform"/>, saving, <see cref="ExportToOnnx(string)"/>,
        /// prediction engines and cursors of views transformed before throw an <see cref="ObjectDisposedException"/>.
        /// </summary>
        public void Dispose() => _scorer.Dispose();

        /// <summary>The model format this version writes (and the newest it reads).</summary>
        internal const uint FormatVersion = NetworkSpec.FormatWithInputNormalization; // The network's input normalisation after its head.
        private const uint FormatWithCentreScale = 0x00010003; // The nearest-centre head's scale 1 / 2σ² among the weights.
        private const uint FormatWithoutCentreScale = 0x00010002; // Label column name, size and SHA-256 of the weights.

        private static VersionInfo GetVersionInfo() => new VersionInfo(
            modelSignature: "DOMADAPT",
            verWrittenCur: FormatVersion,
            verReadableCur: FormatVersion,
            verWeCanReadBack: FormatWithoutCentreScale,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(DomainAdaptationTransformer).Assembly.FullName);

        void ICanSaveModel.Save(ModelSaveContext ctx)
        {
            _host.CheckValue(ctx, nameof(ctx));
            // Before anything is written: a disposed network would save an entry without weights, which fails only at Load.
            _scorer.ThrowIfDisposed();
            ctx.CheckAtModel();
            ctx.SetVersionInfo(GetVersionInfo());
            ctx.SaveNonEmptyString(MethodName);
            ctx.SaveNonEmptyString(FeatureColumnName);
            ctx.SaveNonEmptyString(EmbeddingColumnName);
            ctx.SaveNonEmptyString(ScoreColumnName);
            ctx.SaveNonEmptyString(PredictedLabelColumnName);
            ctx.SaveStringOrNull(LabelColumnName);
            ctx.Writer.Write(FeatureSize);
            _network.Spec.Write(ctx.Writer);
            ctx.Writer.Write(_classNames != null);
            _classNames?.Write(ctx.Writer);
            // The weights' size and hash go in the header so that Load detects a damaged entry before libtorch reads it
            // (garbage shapes could otherwise ask for any amount of memory).
            byte[] weights = SerializeNetwork();
            ctx.Writer.Write((long)weights.Length);
            ctx.Writer.Write(SHA256.HashData(weights));
            ctx.SaveBinaryStream(NetworkStreamName, writer => writer.Write(weights));
        }

        private byte[] SerializeNetwork()
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                _network.save(writer);
            return buffer.ToArray();
        }

        /// <summary>Loads a transformer saved in an ML.NET model file; found by ML.NET through the loader signature.</summary>
        internal static DomainAdaptationTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            Contracts.CheckValue(env, nameof(env));
            env.CheckValue(ctx, nameof(ctx));
            if (ctx.Header.ModelVerReadable > FormatVersion)
                throw new InvalidDataException($"The domain adaptation model was saved by a newer version of {typeof(DomainAdaptationTransformer).Assembly.GetName().Name} " +
                    $"(model format 0x{ctx.Header.ModelVerWritten:X8}, readable from 0x{ctx.Header.ModelVerReadable:X8}); this version reads formats up to 0x{FormatVersion:X8}. " +
                    "Load it with the version that saved it or a newer one.");
            ctx.CheckAtModel(GetVersionInfo());
            // A process that only scores: the native settings a training would make, before libtorch loads (ThreadPolicy, MallocTuning).
            Training.MallocTuning.EnsureConfigured();
            Training.ThreadPolicy.EnsureWaitPolicy();
            Native.LibTorchSharpPreload.EnsureLoadable(); // a model loaded before any training (Debian 12 without a patched build output)
            string method = ctx.LoadNonEmptyString();
            string feature = ctx.LoadNonEmptyString();
            string embedding = ctx.LoadNonEmptyString();
            string score = ctx.LoadNonEmptyString();
            string predicted = ctx.LoadNonEmptyString();
            string label = ctx.LoadStringOrNull();
            int featureSize = ctx.Reader.ReadInt32();
            if (featureSize <= 0)
                throw new InvalidDataException($"The domain adaptation model is corrupt: feature size {featureSize}.");
            var spec = NetworkSpec.Read(ctx.Reader, ctx.Header.ModelVerWritten);
            var classNames = ctx.Reader.ReadBoolean() ? ClassNames.Read(ctx.Reader, spec.ClassCount) : null;
            long weightsLength = ctx.Reader.ReadInt64();
            byte[] weightsHash = ctx.Reader.ReadBytes(32);
            byte[] weights = null;
            if (!ctx.TryLoadBinaryStream(NetworkStreamName, reader => weights = reader.ReadBytes((int)Math.Min(weightsLength + 1, int.MaxValue))))
                throw new InvalidDataException($"The domain adaptation model has no '{NetworkStreamName}' entry with the network's weights.");
            if (weights.LongLength != weightsLength || !SHA256.HashData(weights).AsSpan().SequenceEqual(weightsHash))
                throw new InvalidDataException($"The domain adaptation model's network weights ('{NetworkStreamName}') are damaged: " +
                    $"{weights.LongLength} bytes, expected {weightsLength} with the SHA-256 saved beside them. The model file is corrupt or truncated.");
            var network = new ScoringNetwork(spec);
            try
            {
                using var reader = new BinaryReader(new MemoryStream(weights));
                // Older weights lack the centre scale, which then stays 1: the probabilities they were saved with.
                network.load(reader, strict: ctx.Header.ModelVerWritten >= FormatWithCentreScale);
            }
            catch
            {
                network.Dispose();
                throw;
            }
            return new DomainAdaptationTransformer(env, method, network, featureSize, feature, embedding, score, predicted, classNames, label);
        }
    }
}
