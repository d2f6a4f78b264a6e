using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// Writes a fitted scoring network as an ONNX graph computing what the transformer computes: the input normalisation
    /// (<see cref="InputNormalizerSpec.ExportOnnx"/>), the backbone (whose
    /// description emits its own nodes, <see cref="BackboneSpec.ExportOnnx"/>), then the head of the method
    /// (softmax of one classifier, mean of two classifiers' softmax for MCD, softmax of minus the squared distance to
    /// the class centres for M-ADDA). AdaBN's target statistics and ADDA's target encoder are simply the network's weights.
    /// </summary>
    internal static class OnnxExporter
    {
        public static byte[] Export(ScoringNetwork network, int featureSize, string inputName, string embeddingName, string scoreName,
            string predictedLabelName, string producerVersion)
        {
            var spec = network.Spec;
            var weights = new OnnxWeights(network);
            var graph = new OnnxGraph();
            graph.Input(inputName, featureSize);
            string x = inputName;
            if (spec.Input.Kind != InputNormalizationKind.None)
            {
                // The normaliser's nodes, then the backbone reading its weights under "backbone." as without one.
                x = spec.Input.ExportOnnx(graph, x, spec.Backbone.Image.Value);
                weights = weights.Renamed($"backbone.{InputNormalizedBackbone.InnerName}.", "backbone.");
            }
            x = spec.Backbone.ExportOnnx(graph, weights, x);
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
            return graph.Serialize($"DomainAdaptation_{spec.Backbone.Kind}_{spec.Head}", producerVersion);
        }

        private static string Classifier(OnnxGraph graph, OnnxWeights weights, NetworkSpec spec, string prefix, string embedding) =>
            spec.ClassifierHiddenSize > 0
                ? weights.Linear(graph, $"{prefix}.layers.fc2", graph.Node("Relu", new[] { weights.Linear(graph, $"{prefix}.layers.fc1", embedding) }))
                : weights.Linear(graph, $"{prefix}.layers.fc", embedding);

        // softmax(−‖e − c_j‖² / 2σ²) with ‖e − c‖² = ‖e‖² − 2 e·c + ‖c‖²: a MatMul instead of an N × K × E difference tensor.
        private static string NearestCentre(OnnxGraph graph, OnnxWeights weights, NetworkSpec spec, string embedding, string scoreName)
        {
            var centres = weights.Values("centres");
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
            var scale = weights.Values(ScoringNetwork.CentreScaleName);
            string scaled = graph.Node("Mul", new[] { squared, graph.Initializer("centre_scale", new[] { -scale[0] }) });
            return graph.Node("Softmax", new[] { scaled }, scoreName, ("axis", 1L));
        }
    }
}
