using System;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Issue 16: <c>--set "Option=value;…"</c> (<see cref="DomainAdaptationMethods.ApplySettings"/>), shared by the tool and the
    /// samples: every value kind really lands in its field, nested options included, and every bad setting is named.
    /// </summary>
    public class OptionSettingsTests
    {
        [Fact]
        public void SettingsSetFieldsOfEveryKindNestedOnesIncluded()
        {
            var options = (MmdOptions)DomainAdaptationMethods.Create("mmd",
                " Iterations = 123 ; LearningRate=1e-3;AnnealLearningRate=false;Kernel=gaussian;Estimator=Linear;Device=cuda:1;" +
                "Seed=7;Backbone.EmbeddingSize=64;Backbone.HiddenLayerSizes=32, 16;Validation.Interval=100;Validation.Patience=3;;");
            Assert.Equal(123, options.Iterations);
            Assert.Equal(0.001f, options.LearningRate);
            Assert.False(options.AnnealLearningRate);
            Assert.Equal(MmdKernel.Gaussian, options.Kernel);          // any case
            Assert.Equal(MmdEstimator.Linear, options.Estimator);
            Assert.Equal("cuda:1", options.Device);
            Assert.Equal(7, options.Seed);
            var mlp = Assert.IsType<MlpBackboneOptions>(options.Backbone);
            Assert.Equal(64, mlp.EmbeddingSize);
            Assert.Equal(new[] { 32, 16 }, mlp.HiddenLayerSizes);
            // Validation is null by default: created with its defaults, then the two fields set.
            Assert.Equal(100, options.Validation.Interval);
            Assert.Equal(3, options.Validation.Patience);
            Assert.True(options.Validation.KeepBest);
            Assert.Equal(new TrainingValidation().HeldOutFraction, options.Validation.HeldOutFraction);
            // Fields not named keep the method's defaults; a later setting wins; null clears a nullable number.
            Assert.Equal(new MmdOptions().BatchSize, options.BatchSize);
            DomainAdaptationMethods.ApplySettings(options, "batchsize=16;BatchSize=24;Seed=null");
            Assert.Equal(24, options.BatchSize);
            Assert.Null(options.Seed);

            // The method's own fields, on the backbone the options hold (a LeNet here).
            var mcd = (McdOptions)DomainAdaptationMethods.Create("MCD");
            mcd.Backbone = new LeNetBackboneOptions();
            DomainAdaptationMethods.ApplySettings(mcd, "DiscrepancyWeight=0.5;Backbone.Channels=3;Backbone.Normalization=BatchNorm");
            Assert.Equal(0.5f, mcd.DiscrepancyWeight);
            Assert.Equal(3, ((LeNetBackboneOptions)mcd.Backbone).Channels);
            Assert.Equal(NormalizationKind.BatchNorm, mcd.Backbone.Normalization);
        }

        [Theory]
        [InlineData("DANN", "Iterations=500;Foo=1", "Setting 'Foo=1': DannOptions has no option 'Foo'; its options: ")]
        [InlineData("DANN", "DiscrepancyWeight=0.5", "DannOptions has no option 'DiscrepancyWeight'")]
        [InlineData("DANN", "Iterations=abc", "Setting 'Iterations=abc': option DannOptions.Iterations expects a whole number in the range of Int32; got 'abc'.")]
        [InlineData("DANN", "Iterations=2.5", "expects a whole number in the range of Int32; got '2.5'")]
        [InlineData("DANN", "Iterations=99999999999", "expects a whole number in the range of Int32; got '99999999999'")]
        [InlineData("DANN", "LearningRate=fast", "option DannOptions.LearningRate expects a finite Single number (e.g. 0.5 or 1e-3); got 'fast'")]
        [InlineData("DANN", "LearningRate=1e39", "expects a finite Single number")]
        [InlineData("DANN", "LearningRate=NaN", "expects a finite Single number")]
        [InlineData("DANN", "AnnealLearningRate=yes", "option DannOptions.AnnealLearningRate expects true or false; got 'yes'")]
        [InlineData("MMD", "Kernel=2", "option MmdOptions.Kernel expects one of Gaussian, MultiGaussian; got '2'")]
        [InlineData("DANN", "Backbone.HiddenLayerSizes=32,x", "option DannOptions.Backbone.HiddenLayerSizes expects a whole number in the range of Int32; got 'x'")]
        [InlineData("DANN", "Backbone.Channels=3", "Setting 'Backbone.Channels=3': DannOptions.Backbone has no option 'Channels'")]
        [InlineData("DANN", "Validation.Every=3", "DannOptions.Validation has no option 'Every'; its options: Scorer, Interval, KeepBest, Patience")]
        [InlineData("DANN", "Iterations.Value=3", "option DannOptions.Iterations (Int32) has no nested options")]
        [InlineData("DANN", "ProgressCallback=x", "DannOptions has no option 'ProgressCallback'")]
        [InlineData("DANN", "Iterations", "Setting 'Iterations': expected Option=value")]
        [InlineData("DANN", "=3", "Setting '=3': expected Option=value")]
        public void BadSettingsAreNamedWithTheExpectedType(string method, string settings, string message)
        {
            var e = Assert.Throws<ArgumentException>(() => DomainAdaptationMethods.Create(method, settings));
            Assert.Contains(message, e.Message);
            Assert.Equal("settings", e.ParamName);
        }

        [Fact]
        public void SettingsBeforeABadOneAreAppliedAndNoneIsEmpty()
        {
            var options = DomainAdaptationMethods.Create("DANN");
            Assert.Throws<ArgumentException>(() => DomainAdaptationMethods.ApplySettings(options, "Iterations=10;Nope=1;BatchSize=3"));
            Assert.Equal(10, options.Iterations);
            Assert.Equal(64, options.BatchSize);
            DomainAdaptationMethods.ApplySettings(options, null);
            DomainAdaptationMethods.ApplySettings(options, " ; ");
            Assert.Equal(10, options.Iterations);
        }
    }
}
