using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Backbones
{
    /// <summary>
    /// A pretrained CNN fine-tuned end to end: the input normalisation the pretrained weights expect (inside the
    /// network, so scoring and the ONNX export take the features as they are), the pretrained trunk (a
    /// <see cref="ResNet"/> or an <see cref="OnnxGraphNetwork"/>) giving pooled features, then a new bottleneck
    /// Linear–BatchNorm–ReLU to the embedding, as in the domain adaptation literature's ResNet backbones.
    /// </summary>
    /// <remarks>
    /// Input normalisation: the flat C×H×W features become N×C×H×W; channel c′ of the trunk's input is
    /// <c>feature[Channels[c′]] × Scale[c′] + Shift[c′]</c> (a greyscale image feeds all three channels).
    /// Frozen modules (<see cref="Freeze"/>) have no gradient and keep their batch-norm statistics: their batch-norm
    /// layers stay in inference mode when the network trains, except while their momentum is null, which is how AdaBN
    /// re-estimates every statistic of the backbone on the target.
    /// </remarks>
    internal sealed class PretrainedBackbone : Module<Tensor, Tensor>
    {
        private readonly int _channels, _side;
        private readonly long[] _channelIndex;
        private readonly List<Module> _frozen = new();
        public readonly Module<Tensor, Tensor> trunk;
        public readonly Sequential bottleneck;

        public PretrainedBackbone(Module<Tensor, Tensor> trunk, int trunkFeatures, int channels, int side, long[] channelIndex, float[] scale, float[] shift, int embeddingSize)
            : base(nameof(PretrainedBackbone))
        {
            _channels = channels;
            _side = side;
            _channelIndex = channelIndex;
            this.trunk = trunk;
            bottleneck = Sequential(("fc", Linear(trunkFeatures, embeddingSize)), ("bn", BatchNorm1d(embeddingSize)), ("relu", ReLU()));
            RegisterComponents();
            // Buffers, not fields: saved with the weights and moved with the network.
            register_buffer("input_index", torch.tensor(channelIndex));
            register_buffer("input_scale", torch.tensor(scale, new long[] { 1, scale.Length, 1, 1 }));
            register_buffer("input_shift", torch.tensor(shift, new long[] { 1, shift.Length, 1, 1 }));
        }

        /// <summary>Factor on the learning rate of the trunk's parameters (a training setting, not saved). Default: 1.</summary>
        public double LearningRateScale { get; set; } = 1;

        /// <summary>The pretrained part: its parameters learn at the scaled learning rate.</summary>
        public IEnumerable<Parameter> PretrainedParameters => trunk.parameters();

        /// <summary>No gradient for <paramref name="modules"/>' parameters and inference-mode batch norm in them.</summary>
        public void Freeze(IEnumerable<Module> modules)
        {
            foreach (var module in modules)
            {
                _frozen.Add(module);
                foreach (var parameter in module.parameters())
                    parameter.requires_grad = false;
            }
            train(training);
        }

        public override void train(bool on = true)
        {
            base.train(on);
            if (on)
                foreach (var norm in _frozen.SelectMany(m => m.modules().Prepend(m)).OfType<BatchNorm>().Where(n => n.momentum is not null))
                    norm.eval();
        }

        /// <summary>The trunk's input from flat features: N×3×H×W normalised as the pretrained weights expect.</summary>
        public Tensor Normalize(Tensor input)
        {
            using var scope = NewDisposeScope();
            var buffers = named_buffers(recurse: false).ToDictionary(b => b.name, b => b.buffer);
            var x = input.view(-1, _channels, _side, _side).index_select(1, buffers["input_index"]);
            return (x * buffers["input_scale"] + buffers["input_shift"]).MoveToOuterDisposeScope();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            return bottleneck.forward(trunk.forward(Normalize(input))).MoveToOuterDisposeScope();
        }

        /// <summary>Writes the backbone into <paramref name="graph"/> from the flat N×(C·H·W) value <paramref name="input"/>; returns the embedding.</summary>
        public string ExportOnnx(OnnxGraph graph, string input, Func<OnnxGraph, string, string> exportTrunk)
        {
            var buffers = named_buffers(recurse: false).ToDictionary(b => b.name, b => b.buffer);
            string x = graph.Node("Reshape", new[] { input, graph.Int64Initializer("backbone.image_shape", new long[] { -1, _channels, _side, _side }) });
            x = graph.Node("Gather", new[] { x, graph.Int64Initializer("backbone.input_index", _channelIndex) }, attributes: ("axis", 1L));
            x = graph.Node("Mul", new[] { x, ResNet.Constant(graph, buffers["input_scale"], "backbone.input_scale") });
            x = graph.Node("Add", new[] { x, ResNet.Constant(graph, buffers["input_shift"], "backbone.input_shift") });
            x = exportTrunk(graph, x);
            var fc = (Linear)bottleneck[0];
            var bn = (BatchNorm1d)bottleneck[1];
            x = graph.Node("Gemm", new[] { x, ResNet.Constant(graph, fc.weight, "backbone.bottleneck.fc.weight"), ResNet.Constant(graph, fc.bias, "backbone.bottleneck.fc.bias") }, attributes: ("transB", 1L));
            x = graph.Node("BatchNormalization", new[]
            {
                x, ResNet.Constant(graph, bn.weight, "backbone.bottleneck.bn.weight"), ResNet.Constant(graph, bn.bias, "backbone.bottleneck.bn.bias"),
                ResNet.Constant(graph, bn.running_mean, "backbone.bottleneck.bn.running_mean"), ResNet.Constant(graph, bn.running_var, "backbone.bottleneck.bn.running_var"),
            }, attributes: ("epsilon", (float)bn.eps));
            return graph.Node("Relu", new[] { x });
        }
    }
}
