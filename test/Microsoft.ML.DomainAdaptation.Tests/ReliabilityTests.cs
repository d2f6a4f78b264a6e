// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class ReliabilityTests
    {
        private static DannOptions Small(int iterations = 60) => new DannOptions
        {
            Iterations = iterations,
            BatchSize = 32,
            Seed = 4,
            Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8 },
            ClassifierHiddenSize = 8,
        };

        private sealed class Prediction
        {
            public float[] Score;
        }

        [Fact]
        public void CancelExecutionStopsTrainingAtTheNextStep()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml)).Transform(TestData.BlobsView(ml));
            var options = Small(iterations: 1_000_000);
            options.ProgressInterval = 1;
            int lastStep = 0;
            options.ProgressCallback = p =>
            {
                lastStep = p.Iteration;
                if (p.Iteration == 25)
                    ml.CancelExecution();
            };
            Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.DomainAdapt(options).Fit(data));
            Assert.Equal(25, lastStep);
        }

        [Fact]
        public void CancellationTokenStopsTrainingAtTheNextStep()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml)).Transform(TestData.BlobsView(ml));
            using var source = new System.Threading.CancellationTokenSource();
            var options = Small(iterations: 1_000_000);
            options.ProgressInterval = 1;
            options.CancellationToken = source.Token;
            int lastStep = 0;
            options.ProgressCallback = p =>
            {
                lastStep = p.Iteration;
                if (p.Iteration == 10)
                    source.Cancel();
            };
            Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.DomainAdapt(options).Fit(data));
            Assert.Equal(10, lastStep);
            // The context is still usable afterwards.
            Assert.NotNull(ml.Transforms.DomainAdapt(Small()).Fit(data));
        }

        [Fact]
        public void ScoringFromManyThreadsMatchesSingleThreadedScoring()
        {
            var ml = new MLContext(seed: 1);
            var view = TestData.BlobsView(ml, perDomain: 300);
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(Small())).Fit(view);
            var expected = TestData.Column(model.Transform(view), "Score");
            var rows = TestData.Blobs(300, 0.5f, 1);
            var singleEngine = ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model);
            var expectedSingle = rows.Select(r => singleEngine.Predict(r).Score).ToArray();

            var transforms = new float[4][][];
            var engines = new float[4][][];
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                if (i < 4)
                {
                    transforms[i] = TestData.Column(model.Transform(view), "Score");
                }
                else
                {
                    var engine = ml.Model.CreatePredictionEngine<TestData.Row, Prediction>(model);
                    engines[i - 4] = rows.Select(r => engine.Predict(r).Score).ToArray();
                }
            });
            Assert.All(transforms, t => Assert.Equal(expected, t));
            Assert.All(engines, e => Assert.Equal(expectedSingle, e));
        }

        [Fact]
        public void DivergenceStopsTrainingWithTheStepAndLosses()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(64, 0.5f, 1);
            foreach (var row in rows)
            {
                for (int j = 0; j < row.Features.Length; j++)
                    row.Features[j] *= 1e18f;
            }
            var data = TestData.KeyLabel(ml).Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
            var options = Small();
            options.LearningRate = 10f;
            var ex = Assert.Throws<InvalidOperationException>(() => ml.Transforms.DomainAdapt(options).Fit(data));
            Assert.Contains("DANN diverged at step", ex.Message);
            Assert.Contains("LearningRate", ex.Message);
        }

        [Fact]
        public void CudaWithoutCudaFailsNamingTheDeviceOptionAndBadNamesAreRejected()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml)).Transform(TestData.BlobsView(ml));
            if (!TorchSharp.torch.cuda.is_available())
            {
                foreach (string device in new[] { "cuda", "cuda:0", "CUDA:1" })
                {
                    var options = TestData.Tiny(new DannOptions());
                    options.Device = device;
                    var error = Assert.Throws<InvalidOperationException>(() => ml.Transforms.DomainAdapt(options).Fit(data));
                    Assert.Contains("Device", error.Message);
                    Assert.Contains("CUDA is not available", error.Message);
                }
            }
            foreach (string bad in new[] { "gpu", "cuda:", "cuda:-1", "", null })
            {
                var options = TestData.Tiny(new DannOptions());
                options.Device = bad;
                Assert.Equal("Device", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(options)).ParamName);
            }
            var cpu = TestData.Tiny(new DannOptions());
            cpu.Device = " CPU ";
            Assert.Equal(256, TestData.Column(ml.Transforms.DomainAdapt(cpu).Fit(data).Transform(data), "Score").Length);
        }
    }
}
