namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// What runs a <see cref="DomainAdaptationTransformer"/>'s network when it scores (<c>Transform</c>, <c>PredictionEngine</c>);
    /// set through <see cref="DomainAdaptationTransformer.ScoringEngine"/>. Training always uses TorchSharp.
    /// </summary>
    public enum ScoringEngine
    {
        /// <summary>
        /// OnnxRuntime when its native library loads and the network exports to ONNX, else TorchSharp (the reason is logged
        /// once through the <see cref="MLContext"/>'s log). The default.
        /// </summary>
        Auto = 0,

        /// <summary>
        /// An OnnxRuntime session built in memory from the transformer's own ONNX export (<see cref="DomainAdaptationTransformer.ExportToOnnx(System.IO.Stream)"/>):
        /// much less overhead per operation than libtorch, which matters most for single rows. Class probabilities agree with
        /// TorchSharp's to about 1e-6. Needs a native OnnxRuntime in the application (package <c>Microsoft.ML.OnnxRuntime</c>
        /// or <c>Microsoft.ML.OnnxRuntime.Gpu</c>); scoring throws an <see cref="System.InvalidOperationException"/> saying why
        /// when it cannot be used.
        /// </summary>
        OnnxRuntime = 1,

        /// <summary>The network's TorchSharp (libtorch) modules: bit-identical to the forward pass the training ran.</summary>
        TorchSharp = 2,
    }
}
