using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;
using Xunit.Abstractions;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Trains methods on the shipped real digits (both resized to 28×28, LeNet backbone, target labels dropped before
    /// training) and measures target test accuracy over seeds. CI-sized: 1,000 steps of 32 + 32 rows by default
    /// (DA_TEST_ITERATIONS / DA_TEST_BATCH override it). Results are cached per configuration, so the source-only
    /// baseline is trained once per direction for every test that compares with it.
    /// </summary>
    public static class DigitsBenchmark
    {
        public static readonly int Iterations = int.Parse(Environment.GetEnvironmentVariable("DA_TEST_ITERATIONS") ?? "1000");
        public static readonly int BatchSize = int.Parse(Environment.GetEnvironmentVariable("DA_TEST_BATCH") ?? "32");
        public static readonly int[] Seeds = { 0, 1, 2 };

        private static readonly ConcurrentDictionary<string, double[]> Results = new();
        private static readonly ConcurrentDictionary<string, (IDataView Training, IDataView TargetTest)> Data = new();
        private static readonly MLContext Context = new(seed: 0);

        /// <summary>
        /// Target test accuracy of each seed for the method <paramref name="create"/> makes (its backbone, iterations,
        /// batch size and seed are set here). <paramref name="key"/> names the configuration in the cache.
        /// </summary>
        public static double[] TargetAccuracies(string source, string target, string key, Func<DomainAdaptationOptions> create, ITestOutputHelper output = null)
        {
            string cacheKey = $"{source}->{target}/{key}/{Iterations}/{BatchSize}";
            var accuracies = Results.GetOrAdd(cacheKey, _ =>
            {
                var (training, targetTest) = Data.GetOrAdd($"{source}->{target}", _ => LoadPair(source, target));
                var result = new List<double>();
                foreach (int seed in Seeds)
                {
                    var options = create();
                    options.Backbone ??= new LeNetBackboneOptions();
                    if (options.Backbone is LeNetBackboneOptions lenet)
                    {
                        lenet.Channels = 1;
                        lenet.Height = 28;
                        lenet.Width = 28;
                    }
                    options.Iterations = Iterations;
                    options.BatchSize = BatchSize;
                    options.Seed = seed;
                    var model = Context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                        .Append(Context.Transforms.DomainAdapt(options)).Fit(training);
                    result.Add(Context.MulticlassClassification.Evaluate(model.Transform(targetTest)).MicroAccuracy);
                }
                return result.ToArray();
            });
            output?.WriteLine($"{source} -> {target} {key}: target accuracy {string.Join(" / ", accuracies.Select(a => a.ToString("P1")))}, mean {accuracies.Average():P1}");
            return accuracies;
        }

        public static double MeanTargetAccuracy(string source, string target, string key, Func<DomainAdaptationOptions> create, ITestOutputHelper output = null)
            => TargetAccuracies(source, target, key, create, output).Average();

        /// <summary>The source-only baseline of a direction (LeNet backbone, same budget).</summary>
        public static double SourceOnly(string source, string target, ITestOutputHelper output = null)
            => MeanTargetAccuracy(source, target, "SourceOnly", () => new SourceOnlyOptions { Backbone = new LeNetBackboneOptions() }, output);

        private static (IDataView, IDataView) LoadPair(string source, string target)
        {
            var ml = Context;
            var sourceTrain = DigitsDomains.Load(ml, source, "train");
            var targetTrain = DigitsDomains.Load(ml, target, "train");
            var unlabeledTarget = ml.Transforms.DropColumns("Label").Fit(targetTrain).Transform(targetTrain);
            return (ml.Data.Cache(ml.Data.CombineDomains(sourceTrain, unlabeledTarget)), ml.Data.Cache(DigitsDomains.Load(ml, target, "test")));
        }
    }
}
