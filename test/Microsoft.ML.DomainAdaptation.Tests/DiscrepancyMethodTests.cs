using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>MMD, weighted MMD and CMD as ML.NET transforms: training, Save/Load parity, option validation.</summary>
    public class DiscrepancyMethodTests
    {
        private static DomainAdaptationOptions Small(DomainAdaptationOptions options) => TestData.Tiny(options);

        public static IEnumerable<object[]> Methods() => new[]
        {
            new object[] { "MMD", new MmdOptions() },
            new object[] { "MMD", new MmdOptions { Kernel = MmdKernel.Gaussian, Estimator = MmdEstimator.Unbiased, RampWeight = false } },
            new object[] { "MMD", new MmdOptions { Estimator = MmdEstimator.Linear } },
            new object[] { "WeightedMMD", new WeightedMmdOptions() },
            new object[] { "WeightedMMD", new WeightedMmdOptions { Estimator = MmdEstimator.Linear, ConfidenceThreshold = 0.5f, ClassProportionMomentum = 0 } },
            new object[] { "CMD", new CmdOptions() },
        };

        [Theory]
        [MemberData(nameof(Methods))]
        public void TrainsAndSaveAndLoadGiveBitIdenticalScores(string methodName, DomainAdaptationOptions options)
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var reports = new List<TrainingProgress>();
            options = Small(options);
            options.ProgressInterval = 30;
            options.ProgressCallback = reports.Add;
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
            var scored = model.Transform(data);
            var before = TestData.Column(scored, "Score");

            // The method trained with its own loss. (No accuracy bar here: on this 8-d toy embedding and 60 steps, the biased
            // multi-kernel MMD collapses the embedding; DiscrepancyMethodTests.LearnTheBlobs uses the default network.)
            Assert.Equal(new[] { 30, 60 }, reports.Select(r => r.Iteration));
            Assert.All(reports, r => Assert.Equal(methodName, r.Method));
            string loss = methodName switch { "MMD" => "mmd", "WeightedMMD" => "weighted mmd", _ => "cmd" };
            Assert.All(reports, r => Assert.True(float.IsFinite(r.Losses[loss]), $"{loss} {r.Losses[loss]}"));

            string path = Path.Combine(Directory.CreateTempSubdirectory("da").FullName, "model.zip");
            ml.Model.Save(model, data.Schema, path);
            var loaded = new MLContext(seed: 99).Model.Load(path, out _);
            var after = TestData.Column(loaded.Transform(data), "Score");

            Assert.Equal(before.Length, after.Length);
            for (int i = 0; i < before.Length; i++)
                Assert.Equal(before[i], after[i]);
        }

        public static IEnumerable<object[]> Defaults() => new[]
        {
            new object[] { "MMD", new MmdOptions() },
            new object[] { "WeightedMMD", new WeightedMmdOptions() },
            new object[] { "CMD", new CmdOptions() },
        };

        [Theory]
        [MemberData(nameof(Defaults))]
        public void LearnTheBlobs(string methodName, DomainAdaptationOptions options)
        {
            // The default MLP (256 → 100), 60 steps of 32 + 32: each method separates the two blobs in both domains.
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            options.Iterations = 60;
            options.BatchSize = 32;
            options.Seed = 7;
            var scored = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data).Transform(data);
            double accuracy = ml.MulticlassClassification.Evaluate(scored).MicroAccuracy;
            Assert.True(accuracy > 0.8, $"{methodName}: accuracy {accuracy}");
        }

        [Fact]
        public void InvalidOptionsAreRejectedNamingTheOption()
        {
            var ml = new MLContext(seed: 1);
            var cases = new (Func<DomainAdaptationOptions> Create, string Name)[]
            {
                (() => new MmdOptions { MmdWeight = -1 }, "MmdWeight"),
                (() => new MmdOptions { MmdWeight = float.PositiveInfinity }, "MmdWeight"),
                (() => new MmdOptions { KernelCount = 0 }, "KernelCount"),
                (() => new MmdOptions { KernelMultiplier = 1 }, "KernelMultiplier"),
                (() => new MmdOptions { KernelMultiplier = float.NaN }, "KernelMultiplier"),
                (() => new MmdOptions { Kernel = (MmdKernel)7 }, "Kernel"),
                (() => new MmdOptions { Estimator = (MmdEstimator)0 }, "Estimator"),
                (() => new MmdOptions { Estimator = MmdEstimator.Unbiased, BatchSize = 1 }, "BatchSize"),
                (() => new MmdOptions { Estimator = MmdEstimator.Linear, BatchSize = 1 }, "BatchSize"),
                (() => new WeightedMmdOptions { MaxClassWeight = 0.5f }, "MaxClassWeight"),
                (() => new WeightedMmdOptions { MaxClassWeight = float.NaN }, "MaxClassWeight"),
                (() => new WeightedMmdOptions { ConfidenceThreshold = 1.5f }, "ConfidenceThreshold"),
                (() => new WeightedMmdOptions { ConfidenceThreshold = -0.1f }, "ConfidenceThreshold"),
                (() => new WeightedMmdOptions { ConfidenceThreshold = float.NaN }, "ConfidenceThreshold"),
                (() => new WeightedMmdOptions { ClassProportionMomentum = 1 }, "ClassProportionMomentum"),
                (() => new WeightedMmdOptions { ClassProportionMomentum = -0.5f }, "ClassProportionMomentum"),
                (() => new WeightedMmdOptions { KernelCount = -3 }, "KernelCount"),
                (() => new WeightedMmdOptions { MmdWeight = float.NaN }, "MmdWeight"),
                (() => new CmdOptions { MomentOrder = 0 }, "MomentOrder"),
                (() => new CmdOptions { CmdWeight = -0.5f }, "CmdWeight"),
                (() => new CmdOptions { CmdWeight = float.NaN }, "CmdWeight"),
                (() => new CmdOptions { Iterations = 0 }, "Iterations"),
            };
            foreach (var (create, name) in cases)
            {
                var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(create()));
                Assert.Equal(name, ex.ParamName);
                Assert.Contains(name, ex.Message);
            }

            // Boundary values are valid: a weight of 0, one kernel, threshold 0 and 1, momentum 0, order 1, the biased estimator on one row.
            foreach (var valid in new DomainAdaptationOptions[]
            {
                new MmdOptions { MmdWeight = 0, KernelCount = 1, KernelMultiplier = 1.01f },
                new MmdOptions { Estimator = MmdEstimator.Biased, BatchSize = 1 },
                new WeightedMmdOptions { ConfidenceThreshold = 0, ClassProportionMomentum = 0 },
                new WeightedMmdOptions { ConfidenceThreshold = 1 },
                new CmdOptions { MomentOrder = 1, CmdWeight = 0 },
            })
                ml.Transforms.DomainAdapt(valid);
        }

        [Fact]
        public void DefaultsFollowThePapersAndTheReference()
        {
            var mmd = new MmdOptions();
            Assert.Equal((MmdKernel.MultiGaussian, 5, 2f, MmdEstimator.Unbiased, 1f, true),
                (mmd.Kernel, mmd.KernelCount, mmd.KernelMultiplier, mmd.Estimator, mmd.MmdWeight, mmd.RampWeight));
            var weighted = new WeightedMmdOptions();
            Assert.Equal((MmdKernel.MultiGaussian, 5, MmdEstimator.Unbiased, 0.9f, 0.99f, 3f),
                (weighted.Kernel, weighted.KernelCount, weighted.Estimator, weighted.ConfidenceThreshold, weighted.ClassProportionMomentum, weighted.MaxClassWeight));
            var cmd = new CmdOptions();
            Assert.Equal((5, 1f, true), (cmd.MomentOrder, cmd.CmdWeight, cmd.RampWeight));
        }
    }
}
