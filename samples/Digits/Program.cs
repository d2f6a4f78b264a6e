using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Samples;

// Digits: adapt a digit classifier from one real handwriting collection to another, and compare each method with
// the source-only baseline trained the same way. Usage: dotnet run -c Release -- [--iterations N] [--seeds 0,1,2]
//   [--direction mnist-opencv:optdigits] [--methods SourceOnly,DANN,DeepCORAL]
var arguments = ParseArguments(args);
int iterations = int.Parse(arguments.GetValueOrDefault("iterations", "2000"));
var seeds = arguments.GetValueOrDefault("seeds", "0").Split(',').Select(int.Parse).ToArray();
var directions = arguments.GetValueOrDefault("direction", $"{DigitsDomains.MnistOpenCv}:{DigitsDomains.OptDigits},{DigitsDomains.OptDigits}:{DigitsDomains.MnistOpenCv}")
    .Split(',').Select(d => d.Split(':')).Select(d => (Source: d[0], Target: d[1])).ToArray();
var methodNames = arguments.GetValueOrDefault("methods", "SourceOnly,DANN,DeepCORAL").Split(',');
int size = int.Parse(arguments.GetValueOrDefault("size", "28"));
string backbone = arguments.GetValueOrDefault("backbone", "lenet");

DomainAdaptationOptions CreateOptions(string method, int seed)
{
    DomainAdaptationOptions options = method switch
    {
        "SourceOnly" => new SourceOnlyOptions(),
        "DANN" => new DannOptions(),
        "DeepCORAL" => new DeepCoralOptions(),
        _ => throw new ArgumentException($"Unknown method '{method}'."),
    };
    options.Backbone = backbone == "mlp" ? new MlpBackboneOptions() : new LeNetBackboneOptions { Channels = 1, Height = size, Width = size };
    options.Iterations = iterations;
    options.Seed = seed;
    options.NumberOfThreads = Environment.ProcessorCount;
    options.ProgressInterval = Math.Max(1, iterations / 4);
    return options;
}

var rows = new List<string[]>();
foreach (var (sourceName, targetName) in directions)
{
    var mlContext = new MLContext(seed: 0);
    mlContext.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.Contains("Training")) Console.WriteLine($"    {e.Message}"); };
    var source = DigitsDomains.Load(mlContext, sourceName, "train", size);
    var target = DigitsDomains.Load(mlContext, targetName, "train", size);
    var sourceTest = DigitsDomains.Load(mlContext, sourceName, "test", size);
    var targetTest = DigitsDomains.Load(mlContext, targetName, "test", size);
    // Target labels are dropped before training: the method never sees them.
    var unlabeledTarget = mlContext.Transforms.DropColumns("Label").Fit(target).Transform(target);
    var trainingData = mlContext.Data.CombineDomains(source, unlabeledTarget);

    foreach (var method in methodNames)
    {
        foreach (int seed in seeds)
        {
            Console.WriteLine($"{sourceName} -> {targetName}: {method}, seed {seed}");
            var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(mlContext.Transforms.DomainAdapt(CreateOptions(method, seed)));
            var clock = Stopwatch.StartNew();
            var model = pipeline.Fit(trainingData);
            double seconds = clock.Elapsed.TotalSeconds;
            var targetMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(targetTest));
            var sourceMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(sourceTest));
            rows.Add(new[]
            {
                $"{sourceName} -> {targetName}", method, seed.ToString(),
                $"{targetMetrics.MicroAccuracy:P1}", $"{targetMetrics.MacroAccuracy:P1}", $"{targetMetrics.LogLoss:F3}",
                $"{sourceMetrics.MicroAccuracy:P1}", $"{seconds / iterations * 1000:F1}",
            });
        }
    }
}

var header = new[] { "direction", "method", "seed", "target MicroAccuracy", "target MacroAccuracy", "target LogLoss", "source MicroAccuracy", "s / 1000 it" };
Console.WriteLine();
Console.WriteLine("| " + string.Join(" | ", header) + " |");
Console.WriteLine("|" + string.Concat(header.Select(_ => "---|")));
foreach (var row in rows)
    Console.WriteLine("| " + string.Join(" | ", row) + " |");

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>();
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--"))
            throw new ArgumentException($"Expected an option such as --iterations, got '{args[i]}'.");
        result[args[i][2..]] = args[i + 1];
    }
    return result;
}
