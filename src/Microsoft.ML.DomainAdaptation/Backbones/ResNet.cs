using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Onnx;
using Microsoft.ML.DomainAdaptation.Onnx.Proto;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Backbones
{
    /// <summary>
    /// A ResNet of basic blocks (He et al., 2016) without its classifier: the stem (7×7 convolution, stride 2 – batch
    /// norm – ReLU – 3×3 max pooling, stride 2), four stages of basic blocks (64, 128, 256, 512 channels; stages 2–4
    /// halve the resolution, with a 1×1 projection on the shortcut), then global average pooling to 512 features.
    /// ResNet-18 has { 2, 2, 2, 2 } blocks; ML.NET's ImageNet-trained ResNet18.onnx (converted from CNTK) has
    /// { 2, 2, 2, 3 } (22 convolutions), which <see cref="BlockCounts(ModelProto, string)"/> reads from the graph.
    /// Module names follow torchvision's <c>resnet18</c> (conv1, bn1, layer1.0.conv1, …, layer2.0.downsample.0).
    /// Input: N×3×H×W; global pooling makes the output size-independent (any side from 32 up). Without the stem's max
    /// pooling (<see cref="StemPooling"/> false) every stage works at twice the resolution, four times the cost: a 32 px
    /// image then reaches the last stage as 2 × 2 cells instead of 1 × 1 (the usual change for CIFAR-sized inputs).
    /// </summary>
    /// <remarks>
    /// Padding is torchvision's (symmetric). CNTK padded strided layers at the start only (pads 3/2 for the stem, 1/0 for
    /// the 3×3 stride-2 layers and the max pooling): the same windows for even sides, so both agree on every even side
    /// (224, 64, 32…); on odd sides the maps differ by one cell at the border.
    /// </remarks>
    internal sealed class ResNet : Module<Tensor, Tensor>
    {
        public const int FeatureSize = 512;
        public const int StageCount = 4;
        internal static readonly int[] Widths = { 64, 128, 256, 512 };
        private readonly int[] _blocks;
        private readonly bool _stemPooling;

        public readonly Conv2d conv1;
        public readonly BatchNorm2d bn1;
        public readonly Sequential layer1, layer2, layer3, layer4;

        /// <summary>
        /// A ResNet with <paramref name="blocks"/> basic blocks per stage (default: ResNet-18's { 2, 2, 2, 2 }), with the stem's
        /// max pooling unless <paramref name="stemPooling"/> is false (the weights are the same either way).
        /// </summary>
        public ResNet(int[] blocks = null, bool stemPooling = true) : base(nameof(ResNet))
        {
            _blocks = blocks ?? new[] { 2, 2, 2, 2 };
            _stemPooling = stemPooling;
            if (_blocks.Length != StageCount || _blocks.Any(b => b < 1))
                throw new ArgumentException($"A ResNet has {StageCount} stages of at least one block; got [{string.Join(", ", _blocks)}].", nameof(blocks));
            conv1 = Conv2d(3, 64, kernel_size: (7, 7), stride: (2, 2), padding: (3, 3), bias: false);
            bn1 = BatchNorm2d(64);
            layer1 = Stage(64, 64, 1, _blocks[0]);
            layer2 = Stage(64, 128, 2, _blocks[1]);
            layer3 = Stage(128, 256, 2, _blocks[2]);
            layer4 = Stage(256, 512, 2, _blocks[3]);
            RegisterComponents();
        }

        /// <summary>Basic blocks per stage.</summary>
        public IReadOnlyList<int> Blocks => _blocks;

        /// <summary>Whether the stem ends with the 3×3 max pooling of stride 2.</summary>
        public bool StemPooling => _stemPooling;

        /// <summary>
        /// The blocks per stage of a ResNet ONNX graph of basic blocks: its 3×3 convolutions of each stage's width, two per
        /// block. Checked again, shape by shape, by <see cref="LoadOnnxWeights"/>.
        /// </summary>
        public static int[] BlockCounts(ModelProto model, string source)
        {
            var initializers = OnnxModelReader.Initializers(model.Graph);
            var kernels = model.Graph.Node.Where(n => n.OpType == "Conv" && n.Input.Count > 1 && initializers.ContainsKey(n.Input[1]))
                .Select(n => initializers[n.Input[1]].Dims).Where(d => d.Count == 4 && d[2] == 3 && d[3] == 3).ToArray();
            var counts = Widths.Select(w => kernels.Count(d => d[0] == w)).ToArray();
            if (counts.Any(c => c == 0 || c % 2 != 0))
                throw new InvalidDataException($"{source} is not a ResNet of basic blocks: its 3×3 convolutions per stage width (64, 128, 256, 512) number {string.Join(", ", counts)}; two per block were expected.");
            return counts.Select(c => c / 2).ToArray();
        }

        /// <summary>The stages in order, for freezing: index 0 is layer1.</summary>
        public IReadOnlyList<Sequential> Stages => new[] { layer1, layer2, layer3, layer4 };

        /// <summary>The stem's modules (conv1, bn1).</summary>
        public IEnumerable<Module> Stem => new Module[] { conv1, bn1 };

        private static Sequential Stage(int input, int output, int stride, int blocks) =>
            Sequential(Enumerable.Range(0, blocks).Select(b => (b.ToString(), (Module<Tensor, Tensor>)(b == 0 ? new BasicBlock(input, output, stride) : new BasicBlock(output, output, 1)))));

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = functional.relu(bn1.forward(conv1.forward(input)));
            if (_stemPooling)
                x = functional.max_pool2d(x, new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 1 });
            x = layer4.forward(layer3.forward(layer2.forward(layer1.forward(x))));
            return functional.adaptive_avg_pool2d(x, new long[] { 1, 1 }).flatten(1).MoveToOuterDisposeScope();
        }

        /// <summary>
        /// Copies the weights of a ResNet ONNX graph of basic blocks (such as ML.NET's ImageNet-trained ResNet18.onnx, converted from
        /// CNTK) into this module. Convolutions are matched in graph order (a topological order, so block by block), the
        /// 1×1 shortcut projections apart; each convolution's batch normalisation is the node reading its output. Every
        /// shape is checked, so another architecture is refused with the first mismatch.
        /// </summary>
        public void LoadOnnxWeights(ModelProto model, string source)
        {
            var graph = model.Graph;
            var initializers = OnnxModelReader.Initializers(graph);
            var convolutions = graph.Node.Where(n => n.OpType == "Conv").ToArray();
            bool IsProjection(NodeProto conv) => initializers.TryGetValue(conv.Input[1], out var w) && w.Dims.Count == 4 && w.Dims[2] == 1 && w.Dims[3] == 1;
            var main = convolutions.Where(c => !IsProjection(c)).ToArray();
            var projections = convolutions.Where(IsProjection).ToArray();

            var mainTargets = new List<(string Name, Conv2d Conv, BatchNorm2d Norm)> { ("conv1", conv1, bn1) };
            var projectionTargets = new List<(string Name, Conv2d Conv, BatchNorm2d Norm)>();
            for (int s = 0; s < StageCount; s++)
            {
                for (int b = 0; b < _blocks[s]; b++)
                {
                    var block = (BasicBlock)Stages[s][b];
                    string prefix = $"layer{s + 1}.{b}";
                    mainTargets.Add(($"{prefix}.conv1", block.conv1, block.bn1));
                    mainTargets.Add(($"{prefix}.conv2", block.conv2, block.bn2));
                    if (block.downsample is not null)
                        projectionTargets.Add(($"{prefix}.downsample", (Conv2d)block.downsample[0], (BatchNorm2d)block.downsample[1]));
                }
            }
            if (main.Length != mainTargets.Count || projections.Length != projectionTargets.Count)
                throw new InvalidDataException($"{source} does not match a ResNet of [{string.Join(", ", _blocks)}] basic blocks: it has {main.Length} convolutions and {projections.Length} 1×1 shortcut projections, the network {mainTargets.Count} and {projectionTargets.Count}.");

            using var noGrad = no_grad();
            foreach (var (node, target) in main.Zip(mainTargets).Concat(projections.Zip(projectionTargets)))
            {
                var norm = graph.Node.FirstOrDefault(n => n.OpType == "BatchNormalization" && n.Input[0] == node.Output[0])
                    ?? throw new InvalidDataException($"{source} does not match the ResNet: {OnnxModelReader.Describe(node)} (for {target.Name}) is not followed by a BatchNormalization.");
                if (node.Input.Count > 2 && node.Input[2].Length > 0)
                    throw new InvalidDataException($"{source} does not match the ResNet as expected: {OnnxModelReader.Describe(node)} (for {target.Name}) has a bias.");
                Copy(target.Conv.weight, initializers, node.Input[1], source, target.Name);
                Copy(target.Norm.weight, initializers, norm.Input[1], source, target.Name);
                Copy(target.Norm.bias, initializers, norm.Input[2], source, target.Name);
                Copy(target.Norm.running_mean, initializers, norm.Input[3], source, target.Name);
                Copy(target.Norm.running_var, initializers, norm.Input[4], source, target.Name);
            }
        }

        /// <summary>
        /// Writes the network into <paramref name="graph"/> in inference form (Conv, BatchNormalization with the running
        /// statistics, Relu, MaxPool unless <see cref="StemPooling"/> is false, Add, GlobalAveragePool, Flatten) from the N×3×H×W value <paramref name="input"/>;
        /// returns the N×512 output. Names of the initializers start with <paramref name="prefix"/>.
        /// </summary>
        public string ExportOnnx(OnnxGraph graph, string input, string prefix)
        {
            string x = ConvNorm(graph, input, conv1, bn1, $"{prefix}conv1", $"{prefix}bn1", 7, 2, 3);
            x = graph.Node("Relu", new[] { x });
            if (_stemPooling)
                x = graph.Node("MaxPool", new[] { x }, attributes: new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }) });
            for (int s = 0; s < StageCount; s++)
            {
                for (int b = 0; b < _blocks[s]; b++)
                {
                    var block = (BasicBlock)Stages[s][b];
                    string name = $"{prefix}layer{s + 1}.{b}";
                    long stride = s > 0 && b == 0 ? 2 : 1;
                    string y = graph.Node("Relu", new[] { ConvNorm(graph, x, block.conv1, block.bn1, $"{name}.conv1", $"{name}.bn1", 3, stride, 1) });
                    y = ConvNorm(graph, y, block.conv2, block.bn2, $"{name}.conv2", $"{name}.bn2", 3, 1, 1);
                    string shortcut = block.downsample is null ? x
                        : ConvNorm(graph, x, (Conv2d)block.downsample[0], (BatchNorm2d)block.downsample[1], $"{name}.downsample.0", $"{name}.downsample.1", 1, stride, 0);
                    x = graph.Node("Relu", new[] { graph.Node("Add", new[] { y, shortcut }) });
                }
            }
            return graph.Node("Flatten", new[] { graph.Node("GlobalAveragePool", new[] { x }) }, attributes: ("axis", 1L));
        }

        private static string ConvNorm(OnnxGraph graph, string input, Conv2d conv, BatchNorm2d norm, string convName, string normName, long kernel, long stride, long pad)
        {
            string x = graph.Node("Conv", new[] { input, Constant(graph, conv.weight, $"{convName}.weight") }, attributes: new (string, object)[]
            {
                ("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }),
            });
            return graph.Node("BatchNormalization", new[]
            {
                x, Constant(graph, norm.weight, $"{normName}.weight"), Constant(graph, norm.bias, $"{normName}.bias"),
                Constant(graph, norm.running_mean, $"{normName}.running_mean"), Constant(graph, norm.running_var, $"{normName}.running_var"),
            }, attributes: ("epsilon", (float)norm.eps));
        }

        internal static string Constant(OnnxGraph graph, Tensor tensor, string name)
        {
            using var cpu = tensor.detach().cpu().contiguous().to_type(ScalarType.Float32);
            return graph.Initializer(name, cpu.data<float>().ToArray(), tensor.shape);
        }

        private static void Copy(Tensor target, Dictionary<string, TensorProto> initializers, string name, string source, string targetName)
        {
            if (!initializers.TryGetValue(name, out var tensor))
                throw new InvalidDataException($"{source}: the weight '{name}' (for {targetName}) is computed, not a constant initializer.");
            var dims = OnnxModelReader.Dims(tensor);
            if (!dims.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source} does not match the ResNet: '{name}' (for {targetName}) has shape [{string.Join(", ", dims)}], expected [{string.Join(", ", target.shape)}].");
            using var values = torch.tensor(OnnxModelReader.Floats(tensor), dims);
            target.copy_(values);
        }

        /// <summary>Two 3×3 convolutions with batch norm, added to the (projected when the shape changes) input, then ReLU.</summary>
        internal sealed class BasicBlock : Module<Tensor, Tensor>
        {
            public readonly Conv2d conv1, conv2;
            public readonly BatchNorm2d bn1, bn2;
            public readonly Sequential downsample;

            public BasicBlock(int input, int output, int stride) : base(nameof(BasicBlock))
            {
                conv1 = Conv2d(input, output, kernel_size: (3, 3), stride: (stride, stride), padding: (1, 1), bias: false);
                bn1 = BatchNorm2d(output);
                conv2 = Conv2d(output, output, kernel_size: (3, 3), padding: (1, 1), bias: false);
                bn2 = BatchNorm2d(output);
                if (stride != 1 || input != output)
                    downsample = Sequential(("0", Conv2d(input, output, kernel_size: (1, 1), stride: (stride, stride), bias: false)), ("1", BatchNorm2d(output)));
                RegisterComponents();
            }

            public override Tensor forward(Tensor input)
            {
                using var scope = NewDisposeScope();
                var x = functional.relu(bn1.forward(conv1.forward(input)));
                x = bn2.forward(conv2.forward(x));
                var shortcut = downsample is null ? input : downsample.forward(input);
                return functional.relu(x + shortcut).MoveToOuterDisposeScope();
            }
        }
    }
}
