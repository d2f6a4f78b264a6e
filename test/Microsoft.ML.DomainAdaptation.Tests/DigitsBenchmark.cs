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
    /// (DA_TEST_ITERATIONS / DA_TEST_BATCH override it). Results are cached per configuration and seed, so the source-only
    /// baseline is trained once per direction for every test that compares with it.
    /// </summary>
    public static class DigitsBenchmark
    {
        public static readonly int Iterations = int.Parse(Environment.GetEnvironmentVariable("DA_TEST_ITERATIONS") ?? "1000");
        public static readonly int BatchSize = int.Parse(Environment.GetEnvironmentVariable("DA_TEST_BATCH") ?? "32");
        public static readonly int[] Seeds = { 0, 1, 2 };

        private static readonly ConcurrentDictionary<string, double> Results = new();
        private static readonly ConcurrentDictionary<string, (IDataView Training, IDataView TargetTest)> Data = new();
        private static readonly MLContext Context = new(seed: 0);

        /// <summary>
        /// Target test accuracy of each seed for the method <paramref name="create"/> makes (its backbone is replaced by
        /// a 28×28 LeNet with the same normalisation; iterations, batch size and seed are set here). <paramref name="key"/> names the configuration in the cache.
        /// </summary>
        /// <param name="labeledTargetPerClass">Target training rows per class that keep their label (the first ones of
        /// each class in file order); the others, and all of them when 0, have a missing label.</param>
        /// <param name="seeds">The seeds, in order; default <see cref="Seeds"/>. Each seed's result is cached on its own, so a
        /// test on more seeds trains only the ones other tests have not.</param>
        public static double[] TargetAccuracies(string source, string target, string key, Func<DomainAdaptationOptions> create,
            ITestOutputHelper output = null, int labeledTargetPerClass = 0, int[] seeds = null)
        {
            seeds ??= Seeds;
            var accuracies = seeds.Select(seed => Results.GetOrAdd($"{source}->{target}/{labeledTargetPerClass}/{key}/{Iterations}/{BatchSize}/{seed}", _ =>
            {
                var (training, targetTest) = Data.GetOrAdd($"{source}->{target}/{labeledTargetPerClass}", _ => LoadPair(source, target, labeledTargetPerClass));
                var options = create();
                // Every method runs on the LeNet of the literature; a method's options only choose its normalisation.
                options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28, Normalization = options.Backbone.Normalization };
                options.Iterations = Iterations;
                options.BatchSize = BatchSize;
                options.Seed = seed;
                var model = Context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Append(Context.Transforms.DomainAdapt(options)).Fit(training);
                return Context.MulticlassClassification.Evaluate(model.Transform(targetTest)).MicroAccuracy;
            })).ToArray();
            output?.WriteLine($"{source} -> {target} {key}{(labeledTargetPerClass > 0 ? $" ({labeledTargetPerClass} labeled target rows per class)" : "")}, seeds {string.Join(",", seeds)}: " +
                $"target accuracy {string.Join(" / ", accuracies.Select(a => a.ToString("P1")))}, mean {accuracies.Average():P1}");
            return accuracies;
        }

        public static double MeanTargetAccuracy(string source, string target, string key, Func<DomainAdaptationOptions> create,
            ITestOutputHelper output = null, int labeledTargetPerClass = 0)
            => TargetAccuracies(source, target, key, create, output, labeledTargetPerClass).Average();

        /// <summary>The source-only baseline of a direction (LeNet backbone, same budget).</summary>
        public static double SourceOnly(string source, string target, ITestOutputHelper output = null)
            => MeanTargetAccuracy(source, target, "SourceOnly", () => new SourceOnlyOptions { Backbone = new LeNetBackboneOptions() }, output);

        private static (IDataView, IDataView) LoadPair(string source, string target, int labeledTargetPerClass)
        {
            var ml = Context;
            var sourceTrain = DigitsDomains.Load(ml, source, "train");
            var targetTrain = DigitsDomains.Load(ml, target, "train");
            var targetRows = labeledTargetPerClass == 0
                ? ml.Transforms.DropColumns("Label").Fit(targetTrain).Transform(targetTrain)
                : DigitsDomains.Load(ml, target, "train", labeledPerClass: labeledTargetPerClass);
            return (ml.Data.Cache(ml.Data.CombineDomains(sourceTrain, targetRows)), ml.Data.Cache(DigitsDomains.Load(ml, target, "test")));
        }
    }
}
