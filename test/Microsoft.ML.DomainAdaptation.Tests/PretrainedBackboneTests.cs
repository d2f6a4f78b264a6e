using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Backbones;
using Microsoft.ML.DomainAdaptation.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The pretrained backbones (ResNet from ML.NET's ImageNet weights, an imported ONNX CNN) inside the estimator:
    /// saved models reload bit-identically without the original model file, the ONNX export gives the same scores,
    /// frozen stages and a zero learning-rate scale keep the pretrained weights, the trunk learns at the scaled rate,
    /// AdaBN re-estimates the statistics, and bad settings fail before training with messages naming the option.
    /// </summary>
    public sealed class PretrainedBackboneTests : IDisposable
    {
        private const int Side = 32;
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        internal sealed class ImageRow
        {
            [VectorType(3 * Side * Side)]
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        /// <summary>
        /// 3 × 32 × 32 images with 0–255 pixels: class "rows" has horizontal stripes, "columns" vertical ones (random phase
        /// and period 4–8); the target domain has inverted, reddish colours and more noise.
        /// </summary>
        internal static List<ImageRow> Stripes(int perDomain, int seed)
        {
            var random = new Random(seed);
            var rows = new List<ImageRow>();
            for (int domain = 0; domain < 2; domain++)
            {
                for (int i = 0; i < perDomain; i++)
                {
                    int cls = i % 2;
                    int period = 4 + random.Next(5), phase = random.Next(period);
                    var pixels = new float[3 * Side * Side];
                    for (int c = 0; c < 3; c++)
                        for (int y = 0; y < Side; y++)
                            for (int x = 0; x < Side; x++)
                            {
                                bool on = ((cls == 0 ? y : x) + phase) % period < period / 2;
                                double value = on ? 200 : 50;
                                if (domain == 1)
                                    value = (255 - value) * (c == 0 ? 1.0 : 0.6);
                                value += (random.NextDouble() - 0.5) * (domain == 0 ? 30 : 90);
                                pixels[(c * Side + y) * Side + x] = (float)Math.Clamp(value, 0, 255);
                            }
                    rows.Add(new ImageRow { Features = pixels, Label = cls == 0 ? "rows" : "columns", IsTarget = domain == 1 });
                }
            }
            return rows;
        }

        private PretrainedBackboneOptions Backbone(string kind)
        {
            if (kind == "ResNet")
                return new ResNetBackboneOptions { ImageSize = Side, EmbeddingSize = 32 };
            if (kind == "ResNet without stem pooling")
                return new ResNetBackboneOptions { ImageSize = Side, EmbeddingSize = 32, StemPooling = false };
            string path = _folder.File("small.onnx");
            File.WriteAllBytes(path, OnnxBackboneImportTests.SmallCnn(seed: 2).ToByteArray());
            return new OnnxBackboneOptions { ModelPath = path, OutputName = "pool1", ImageSize = Side, EmbeddingSize = 32, Mean = new[] { 127.5f }, StandardDeviation = new[] { 64f } };
        }

        private static T Small<T>(T options, PretrainedBackboneOptions backbone, int iterations = 4) where T : DomainAdaptationOptions
        {
            options.Backbone = backbone;
            options.Iterations = iterations;
            options.BatchSize = 8;
            options.Seed = 3;
            options.ClassifierHiddenSize = 0;
            options.LearningRate = 0.01f;
            return options;
        }

        private static DomainAdaptationTransformer Last(TransformerChain<DomainAdaptationTransformer> model) => model.LastTransformer;

        [Theory]
        [InlineData("ResNet")]
        [InlineData("ResNet without stem pooling")]
        [InlineData("ONNX")]
        public void SavedModelReloadsBitIdenticalAndItsOnnxExportGivesTheSameScores(string kind)
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(Stripes(16, seed: 1));
            var backbone = Backbone(kind);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(new DannOptions(), backbone))).Fit(data);
            var scored = model.Transform(data);
            var scores = TestData.Column(scored, "Score");
            var embeddings = TestData.Column(scored, "Embedding");
            Assert.IsType<PretrainedBackbone>(Last(model).Network.backbone);

            // The model file carries the weights: it loads with the original ONNX file gone.
            string zip = _folder.File("model.zip");
            ml.Model.Save(model, data.Schema, zip);
            if (backbone is OnnxBackboneOptions onnx)
                File.Delete(onnx.ModelPath);
            var loaded = new MLContext(seed: 99).Model.Load(zip, out _);
            if (backbone is ResNetBackboneOptions resNet)
            {
                // The stem's setting travels with the model (a pooled stem would score the same weights differently).
                var reloaded = ((TransformerChain<ITransformer>)loaded).LastTransformer as DomainAdaptationTransformer;
                Assert.Equal(resNet.StemPooling, ((ResNet)((PretrainedBackbone)reloaded.Network.backbone).trunk).StemPooling);
            }
            Assert.Equal(scores, TestData.Column(loaded.Transform(data), "Score"));
            Assert.Equal(embeddings, TestData.Column(loaded.Transform(data), "Embedding"));

            string path = _folder.File("model.onnx");
            Last(model).ExportToOnnx(path);
            var features = TestData.Column(data, "Features");
            using var session = new InferenceSession(path);
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(features.SelectMany(f => f).ToArray(), new[] { features.Length, 3 * Side * Side })) });
            var onnxScores = results.Single(r => r.Name == "Score").AsEnumerable<float>().ToArray();
            var onnxEmbeddings = results.Single(r => r.Name == "Embedding").AsEnumerable<float>().ToArray();
            ResNetImportTests.AssertClose(scores.SelectMany(s => s).ToArray(), onnxScores, 1e-5);
            ResNetImportTests.AssertClose(embeddings.SelectMany(e => e).ToArray(), onnxEmbeddings, 1e-4 * Math.Max(1, embeddings.Max(e => e.Max())));
        }

        private static Dictionary<string, float[]> TrunkState(PretrainedBackbone backbone) =>
            backbone.trunk.state_dict().Where(p => p.Value.dtype == ScalarType.Float32).ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());

        private static Dictionary<string, float[]> ImportedResNet()
        {
            var model = OnnxModelReader.Read(ResNetBackboneOptions.DefaultWeightsPath, "WeightsPath");
            using var network = new ResNet(ResNet.BlockCounts(model, "ResNet18.onnx"));
            network.LoadOnnxWeights(model, "ResNet18.onnx");
            return network.state_dict().Where(p => p.Value.dtype == ScalarType.Float32).ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
        }

        [Fact]
        public void FrozenStagesKeepTheirWeightsAndStatisticsAndTheRestLearns()
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(Stripes(16, seed: 1));
            var options = Small(new SourceOnlyOptions(), new ResNetBackboneOptions { ImageSize = Side, EmbeddingSize = 32, FreezeStages = 2, BackboneLearningRateScale = 1 });
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            var trained = TrunkState((PretrainedBackbone)Last(model).Network.backbone);
            var imported = ImportedResNet();
            Assert.Equal(imported.Keys.OrderBy(k => k), trained.Keys.OrderBy(k => k));
            foreach (var name in imported.Keys)
            {
                bool frozen = name.StartsWith("conv1.") || name.StartsWith("bn1.") || name.StartsWith("layer1.") || name.StartsWith("layer2.");
                if (frozen)
                    Assert.True(imported[name].SequenceEqual(trained[name]), $"{name} changed although frozen");
                else
                    Assert.False(imported[name].SequenceEqual(trained[name]), $"{name} did not change");
            }
        }

        [Fact]
        public void ZeroLearningRateScaleKeepsThePretrainedWeightsThroughTheSchedule()
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(Stripes(16, seed: 1));
            var options = Small(new SourceOnlyOptions(), new ResNetBackboneOptions { ImageSize = Side, EmbeddingSize = 32, BackboneLearningRateScale = 0 });
            options.AnnealLearningRate = true; // the loop sets every group's rate at every step
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            var backbone = (PretrainedBackbone)Last(model).Network.backbone;
            var trained = TrunkState(backbone);
            var imported = ImportedResNet();
            foreach (var (name, parameter) in backbone.trunk.named_parameters())
                Assert.True(imported[name].SequenceEqual(parameter.data<float>().ToArray()), $"{name} changed at scale 0");
            // Batch-norm statistics still follow the data (they are not learnt by the optimizer).
            Assert.False(imported["bn1.running_mean"].SequenceEqual(trained["bn1.running_mean"]));
        }

        [Fact]
        public void TrunkLearnsAtTheScaledRateAndTheNewLayersAtTheFullRate()
        {
            var trunk = new OnnxGraphNetwork(OnnxBackboneImportTests.SmallCnn(seed: 4), "pool1", "small.onnx");
            using var backbone = new PretrainedBackbone(trunk, 8, 3, Side, new long[] { 0, 1, 2 }, new[] { 1f, 1f, 1f }, new[] { 0f, 0f, 0f }, 5) { LearningRateScale = 0.1 };
            var optimizer = FineTuning.Sgd(backbone.parameters(), backbone, 0.5, 0, 0);
            Assert.Equal(new[] { 1.0, 0.1 }, optimizer.ParamGroups.Select(FineTuning.Scale).ToArray());
            Assert.Equal(new[] { 0.5, 0.05 }, optimizer.ParamGroups.Select(g => g.LearningRate).ToArray());

            manual_seed(1);
            using var input = randn(4, 3 * Side * Side);
            using var loss = backbone.forward(input).pow(2).sum();
            loss.backward();
            var before = backbone.named_parameters().ToDictionary(p => p.name, p => (Value: p.parameter.data<float>().ToArray(), Grad: p.parameter.grad.data<float>().ToArray()));
            optimizer.step();
            foreach (var (name, parameter) in backbone.named_parameters())
            {
                double rate = name.StartsWith("trunk.") ? 0.05 : 0.5;
                var (value, grad) = before[name];
                Assert.True(grad.Any(g => g != 0), $"{name} has no gradient");
                var after = parameter.data<float>().ToArray();
                for (int i = 0; i < after.Length; i++)
                    Assert.True(Math.Abs(after[i] - (value[i] - rate * grad[i])) <= 1e-6 * Math.Max(1, Math.Abs(value[i])), $"{name}[{i}]: {after[i]} vs {value[i] - rate * grad[i]}");
            }
        }

        [Fact]
        public void AdaBnReEstimatesEveryStatisticOfTheBackboneFrozenStagesIncluded()
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(Stripes(16, seed: 1));
            var options = Small(new AdaBnOptions(), new ResNetBackboneOptions { ImageSize = Side, EmbeddingSize = 32, FreezeStages = 4 });
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            var trained = TrunkState((PretrainedBackbone)Last(model).Network.backbone);
            var imported = ImportedResNet();
            Assert.True(imported["conv1.weight"].SequenceEqual(trained["conv1.weight"]));
            Assert.False(imported["bn1.running_mean"].SequenceEqual(trained["bn1.running_mean"]));
            Assert.False(imported["layer4.0.bn2.running_var"].SequenceEqual(trained["layer4.0.bn2.running_var"]));
        }

        [Fact]
        public void BadSettingsFailBeforeTrainingNamingTheOption()
        {
            var ml = new MLContext(seed: 1);
            var missing = Assert.Throws<FileNotFoundException>(() => ml.Transforms.DomainAdapt(Small(new SourceOnlyOptions(), new ResNetBackboneOptions { WeightsPath = _folder.File("none.onnx") })));
            Assert.Contains("WeightsPath", missing.Message);
            Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18", missing.Message);

            var small = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(Small(new SourceOnlyOptions(), new ResNetBackboneOptions { ImageSize = 16 })));
            Assert.Contains("ImageSize must be at least 32", small.Message);

            var data = ml.Data.LoadFromEnumerable(Stripes(8, seed: 1));
            var wrongSize = Assert.Throws<ArgumentOutOfRangeException>(() => TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(new SourceOnlyOptions(), new ResNetBackboneOptions { ImageSize = 64 }))).Fit(data));
            Assert.Contains("3 × 64 × 64 = 12288 feature values per row", wrongSize.Message);

            var model = OnnxBackboneImportTests.SmallCnn(seed: 2);
            model.Graph.Node.First(n => n.OpType == "MaxPool").OpType = "LpPool";
            string path = _folder.File("lp.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            var unsupported = Assert.Throws<NotSupportedException>(() => TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small(new SourceOnlyOptions(), new OnnxBackboneOptions { ModelPath = path, OutputName = "out", ImageSize = Side }))).Fit(data));
            Assert.Contains("LpPool node 'pool1' uses operator 'LpPool'", unsupported.Message);
            Assert.Contains("ModelPath", unsupported.Message);
        }
    }
}
