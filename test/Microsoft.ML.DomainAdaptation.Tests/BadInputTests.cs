// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Bad input fails early with a message that names the column or option and what was expected.</summary>
    public class BadInputTests
    {
        private static DannOptions Options() => new DannOptions
        {
            Iterations = 5,
            BatchSize = 8,
            Seed = 1,
            Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 4 }, EmbeddingSize = 4 },
        };

        private static TException CheckedBeforeTraining<TException>(MLContext ml, IDataView data, DomainAdaptationOptions options)
            where TException : Exception
        {
            var estimator = ml.Transforms.DomainAdapt(options);
            // Column problems are caught by GetOutputSchema, as ML.NET's estimators do, without reading a row.
            var fromSchema = Assert.Throws<TException>(() => estimator.GetOutputSchema(ShapeOf(data.Schema)));
            var fromFit = Assert.Throws<TException>(() => estimator.Fit(data));
            Assert.Equal(fromSchema.Message, fromFit.Message);
            return fromSchema;
        }

        /// <summary>ML.NET's SchemaShape.Create is internal; pipelines call it before Fit, tests call it here.</summary>
        private static SchemaShape ShapeOf(DataViewSchema schema) =>
            (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
                .Invoke(null, new object[] { schema });

        private static IDataView Keyed(MLContext ml, IDataView data) => ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);

        [Fact]
        public void MissingFeatureColumn()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.BlobsView(ml));
            var options = Options();
            options.FeatureColumnName = "Pixels";
            var ex = CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, data, options);
            Assert.Contains("Could not find feature column 'Pixels'", ex.Message);
        }

        [Fact]
        public void MissingLabelAndDomainColumns()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.BlobsView(ml));
            var options = Options();
            options.LabelColumnName = "Digit";
            Assert.Contains("Could not find label column 'Digit'", CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, data, options).Message);
            options = Options();
            options.DomainColumnName = "Domain";
            Assert.Contains("Could not find domain column 'Domain'", CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, data, options).Message);
        }

        [Fact]
        public void LabelThatIsNotAKey()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var ex = CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, data, Options());
            Assert.Contains("label column 'Label'", ex.Message);
            Assert.Contains("key", ex.Message);
            Assert.Contains("String", ex.Message);
        }

        private sealed class TextFeatures
        {
            public string Features;
            public uint Label;
            public bool IsTarget;
        }

        [Fact]
        public void TextFeaturesAndNonBooleanDomain()
        {
            var ml = new MLContext(seed: 1);
            var text = ml.Data.LoadFromEnumerable(new[] { new TextFeatures { Features = "x", Label = 1 } });
            var ex = CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, Keyed(ml, text), Options());
            Assert.Contains("Schema mismatch for feature column 'Features': expected known-size vector of Single, got String", ex.Message);

            var data = Keyed(ml, TestData.BlobsView(ml));
            var floatDomain = ml.Transforms.Conversion.ConvertType("IsTarget", outputKind: DataKind.Single).Fit(data).Transform(data);
            ex = CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, floatDomain, Options());
            Assert.Contains("domain column 'IsTarget'", ex.Message);
            Assert.Contains("Boolean", ex.Message);
        }

        private sealed class VariableRow
        {
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        [Fact]
        public void VariableSizeFeatureVectors()
        {
            var ml = new MLContext(seed: 1);
            var rows = new[]
            {
                new VariableRow { Features = new float[] { 1, 2 }, Label = "a" },
                new VariableRow { Features = new float[] { 1, 2, 3 }, Label = "b", IsTarget = true },
            };
            var data = Keyed(ml, ml.Data.LoadFromEnumerable(rows));
            var ex = CheckedBeforeTraining<ArgumentOutOfRangeException>(ml, data, Options());
            Assert.True(ex.Message.Contains("Schema mismatch for feature column 'Features': expected known-size vector of Single, got"), ex.Message);
        }

        private static IDataView FromRows(MLContext ml, IEnumerable<TestData.Row> rows) => Keyed(ml, ml.Data.LoadFromEnumerable(rows.ToList()));

        [Fact]
        public void NoTargetRowsOrNoSourceRows()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(32, 0.5f, 1);
            var ex = Assert.Throws<InvalidOperationException>(() => ml.Transforms.DomainAdapt(Options()).Fit(FromRows(ml, rows.Where(r => !r.IsTarget))));
            Assert.Contains("no target rows", ex.Message);
            Assert.Contains("'IsTarget'", ex.Message);
            ex = Assert.Throws<InvalidOperationException>(() => ml.Transforms.DomainAdapt(Options()).Fit(FromRows(ml, rows.Where(r => r.IsTarget))));
            Assert.Contains("no source rows", ex.Message);
        }

        [Fact]
        public void NaNFeaturesAreRejectedWithTheirRow()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(32, 0.5f, 1);
            rows[5].Features[2] = float.NaN;
            var ex = Assert.Throws<InvalidOperationException>(() => ml.Transforms.DomainAdapt(Options()).Fit(FromRows(ml, rows)));
            Assert.Contains("Row 5 of feature column 'Features'", ex.Message);
            Assert.Contains("slot 2", ex.Message);
        }

        [Fact]
        public void OneClassOnlyIsRejected()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(32, 0.5f, 1);
            var data = ml.Data.LoadFromEnumerable(rows);
            // Key type with two values, but every source row is 'a'.
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(
                ml.Data.LoadFromEnumerable(rows.Select(r => new TestData.Row { Features = r.Features, IsTarget = r.IsTarget, Label = r.IsTarget ? r.Label : "a" }).ToList()));
            var ex = Assert.Throws<InvalidOperationException>(() => ml.Transforms.DomainAdapt(Options()).Fit(keyed));
            Assert.Contains("single class", ex.Message);
        }

        [Fact]
        public void BatchLargerThanADomain()
        {
            var ml = new MLContext(seed: 1);
            var options = Options();
            options.BatchSize = 100;
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(options).Fit(FromRows(ml, TestData.Blobs(32, 0.5f, 1))));
            Assert.Contains("BatchSize", ex.Message);
            Assert.Contains("32 source rows", ex.Message);
        }

        [Fact]
        public void InvalidOptionsAreRejectedWhenTheEstimatorIsMade()
        {
            var ml = new MLContext(seed: 1);
            var cases = new (Action<DannOptions> Change, string Name)[]
            {
                (o => o.Iterations = 0, "Iterations"),
                (o => o.BatchSize = -1, "BatchSize"),
                (o => o.LearningRate = 0, "LearningRate"),
                (o => o.Momentum = 1, "Momentum"),
                (o => o.DomainLossWeight = -1, "DomainLossWeight"),
                (o => o.GradientReversalAlpha = 0, "GradientReversalAlpha"),
                (o => o.Backbone = new LeNetBackboneOptions { Height = 8 }, "Height"),
                (o => o.Backbone = new MlpBackboneOptions { EmbeddingSize = 0 }, "EmbeddingSize"),
            };
            foreach (var (change, name) in cases)
            {
                var options = Options();
                change(options);
                var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(options));
                Assert.Equal(name, ex.ParamName);
                Assert.Contains(name, ex.Message);
            }
            Assert.Equal("GeneratorSteps", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new McdOptions { GeneratorSteps = 0 })).ParamName);
            Assert.Equal("DiscrepancyWeight", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new McdOptions { DiscrepancyWeight = -1 })).ParamName);
            Assert.Equal("SeparationMargin", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new ClassCriterionOptions { SeparationMargin = 0 })).ParamName);
            var coral = new DeepCoralOptions { CoralWeight = float.NaN };
            Assert.Equal("CoralWeight", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(coral)).ParamName);
        }

        [Fact]
        public void LeNetShapeThatDoesNotMatchTheFeatureSize()
        {
            var ml = new MLContext(seed: 1);
            var options = Options();
            options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 };
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(options).Fit(FromRows(ml, TestData.Blobs(32, 0.5f, 1))));
            Assert.Contains("784", ex.Message);
            Assert.Contains("has 4", ex.Message);
        }

        [Fact]
        public void ScoringDataWithAnotherFeatureSizeIsRejected()
        {
            var ml = new MLContext(seed: 1);
            var model = ml.Transforms.DomainAdapt(Options()).Fit(FromRows(ml, TestData.Blobs(32, 0.5f, 1)));
            var other = ml.Data.LoadFromEnumerable(new[] { new { Features = new float[3] } }.ToList());
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(other));
            Assert.Contains("feature column 'Features'", ex.Message);
            Assert.Contains("Vector<Single, 4>", ex.Message);
        }

        public static IEnumerable<object[]> EveryMethod() => new Func<DomainAdaptationOptions>[]
        {
            () => new SourceOnlyOptions(), () => new DannOptions(), () => new DeepCoralOptions(), () => new AdaBnOptions(),
            () => new MmdOptions(), () => new WeightedMmdOptions(), () => new CmdOptions(), () => new McdOptions(),
            () => new AddaOptions(), () => new MAddaOptions(), () => new ClassCriterionOptions(),
            () => new CdanOptions(), () => new CdanOptions { EntropyConditioning = true, MaxFullMapSize = 4 }, () => new JanOptions(),
            () => new MccOptions(), () => new DannOptions { AddOns = { new MccAddOn() } }, () => new MddOptions(),
            () => new SelfTrainingOptions(new SelfTrainingAddOn { Threshold = 0.5f }), () => new DannOptions { AddOns = { new SelfTrainingAddOn { Threshold = 0.5f } } },
        }.Select((create, i) => new object[] { $"{i}-{create().GetType().Name}", create });

        /// <summary>The input checks live in the estimator, before any method is made: every method meets them the same way.</summary>
        [Theory]
        [MemberData(nameof(EveryMethod))]
        public void EveryMethodRejectsBadInputBeforeTraining(string name, Func<DomainAdaptationOptions> create)
        {
            var ml = new MLContext(seed: 1);
            DomainAdaptationOptions Make(Action<DomainAdaptationOptions> change = null)
            {
                var options = create();
                options.Iterations = 5;
                options.BatchSize = 8;
                options.Seed = 1;
                options.Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 4 }, EmbeddingSize = 4 };
                change?.Invoke(options);
                return options;
            }
            var rows = TestData.Blobs(32, 0.5f, 1);
            var good = FromRows(ml, rows);
            var progress = new List<int>();
            void Expect<TException>(Func<IDataView> data, Action<DomainAdaptationOptions> change, params string[] inMessage) where TException : Exception
            {
                var options = Make(change);
                options.ProgressInterval = 1;
                options.ProgressCallback = p => progress.Add(p.Iteration);
                var ex = Assert.Throws<TException>(() => ml.Transforms.DomainAdapt(options).Fit(data()));
                foreach (string text in inMessage)
                    Assert.True(ex.Message.Contains(text), $"{name}: '{ex.Message}' does not contain '{text}'.");
            }

            Expect<ArgumentOutOfRangeException>(() => good, o => o.FeatureColumnName = "Pixels", "feature column 'Pixels'");
            Expect<ArgumentOutOfRangeException>(() => TestData.BlobsView(ml), null, "label column 'Label'", "key");
            Expect<InvalidOperationException>(() => FromRows(ml, rows.Where(r => !r.IsTarget)), null, "no target rows");
            Expect<InvalidOperationException>(() => FromRows(ml, rows.Where(r => r.IsTarget)), null, "no source rows");
            var withNaN = TestData.Blobs(32, 0.5f, 1);
            withNaN[3].Features[1] = float.PositiveInfinity;
            Expect<InvalidOperationException>(() => FromRows(ml, withNaN), null, "Row 3 of feature column 'Features'");
            Expect<ArgumentOutOfRangeException>(() => good, o => o.BatchSize = 100, "BatchSize");
            Expect<ArgumentOutOfRangeException>(() => good, o => o.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, "784", "has 4");
            Assert.Equal("Iterations", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(Make(o => o.Iterations = 0))).ParamName);
            Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(Make(o => o.BatchSize = -1))).ParamName);
            Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(Make(o => o.LearningRate = 0))).ParamName);
            Assert.Empty(progress);
        }
    }
}
