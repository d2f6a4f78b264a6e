using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;

// ModelSelection: choose a domain adaptation model without target labels. For each direction between the two real digit
// collections, a DomainAdaptationExperiment fits source-only and the candidate methods, scores each with every unsupervised
// scorer on held-out rows, and the target test labels (never seen by the experiment) tell how good each scorer's pick is.
// With --source synthetic (or a direction from "synthetic"), the source is synthetic digits rendered from the system's fonts
// (the SynthToReal sample's, --rows of them) and the default direction is synthetic → mnist-opencv.
//   dotnet run --project samples/ModelSelection -c Release -- [--iterations 1000] [--batch 32] [--seeds 0]
//       [--direction optdigits:mnist-opencv,mnist-opencv:optdigits] [--methods DANN,MMD,DeepCORAL,MCC]
//       [--source synthetic] [--rows 10000]
var arguments = ResultTable.ParseArguments(args, "--iterations, --batch, --seeds, --direction, --methods, --source, --rows");
int iterations = int.Parse(arguments.GetValueOrDefault("iterations", "1000"));
int batchSize = int.Parse(arguments.GetValueOrDefault("batch", "32"));
var seeds = arguments.GetValueOrDefault("seeds", "0").Split(',').Select(int.Parse).ToArray();
const string Synthetic = "synthetic";
string sourceKind = arguments.GetValueOrDefault("source", "real");
if (sourceKind != "real" && sourceKind != Synthetic)
    throw new ArgumentException($"--source must be real or {Synthetic}; got '{sourceKind}'.");
int syntheticRows = int.Parse(arguments.GetValueOrDefault("rows", "10000"));
string defaultDirections = sourceKind == Synthetic ? $"{Synthetic}:{DigitsDomains.MnistOpenCv}"
    : $"{DigitsDomains.OptDigits}:{DigitsDomains.MnistOpenCv},{DigitsDomains.MnistOpenCv}:{DigitsDomains.OptDigits}";
var directions = arguments.GetValueOrDefault("direction", defaultDirections)
    .Split(',').Select(d => d.Split(':')).Select(d => (Source: d[0], Target: d[1])).ToArray();
var methods = arguments.GetValueOrDefault("methods", "DANN,MMD,DeepCORAL,MCC").Split(',');
// Every scorer of the library: the five that read the held-out outputs, and reverse validation, which retrains (half the steps).
var scorers = ValidationScorer.All.Append(ValidationScorer.ReverseValidation).ToList();

var picks = new List<(string Direction, int Seed, string Scorer, string Picked, double PickedAccuracy, string Best, double BestAccuracy, double SourceOnly)>();
var gaps = new List<(string Direction, int Seed, string Candidate, double Accuracy, double Pad, double Mmd, string Scores)>();
var chosen = new List<(string Direction, int Seed, string Chosen, double Accuracy, string Reason)>();
foreach (var (sourceName, targetName) in directions)
{
    string direction = $"{sourceName} → {targetName}";
    var mlContext = new MLContext(seed: 0);
    bool synthetic = sourceName == Synthetic;
    // Synthetic digits: MNIST-like 28 × 28 grey renders, bright on dark, in [−1, 1] like the real digits; the label is already a key.
    var source = synthetic
        ? mlContext.Data.Cache(mlContext.Data.LoadSyntheticDigits(new SyntheticDigitsOptions { Rows = syntheticRows, Seed = 0, Height = 28, Width = 28 }))
        : DigitsDomains.Load(mlContext, sourceName, "train");
    var target = DigitsDomains.Load(mlContext, targetName, "train");
    var targetTest = DigitsDomains.Load(mlContext, targetName, "test");
    // Target labels are dropped before the experiment: neither training nor the scorers see them.
    var unlabeledTarget = mlContext.Transforms.DropColumns("Label").Fit(target).Transform(target);
    var combined = mlContext.Data.CombineDomains(source, unlabeledTarget);
    // Real labels are the digits as Single: keys by value (0 → 1 … 9 → 10), which are also the synthetic keys "0" … "9".
    var keys = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue);
    var data = mlContext.Data.Cache(synthetic ? combined : keys.Fit(combined).Transform(combined));
    var keyedTargetTest = mlContext.Data.Cache(keys.Fit(targetTest).Transform(targetTest));

    foreach (int seed in seeds)
    {
        DomainAdaptationOptions Configure(DomainAdaptationOptions options)
        {
            options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28, Normalization = options.Backbone.Normalization };
            options.Iterations = iterations;
            options.BatchSize = batchSize;
            options.Seed = seed;
            options.NumberOfThreads = Environment.ProcessorCount;
            return options;
        }

        Console.WriteLine($"{direction}, seed {seed}: SourceOnly, {string.Join(", ", methods)}");
        var clock = Stopwatch.StartNew();
        var experimentOptions = new DomainAdaptationExperimentOptions { Scorer = ValidationScorer.DeepEmbedded, ReportedScorers = scorers, Seed = seed };
        foreach (var method in methods)
        {
            experimentOptions.Candidates.Add(Configure(DomainAdaptationMethods.Create(method)));
            experimentOptions.CandidateNames.Add(method);
        }
        var result = mlContext.Transforms.DomainAdaptationExperiment(experimentOptions).Run(data);
        Console.WriteLine($"  {clock.Elapsed.TotalSeconds:F0} s; chose {result.Chosen.Name}: {result.Reason}");

        // Hindsight: the target test labels, which the experiment never saw.
        var fitted = result.Candidates.Where(c => c.Model != null).ToList();
        var accuracy = fitted.ToDictionary(c => c.Name, c => mlContext.MulticlassClassification.Evaluate(c.Model.Transform(keyedTargetTest)).MicroAccuracy);
        var best = fitted.OrderByDescending(c => accuracy[c.Name]).First();
        double sourceOnly = accuracy[result.SourceOnly.Name];
        foreach (var scorer in scorers)
        {
            // What an experiment ranking by this scorer returns: the top candidate (source-only included, as the guard does).
            var pick = fitted.OrderByDescending(c => double.IsNaN(c.Scores[scorer.Name]) ? double.NegativeInfinity : c.Scores[scorer.Name])
                .ThenBy(c => c.IsSourceOnlyBaseline ? 0 : 1).First();
            picks.Add((direction, seed, scorer.Name, pick.Name, accuracy[pick.Name], best.Name, accuracy[best.Name], sourceOnly));
        }
        chosen.Add((direction, seed, result.Chosen.Name, accuracy[result.Chosen.Name], result.Reason));
        foreach (var candidate in fitted)
        {
            var gap = DomainGap.Measure(candidate.Model.Transform(data), seed: seed);
            gaps.Add((direction, seed, candidate.Name, accuracy[candidate.Name], gap.ProxyADistance, gap.Mmd,
                string.Join(" / ", scorers.Select(s => candidate.Scores[s.Name].ToString("F3")))));
            Console.WriteLine($"  {candidate.Name,-10} target {accuracy[candidate.Name]:P1}  {candidate}  gap: {gap}");
        }
    }
}

Console.WriteLine();
Console.WriteLine($"Per scorer: the target accuracy of the candidate it picks, vs the best candidate in hindsight, vs source-only ({iterations} steps of {batchSize} + {batchSize}, seeds {string.Join(",", seeds)}).");
Console.WriteLine();
Console.WriteLine("| direction | seed | scorer | picks | its target % | best in hindsight | best % | source-only % |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
foreach (var p in picks)
    Console.WriteLine($"| {p.Direction} | {p.Seed} | {p.Scorer} | {p.Picked} | {100 * p.PickedAccuracy:F1} | {p.Best} | {100 * p.BestAccuracy:F1} | {100 * p.SourceOnly:F1} |");
if (picks.Select(p => (p.Direction, p.Seed)).Distinct().Count() > 1)
{
    Console.WriteLine();
    Console.WriteLine("| scorer | mean target % of its pick | mean best % | mean source-only % | picks worse than source-only |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var g in picks.GroupBy(p => p.Scorer))
        Console.WriteLine($"| {g.Key} | {100 * g.Average(p => p.PickedAccuracy):F1} | {100 * g.Average(p => p.BestAccuracy):F1} | {100 * g.Average(p => p.SourceOnly):F1} | {g.Count(p => p.PickedAccuracy < p.SourceOnly)} of {g.Count()} |");
}
Console.WriteLine();
Console.WriteLine("Every candidate: target accuracy, domain gap of its embedding (training rows, 1,000 per domain) and its scores");
Console.WriteLine();
Console.WriteLine($"| direction | seed | candidate | target % | proxy A-distance | MMD² | {string.Join(" / ", scorers.Select(s => s.Name))} |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (var g in gaps)
    Console.WriteLine($"| {g.Direction} | {g.Seed} | {g.Candidate} | {100 * g.Accuracy:F1} | {g.Pad:F3} | {g.Mmd:F4} | {g.Scores} |");
Console.WriteLine();
Console.WriteLine("The experiment's choice (DEV, negative-transfer guard):");
foreach (var c in chosen)
    Console.WriteLine($"- {c.Direction}, seed {c.Seed}: {c.Chosen} ({100 * c.Accuracy:F1} %): {c.Reason}");
