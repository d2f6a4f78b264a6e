using System;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.DomainAdaptation.Backbones;
using Microsoft.ML.DomainAdaptation.Onnx;
using Microsoft.ML.DomainAdaptation.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The ImageNet weights of ML.NET's ResNet18.onnx (package Microsoft.ML.DnnImageFeaturizer.ResNet18, copied to the
    /// test output) imported into TorchSharp modules give OnnxRuntime's pooled features of that model, max abs
    /// difference ≤ 1e-4, at 224 × 224 (the model's own output) and at 64 × 64 (the last ReLU's map, averaged).
    /// </summary>
    public sealed class ResNetImportTests
    {
        internal static readonly string ResNet18Path = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        private const string LastReLU = "ReLU393_Output_0";

        /// <summary>Deterministic images as ResNet18.onnx takes them (BGR, mean-subtracted 0–255 values): gradients, stripes and noise.</summary>
        internal static float[] Images(int count, int side, int seed)
        {
            var random = new Random(seed);
            var values = new float[count * 3 * side * side];
            for (int n = 0; n < count; n++)
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < side; y++)
                        for (int x = 0; x < side; x++)
                        {
                            double pattern = 80 * Math.Sin((x * (n + 1) + y * (c + 2)) * 0.15) + 40.0 * y / side;
                            values[((n * 3 + c) * side + y) * side + x] = (float)(pattern + 30 * (random.NextDouble() - 0.5));
                        }
            return values;
        }

        /// <summary>OnnxRuntime's output <paramref name="output"/> for each image, one image per run (the model's batch size is 1).</summary>
        internal static float[][] OnnxRuntimeOutputs(byte[] model, string output, float[] images, int count, int side)
        {
            using var session = new InferenceSession(model);
            string input = session.InputMetadata.Keys.Single();
            int size = 3 * side * side;
            return Enumerable.Range(0, count).Select(n =>
            {
                var tensor = new DenseTensor<float>(images.AsMemory(n * size, size), new[] { 1, 3, side, side });
                using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, tensor) }, new[] { output });
                return results.Single().AsEnumerable<float>().ToArray();
            }).ToArray();
        }

        private static ResNet ImportedResNet()
        {
            var model = OnnxModelReader.Read(ResNet18Path, "WeightsPath");
            var network = new ResNet(ResNet.BlockCounts(model, "ResNet18.onnx"));
            Assert.Equal(new[] { 2, 2, 2, 3 }, network.Blocks);
            network.LoadOnnxWeights(model, "ResNet18.onnx");
            network.eval();
            return network;
        }

        [Fact]
        public void PooledFeaturesEqualOnnxRuntimeAt224()
        {
            const int count = 2, side = 224;
            var images = Images(count, side, seed: 3);
            var expected = OnnxRuntimeOutputs(File.ReadAllBytes(ResNet18Path), "Pooling395_Output_0", images, count, side);

            using var network = ImportedResNet();
            using var input = tensor(images, new long[] { count, 3, side, side });
            using var features = network.forward(input);
            var actual = features.data<float>().ToArray();

            Assert.Equal(count * ResNet.FeatureSize, actual.Length);
            AssertClose(expected.SelectMany(e => e).ToArray(), actual, 1e-4);
            // Non-trivial features: a broken import (e.g. zero weights) cannot pass by giving zeros on both sides.
            Assert.True(expected[0].Max() > 0.5, $"largest feature {expected[0].Max()}");
        }

        [Fact]
        public void PooledFeaturesEqualOnnxRuntimeAt64()
        {
            const int count = 3, side = 64;
            var images = Images(count, side, seed: 4);
            // The model with a free input size and the last ReLU as output (its fixed 7 × 7 average pooling needs 224).
            var model = OnnxModelReader.Read(ResNet18Path, "WeightsPath");
            foreach (var dim in model.Graph.Input[0].Type.TensorType.Shape.Dim.Skip(2))
                dim.DimParam = "side";
            model.Graph.Node.Remove(model.Graph.Node.Single(n => n.OpType == "AveragePool"));
            model.Graph.Output.Clear();
            model.Graph.Output.Add(new ValueInfoProto { Name = LastReLU, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
            var maps = OnnxRuntimeOutputs(model.ToByteArray(), LastReLU, images, count, side);
            int cells = maps[0].Length / ResNet.FeatureSize;
            Assert.Equal(2 * 2, cells);
            var expected = maps.SelectMany(m => Enumerable.Range(0, ResNet.FeatureSize).Select(c => m.Skip(c * cells).Take(cells).Average())).ToArray();

            using var network = ImportedResNet();
            using var input = tensor(images, new long[] { count, 3, side, side });
            using var features = network.forward(input);
            AssertClose(expected, features.data<float>().ToArray(), 1e-4);
        }

        [Fact]
        public void AnotherArchitectureIsRefusedNamingTheMismatch()
        {
            var model = OnnxModelReader.Read(ResNet18Path, "WeightsPath");
            // torchvision's ResNet-18 (two blocks in every stage) is not the shipped model's architecture.
            var error = Assert.Throws<InvalidDataException>(() => new ResNet().LoadOnnxWeights(model, "the test model"));
            Assert.Contains("the test model does not match a ResNet of [2, 2, 2, 2] basic blocks: it has 19 convolutions and 3 1×1 shortcut projections, the network 17 and 3", error.Message);

            model.Graph.Node.Remove(model.Graph.Node.Last(n => n.OpType == "Conv"));
            error = Assert.Throws<InvalidDataException>(() => ResNet.BlockCounts(model, "the test model"));
            Assert.Contains("the test model is not a ResNet of basic blocks: its 3×3 convolutions per stage width (64, 128, 256, 512) number 4, 4, 4, 5", error.Message);
        }

        [Fact]
        public void MissingFileNamesTheOption()
        {
            var error = Assert.Throws<FileNotFoundException>(() => OnnxModelReader.Read("/nonexistent/ResNet18.onnx", "WeightsPath"));
            Assert.Contains("WeightsPath", error.Message);
            Assert.Contains("/nonexistent/ResNet18.onnx", error.Message);
        }

        internal static void AssertClose(float[] expected, float[] actual, double tolerance)
        {
            Assert.Equal(expected.Length, actual.Length);
            double worst = expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max();
            Assert.True(worst <= tolerance, $"max abs difference {worst:G3} > {tolerance:G3}");
        }
    }
}
