using System;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.DomainAdaptation.Transformer
{
    /// <summary>
    /// Scores through OnnxRuntime sessions built in memory from the transformer's own ONNX export (issue 18). libtorch spends
    /// several µs per operation dispatching; OnnxRuntime runs a planned graph, which is what makes single rows
    /// (PredictionEngine) fast. Two sessions: one on one thread for single rows and small batches (splitting a row's
    /// operations over threads costs more than it saves, as for libtorch: <see cref="NetworkScorer.SingleThreadRows"/>), made
    /// at once so that a runtime or model problem shows at the first scoring; one for batches, with the thread count of the
    /// library's policy for libtorch, made when a batch first needs it.
    /// </summary>
    internal sealed class OnnxRuntimeScorer : IDisposable
    {
        private readonly byte[] _model;
        private readonly int _batchThreads;
        private readonly object _gate = new();
        private readonly RunOptions _runOptions;
        private readonly InferenceSession _rowSession;
        private InferenceSession _batchSession;
        private bool _disposed;

        /// <summary>
        /// Builds the single-row session. Throws what OnnxRuntime throws: <see cref="DllNotFoundException"/> or
        /// <see cref="TypeInitializationException"/> without a native runtime, <see cref="OnnxRuntimeException"/> for a model it rejects.
        /// </summary>
        public OnnxRuntimeScorer(byte[] model, string inputName, string embeddingName, string scoreName,
            int featureSize, int embeddingSize, int classCount, int batchThreads)
        {
            _model = model;
            InputName = inputName;
            EmbeddingName = embeddingName;
            ScoreName = scoreName;
            FeatureSize = featureSize;
            EmbeddingSize = embeddingSize;
            ClassCount = classCount;
            _batchThreads = Math.Max(1, batchThreads);
            _runOptions = new RunOptions();
            try
            {
                _rowSession = MakeSession(1);
            }
            catch
            {
                _runOptions.Dispose();
                throw;
            }
        }

        public string InputName { get; }
        public string EmbeddingName { get; }
        public string ScoreName { get; }
        public int FeatureSize { get; }
        public int EmbeddingSize { get; }
        public int ClassCount { get; }

        /// <summary>The intra-op threads of the batch session.</summary>
        public int BatchThreads => _batchThreads;

        private InferenceSession MakeSession(int threads)
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            // Waiting threads sleep instead of spinning, as libtorch's under the library's wait policy (Training/ThreadPolicy.cs):
            // on a shared machine a spinning thread holds the core its partner needs.
            if (threads > 1 && Training.ThreadPolicy.WaitPolicyStatus == "passive")
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            return new InferenceSession(_model, options);
        }

        /// <summary>
        /// A scoring of the caller's arrays (one cursor's, or one prediction engine's row): OnnxRuntime values over them,
        /// bound once, so that a call allocates nothing when it scores a full buffer.
        /// </summary>
        public Binding Bind(float[] features, float[] embeddings, float[] probabilities, int capacity)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                InferenceSession session = _rowSession;
                if (capacity >= NetworkScorer.SingleThreadRows)
                    session = _batchSession ??= MakeSession(_batchThreads);
                return new Binding(this, session, features, embeddings, probabilities, capacity);
            }
        }

        /// <summary>
        /// Releases the sessions. Bindings are not tracked: ML.NET's PredictionEngine never disposes its output row, so a
        /// registry would keep every engine's buffers alive as long as the transformer. Their values are released when their
        /// cursor is disposed or by their finalizers; a value or binding outliving its session only holds memory (the caller
        /// checks that the transformer is not disposed before each run).
        /// </summary>
        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                    return;
                _disposed = true;
                _batchSession?.Dispose();
                _rowSession.Dispose();
                _runOptions.Dispose();
            }
        }

        /// <summary>One set of arrays bound to a session: inputs [capacity, features], outputs embedding and score.</summary>
        internal sealed class Binding : IDisposable
        {
            private readonly OnnxRuntimeScorer _owner;
            private readonly InferenceSession _session;
            private readonly float[] _features, _embeddings, _probabilities;
            private readonly int _capacity;
            private readonly OrtValue[] _values;
            private readonly OrtIoBinding _io;
            private bool _released;

            public Binding(OnnxRuntimeScorer owner, InferenceSession session, float[] features, float[] embeddings, float[] probabilities, int capacity)
            {
                _owner = owner;
                _session = session;
                _features = features;
                _embeddings = embeddings;
                _probabilities = probabilities;
                _capacity = capacity;
                _values = Values(capacity);
                _io = Bound(_values);
            }

            /// <summary>Scores the first <paramref name="rows"/> rows of the bound arrays.</summary>
            public void Score(int rows)
            {
                if (rows == 0)
                    return;
                if (rows == _capacity)
                {
                    _session.RunWithBinding(_owner._runOptions, _io);
                    return;
                }
                // A last, partial batch: values over the first rows only (the graph's batch dimension is free).
                var values = Values(rows);
                try
                {
                    using var io = Bound(values);
                    _session.RunWithBinding(_owner._runOptions, io);
                }
                finally
                {
                    foreach (var value in values)
                        value.Dispose();
                }
            }

            private OrtValue[] Values(int rows) => new[]
            {
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_features, 0, rows * _owner.FeatureSize), new long[] { rows, _owner.FeatureSize }),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_embeddings, 0, rows * _owner.EmbeddingSize), new long[] { rows, _owner.EmbeddingSize }),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_probabilities, 0, rows * _owner.ClassCount), new long[] { rows, _owner.ClassCount }),
            };

            // Only the embedding and the score are fetched: the cursor takes the predicted key from the score, as with TorchSharp.
            private OrtIoBinding Bound(OrtValue[] values)
            {
                var io = _session.CreateIoBinding();
                io.BindInput(_owner.InputName, values[0]);
                io.BindOutput(_owner.EmbeddingName, values[1]);
                io.BindOutput(_owner.ScoreName, values[2]);
                return io;
            }

            public void Dispose()
            {
                if (_released)
                    return;
                _released = true;
                _io.Dispose();
                foreach (var value in _values)
                    value.Dispose();
            }
        }
    }
}
