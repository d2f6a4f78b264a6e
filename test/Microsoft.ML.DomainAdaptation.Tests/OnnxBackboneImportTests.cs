using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.DomainAdaptation.Backbones;
using Microsoft.ML.DomainAdaptation.Onnx;
using Microsoft.ML.DomainAdaptation.Onnx.Proto;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Any ONNX CNN of the common operators imported as a TorchSharp module computes what OnnxRuntime computes
    /// (max abs difference ≤ 1e-4): ML.NET's ResNet18.onnx, and a small CNN built here that uses every supported
    /// operator with asymmetric pads, groups, constants and a fixed-batch Reshape. Its ONNX re-export gives the same.
    /// </summary>
    public sealed class OnnxBackboneImportTests
    {
        [Fact]
        public void ResNet18OnnxAsAGraphEqualsOnnxRuntime()
        {
            const int count = 2, side = 224;
            var images = ResNetImportTests.Images(count, side, seed: 5);
            var expected = ResNetImportTests.OnnxRuntimeOutputs(File.ReadAllBytes(ResNetImportTests.ResNet18Path), "Pooling395_Output_0", images, count, side);

            using var network = new OnnxGraphNetwork(OnnxModelReader.Read(ResNetImportTests.ResNet18Path, "ModelPath"), "", "ResNet18.onnx");
            network.eval();
            using var input = tensor(images, new long[] { count, 3, side, side });
            using var features = network.forward(input);
            ResNetImportTests.AssertClose(expected.SelectMany(e => e).ToArray(), features.data<float>().ToArray(), 1e-4);
        }

        [Fact]
        public void SmallCnnOfEveryOperatorEqualsOnnxRuntimeAndItsExport()
        {
            const int count = 3, side = 20;
            var model = SmallCnn(seed: 2);
            var images = ResNetImportTests.Images(count, side, seed: 6).Select(v => v / 100).ToArray();
            // The model's Reshape fixes the batch at 1 (as many exports do): OnnxRuntime scores one image at a time.
            var expected = ResNetImportTests.OnnxRuntimeOutputs(model.ToByteArray(), "out", images, count, side).SelectMany(e => e).ToArray();
            Assert.Equal(count * 6, expected.Length);
            Assert.True(expected.Max() - expected.Min() > 0.1, "the test network's outputs vary");

            using var network = new OnnxGraphNetwork(model, "out", "small.onnx");
            network.eval();
            using var input = tensor(images, new long[] { count, 3, side, side });
            using var features = network.forward(input);
            ResNetImportTests.AssertClose(expected, features.data<float>().ToArray(), 1e-4);

            var exported = ExportAlone(network, 3 * side * side, side);
            var again = ResNetImportTests.OnnxRuntimeOutputs(exported, "features", images, count, side).SelectMany(e => e).ToArray();
            ResNetImportTests.AssertClose(expected, again, 1e-4);
        }

        [Fact]
        public void UnsupportedOperatorIsNamedWithItsNode()
        {
            var model = SmallCnn(seed: 2);
            var relu = model.Graph.Node.First(n => n.OpType == "Relu");
            relu.OpType = "LeakyRelu";
            var error = Assert.Throws<NotSupportedException>(() => new OnnxGraphNetwork(model, "out", "small.onnx"));
            Assert.StartsWith("small.onnx: LeakyRelu node 'relu1' uses operator 'LeakyRelu', which an ONNX backbone does not support.", error.Message);

            // Unsupported nodes after the chosen output are not part of the backbone.
            var features = new OnnxGraphNetwork(model, "pool1", "small.onnx");
            Assert.Equal(4, features.OutputRank);

            var missing = Assert.Throws<ArgumentException>(() => new OnnxGraphNetwork(model, "nowhere", "small.onnx"));
            Assert.Contains("OutputName: small.onnx has no node output 'nowhere'. Its graph outputs: out.", missing.Message);
        }

        [Fact]
        public void RebuiltFromItsStructureItComputesTheSameWithTheSavedState()
        {
            var model = SmallCnn(seed: 3);
            using var network = new OnnxGraphNetwork(model, "out", "small.onnx");
            var structure = network.StructureBytes;
            var saved = OnnxModelReader.Parse(structure, "saved structure");
            // Weights are not in the structure (the saved state carries them); small constants (shapes, bounds) are.
            Assert.All(saved.Graph.Initializer, t => Assert.Equal(t.Dims.Aggregate(1L, (a, d) => a * d) <= 16, t.FloatData.Count + t.Int64Data.Count > 0));
            Assert.Contains(saved.Graph.Initializer, t => t.Name == "w1" && t.FloatData.Count == 0);
            using var rebuilt = new OnnxGraphNetwork(saved, "out", "saved structure");
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                network.save(writer);
            stream.Position = 0;
            using (var reader = new BinaryReader(stream))
                rebuilt.load(reader);
            network.eval();
            rebuilt.eval();
            using var input = tensor(ResNetImportTests.Images(2, 20, seed: 7).Select(v => v / 100).ToArray(), new long[] { 2, 3, 20, 20 });
            using var a = network.forward(input);
            using var b = rebuilt.forward(input);
            Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        }

        /// <summary>The network alone as an ONNX model (flat input reshaped to images, as the library's exports take pixels).</summary>
        private static byte[] ExportAlone(OnnxGraphNetwork network, int size, int side)
        {
            var graph = new OnnxGraph();
            graph.Input("pixels", size);
            string images = graph.Node("Reshape", new[] { "pixels", graph.Int64Initializer("image_shape", new long[] { -1, 3, side, side }) });
            string features = network.ExportOnnx(graph, images, "backbone.");
            graph.Node("Identity", new[] { features }, "features");
            graph.Output("features", false, "N", 6L);
            var bytes = graph.Serialize("test", "0");
            // OnnxRuntimeOutputs feeds N×3×side×side: give the exported model that input shape.
            var model = OnnxModelReader.Parse(bytes, "export");
            model.Graph.Input[0].Type.TensorType.Shape.Dim.Clear();
            model.Graph.Input[0].Type.TensorType.Shape.Dim.Add(new[] { "N", "3", $"{side}", $"{side}" }.Select(d => long.TryParse(d, out long v)
                ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d }));
            return model.ToByteArray();
        }

        /// <summary>
        /// A small CNN over 3 × 20 × 20 images using every supported operator, with random weights: scale and shift by
        /// constants, Conv (asymmetric pads, stride 2, bias) – BatchNormalization – Clip, MaxPool (asymmetric pads),
        /// two branches (1×1 Conv; grouped 3×3 Conv – Relu) concatenated and added to a Mul, AveragePool excluding pads,
        /// GlobalAveragePool, Flatten, Gemm (alpha, beta), Reshape to a fixed batch of 1, MatMul by a constant, Dropout,
        /// Identity, Div — then an unsupported Softmax after the output "out".
        /// </summary>
        internal static ModelProto SmallCnn(int seed)
        {
            var random = new Random(seed);
            var graph = new GraphProto { Name = "small" };
            string Weight(string name, params long[] dims)
            {
                var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
                tensor.Dims.Add(dims);
                tensor.FloatData.Add(Enumerable.Range(0, (int)dims.Aggregate(1L, (a, d) => a * d)).Select(_ => (float)(random.NextDouble() - 0.5)));
                graph.Initializer.Add(tensor);
                return name;
            }
            string Positive(string name, params long[] dims)
            {
                Weight(name, dims);
                var t = graph.Initializer.Last();
                for (int i = 0; i < t.FloatData.Count; i++)
                    t.FloatData[i] = 0.5f + Math.Abs(t.FloatData[i]);
                return name;
            }
            string Int64(string name, params long[] values)
            {
                var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
                tensor.Dims.Add(values.Length);
                tensor.Int64Data.Add(values);
                graph.Initializer.Add(tensor);
                return name;
            }
            void Node(string op, string name, string[] inputs, params (string Name, object Value)[] attributes)
            {
                var node = new NodeProto { OpType = op, Name = name };
                node.Input.Add(inputs);
                node.Output.Add(name);
                foreach (var (key, value) in attributes)
                {
                    var a = new AttributeProto { Name = key };
                    switch (value)
                    {
                        case long i: a.I = i; a.Type = AttributeProto.Types.AttributeType.Int; break;
                        case float f: a.F = f; a.Type = AttributeProto.Types.AttributeType.Float; break;
                        case long[] ints: a.Ints.Add(ints); a.Type = AttributeProto.Types.AttributeType.Ints; break;
                    }
                    node.Attribute.Add(a);
                }
                graph.Node.Add(node);
            }

            Node("Mul", "scaled", new[] { "image", Positive("scale", 1, 3, 1, 1) });
            Node("Sub", "shifted", new[] { "scaled", Weight("shift", 1, 3, 1, 1) });
            Node("Conv", "conv1", new[] { "shifted", Weight("w1", 8, 3, 3, 3), Weight("b1", 8) }, ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 0, 0 }), ("kernel_shape", new long[] { 3, 3 }));
            Node("BatchNormalization", "bn1", new[] { "conv1", Positive("g1", 8), Weight("beta1", 8), Weight("mean1", 8), Positive("var1", 8) }, ("epsilon", 1e-3f));
            Node("Clip", "clip1", new[] { "bn1", Weight("lo", new long[0]), Positive("hi", new long[0]) });
            Node("MaxPool", "pool1", new[] { "clip1" }, ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 0 }));
            Node("Conv", "branchA", new[] { "pool1", Weight("wa", 4, 8, 1, 1) }, ("kernel_shape", new long[] { 1, 1 }));
            Node("Conv", "branchB", new[] { "pool1", Weight("wb", 4, 4, 3, 3), Weight("bb", 4) }, ("pads", new long[] { 1, 1, 1, 1 }), ("group", 2L));
            Node("Relu", "relu1", new[] { "branchB" });
            Node("Concat", "concat", new[] { "branchA", "relu1" }, ("axis", 1L));
            Node("Mul", "gated", new[] { "pool1", Weight("gate", 8, 1, 1) });
            Node("Add", "sum", new[] { "concat", "gated" });
            Node("AveragePool", "pool2", new[] { "sum" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 0, 0, 1, 1 }));
            Node("GlobalAveragePool", "gap", new[] { "pool2" });
            Node("Flatten", "flat", new[] { "gap" }, ("axis", 1L));
            Node("Gemm", "fc", new[] { "flat", Weight("wfc", 8, 4), Weight("bfc", 4) }, ("alpha", 0.5f), ("beta", 2f));
            Node("Reshape", "pairs", new[] { "fc", Int64("pair_shape", 1, 2, 2) });
            Node("MatMul", "mm", new[] { "pairs", Weight("wmm", 2, 3) });
            Node("Reshape", "flat2", new[] { "mm", Int64("flat_shape", 1, -1) });
            Node("Dropout", "drop", new[] { "flat2" });
            Node("Identity", "same", new[] { "drop" });
            Node("Div", "out", new[] { "same", Positive("divisor", 6) });
            Node("Softmax", "probabilities", new[] { "out" });

            var input = new ValueInfoProto { Name = "image", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
            input.Type.TensorType.Shape.Dim.Add(new[] { 1L, 3, 20, 20 }.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
            graph.Input.Add(input);
            graph.Output.Add(new ValueInfoProto { Name = "out", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
            var model = new ModelProto { IrVersion = 8, Graph = graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
            return model;
        }
    }
}
