using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The ML.NET-shaped surface: the Trainers catalog (short overloads = the options form), the method registry, and
    /// <c>mlContext.Model.ConvertToOnnx</c> of a whole chain (an ML.NET featurizer, then the network) as one graph.
    /// </summary>
    public sealed class MlNetApiTests
    {
        private readonly Xunit.Abstractions.ITestOutputHelper _output;

        public MlNetApiTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

        private static MlpBackboneOptions SmallMlp() => new() { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8 };

        private static IDataView Keyed(MLContext ml, IDataView data) => TestData.KeyLabel(ml).Fit(data).Transform(data);

        private static float[][] Scores(MLContext ml, IEstimator<ITransformer> estimator)
        {
            var data = Keyed(ml, TestData.BlobsView(ml));
            var model = estimator.Fit(data);
            return TestData.Column(model.Transform(data), "Score");
        }

        [Fact]
        public void ShortOverloadTrainsTheSameModelAsTheOptionsForm()
        {
            // Same MLContext seed on both sides: the options leave Seed unset, so both draw it from the context.
            var ml1 = new MLContext(seed: 3);
            var fromOverload = Scores(ml1, ml1.MulticlassClassification.Trainers.Dann(labelColumnName: "Label", featureColumnName: "Features",
                domainColumnName: "IsTarget", backbone: SmallMlp(), iterations: 30));
            var ml2 = new MLContext(seed: 3);
            var fromOptions = Scores(ml2, ml2.MulticlassClassification.Trainers.DomainAdaptation(new DannOptions { Backbone = SmallMlp(), Iterations = 30 }));
            var ml3 = new MLContext(seed: 3);
            var fromTransforms = Scores(ml3, ml3.Transforms.DomainAdapt(new DannOptions { Backbone = SmallMlp(), Iterations = 30 }));

            Assert.Equal(256, fromOverload.Length);
            for (int i = 0; i < fromOverload.Length; i++)
            {
                Assert.Equal(fromOptions[i], fromOverload[i]);
                Assert.Equal(fromOptions[i], fromTransforms[i]);
            }
            // A different context seed gives a different network: the comparison above can fail.
            var ml4 = new MLContext(seed: 4);
            var otherSeed = Scores(ml4, ml4.MulticlassClassification.Trainers.Dann(backbone: SmallMlp(), iterations: 30));
            Assert.NotEqual(fromOptions[0], otherSeed[0]);
        }

        [Fact]
        public void ShortOverloadsSetTheirMethodAndColumns()
        {
            var trainers = new MLContext(seed: 0).MulticlassClassification.Trainers;
            var cdan = (CdanOptions)trainers.Cdan("L", "F", "D", iterations: 7, entropyConditioning: true).Options;
            Assert.Equal(("L", "F", "D", 7, true), (cdan.LabelColumnName, cdan.FeatureColumnName, cdan.DomainColumnName, cdan.Iterations, cdan.EntropyConditioning));
            Assert.IsType<MlpBackboneOptions>(cdan.Backbone);
            var lenet = new LeNetBackboneOptions { Channels = 3, Height = 20, Width = 24, EmbeddingSize = 9 };
            // The estimator keeps its own copy of the options: the same settings, not the caller's object.
            var kept = Assert.IsType<LeNetBackboneOptions>(trainers.Mmd(backbone: lenet).Options.Backbone);
            Assert.NotSame(lenet, kept);
            Assert.Equal((3, 20, 24, 9), (kept.Channels, kept.Height, kept.Width, kept.EmbeddingSize));
            var expected = new (DomainAdaptationEstimator Estimator, Type Options)[]
            {
                (trainers.SourceOnly(), typeof(SourceOnlyOptions)), (trainers.Dann(), typeof(DannOptions)), (trainers.DeepCoral(), typeof(DeepCoralOptions)),
                (trainers.Mmd(), typeof(MmdOptions)), (trainers.WeightedMmd(), typeof(WeightedMmdOptions)), (trainers.Cmd(), typeof(CmdOptions)),
                (trainers.Mcd(), typeof(McdOptions)), (trainers.Adda(), typeof(AddaOptions)), (trainers.MAdda(), typeof(MAddaOptions)),
                (trainers.AdaBn(), typeof(AdaBnOptions)), (trainers.Cdan(), typeof(CdanOptions)), (trainers.Jan(), typeof(JanOptions)),
                (trainers.Mdd(), typeof(MddOptions)), (trainers.Mcc(), typeof(MccOptions)), (trainers.SelfTraining(), typeof(SelfTrainingOptions)),
                (trainers.ClassCriterion(), typeof(ClassCriterionOptions)),
            };
            foreach (var (estimator, type) in expected)
            {
                Assert.IsType(type, estimator.Options);
                Assert.Equal(("Label", "Features", "IsTarget", 2000), (estimator.Options.LabelColumnName, estimator.Options.FeatureColumnName,
                    estimator.Options.DomainColumnName, estimator.Options.Iterations));
            }
            Assert.False(((CdanOptions)trainers.Cdan().Options).EntropyConditioning);
        }

        [Fact]
        public void RegistryCreatesEveryNameWithItsMethodAndAddOns()
        {
            // Name → options type, its add-ons' types, backbone normalisation, CDAN's entropy conditioning.
            Type[] none = Type.EmptyTypes, mcc = { typeof(MccAddOn) }, st = { typeof(SelfTrainingAddOn) };
            var expected = new (string Name, Type Type, Type[] AddOns, NormalizationKind Normalization, bool Entropy)[]
            {
                ("SourceOnly", typeof(SourceOnlyOptions), none, NormalizationKind.None, false),
                ("DANN", typeof(DannOptions), none, NormalizationKind.None, false),
                ("DeepCORAL", typeof(DeepCoralOptions), none, NormalizationKind.None, false),
                ("SourceOnly+BN", typeof(SourceOnlyOptions), none, NormalizationKind.BatchNorm, false),
                ("AdaBN", typeof(AdaBnOptions), none, NormalizationKind.BatchNorm, false),
                ("MMD", typeof(MmdOptions), none, NormalizationKind.None, false),
                ("WeightedMMD", typeof(WeightedMmdOptions), none, NormalizationKind.None, false),
                ("CMD", typeof(CmdOptions), none, NormalizationKind.None, false),
                ("MCD", typeof(McdOptions), none, NormalizationKind.None, false),
                ("ADDA", typeof(AddaOptions), none, NormalizationKind.None, false),
                ("M-ADDA", typeof(MAddaOptions), none, NormalizationKind.None, false),
                ("CDAN", typeof(CdanOptions), none, NormalizationKind.None, false),
                ("CDAN+E", typeof(CdanOptions), none, NormalizationKind.None, true),
                ("JAN", typeof(JanOptions), none, NormalizationKind.None, false),
                ("MDD", typeof(MddOptions), none, NormalizationKind.None, false),
                ("MCC", typeof(MccOptions), mcc, NormalizationKind.None, false),
                ("DANN+MCC", typeof(DannOptions), mcc, NormalizationKind.None, false),
                ("MMD+MCC", typeof(MmdOptions), mcc, NormalizationKind.None, false),
                ("AdaBN+MCC", typeof(AdaBnOptions), mcc, NormalizationKind.BatchNorm, false),
                ("SelfTraining", typeof(SelfTrainingOptions), st, NormalizationKind.None, false),
                ("DANN+ST", typeof(DannOptions), st, NormalizationKind.None, false),
                ("MMD+ST", typeof(MmdOptions), st, NormalizationKind.None, false),
                ("VADA", typeof(VadaOptions), new[] { typeof(EntropyAddOn), typeof(VatAddOn) }, NormalizationKind.None, false),
                ("SelfEnsembling", typeof(SelfEnsemblingOptions), Array.Empty<Type>(), NormalizationKind.None, false),
            };
            Assert.Equal(expected.Select(e => e.Name), DomainAdaptationMethods.Names);
            foreach (var e in expected)
            {
                foreach (var spelling in new[] { e.Name, e.Name.ToLowerInvariant(), e.Name.ToUpperInvariant() })
                {
                    var options = DomainAdaptationMethods.Create(spelling);
                    Assert.IsType(e.Type, options);
                    Assert.Equal(e.AddOns, options.AddOns.Select(a => a.GetType()));
                    // The combined names' add-ons are the defaults (weight 1), as the README's combined rows were measured.
                    if (e.Name.Contains("+MCC") || e.Name.Contains("+ST"))
                        Assert.Equal(1f, options.AddOns.Single().Weight);
                    Assert.Equal(e.Normalization, options.Backbone.Normalization);
                    Assert.Equal(e.Entropy, options is CdanOptions cdan && cdan.EntropyConditioning);
                    Assert.Equal(e.Name, DomainAdaptationMethods.CanonicalName(spelling));
                    Assert.True(DomainAdaptationMethods.Contains(spelling));
                }
            }
            // Each call gives a new object: adjusting one run's options never changes the next one's.
            Assert.NotSame(DomainAdaptationMethods.Create("DANN"), DomainAdaptationMethods.Create("DANN"));
            Assert.NotSame(DomainAdaptationMethods.Create("DANN+MCC").AddOns[0], DomainAdaptationMethods.Create("DANN+MCC").AddOns[0]);
        }

        [Fact]
        public void AddOnSuffixesStackOnAnyName()
        {
            var options = DomainAdaptationMethods.Create("adabn+mcc+st+ent");
            Assert.IsType<AdaBnOptions>(options);
            Assert.Equal(new[] { typeof(MccAddOn), typeof(SelfTrainingAddOn), typeof(EntropyAddOn) }, options.AddOns.Select(a => a.GetType()));
            Assert.Equal(NormalizationKind.BatchNorm, options.Backbone.Normalization); // AdaBN's own defaults kept
            Assert.Equal("AdaBN+MCC+ST+ENT", DomainAdaptationMethods.CanonicalName("adabn+mcc+st+ent"));
            Assert.Equal("CDAN+E+ST", DomainAdaptationMethods.CanonicalName("cdan+e+st")); // "+E" is part of a listed name
            Assert.False(DomainAdaptationMethods.Contains("AdaBN+MCC+ST")); // Names lists only the library's own combinations
            var e = Assert.Throws<ArgumentException>(() => DomainAdaptationMethods.Create("DANN+XYZ"));
            Assert.Contains("'DANN+XYZ'", e.Message);
            Assert.Contains("+ENT", e.Message);
        }

        [Fact]
        public void UnknownMethodNameListsTheKnownOnes()
        {
            var e = Assert.Throws<ArgumentException>(() => DomainAdaptationMethods.Create("DAN+"));
            Assert.Contains("'DAN+'", e.Message);
            Assert.Contains("SourceOnly, DANN, DeepCORAL", e.Message);
            Assert.Contains("MMD+ST", e.Message);
            Assert.False(DomainAdaptationMethods.Contains("DAN+"));
        }

        private sealed class FeaturesOnly
        {
            [VectorType(4)]
            public float[] Features;
        }

        [Theory]
        [InlineData("DANN")]
        [InlineData("SourceOnly+BN")]
        [InlineData("M-ADDA")]
        public void ConvertToOnnxExportsTheFeaturizerAndTheNetworkAsOneGraph(string method)
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(128, 0.5f, seed: 1);
            var training = Keyed(ml, ml.Data.LoadFromEnumerable(rows));
            var options = TestData.Tiny(DomainAdaptationMethods.Create(method));
            options.Backbone.Normalization = DomainAdaptationMethods.Create(method).Backbone.Normalization;
            options.Iterations = 30;
            // The network is trained on min-max scaled features; the exported graph must scale the raw ones the same way.
            var model = ml.Transforms.NormalizeMinMax("Features")
                .Append(ml.MulticlassClassification.Trainers.DomainAdaptation(options))
                .Fit(training);

            var raw = ml.Data.LoadFromEnumerable(rows.Select(r => new FeaturesOnly { Features = r.Features }));
            var scored = model.Transform(raw);
            var expectedScores = TestData.Column(scored, "Score");
            var expectedEmbeddings = TestData.Column(scored, "Embedding");
            var expectedKeys = scored.GetColumn<uint>("PredictedLabel").ToArray();

            byte[] onnx;
            using (var stream = new MemoryStream())
            {
                ml.Model.ConvertToOnnx(model, raw, stream);
                onnx = stream.ToArray();
            }
            using var session = new InferenceSession(onnx);
            Assert.Equal(new[] { "Features" }, session.InputMetadata.Keys);
            var input = new DenseTensor<float>(rows.SelectMany(r => r.Features).ToArray(), new[] { rows.Count, 4 });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
            var scores = results.Single(r => r.Name == "Score.output").AsTensor<float>();
            var embeddings = results.Single(r => r.Name == "Embedding.output").AsTensor<float>();
            var keys = results.Single(r => r.Name == "PredictedLabel.output").AsTensor<uint>();

            double maxScore = TestData.MaxAbsDifference(scores, expectedScores), maxEmbedding = TestData.MaxAbsDifference(embeddings, expectedEmbeddings);
            for (int i = 0; i < rows.Count; i++)
                Assert.Equal(expectedKeys[i], keys[i]);
            _output.WriteLine($"{method}: max |ΔScore| = {maxScore:G3}, max |ΔEmbedding| = {maxEmbedding:G3}, {rows.Count} rows, same keys");
            Assert.True(maxScore <= 1e-5, $"{method}: max |ΔScore| = {maxScore:G3}");
            Assert.True(maxEmbedding <= 1e-4 * Math.Max(1, expectedEmbeddings.Max(e => e.Max())), $"{method}: max |ΔEmbedding| = {maxEmbedding:G3}");
            // Both classes are predicted, so equal keys are not one constant class.
            Assert.Equal(2, expectedKeys.Distinct().Count());
        }
    }
}
