using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Samples;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// MMD, weighted MMD and CMD on the real digits pairs (<see cref="DigitsBenchmark"/>: LeNet, 1,000 steps of 32 + 32, seeds
    /// 0, 1, 2, default options): each must beat source-only's mean target accuracy on a direction.
    /// </summary>
    public class DigitsDiscrepancyTests
    {
        private static readonly (string Source, string Target)[] Directions =
        {
            (DigitsDomains.OptDigits, DigitsDomains.MnistOpenCv),
            (DigitsDomains.MnistOpenCv, DigitsDomains.OptDigits),
        };

        private readonly ITestOutputHelper _output;

        public DigitsDiscrepancyTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void MmdBeatsSourceOnly() => BeatsSourceOnlyOnADirection("MMD", () => new MmdOptions { Backbone = new LeNetBackboneOptions() });

        [Fact]
        public void WeightedMmdBeatsSourceOnly() => BeatsSourceOnlyOnADirection("WeightedMMD", () => new WeightedMmdOptions { Backbone = new LeNetBackboneOptions() });

        [Fact]
        public void CmdBeatsSourceOnly() => BeatsSourceOnlyOnADirection("CMD", () => new CmdOptions { Backbone = new LeNetBackboneOptions() });

        /// <summary>Reports the training time of each run (its last progress report).</summary>
        private Func<DomainAdaptationOptions> Timed(string key, Func<DomainAdaptationOptions> create) => () =>
        {
            var options = create();
            options.ProgressCallback = r =>
            {
                if (r.Iteration == r.TotalIterations)
                    _output.WriteLine($"{key}: {r.TotalIterations} steps in {r.Elapsed.TotalSeconds:F1} s ({r.Elapsed.TotalSeconds * 1000 / r.TotalIterations:F1} s per 1,000 steps)");
            };
            return options;
        };

        private void BeatsSourceOnlyOnADirection(string key, Func<DomainAdaptationOptions> create)
        {
            var results = Directions.Select(d => (
                Direction: $"{d.Source} -> {d.Target}",
                SourceOnly: DigitsBenchmark.SourceOnly(d.Source, d.Target, _output),
                Method: DigitsBenchmark.MeanTargetAccuracy(d.Source, d.Target, key, Timed(key, create), _output))).ToArray();
            Assert.True(results.Any(r => r.Method > r.SourceOnly),
                $"{key} does not beat source-only on any direction: " + string.Join("; ", results.Select(r => $"{r.Direction} {r.Method:P1} vs {r.SourceOnly:P1}")));
        }
    }
}
