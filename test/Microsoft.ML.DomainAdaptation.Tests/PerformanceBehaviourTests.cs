using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Training;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>What the performance work changed in behaviour: distances without the N × N × D tensor, the thread bound, the malloc switch.</summary>
    public class PerformanceBehaviourTests
    {
        private static Tensor Naive(Tensor a, Tensor b) => (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(2);

        [Fact]
        public void GramSquaredDistancesEqualBroadcastDistancesAndTheirGradients()
        {
            using var scope = NewDisposeScope();
            manual_seed(5);
            var a = (randn(7, 5) * 3 + 1).requires_grad_(true);
            var b = randn(4, 5).requires_grad_(true);
            var upstream = rand(7, 4);
            var naive = Naive(a, b);
            var gram = MmdLoss.SquaredDistances(a, b);
            Assert.True(allclose(naive, gram, rtol: 1e-5, atol: 1e-4), $"max |Δ| {(naive - gram).abs().max().item<float>()}");
            var naiveGrad = autograd.grad(new[] { (naive * upstream).sum() }, new[] { a, b });
            var gramGrad = autograd.grad(new[] { (gram * upstream).sum() }, new[] { a, b });
            for (int i = 0; i < 2; i++)
                Assert.True(allclose(naiveGrad[i], gramGrad[i], rtol: 1e-5, atol: 1e-4));

            // The joint matrix has an exact zero diagonal and matches the broadcast one off it.
            var joint = MmdLoss.JointSquaredDistances(a.detach(), b.detach());
            Assert.Equal(new long[] { 11, 11 }, joint.shape);
            Assert.All(joint.diagonal().data<float>().ToArray(), v => Assert.Equal(0f, v));
            var z = cat(new[] { a.detach(), b.detach() }, 0);
            Assert.True(allclose(Naive(z, z), joint, rtol: 1e-5, atol: 1e-4));
        }

        [Fact]
        public void MmdLossKeepsItsValueWithTheGramDistances()
        {
            using var scope = NewDisposeScope();
            manual_seed(6);
            var source = randn(16, 8);
            var target = randn(12, 8) + 0.5;
            foreach (var estimator in new[] { MmdEstimator.Unbiased, MmdEstimator.Biased })
            {
                var kernels = new GaussianKernelFamily(5, 2);
                double actual = MmdLoss.Compute(source, target, kernels, estimator).item<float>();
                // The same estimator on broadcast distances, written out.
                var z = cat(new[] { source, target }, 0);
                var d = Naive(z, z);
                var k = kernels.Apply(d, MmdLoss.HeuristicBandwidth(d));
                double expected = MmdLoss.FromKernelMatrix(k, 16, 12, estimator == MmdEstimator.Unbiased).item<float>();
                Assert.Equal(expected, actual, 5);
            }
        }

        public static IEnumerable<object[]> Blocks() => new[]
        {
            new object[] { 1L << 22, 4096, 1L << 22 },   // the defaults: one block, collected at once
            new object[] { 7L, 4, 9L },                  // one row per block, a 4-bin histogram narrowed until 9 values are left
            new object[] { 100L, 3, 1L },                // several rows per block, narrowed down to one value or a tie
        };

        [Theory]
        [MemberData(nameof(Blocks))]
        public void BlockedMedianHeuristicMmdEqualsTheFullMatrix(long blockValues, int bins, long collectLimit)
        {
            var random = new Random(8);
            float[] Row(double shift) => Enumerable.Range(0, 6).Select(_ => (float)(random.NextDouble() * 2 + shift)).ToArray();
            var source = Enumerable.Range(0, 23).Select(_ => Row(0)).ToList();
            var target = Enumerable.Range(0, 19).Select(_ => Row(0.4)).ToList();
            source[5] = source[3]; // ties: one distance of exactly 0 among the pairs, and repeated distances
            target[2] = source[3];

            var (mmd, sigma2) = DomainGap.MedianHeuristicMmd(source, target, blockValues, bins, collectLimit);

            // The full matrix, as the measure computed it before: broadcast distances, torch's median, the kernel matrix.
            using var scope = NewDisposeScope();
            var z = tensor(source.Concat(target).SelectMany(r => r).ToArray(), new long[] { 42, 6 }).to_type(ScalarType.Float64);
            var d = Naive(z, z);
            var upper = d.masked_select(ones(42, 42, dtype: ScalarType.Bool).triu(1));
            double expectedSigma2 = upper.median().item<double>();
            double expectedMmd = MmdLoss.FromKernelMatrix((-d / (2 * expectedSigma2)).exp(), 23, 19, unbiased: true).item<double>();
            Assert.Equal(expectedSigma2, sigma2, 9);
            Assert.Equal(expectedMmd, mmd, 9);
        }

        [Fact]
        public void MedianFallsBackToTheMeanWhenMostPairsCoincide()
        {
            // 3 identical rows per domain and one other: the median of the 28 pairs is 0, so σ² is their mean.
            var rows = Enumerable.Repeat(new[] { 1f, 2f }, 3).Append(new[] { 4f, 6f }).ToList();
            var (_, sigma2) = DomainGap.MedianHeuristicMmd(rows, rows, blockValues: 8, bins: 2, collectLimit: 1);
            // Pairs: 8 rows, 6 equal to (1, 2) and 2 equal to (4, 6): 6 · 2 = 12 pairs at distance 25, 16 at 0.
            Assert.Equal(12 * 25 / 28.0, sigma2, 9);
        }

        [Fact]
        public void NumberOfThreadsIsBoundedByTheProcessorCount()
        {
            var ml = new MLContext(seed: 1);
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new DannOptions { NumberOfThreads = 1000 }));
            Assert.Equal("NumberOfThreads", ex.ParamName);
            Assert.Contains($"between 1 and the processor count ({Environment.ProcessorCount})", ex.Message);
            Assert.Equal("NumberOfThreads", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new DannOptions { NumberOfThreads = 0 })).ParamName);
            ml.Transforms.DomainAdapt(new DannOptions { NumberOfThreads = Environment.ProcessorCount }); // the bound itself is accepted
        }

        [Fact]
        public void DefaultThreadsAreOneForSmallNetworksWithoutConvolutions()
        {
            using var mlp = new Networks.ScoringNetwork(new Networks.NetworkSpec(new MlpBackboneOptions().CreateSpec(512, NormalizationKind.None), 100, 10));
            Assert.Equal(1, ThreadPolicy.DefaultThreads(mlp, 64)); // (512·256 + 256·100 + 100·100 + 100·10) · 64 = 10.7 M multiply-adds
            Assert.Null(ThreadPolicy.DefaultThreads(mlp, 256)); // 43 M
            using var lenet = new Networks.ScoringNetwork(new Networks.NetworkSpec(new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }.CreateSpec(784, NormalizationKind.None), 100, 10));
            Assert.Null(ThreadPolicy.DefaultThreads(lenet, 1)); // convolutions whose cost is not given: libtorch's default
        }

        [Fact]
        public void DefaultThreadsAreOneForASmallLeNet()
        {
            var spec = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }.CreateSpec(784, NormalizationKind.None);
            // conv1: 24 · 24 outputs · 32 channels · 1 · 5 · 5 = 460,800; conv2: 8 · 8 · 48 · 32 · 5 · 5 = 2,457,600.
            Assert.Equal(2_918_400, spec.ConvolutionMultiplyAddsPerRow);
            using var lenet = new Networks.ScoringNetwork(new Networks.NetworkSpec(spec, 100, 10));
            Assert.Equal(1, ThreadPolicy.DefaultThreads(lenet, 64, spec.ConvolutionMultiplyAddsPerRow)); // 187 M + the linear layers
            Assert.Null(ThreadPolicy.DefaultThreads(lenet, 256, spec.ConvolutionMultiplyAddsPerRow)); // 747 M
            var colour = new LeNetBackboneOptions { Channels = 3, Height = 32, Width = 32 }.CreateSpec(3072, NormalizationKind.None);
            Assert.Equal(28L * 28 * 32 * 3 * 25 + 10L * 10 * 48 * 32 * 25, colour.ConvolutionMultiplyAddsPerRow);
            Assert.Null(new MlpBackboneOptions().CreateSpec(512, NormalizationKind.None).ConvolutionMultiplyAddsPerRow);
        }

        [Fact]
        public void IdleOpenMpThreadsSpinForeverOnlyUnderActiveWaitWithoutASpinCountOrAnInfiniteCount()
        {
            bool Spin(params (string Name, string Value)[] variables) =>
                ThreadPolicy.IdleThreadsSpinForever(name => variables.FirstOrDefault(v => v.Name == name).Value);
            Assert.False(Spin());
            Assert.False(Spin(("OMP_WAIT_POLICY", "PASSIVE")));
            Assert.True(Spin(("OMP_WAIT_POLICY", "ACTIVE")));
            Assert.True(Spin(("OMP_WAIT_POLICY", " active ")));
            Assert.False(Spin(("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "10000"))); // a set count wins (libgomp)
            Assert.True(Spin(("GOMP_SPINCOUNT", "INFINITE")));
            Assert.True(Spin(("GOMP_SPINCOUNT", "infinity"), ("OMP_WAIT_POLICY", "PASSIVE")));
            Assert.False(Spin(("GOMP_SPINCOUNT", "300000")));
        }

        [Fact]
        public void PassiveWaitPolicyIsSetOnlyWhenSafeAndNotSwitchedOff()
        {
            var set = new List<(string, string)>();
            string Apply(bool glibc, bool loaded, params (string Name, string Value)[] variables) =>
                ThreadPolicy.ApplyWaitPolicy(name => variables.FirstOrDefault(v => v.Name == name).Value, glibc, () => loaded, (n, v) => set.Add((n, v)));
            Assert.StartsWith("off", Apply(true, false, (ThreadPolicy.PassiveEnvironmentVariable, "0")));
            Assert.StartsWith("left", Apply(true, false, ("OMP_WAIT_POLICY", "ACTIVE")));
            Assert.StartsWith("left", Apply(true, false, ("GOMP_SPINCOUNT", "10000")));
            Assert.StartsWith("not applied", Apply(false, false));
            Assert.StartsWith("not applied", Apply(true, true)); // too late: the OpenMP runtime has read its environment
            Assert.Empty(set);
            Assert.Equal("passive", Apply(true, false));
            Assert.Equal(new[] { ("OMP_WAIT_POLICY", "PASSIVE") }, set);
        }

        [Fact]
        public void MallocTuningIsOffWhenSwitchedOffAndSetsThreeThresholdsOtherwise()
        {
            Func<string, string> Environment(params (string Name, string Value)[] variables) =>
                name => variables.FirstOrDefault(v => v.Name == name).Value;
            Assert.True(MallocTuning.IsEnabled(Environment(), disabledBySwitch: false));
            Assert.False(MallocTuning.IsEnabled(Environment(), disabledBySwitch: true));
            Assert.False(MallocTuning.IsEnabled(Environment((MallocTuning.EnvironmentVariable, "0")), false));
            Assert.False(MallocTuning.IsEnabled(Environment((MallocTuning.EnvironmentVariable, "false")), false));
            Assert.True(MallocTuning.IsEnabled(Environment((MallocTuning.EnvironmentVariable, "1")), false));
            Assert.False(MallocTuning.IsEnabled(Environment(("MALLOC_TRIM_THRESHOLD_", "1000000")), false)); // glibc's own settings win

            var calls = new List<(int, int)>();
            int Record(int parameter, int value)
            {
                calls.Add((parameter, value));
                return 1;
            }
            Assert.StartsWith("off", MallocTuning.Configure(enabled: false, glibc: true, Record));
            Assert.StartsWith("not applied", MallocTuning.Configure(enabled: true, glibc: false, Record));
            Assert.Empty(calls);
            Assert.Equal("on", MallocTuning.Configure(enabled: true, glibc: true, Record));
            // M_MMAP_THRESHOLD (−3), M_TRIM_THRESHOLD (−1), M_TOP_PAD (−2) of glibc's malloc.h.
            Assert.Equal(new[] { (-3, 32 << 20), (-1, 512 << 20), (-2, 64 << 20) }, calls);
        }
    }
}
