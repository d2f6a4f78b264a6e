using System;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>A run stopped after a checkpoint and resumed from it ends with exactly the weights of an uninterrupted run.</summary>
    public sealed class CheckpointTests : IDisposable
    {
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        private static DomainAdaptationOptions Options(DomainAdaptationOptions options, string checkpoint)
        {
            TestData.Tiny(options);
            options.Iterations = 100;
            options.CheckpointPath = checkpoint;
            options.CheckpointInterval = 40;
            options.ProgressInterval = 10;
            return options;
        }

        [Theory]
        [InlineData("DANN")]
        [InlineData("MCD")]
        public void ResumedRunEndsWithTheUninterruptedRunsWeights(string method)
        {
            Func<DomainAdaptationOptions> create = method == "DANN" ? () => new DannOptions() : () => new McdOptions();
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml)).Transform(TestData.BlobsView(ml));

            var whole = ml.Transforms.DomainAdapt(Options(create(), _folder.File("whole.ckpt"))).Fit(data);

            // "Killed" at step 60: the last checkpoint is step 40's.
            string checkpoint = _folder.File("killed.ckpt");
            using var cancel = new CancellationTokenSource();
            var killed = Options(create(), checkpoint);
            killed.CancellationToken = cancel.Token;
            killed.ProgressCallback = p => { if (p.Iteration == 60) cancel.Cancel(); };
            Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.DomainAdapt(killed).Fit(data));
            Assert.True(File.Exists(checkpoint));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(checkpoint)!, "*.tmp"));

            var resumedOptions = Options(create(), null);
            resumedOptions.ResumeFrom = checkpoint;
            var resumed = ml.Transforms.DomainAdapt(resumedOptions).Fit(data);

            Assert.Equal(TestData.Column(whole.Transform(data), "Score"), TestData.Column(resumed.Transform(data), "Score"));
            Assert.Equal(TestData.Column(whole.Transform(data), "Embedding"), TestData.Column(resumed.Transform(data), "Embedding"));
            Assert.Equal(100, resumed.TrainingHistory.Steps.Count);
            Assert.Equal(whole.TrainingHistory.Steps.Select(s => s.Losses["classification"]), resumed.TrainingHistory.Steps.Select(s => s.Losses["classification"]));
        }

        [Fact]
        public void ResumingWithOtherOptionsOrAStatefulMethodIsRefusedNamingTheOption()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml)).Transform(TestData.BlobsView(ml));
            string checkpoint = _folder.File("dann.ckpt");
            ml.Transforms.DomainAdapt(Options(new DannOptions(), checkpoint)).Fit(data);

            var other = Options(new DannOptions(), null);
            other.Iterations = 200;
            other.ResumeFrom = checkpoint;
            var error = Assert.Throws<ArgumentException>(() => ml.Transforms.DomainAdapt(other).Fit(data));
            Assert.Equal("ResumeFrom", error.ParamName);
            Assert.Contains("200 steps", error.Message);

            var selfTraining = Options(new SelfTrainingOptions(), _folder.File("st.ckpt"));
            var refused = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(selfTraining).Fit(data));
            Assert.Equal("CheckpointPath", refused.ParamName);
        }
    }
}
