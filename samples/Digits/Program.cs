using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms;

// Digits: adapt a digit classifier from one real handwriting collection to another and compare every method with
// the source-only baseline trained the same way.
//   dotnet run --project samples/Digits -c Release -- [--iterations 2000] [--seeds 0] [--batch 64]
//       [--direction mnist-opencv:optdigits,optdigits:mnist-opencv] [--methods SourceOnly,DANN,...|all] [--size 28]
//       [--set "Option=value;..."]   (sets the named option fields of every method run)
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        Digits: adapt a digit classifier from one real handwriting collection to another.
          --iterations N     training steps per run (default 2000)
          --batch N          rows per domain per step (default 64)
          --seeds 0,1,2      seeds; several give mean ± sd (default 0)
          --direction S:T    comma-separated source:target pairs of mnist-opencv, optdigits (default both)
          --methods A,B|all  method names (below); default: the main job's list
          --size N           image side in pixels (default 28)
          --set "F=v;..."    sets the named option fields of every method run
        Methods:
        """ + "\n  " + string.Join(", ", DigitsMethods.Names));
    return;
}
var arguments = ResultTable.ParseArguments(args, "--iterations, --batch, --seeds, --direction, --methods, --size, --set");
int iterations = int.Parse(arguments.GetValueOrDefault("iterations", "2000"));
int batchSize = int.Parse(arguments.GetValueOrDefault("batch", "64"));
int size = int.Parse(arguments.GetValueOrDefault("size", "28"));
var seeds = arguments.GetValueOrDefault("seeds", "0").Split(',').Select(int.Parse).ToArray();
var directions = arguments.GetValueOrDefault("direction", $"{DigitsDomains.MnistOpenCv}:{DigitsDomains.OptDigits},{DigitsDomains.OptDigits}:{DigitsDomains.MnistOpenCv}")
    .Split(',').Select(d => d.Split(':')).Select(d => (Source: d[0], Target: d[1])).ToArray();
var methodNames = !arguments.TryGetValue("methods", out var list) ? DigitsMethods.Default
    : list == "all" ? DigitsMethods.Names : list.Split(',');

var results = new List<RunResult>();
var failures = new List<string>();
foreach (var (sourceName, targetName) in directions)
{
    var mlContext = new MLContext(seed: 0);
    mlContext.Log += (_, e) =>
    {
        if (e.Kind == ChannelMessageKind.Info && e.Source.Contains("Training"))
            Console.WriteLine($"    {e.Message}");
    };
    var source = DigitsDomains.Load(mlContext, sourceName, "train", size);
    var target = DigitsDomains.Load(mlContext, targetName, "train", size);
    var sourceTest = DigitsDomains.Load(mlContext, sourceName, "test", size);
    var targetTest = DigitsDomains.Load(mlContext, targetName, "test", size);
    // Target labels are dropped before training: no method sees them.
    var unlabeledTarget = mlContext.Transforms.DropColumns("Label").Fit(target).Transform(target);
    var trainingData = mlContext.Data.CombineDomains(source, unlabeledTarget);

    foreach (var method in methodNames)
    {
        foreach (int seed in seeds)
        {
            Console.WriteLine($"{sourceName} -> {targetName}: {method}, seed {seed}");
            DomainAdaptationOptions Configure(DomainAdaptationOptions options)
            {
                // Every method runs on the LeNet of the literature; a method's entry only chooses its normalisation.
                options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = size, Width = size, Normalization = options.Backbone.Normalization };
                options.Iterations = iterations;
                options.BatchSize = batchSize;
                options.Seed = seed;
                options.NumberOfThreads = Environment.ProcessorCount;
                options.ProgressInterval = Math.Max(1, iterations / 4);
                if (arguments.TryGetValue("set", out var assignments))
                    SetOptions(options, assignments);
                return options;
            }
            EstimatorChain<DomainAdaptationTransformer> Pipeline(DomainAdaptationOptions options) =>
                mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Append(mlContext.Transforms.DomainAdapt(options));

            var options = Configure(DigitsMethods.Create(method));
            var clock = Stopwatch.StartNew();
            ITransformer model;
            try
            {
                // A refinement (VADA+DIRT-T) first fits the method it starts from, with the same settings; the time counts both.
                if (DigitsMethods.StartsFrom(method) is string first && options is DirtTOptions refinement)
                    refinement.InitialModel = Pipeline(Configure(DigitsMethods.Create(first))).Fit(trainingData).LastTransformer;
                model = Pipeline(options).Fit(trainingData);
            }
            catch (InvalidOperationException e) when (e.Message.Contains("diverged"))
            {
                // A diverged run is a result too: report it in the table rather than lose the other methods' figures.
                Console.WriteLine($"    {e.Message}");
                failures.Add($"{sourceName} -> {targetName} {method} seed {seed}");
                continue;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var targetMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(targetTest));
            var sourceMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(sourceTest));
            results.Add(new RunResult($"{sourceName} -> {targetName}", method, seed, targetMetrics.MicroAccuracy, targetMetrics.MacroAccuracy,
                targetMetrics.LogLoss, sourceMetrics.MicroAccuracy, seconds / iterations * 1000));
        }
    }
}

Console.WriteLine();
Console.WriteLine($"Target test metrics (ML.NET MulticlassClassification.Evaluate), {iterations} steps, batch {batchSize} + {batchSize}, seeds {string.Join(",", seeds)}; mean ± standard deviation over seeds; Fit seconds per 1,000 steps.");
Console.WriteLine();
ResultTable.Print(results, "source MicroAccuracy %");

if (failures.Count > 0)
    Console.WriteLine($"\nDiverged (not in the table): {string.Join("; ", failures)}.");

// --set "Field=value;Field=value": sets public option fields by name (e.g. DiscrepancyWeight=0.5;AdversarialOptimizer=Adam).
static void SetOptions(DomainAdaptationOptions options, string assignments)
{
    foreach (var assignment in assignments.Split(';', StringSplitOptions.RemoveEmptyEntries))
    {
        var parts = assignment.Split('=', 2);
        var field = options.GetType().GetField(parts[0].Trim())
            ?? throw new ArgumentException($"--set: {options.GetType().Name} has no option '{parts[0]}'.");
        var type = Nullable.GetUnderlyingType(field.FieldType) ?? field.FieldType;
        field.SetValue(options, type.IsEnum ? Enum.Parse(type, parts[1], ignoreCase: true)
            : Convert.ChangeType(parts[1], type, System.Globalization.CultureInfo.InvariantCulture));
    }
}
