using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML.DomainAdaptation.Onnx;
using Microsoft.ML.DomainAdaptation.Onnx.Proto;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Backbones
{
    /// <summary>
    /// An ONNX CNN graph as a trainable TorchSharp module: each Conv, BatchNormalization, Gemm and MatMul-by-a-constant
    /// becomes a Conv2d, BatchNorm1d/2d or Linear holding the graph's weights (trained from there, batch-norm statistics
    /// included, so AdaBN finds them); other constants (Mul/Sub/Div/Add operands, Clip bounds) are buffers. Only the
    /// nodes the chosen output depends on are kept, so a classifier with unsupported operators after the features does
    /// not matter. Every kept node is checked at construction: an operator outside <see cref="SupportedOperators"/>
    /// is an error naming the operator and the node, before any training.
    /// </summary>
    /// <remarks>
    /// Inputs are N×C×H×W; a Reshape whose first dimension is the graph input's fixed batch size (1 in many exports)
    /// keeps the batch free instead. A rank-4 output is averaged over its spatial dimensions (global pooling), so the
    /// output is N×features whatever the image size. The graph structure is kept (without its weights) to save the
    /// model and rebuild it: <see cref="StructureBytes"/>.
    /// </remarks>
    internal sealed class OnnxGraphNetwork : Module<Tensor, Tensor>
    {
        public static readonly IReadOnlyList<string> SupportedOperators = new[]
        {
            "Conv", "BatchNormalization", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Concat",
            "Flatten", "Gemm", "MatMul", "Reshape", "Mul", "Sub", "Div", "Identity", "Dropout",
        };

        private readonly string _input;
        private readonly string _output;
        private readonly long _inputBatch;
        private readonly List<Step> _steps = new();
        private readonly Dictionary<string, string> _constants = new(); // graph constant name → buffer name
        private readonly Dictionary<string, int> _ranks = new();

        /// <summary>
        /// Builds the module from <paramref name="model"/>'s graph, computing <paramref name="outputName"/> (empty: the
        /// graph's first output), with the graph's initializers as initial weights. <paramref name="source"/> names the
        /// model in messages.
        /// </summary>
        public OnnxGraphNetwork(ModelProto model, string outputName, string source) : base(nameof(OnnxGraphNetwork))
        {
            var graph = model.Graph;
            var initializers = OnnxModelReader.Initializers(graph);
            var inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToArray();
            if (inputs.Length != 1)
                throw new InvalidDataException($"{source} has {inputs.Length} inputs besides its weights; an ONNX backbone takes one image input.");
            _input = inputs[0].Name;
            var inputDims = inputs[0].Type?.TensorType?.Shape?.Dim;
            if (inputDims is not null && inputDims.Count != 4)
                throw new InvalidDataException($"{source}: input '{_input}' has {inputDims.Count} dimensions; an ONNX backbone takes images N×C×H×W.");
            _inputBatch = inputDims is not null && inputDims[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? inputDims[0].DimValue : -1;
            _output = string.IsNullOrEmpty(outputName) ? graph.Output.First().Name : outputName;

            var producers = new Dictionary<string, NodeProto>();
            foreach (var node in graph.Node)
                foreach (var output in node.Output)
                    producers[output] = node;
            if (!producers.ContainsKey(_output))
                throw new ArgumentException($"OutputName: {source} has no node output '{_output}'. Its graph outputs: {string.Join(", ", graph.Output.Select(o => o.Name))}.", "OutputName");

            // The nodes the output depends on, in the graph's (topological) order.
            var needed = new HashSet<NodeProto>();
            var pending = new Stack<string>(new[] { _output });
            while (pending.Count > 0)
            {
                if (producers.TryGetValue(pending.Pop(), out var node) && needed.Add(node))
                    foreach (var input in node.Input.Where(i => i.Length > 0))
                        pending.Push(input);
            }
            var unsupported = graph.Node.Where(needed.Contains).FirstOrDefault(n => !SupportedOperators.Contains(n.OpType) || n.Domain is not ("" or "ai.onnx"));
            if (unsupported is not null)
                throw new NotSupportedException($"{source}: {OnnxModelReader.Describe(unsupported)} uses operator '{unsupported.OpType}'{(unsupported.Domain.Length > 0 ? $" of domain '{unsupported.Domain}'" : "")}, which an ONNX backbone does not support. Supported operators: {string.Join(", ", SupportedOperators)}.");

            _ranks[_input] = 4;
            int index = 0;
            using var noGrad = no_grad();
            foreach (var node in graph.Node.Where(needed.Contains))
                _steps.Add(Build(node, index++, initializers, source));
            RegisterComponents();
            StructureBytes = Structure(model);
        }

        /// <summary>The ONNX model without its initializers' values (a few kilobytes): saved models rebuild the module from it.</summary>
        public byte[] StructureBytes { get; }

        public string InputName => _input;

        public string OutputName => _output;

        /// <summary>
        /// The output width for images of <paramref name="channels"/> × <paramref name="side"/>²: one forward pass of
        /// zeros, so a size the graph cannot take (e.g. a fixed pooling larger than its map) fails before training.
        /// </summary>
        public int FeatureCount(int channels, int side, string source)
        {
            bool wasTraining = training;
            eval();
            try
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                return (int)forward(zeros(1, channels, side, side)).shape[1];
            }
            catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException)
            {
                throw new ArgumentOutOfRangeException("ImageSize", side, $"ImageSize: {source} cannot take {channels} × {side} × {side} images: {e.Message}");
            }
            finally
            {
                train(wasTraining);
            }
        }

        /// <summary>The output's rank: 4 is globally average-pooled to N×C.</summary>
        public int OutputRank => _ranks[_output];

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var buffers = named_buffers(recurse: false).ToDictionary(b => b.name, b => b.buffer);
            var values = new Dictionary<string, Tensor> { [_input] = input };
            Tensor Value(string name) => _constants.TryGetValue(name, out var buffer) ? buffers[buffer] : values[name];
            foreach (var step in _steps)
                values[step.Output] = step.Run(step.Inputs.Select(i => i.Length == 0 ? null : Value(i)).ToArray());
            var output = values[_output];
            if (output.dim() == 4)
                output = output.mean(new long[] { 2, 3 });
            return output.flatten(1).MoveToOuterDisposeScope();
        }

        private sealed record Step(NodeProto Node, string[] Inputs, string Output, Func<Tensor[], Tensor> Run, Module Layer);

        private Step Build(NodeProto node, int index, Dictionary<string, TensorProto> initializers, string source)
        {
            string where = $"{source}: {OnnxModelReader.Describe(node)}";
            var inputs = node.Input.ToArray();
            string output = node.Output[0];
            int Rank(int i) => _ranks.TryGetValue(inputs[i], out int r) ? r : initializers.TryGetValue(inputs[i], out var t) ? t.Dims.Count : throw new InvalidDataException($"{where} reads '{inputs[i]}', which no earlier node computes.");
            TensorProto Weight(int i) => i < inputs.Length && inputs[i].Length > 0
                ? initializers.TryGetValue(inputs[i], out var t) ? t : throw new NotSupportedException($"{where}: its input '{inputs[i]}' is computed; an ONNX backbone needs it to be a constant initializer.")
                : null;
            // A model rebuilt from StructureBytes has no weight values: zeros, until the saved state is loaded into them.
            Tensor Values(TensorProto t) => HasValues(t) ? torch.tensor(OnnxModelReader.Floats(t), OnnxModelReader.Dims(t)) : zeros(OnnxModelReader.Dims(t));
            void Constant(string name)
            {
                if (!_ranks.ContainsKey(name) && !_constants.ContainsKey(name) && initializers.TryGetValue(name, out var t))
                {
                    string buffer = $"const{_constants.Count}";
                    register_buffer(buffer, t.DataType == (int)TensorProto.Types.DataType.Float ? Values(t) : torch.tensor(OnnxModelReader.Int64s(t), OnnxModelReader.Dims(t)));
                    _constants[name] = buffer;
                }
            }
            void Spatial(long[] values, string attribute)
            {
                if (values is not null && values.Length != 2 && !(attribute == "pads" && values.Length == 4))
                    throw new NotSupportedException($"{where}: {attribute} [{string.Join(", ", values)}] is not 2-D; an ONNX backbone supports 2-D images only.");
            }
            string autoPad = OnnxModelReader.String(node, "auto_pad", "NOTSET");
            if (autoPad is not ("NOTSET" or "VALID" or ""))
                throw new NotSupportedException($"{where}: auto_pad {autoPad} is not supported; export the model with explicit pads.");

            Module layer = null;
            Func<Tensor[], Tensor> run;
            int rank = inputs.Length > 0 && inputs[0].Length > 0 ? Rank(0) : 4;
            switch (node.OpType)
            {
                case "Conv":
                {
                    var w = Weight(1);
                    if (w.Dims.Count != 4)
                        throw new NotSupportedException($"{where}: a {w.Dims.Count - 2}-D convolution; an ONNX backbone supports 2-D convolutions only.");
                    var b = Weight(2);
                    long group = OnnxModelReader.Int(node, "group", 1);
                    var strides = OnnxModelReader.Ints(node, "strides") ?? new long[] { 1, 1 };
                    var dilations = OnnxModelReader.Ints(node, "dilations") ?? new long[] { 1, 1 };
                    var pads = OnnxModelReader.Ints(node, "pads") ?? new long[4];
                    Spatial(strides, "strides"); Spatial(dilations, "dilations"); Spatial(pads, "pads");
                    var conv = Conv2d(w.Dims[1] * group, w.Dims[0], kernel_size: (w.Dims[2], w.Dims[3]), stride: (strides[0], strides[1]),
                        dilation: (dilations[0], dilations[1]), groups: group, bias: b is not null);
                    using (var values = Values(w)) conv.weight.copy_(values);
                    if (b is not null)
                        using (var values = Values(b)) conv.bias.copy_(values);
                    layer = conv;
                    run = x => conv.forward(Pad(x[0], pads, 0));
                    break;
                }
                case "BatchNormalization":
                {
                    long features = Weight(1).Dims[0];
                    double epsilon = OnnxModelReader.Float(node, "epsilon", 1e-5f);
                    BatchNorm norm = rank == 4 ? BatchNorm2d(features, epsilon) : rank == 2 ? BatchNorm1d(features, epsilon)
                        : throw new NotSupportedException($"{where}: batch normalisation of a rank-{rank} tensor; 2 or 4 is supported.");
                    using (var values = Values(Weight(1))) norm.weight.copy_(values);
                    using (var values = Values(Weight(2))) norm.bias.copy_(values);
                    using (var values = Values(Weight(3))) norm.running_mean.copy_(values);
                    using (var values = Values(Weight(4))) norm.running_var.copy_(values);
                    layer = norm;
                    run = x => ((Module<Tensor, Tensor>)norm).forward(x[0]);
                    break;
                }
                case "Gemm":
                {
                    if (OnnxModelReader.Int(node, "transA", 0) != 0)
                        throw new NotSupportedException($"{where}: transA = 1 is not supported.");
                    var w = Weight(1);
                    var c = Weight(2);
                    float alpha = OnnxModelReader.Float(node, "alpha", 1), beta = OnnxModelReader.Float(node, "beta", 1);
                    bool transB = OnnxModelReader.Int(node, "transB", 0) != 0;
                    long outputs = transB ? w.Dims[0] : w.Dims[1];
                    var linear = Linear(transB ? w.Dims[1] : w.Dims[0], outputs, hasBias: c is not null);
                    using (var values = Values(w))
                    using (var weight = (transB ? values : values.t()) * alpha)
                        linear.weight.copy_(weight);
                    if (c is not null)
                    {
                        using var values = Values(c);
                        if (values.numel() != outputs && values.numel() != 1)
                            throw new NotSupportedException($"{where}: C of shape [{string.Join(", ", c.Dims)}]; a per-output bias is supported.");
                        using var bias = (values.reshape(-1) * beta).expand(outputs);
                        linear.bias.copy_(bias);
                    }
                    layer = linear;
                    run = x => linear.forward(x[0]);
                    rank = 2;
                    break;
                }
                case "MatMul" when initializers.ContainsKey(inputs[1]) && initializers[inputs[1]].Dims.Count == 2:
                {
                    var w = Weight(1);
                    var linear = Linear(w.Dims[0], w.Dims[1], hasBias: false);
                    using (var values = Values(w)) using (var t = values.t()) linear.weight.copy_(t);
                    layer = linear;
                    run = x => linear.forward(x[0]);
                    break;
                }
                case "MatMul":
                    Constant(inputs[0]); Constant(inputs[1]);
                    run = x => x[0].matmul(x[1]);
                    rank = Math.Max(Rank(0), Rank(1));
                    break;
                case "Relu":
                    run = x => functional.relu(x[0]);
                    break;
                case "Clip":
                {
                    float min = OnnxModelReader.Float(node, "min", float.NegativeInfinity), max = OnnxModelReader.Float(node, "max", float.PositiveInfinity);
                    if (inputs.Length > 1 && inputs[1].Length > 0) min = OnnxModelReader.Floats(Weight(1)).Single();
                    if (inputs.Length > 2 && inputs[2].Length > 0) max = OnnxModelReader.Floats(Weight(2)).Single();
                    _clipBounds[node] = (min, max);
                    run = x => x[0].clamp(min, max);
                    inputs = inputs.Take(1).ToArray();
                    break;
                }
                case "Identity":
                case "Dropout":
                    run = x => x[0];
                    inputs = inputs.Take(1).ToArray();
                    break;
                case "Add":
                case "Sub":
                case "Mul":
                case "Div":
                    Constant(inputs[0]); Constant(inputs[1]);
                    rank = Math.Max(Rank(0), Rank(1));
                    run = node.OpType switch
                    {
                        "Add" => x => x[0] + x[1],
                        "Sub" => x => x[0] - x[1],
                        "Mul" => x => x[0] * x[1],
                        _ => x => x[0] / x[1],
                    };
                    break;
                case "MaxPool":
                case "AveragePool":
                {
                    var kernel = OnnxModelReader.Ints(node, "kernel_shape");
                    var strides = OnnxModelReader.Ints(node, "strides") ?? new long[] { 1, 1 };
                    var pads = OnnxModelReader.Ints(node, "pads") ?? new long[4];
                    var dilations = OnnxModelReader.Ints(node, "dilations");
                    Spatial(kernel, "kernel_shape"); Spatial(strides, "strides"); Spatial(pads, "pads");
                    if (dilations is not null && dilations.Any(d => d != 1))
                        throw new NotSupportedException($"{where}: dilated pooling is not supported.");
                    bool ceil = OnnxModelReader.Int(node, "ceil_mode", 0) != 0;
                    if (node.OpType == "MaxPool")
                    {
                        if (node.Output.Count > 1 && node.Output[1].Length > 0)
                            throw new NotSupportedException($"{where}: the Indices output is not supported.");
                        run = x => functional.max_pool2d(Pad(x[0], pads, float.NegativeInfinity), kernel, strides, ceil_mode: ceil);
                    }
                    else
                    {
                        // Zero padding counted in every window, then (count_include_pad = 0, the default) divided by the
                        // share of real cells: the same pooling for symmetric and asymmetric pads.
                        bool includePad = OnnxModelReader.Int(node, "count_include_pad", 0) != 0;
                        run = x =>
                        {
                            var pooled = functional.avg_pool2d(Pad(x[0], pads, 0), kernel, strides, ceil_mode: ceil);
                            if (includePad || pads.All(p => p == 0))
                                return pooled;
                            using var ones = ones_like(x[0].narrow(0, 0, 1).narrow(1, 0, 1));
                            return pooled / functional.avg_pool2d(Pad(ones, pads, 0), kernel, strides, ceil_mode: ceil);
                        };
                    }
                    break;
                }
                case "GlobalAveragePool":
                    run = x => x[0].mean(new long[] { 2, 3 }, keepdim: true);
                    break;
                case "Concat":
                {
                    long axis = OnnxModelReader.Int(node, "axis", 1);
                    foreach (var i in inputs) Constant(i);
                    run = x => cat(x, axis);
                    break;
                }
                case "Flatten":
                {
                    long axis = OnnxModelReader.Int(node, "axis", 1);
                    if (axis != 1)
                        throw new NotSupportedException($"{where}: Flatten with axis {axis}; only axis 1 (keeping the batch) is supported.");
                    run = x => x[0].flatten(1);
                    rank = 2;
                    break;
                }
                case "Reshape":
                {
                    var shape = OnnxModelReader.Int64s(Weight(1));
                    if (OnnxModelReader.Int(node, "allowzero", 0) != 0 && shape.Contains(0))
                        throw new NotSupportedException($"{where}: allowzero with a zero dimension is not supported.");
                    if (shape.Length > 0 && _inputBatch > 0 && shape[0] == _inputBatch)
                        shape[0] = 0; // the batch, whatever its size
                    _reshapeShapes[node] = shape;
                    run = x => x[0].reshape(shape.Select((d, i) => d == 0 ? x[0].shape[i] : d).ToArray());
                    inputs = inputs.Take(1).ToArray();
                    rank = shape.Length;
                    break;
                }
                default:
                    throw new NotSupportedException($"{where} uses operator '{node.OpType}', which an ONNX backbone does not support.");
            }
            if (layer is not null)
            {
                register_module($"node{index}", layer);
                inputs = inputs.Take(1).ToArray();
            }
            _ranks[output] = rank;
            return new Step(node, inputs, output, run, layer);
        }

        /// <summary>
        /// Writes the module's nodes into <paramref name="graph"/> with its current weights (inference form: batch norm
        /// with its running statistics), from the value <paramref name="input"/> (N×C×H×W); returns the N×features output.
        /// </summary>
        public string ExportOnnx(OnnxGraph graph, string input, string prefix)
        {
            var buffers = named_buffers(recurse: false).ToDictionary(b => b.name, b => b.buffer);
            var names = new Dictionary<string, string> { [_input] = input };
            string Constant(Tensor t, string hint) => t.dtype == ScalarType.Int64
                ? graph.Int64Initializer($"{prefix}{hint}", t.data<long>().ToArray())
                : graph.Initializer($"{prefix}{hint}", Floats(t), t.shape);
            string Name(string value) => value.Length == 0 ? "" : names.TryGetValue(value, out var n) ? n : names[value] = Constant(buffers[_constants[value]], _constants[value]);
            foreach (var step in _steps)
            {
                var node = step.Node;
                var x = step.Inputs.Select(Name).ToArray();
                string hint = $"{prefix}node{_steps.IndexOf(step)}";
                var attributes = node.Attribute.Where(a => a.Name != "auto_pad").Select(a => (a.Name, Value: a.Type switch
                {
                    AttributeProto.Types.AttributeType.Int => (object)a.I,
                    AttributeProto.Types.AttributeType.Float => a.F,
                    AttributeProto.Types.AttributeType.Ints => a.Ints.ToArray(),
                    AttributeProto.Types.AttributeType.Floats => a.Floats.ToArray(),
                    _ => null,
                })).Where(a => a.Value is not null).ToList();
                string result;
                switch (step.Layer)
                {
                    case Conv2d conv:
                        var convInputs = new List<string> { x[0], Constant(conv.weight, $"node{_steps.IndexOf(step)}.weight") };
                        if (conv.bias is not null)
                            convInputs.Add(Constant(conv.bias, $"node{_steps.IndexOf(step)}.bias"));
                        result = graph.Node("Conv", convInputs.ToArray(), attributes: attributes.Where(a => a.Name is "kernel_shape" or "strides" or "pads" or "dilations" or "group").ToArray());
                        break;
                    case BatchNorm norm:
                        result = graph.Node("BatchNormalization", new[]
                        {
                            x[0], Constant(norm.weight, $"node{_steps.IndexOf(step)}.weight"), Constant(norm.bias, $"node{_steps.IndexOf(step)}.bias"),
                            Constant(norm.running_mean, $"node{_steps.IndexOf(step)}.running_mean"), Constant(norm.running_var, $"node{_steps.IndexOf(step)}.running_var"),
                        }, attributes: ("epsilon", OnnxModelReader.Float(node, "epsilon", 1e-5f)));
                        break;
                    case Linear linear when node.OpType == "MatMul":
                        using (var transposed = linear.weight.detach().t())
                            result = graph.Node("MatMul", new[] { x[0], Constant(transposed, $"node{_steps.IndexOf(step)}.weight_t") });
                        break;
                    case Linear linear:
                        var gemmInputs = new List<string> { x[0], Constant(linear.weight, $"node{_steps.IndexOf(step)}.weight") };
                        if (linear.bias is not null)
                            gemmInputs.Add(Constant(linear.bias, $"node{_steps.IndexOf(step)}.bias"));
                        result = graph.Node("Gemm", gemmInputs.ToArray(), attributes: ("transB", 1L));
                        break;
                    default:
                        result = node.OpType switch
                        {
                            "Clip" => graph.Node("Clip", new[] { x[0], graph.Initializer($"{hint}_min", new[] { ClipBounds(node).Min }), graph.Initializer($"{hint}_max", new[] { ClipBounds(node).Max }) }),
                            "Dropout" => graph.Node("Identity", x),
                            "Reshape" => graph.Node("Reshape", new[] { x[0], graph.Int64Initializer($"{hint}_shape", ReshapeShape(node)) }),
                            "MaxPool" or "AveragePool" => graph.Node(node.OpType, x, attributes: attributes.Where(a => a.Name is "kernel_shape" or "strides" or "pads" or "ceil_mode" or "count_include_pad").ToArray()),
                            _ => graph.Node(node.OpType, x, attributes: attributes.ToArray()),
                        };
                        break;
                }
                names[step.Output] = result;
            }
            string output = names[_output];
            if (OutputRank == 4)
                output = graph.Node("GlobalAveragePool", new[] { output });
            return graph.Node("Flatten", new[] { output }, attributes: ("axis", 1L));
        }

        private readonly Dictionary<NodeProto, (float Min, float Max)> _clipBounds = new();
        private readonly Dictionary<NodeProto, long[]> _reshapeShapes = new();

        private (float Min, float Max) ClipBounds(NodeProto node) => _clipBounds[node];

        private long[] ReshapeShape(NodeProto node) => _reshapeShapes[node];

        private static float[] Floats(Tensor t)
        {
            using var cpu = t.detach().cpu().contiguous().to_type(ScalarType.Float32);
            return cpu.data<float>().ToArray();
        }

        /// <summary>Pads N×C×H×W by ONNX pads [top, left, bottom, right] (no copy when all are zero).</summary>
        private static Tensor Pad(Tensor x, long[] pads, double value) =>
            pads.All(p => p == 0) ? x : functional.pad(x, new[] { pads[1], pads[3], pads[0], pads[2] }, PaddingModes.Constant, value);

        private static bool HasValues(TensorProto t) => t.RawData.Length > 0 || t.FloatData.Count > 0 || t.Int64Data.Count > 0 || t.Int32Data.Count > 0;

        /// <summary>Tensors up to this size (shapes, bounds, scalars) stay in <see cref="StructureBytes"/>: they are read at construction.</summary>
        private const int KeptConstantSize = 16;

        private static byte[] Structure(ModelProto model)
        {
            var copy = model.Clone();
            foreach (var tensor in copy.Graph.Initializer.Where(t => t.Dims.Aggregate(1L, (a, d) => a * d) > KeptConstantSize))
            {
                tensor.RawData = Google.Protobuf.ByteString.Empty;
                tensor.FloatData.Clear();
                tensor.Int64Data.Clear();
                tensor.Int32Data.Clear();
            }
            return Google.Protobuf.MessageExtensions.ToByteArray(copy);
        }
    }
}
