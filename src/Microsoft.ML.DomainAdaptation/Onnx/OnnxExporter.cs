using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// Writes a fitted scoring network as an ONNX graph computing what the transformer computes: the backbone (MLP or
    /// LeNet, with batch normalisation in inference form or instance normalisation), then the head of the method
    /// (softmax of one classifier, mean of two classifiers' softmax for MCD, softmax of minus the squared distance to
    /// the class centres for M-ADDA). AdaBN's target statistics and ADDA's target encoder are simply the network's weights.
    /// </summary>
    internal static class OnnxExporter
    {
        private const float NormalizationEpsilon = 1e-5f; // TorchSharp's BatchNorm/InstanceNorm default.

        public static byte[] Export(ScoringNetwork network, int featureSize, string inputName, string embeddingName, string scoreName,
            string predictedLabelName, string producerVersion)
        {
            var spec = network.Spec;
            var weights = network.state_dict().ToDictionary(p => p.Key, p => p.Value);
            var graph = new OnnxGraph();
            graph.Input(inputName, featureSize);

            string x = inputName;
            if (network.backbone is Backbones.PretrainedBackbone pretrained)
                x = pretrained.ExportOnnx(graph, x, (g, images) => pretrained.trunk switch
                {
                    Backbones.ResNet resnet => resnet.ExportOnnx(g, images, "backbone.trunk."),
                    Backbones.OnnxGraphNetwork onnx => onnx.ExportOnnx(g, images, "backbone.trunk."),
                    _ => throw new InvalidOperationException($"No ONNX export for the trunk {pretrained.trunk.GetType().Name}."),
                });
            else if (spec.Backbone == BackboneKind.Mlp)
            {
                for (int i = 0; i <= spec.HiddenSizes.Length; i++)
                {
                    string suffix = i == spec.HiddenSizes.Length ? "_embedding" : i.ToString();
                    x = Linear(graph, weights, $"backbone.layers.fc{suffix}", x);
                    if (spec.Normalization == NormalizationKind.BatchNorm)
                        x = BatchNorm(graph, weights, $"backbone.layers.bn{suffix}", x);
                    x = graph.Node("Relu", new[] { x });
                }
            }
            else
            {
                x = graph.Node("Reshape", new[] { x, graph.Int64Initializer("image_shape", new long[] { -1, spec.Channels, spec.Height, spec.Width }) });
                for (int i = 1; i <= 2; i++)
                {
                    x = graph.Node("Conv", new[] { x, Constant(graph, weights, $"backbone.features.conv{i}.weight"), Constant(graph, weights, $"backbone.features.conv{i}.bias") },
                        attributes: ("kernel_shape", new long[] { 5, 5 }));
                    if (spec.Normalization == NormalizationKind.BatchNorm)
                        x = BatchNorm(graph, weights, $"backbone.features.bn{i}", x);
                    else if (spec.Normalization == NormalizationKind.InstanceNorm)
                        x = graph.Node("InstanceNormalization", new[] { x, Constant(graph, weights, $"backbone.features.in{i}.weight"), Constant(graph, weights, $"backbone.features.in{i}.bias") },
                            attributes: ("epsilon", NormalizationEpsilon));
                    x = graph.Node("Relu", new[] { x });
                    x = graph.Node("MaxPool", new[] { x }, attributes: new (string, object)[] { ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }) });
                }
                x = graph.Node("Flatten", new[] { x }, attributes: ("axis", 1L));
                x = Linear(graph, weights, "backbone.embedding.fc", x);
                if (spec.Normalization == NormalizationKind.BatchNorm)
                    x = BatchNorm(graph, weights, "backbone.embedding.bn_fc", x);
                x = graph.Node("Relu", new[] { x });
            }
            string embedding = graph.Node("Identity", new[] { x }, embeddingName);

            string score = spec.Head switch
            {
                HeadKind.Softmax => graph.Node("Softmax", new[] { Classifier(graph, weights, spec, "classifier", embedding) }, scoreName, ("axis", 1L)),
                HeadKind.AveragedPair => graph.Node("Mul", new[]
                {
                    graph.Node("Add", new[]
                    {
                        graph.Node("Softmax", new[] { Classifier(graph, weights, spec, "classifier", embedding) }, attributes: ("axis", 1L)),
                        graph.Node("Softmax", new[] { Classifier(graph, weights, spec, "classifier2", embedding) }, attributes: ("axis", 1L)),
                    }),
                    graph.Initializer("half", new[] { 0.5f }),
                }, scoreName),
                HeadKind.NearestCentre => NearestCentre(graph, weights, spec, embedding, scoreName),
                _ => throw new InvalidOperationException($"Unknown head {spec.Head}."),
            };
            graph.Node("ArgMax", new[] { score }, predictedLabelName, ("axis", 1L), ("keepdims", 0L));

            graph.Output(embeddingName, false, "N", (long)spec.EmbeddingSize);
            graph.Output(scoreName, false, "N", (long)spec.ClassCount);
            graph.Output(predictedLabelName, true, "N");
            return graph.Serialize($"DomainAdaptation_{spec.Backbone}_{spec.Head}", producerVersion);
        }

        private static string Classifier(OnnxGraph graph, Dictionary<string, Tensor> weights, NetworkSpec spec, string prefix, string embedding) =>
            spec.ClassifierHiddenSize > 0
                ? Linear(graph, weights, $"{prefix}.layers.fc2", graph.Node("Relu", new[] { Linear(graph, weights, $"{prefix}.layers.fc1", embedding) }))
                : Linear(graph, weights, $"{prefix}.layers.fc", embedding);

        // softmax(−‖e − c_j‖² / 2σ²) with ‖e − c‖² = ‖e‖² − 2 e·c + ‖c‖²: a MatMul instead of an N × K × E difference tensor.
        private static string NearestCentre(OnnxGraph graph, Dictionary<string, Tensor> weights, NetworkSpec spec, string embedding, string scoreName)
        {
            var centres = Values(weights, "centres");
            int k = spec.ClassCount, e = spec.EmbeddingSize;
            var transposed = new float[e * k];
            var squaredNorms = new float[k];
            for (int j = 0; j < k; j++)
            {
                for (int d = 0; d < e; d++)
                {
                    transposed[d * k + j] = centres[j * e + d];
                    squaredNorms[j] += centres[j * e + d] * centres[j * e + d];
                }
            }
            string embeddingNorms = graph.Node("ReduceSumSquare", new[] { embedding }, attributes: new (string, object)[] { ("axes", new long[] { 1 }), ("keepdims", 1L) });
            string dot = graph.Node("MatMul", new[] { embedding, graph.Initializer("centres_t", transposed, e, k) });
            string twiceDot = graph.Node("Mul", new[] { dot, graph.Initializer("two", new[] { 2f }) });
            string squared = graph.Node("Add", new[] { graph.Node("Sub", new[] { embeddingNorms, twiceDot }), graph.Initializer("centre_norms", squaredNorms, 1, k) });
            var scale = Values(weights, ScoringNetwork.CentreScaleName);
            string scaled = graph.Node("Mul", new[] { squared, graph.Initializer("centre_scale", new[] { -scale[0] }) });
            return graph.Node("Softmax", new[] { scaled }, scoreName, ("axis", 1L));
        }

        private static string Linear(OnnxGraph graph, Dictionary<string, Tensor> weights, string prefix, string input) =>
            graph.Node("Gemm", new[] { input, Constant(graph, weights, $"{prefix}.weight"), Constant(graph, weights, $"{prefix}.bias") }, attributes: ("transB", 1L));

        private static string BatchNorm(OnnxGraph graph, Dictionary<string, Tensor> weights, string prefix, string input) =>
            graph.Node("BatchNormalization", new[]
            {
                input, Constant(graph, weights, $"{prefix}.weight"), Constant(graph, weights, $"{prefix}.bias"),
                Constant(graph, weights, $"{prefix}.running_mean"), Constant(graph, weights, $"{prefix}.running_var"),
            }, attributes: ("epsilon", NormalizationEpsilon));

        private static string Constant(OnnxGraph graph, Dictionary<string, Tensor> weights, string key)
        {
            var tensor = Tensor(weights, key);
            return graph.Initializer(key, Values(weights, key), tensor.shape);
        }

        private static Tensor Tensor(Dictionary<string, Tensor> weights, string key) =>
            weights.TryGetValue(key, out var tensor) ? tensor
                : throw new InvalidOperationException($"The network has no weight '{key}' (it has {string.Join(", ", weights.Keys)}).");

        private static float[] Values(Dictionary<string, Tensor> weights, string key)
        {
            using var cpu = Tensor(weights, key).detach().cpu().contiguous().to_type(ScalarType.Float32);
            return cpu.data<float>().ToArray();
        }
    }
}
