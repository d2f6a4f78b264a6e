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

// SynthToReal: train a digit classifier on synthetic digits rendered from the system's fonts (labeled source) and
// adapt it to real handwritten digits (unlabeled target), then measure on the real target's test split.
//   dotnet run --project samples/SynthToReal -c Release -- [--rows 20000] [--iterations 2000] [--batch 64] [--seeds 0]
//       [--targets mnist-opencv,optdigits] [--methods SourceOnly,DANN,...|all] [--images folder] [--fonts path,...]
//       [--grid synthetic-vs-real.png] [--upper-bound true]
var arguments = ResultTable.ParseArguments(args, "--rows, --iterations, --batch, --seeds, --targets, --methods, --images, --fonts, --grid, --upper-bound");
int rows = int.Parse(arguments.GetValueOrDefault("rows", "20000"));
int iterations = int.Parse(arguments.GetValueOrDefault("iterations", "2000"));
int batchSize = int.Parse(arguments.GetValueOrDefault("batch", "64"));
var seeds = arguments.GetValueOrDefault("seeds", "0").Split(',').Select(int.Parse).ToArray();
var targets = arguments.GetValueOrDefault("targets", $"{DigitsDomains.MnistOpenCv},{DigitsDomains.OptDigits}").Split(',');
var methodNames = !arguments.TryGetValue("methods", out var list) ? new[] { "SourceOnly", "DANN", "DeepCORAL", "SourceOnly+BN", "AdaBN" }
    : list == "all" ? DomainAdaptationMethods.Names.ToArray() : list.Split(',');
const int Size = 28;

var mlContext = new MLContext(seed: 0);
mlContext.Log += (_, e) =>
{
    if (e.Kind == ChannelMessageKind.Info && e.Source.Contains("Training"))
        Console.WriteLine($"    {e.Message}");
};

// The synthetic source: MNIST-like 28 × 28 grey digits, bright on dark, scaled to [−1, 1] like the real digits.
SyntheticDigitsOptions Synthetic(long count, int seed) => new SyntheticDigitsOptions
{
    Rows = count,
    Seed = seed,
    Height = Size,
    Width = Size,
    FontPaths = arguments.TryGetValue("fonts", out var fonts) ? fonts.Split(',') : null,
};
if (arguments.TryGetValue("images", out var imageFolder))
{
    SyntheticDigits.WriteImages(Synthetic(100, 0), imageFolder, 100);
    Console.WriteLine($"Wrote 100 synthetic digits to {imageFolder}/<digit>/<row>.png");
}

if (arguments.TryGetValue("grid", out var gridPath))
{
    // Synthetic rows next to the real ones, two rows of each, so the shift can be seen.
    var gridRows = new List<(string Name, IDataView Data)> { ("synthetic", mlContext.Data.LoadSyntheticDigits(Synthetic(40, 0))) };
    // The real test splits are sorted by class: a shuffle shows every digit.
    gridRows.AddRange(targets.Select(t => (t, mlContext.Data.ShuffleRows(DigitsDomains.Load(mlContext, t, "test", Size), seed: 0, shufflePoolSize: 2000))));
    DigitGrid.Write(gridPath, gridRows, Size, columns: 20, rowsPerDomain: 2);
    Console.WriteLine($"Wrote {gridPath}: rows of {string.Join(", ", gridRows.Select(r => r.Name))} digits, two rows each.");
}
bool upperBound = bool.Parse(arguments.GetValueOrDefault("upper-bound", "true"));

// Cached: rendered once, then every method reads the same rows from memory.
var clock = Stopwatch.StartNew();
var source = mlContext.Data.Cache(mlContext.Data.LoadSyntheticDigits(Synthetic(rows, 0)));
using (var cursor = source.GetRowCursor(source.Schema))
{
    while (cursor.MoveNext())
    {
    }
}
double generationRate = rows / clock.Elapsed.TotalSeconds;
Console.WriteLine($"Rendered {rows} synthetic digits in {clock.Elapsed.TotalSeconds:F1} s ({generationRate:F0} rows/s, one thread).");
// Held-out synthetic rows (another seed) measure how well the source itself is learned.
var sourceTest = mlContext.Data.Cache(mlContext.Data.LoadSyntheticDigits(Synthetic(2000, 1)));

var results = new List<RunResult>();
foreach (var targetName in targets)
{
    var target = DigitsDomains.Load(mlContext, targetName, "train", Size);
    var targetTestRaw = DigitsDomains.Load(mlContext, targetName, "test", Size);
    // The real labels are the digits as Single; keys by value (0 → 1 … 9 → 10) match the synthetic keys "0" … "9".
    var targetTest = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
        .Fit(targetTestRaw).Transform(targetTestRaw);
    // Target labels are dropped before training: no method sees them.
    var unlabeledTarget = mlContext.Transforms.DropColumns("Label").Fit(target).Transform(target);
    var trainingData = mlContext.Data.CombineDomains(source, unlabeledTarget);

    // The upper bound users compare against: the same network and steps trained on the real target's own labels.
    var labeledTarget = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
        .Fit(target).Transform(target);
    var runs = methodNames.Select(m => (Name: m, Method: m, Data: trainingData)).ToList();
    if (upperBound)
        runs.Add(("SourceOnly on real target labels (upper bound)", "SourceOnly", mlContext.Data.CombineDomains(labeledTarget, unlabeledTarget)));

    foreach (var (name, method, data) in runs)
    {
        foreach (int seed in seeds)
        {
            Console.WriteLine($"synthetic -> {targetName}: {name}, seed {seed}");
            var options = DomainAdaptationMethods.Create(method);
            options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = Size, Width = Size, Normalization = options.Backbone.Normalization };
            options.Iterations = iterations;
            options.BatchSize = batchSize;
            options.Seed = seed;
            options.NumberOfThreads = Environment.ProcessorCount;
            options.ProgressInterval = Math.Max(1, iterations / 4);
            var watch = Stopwatch.StartNew();
            // The synthetic label is already a key: no MapValueToKey before training.
            var model = mlContext.Transforms.DomainAdapt(options).Fit(data);
            double seconds = watch.Elapsed.TotalSeconds;
            var targetMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(targetTest));
            var sourceMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(sourceTest));
            results.Add(new RunResult($"synthetic -> {targetName}", name, seed, targetMetrics.MicroAccuracy, targetMetrics.MacroAccuracy,
                targetMetrics.LogLoss, sourceMetrics.MicroAccuracy, seconds / iterations * 1000));
        }
    }
}

Console.WriteLine();
Console.WriteLine($"Real target test metrics (ML.NET MulticlassClassification.Evaluate), {rows} synthetic source rows, {iterations} steps, " +
    $"batch {batchSize} + {batchSize}, seeds {string.Join(",", seeds)}; mean ± standard deviation over seeds; Fit seconds per 1,000 steps.");
Console.WriteLine();
ResultTable.Print(results, "synthetic test MicroAccuracy %");
Console.WriteLine();
Console.WriteLine($"Generation: {generationRate:F0} synthetic rows/s (1 × {Size} × {Size}, one thread).");
