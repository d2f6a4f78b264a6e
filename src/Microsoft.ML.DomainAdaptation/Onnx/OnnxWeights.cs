using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// A fitted network's state (parameters and buffers by their state-dict name) as ONNX initializers, with the layers every
    /// exporter needs: Linear (Gemm), batch normalisation in inference form, convolution. One place for these, shared by the
    /// backbones and the heads.
    /// </summary>
    internal sealed class OnnxWeights
    {
        /// <summary>TorchSharp's BatchNorm/InstanceNorm default epsilon.</summary>
        public const float NormalizationEpsilon = 1e-5f;

        private readonly Dictionary<string, Tensor> _weights;

        public OnnxWeights(nn.Module module) => _weights = module.state_dict().ToDictionary(p => p.Key, p => p.Value);

        private OnnxWeights(Dictionary<string, Tensor> weights) => _weights = weights;

        /// <summary>The same weights with the names under <paramref name="from"/> moved under <paramref name="to"/> (others kept).</summary>
        public OnnxWeights Renamed(string from, string to) =>
            new(_weights.ToDictionary(p => p.Key.StartsWith(from, StringComparison.Ordinal) ? to + p.Key.Substring(from.Length) : p.Key, p => p.Value));

        public Tensor Tensor(string key) =>
            _weights.TryGetValue(key, out var tensor) ? tensor
                : throw new InvalidOperationException($"The network has no weight '{key}' (it has {string.Join(", ", _weights.Keys)}).");

        public float[] Values(string key)
        {
            using var cpu = Tensor(key).detach().cpu().contiguous().to_type(ScalarType.Float32);
            return cpu.data<float>().ToArray();
        }

        /// <summary>The weight <paramref name="key"/> as an initializer of the same shape; returns its name.</summary>
        public string Constant(OnnxGraph graph, string key) => graph.Initializer(key, Values(key), Tensor(key).shape);

        /// <summary>y = x Wᵀ + b of the Linear layer at <paramref name="prefix"/>.</summary>
        public string Linear(OnnxGraph graph, string prefix, string input) =>
            graph.Node("Gemm", new[] { input, Constant(graph, $"{prefix}.weight"), Constant(graph, $"{prefix}.bias") }, attributes: ("transB", 1L));

        /// <summary>Batch normalisation at <paramref name="prefix"/> with its running statistics (inference form).</summary>
        public string BatchNorm(OnnxGraph graph, string prefix, string input) =>
            graph.Node("BatchNormalization", new[]
            {
                input, Constant(graph, $"{prefix}.weight"), Constant(graph, $"{prefix}.bias"),
                Constant(graph, $"{prefix}.running_mean"), Constant(graph, $"{prefix}.running_var"),
            }, attributes: ("epsilon", NormalizationEpsilon));

        /// <summary>Instance normalisation at <paramref name="prefix"/> (affine).</summary>
        public string InstanceNorm(OnnxGraph graph, string prefix, string input) =>
            graph.Node("InstanceNormalization", new[] { input, Constant(graph, $"{prefix}.weight"), Constant(graph, $"{prefix}.bias") },
                attributes: ("epsilon", NormalizationEpsilon));

        /// <summary>A 2-D convolution at <paramref name="prefix"/> (with bias), square kernel, no padding, stride 1.</summary>
        public string Conv(OnnxGraph graph, string prefix, string input, long kernel) =>
            graph.Node("Conv", new[] { input, Constant(graph, $"{prefix}.weight"), Constant(graph, $"{prefix}.bias") },
                attributes: ("kernel_shape", new long[] { kernel, kernel }));
    }
}
