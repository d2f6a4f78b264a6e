using System;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>
    /// The scoring of one transformer: TorchSharp (<see cref="NetworkScorer"/>) or OnnxRuntime (<see cref="OnnxRuntimeScorer"/>,
    /// built from the transformer's export at its first use, once), as <see cref="Engine"/> asks. Cursors and prediction
    /// engines take a <see cref="BatchScorer"/> from it when they are made.
    /// </summary>
    internal sealed class TransformerScoring
    {
        private readonly IHost _host;
        private readonly NetworkScorer _torch;
        private readonly object _gate = new();
        private volatile ScoringEngine _engine = ScoringEngine.Auto;
        private OnnxRuntimeScorer _onnx;
        private string _onnxUnavailable;

        /// <param name="host">The transformer's host: the fallback's reason goes to its log.</param>
        /// <param name="torch">The TorchSharp scorer, also the fallback.</param>
        /// <param name="createOnnx">Builds the OnnxRuntime scorer (export, then session); throws when it cannot.</param>
        public TransformerScoring(IHost host, NetworkScorer torch, Func<OnnxRuntimeScorer> createOnnx)
        {
            _host = host;
            _torch = torch;
            CreateOnnx = createOnnx;
        }

        /// <summary>Builds the OnnxRuntime scorer; replaceable by tests (a missing native runtime).</summary>
        internal Func<OnnxRuntimeScorer> CreateOnnx { get; set; }

        /// <summary>Reads the process's environment variables; replaceable by tests.</summary>
        internal Func<string, string> EnvironmentVariables { get; set; } = Environment.GetEnvironmentVariable;

        public NetworkScorer Torch => _torch;
        public int FeatureSize => _torch.FeatureSize;
        public int EmbeddingSize => _torch.EmbeddingSize;
        public int ClassCount => _torch.ClassCount;

        public ScoringEngine Engine
        {
            get => _engine;
            set => _engine = value;
        }

        public void ThrowIfDisposed() => _torch.ThrowIfDisposed();

        /// <summary>The engine the next cursor or prediction engine scores with (builds the OnnxRuntime session if needed).</summary>
        public ScoringEngine Resolve()
        {
            ThrowIfDisposed();
            return Onnx() is null ? ScoringEngine.TorchSharp : ScoringEngine.OnnxRuntime;
        }

        /// <summary>Arrays for <paramref name="capacity"/> rows and the engine that scores them.</summary>
        public BatchScorer Bind(int capacity)
        {
            ThrowIfDisposed();
            var features = new float[capacity * FeatureSize];
            var embeddings = new float[capacity * EmbeddingSize];
            var probabilities = new float[capacity * ClassCount];
            var onnx = Onnx();
            if (onnx is null)
                return new BatchScorer(this, features, embeddings, probabilities, null);
            return new BatchScorer(this, features, embeddings, probabilities, onnx.Bind(features, embeddings, probabilities, capacity));
        }

        /// <summary>The OnnxRuntime scorer the engine setting asks for, or null for TorchSharp.</summary>
        private OnnxRuntimeScorer Onnx()
        {
            var engine = _engine;
            if (engine == ScoringEngine.TorchSharp)
                return null;
            lock (_gate)
            {
                ThrowIfDisposed();
                if (_onnx is null && _onnxUnavailable is null)
                {
                    try
                    {
                        _onnx = CreateOnnx();
                    }
                    catch (Exception e) when (NativeRuntimeMissing(e))
                    {
                        _onnxUnavailable = $"OnnxRuntime's native library could not be loaded ({Describe(e)}); reference the package " +
                            "Microsoft.ML.OnnxRuntime (or Microsoft.ML.OnnxRuntime.Gpu) in the application";
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // The export (a network it cannot write) or OnnxRuntime rejecting the exported model.
                        _onnxUnavailable = $"the network could not be scored through its ONNX export ({Describe(e)})";
                    }
                    if (_onnx != null && Training.ThreadPolicy.IdleThreadsSpinForever(EnvironmentVariables))
                    {
                        // Not an error, but a silent halving of this engine's speed (measured, README's benchmark section).
                        using var ch = _host.Start(nameof(ScoringEngine));
                        ch.Warning("The process waits actively in OpenMP (OMP_WAIT_POLICY=ACTIVE or GOMP_SPINCOUNT=INFINITE): once libtorch has run, " +
                            "its idle threads spin on a core for the life of the process, and OnnxRuntime scoring beside them ran at half its speed. " +
                            "Unset the variable in processes that score, or set the transformer's ScoringEngine to TorchSharp.");
                    }
                    if (_onnxUnavailable != null && engine == ScoringEngine.Auto)
                    {
                        using var ch = _host.Start(nameof(ScoringEngine));
                        ch.Info($"The domain adaptation transformer scores with TorchSharp: {_onnxUnavailable}.");
                    }
                }
                if (_onnx != null)
                    return _onnx;
                if (engine == ScoringEngine.OnnxRuntime)
                    throw _host.Except($"{nameof(DomainAdaptationTransformer)}.{nameof(DomainAdaptationTransformer.ScoringEngine)} is {nameof(ScoringEngine.OnnxRuntime)}, " +
                        $"but {_onnxUnavailable}. Set it to {nameof(ScoringEngine.Auto)} or {nameof(ScoringEngine.TorchSharp)} to score with TorchSharp.");
                return null;
            }
        }

        private static bool NativeRuntimeMissing(Exception e) =>
            e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException
            || e is TypeInitializationException { InnerException: var inner } && (inner is null || NativeRuntimeMissing(inner) || inner is OnnxRuntimeException);

        private static string Describe(Exception e)
        {
            while (e is TypeInitializationException { InnerException: { } inner })
                e = inner;
            return $"{e.GetType().Name}: {e.Message}";
        }

        /// <summary>Releases the network and the OnnxRuntime sessions.</summary>
        public void Dispose()
        {
            _torch.Dispose();
            lock (_gate)
                _onnx?.Dispose();
        }
    }

    /// <summary>One cursor's (or prediction engine row's) arrays and the engine that scores them.</summary>
    internal sealed class BatchScorer : IDisposable
    {
        private readonly TransformerScoring _scoring;
        private readonly OnnxRuntimeScorer.Binding _onnx;

        public BatchScorer(TransformerScoring scoring, float[] features, float[] embeddings, float[] probabilities, OnnxRuntimeScorer.Binding onnx)
        {
            _scoring = scoring;
            Features = features;
            Embeddings = embeddings;
            Probabilities = probabilities;
            _onnx = onnx;
        }

        public float[] Features { get; }
        public float[] Embeddings { get; }
        public float[] Probabilities { get; }

        /// <summary>The engine this scorer runs.</summary>
        public ScoringEngine Engine => _onnx is null ? ScoringEngine.TorchSharp : ScoringEngine.OnnxRuntime;

        /// <summary>Scores the first <paramref name="rows"/> rows of <see cref="Features"/> into the output arrays.</summary>
        public void Score(int rows)
        {
            _scoring.ThrowIfDisposed();
            if (_onnx is null)
                _scoring.Torch.Score(Features, rows, Embeddings, Probabilities);
            else
                _onnx.Score(rows);
        }

        public void Dispose() => _onnx?.Dispose();
    }
}
