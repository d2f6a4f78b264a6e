using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.DomainAdaptation.Transforms;
using Microsoft.ML.Transforms;

// Digits: adapt a digit classifier from one real handwriting collection to another and compare methods with the
// source-only baseline trained the same way.
//   dotnet run --project samples/Digits -c Release                 the quick main job (one direction, three methods)
//   dotnet run --project samples/Digits -c Release -- --full       README's headline table (both directions, five methods)
//   ... -- [--iterations N] [--batch N] [--seeds 0,1,2] [--direction S:T,...] [--methods A,B|all] [--size 28] [--backbone lenet|resnet|resnet-frozen]
//          [--set "Option=value;..."] [--validate-every N [--validation-scorer TargetEntropy|SND|DEV|IWV|SourceAccuracy] [--trace-steps]]
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        Digits: adapt a digit classifier from one real handwriting collection to another.
          (no option)        the quick main job: optdigits -> mnist-opencv, SourceOnly, DANN, MMD, 1000 steps of 32 + 32, seed 0
                             (about a minute and a half on 2 quiet cores)
          --full             README's headline table: both directions, SourceOnly, DANN, DeepCORAL, SourceOnly+BN, AdaBN,
                             2000 steps of 64 + 64, seed 0 (about 10 minutes on 2 quiet cores)
          --iterations N     training steps per run (default 1000; 2000 with --full)
          --batch N          rows per domain per step (default 32; 64 with --full)
          --seeds 0,1,2      seeds; several give mean ± sd (default 0)
          --direction S:T    comma-separated source:target pairs of mnist-opencv, optdigits, or of their
                             photo-blended colour versions mnist-opencv-photo, optdigits-photo (MNIST-M-style), or
                             synthetic (digits rendered from the system's fonts, as in the SynthToReal sample) as source
          --grey             read photo-blended (colour) domains as grey (their luma), so both domains are one channel
          --methods A,B|all  method names (below, case-insensitive)
          --size N           image side in pixels (default 28; at least 32 with --backbone resnet)
          --backbone B       lenet: the LeNet of the literature trained from scratch (default);
                             resnet: ResNet-18 from ML.NET's ImageNet weights fine-tuned end to end (bottleneck 256,
                             pretrained layers at 0.1 x the learning rate); resnet-frozen: the same with every
                             pretrained stage frozen (only the bottleneck and the heads learn)
          --set "F=v;..."    sets the named option fields of every method run (e.g. InputNormalization=PerImage;
                             SourceAugmentation=Colour; an add-on's by its type name: SelfTrainingAddOn.Threshold=0.9);
                             with X+DIRT-T, of X only (DIRT-T keeps X's network and its own defaults)
          --validate-every N validation during training (TrainingValidation, TargetEntropy on 10 % held-out rows of each domain, no
                             target labels): score every N steps and keep the chosen step; the table shows the kept step's
                             and the last step's target accuracy of the same training (X+DIRT-T: none; X's row has its own)
          --validation-scorer S  the criterion of --validate-every: TargetEntropy (default), SND, DEV, IWV, SourceAccuracy
          --trace-steps      with --validate-every: at every scored step, print the network's target and source test accuracy
                             and every scorer's value on the training's held-out rows (the rows and outputs the validation
                             scored; no target labels): how well each criterion follows the accuracy inside one training, and
                             which step any rule on these values would keep (TrainingValidation.ScoredStepCallback)
          X+DIRT-T           as a method name: X (e.g. VADA), then DIRT-T refining its model for as many steps; the
                             table also gets X's own row from the first stage unless X is listed too
          X+MCC, X+ST, X+ENT as a method name: X with a default MccAddOn, SelfTrainingAddOn or EntropyAddOn added
                             (e.g. AdaBN+MCC+ST; DomainAdaptationMethods.Create takes any such name)
        Methods (DomainAdaptationMethods.Names):
        """ + "\n  " + string.Join(", ", DomainAdaptationMethods.Names));
    return;
}
bool full = args.Contains("--full");
bool grey = args.Contains("--grey");
bool traceSteps = args.Contains("--trace-steps");
var arguments = ResultTable.ParseArguments(args.Where(a => a is not ("--full" or "--grey" or "--trace-steps")).ToArray(), "--full, --grey, --trace-steps, --iterations, --batch, --seeds, --direction, --methods, --size, --backbone, --set, --validate-every, --validation-scorer");
// --full is the configuration of README's headline table; the default is a quick run of the same recipe at the
// tests' budget on the direction where adaptation gains most.
int iterations = int.Parse(arguments.GetValueOrDefault("iterations", full ? "2000" : "1000"));
int batchSize = int.Parse(arguments.GetValueOrDefault("batch", full ? "64" : "32"));
int size = int.Parse(arguments.GetValueOrDefault("size", "28"));
string backbone = arguments.GetValueOrDefault("backbone", "lenet").ToLowerInvariant();
if (backbone is not ("lenet" or "resnet" or "resnet-frozen"))
{
    Console.Error.WriteLine($"--backbone: '{backbone}' is not one of lenet, resnet, resnet-frozen.");
    Environment.Exit(2);
}
var seeds = arguments.GetValueOrDefault("seeds", "0").Split(',').Select(int.Parse).ToArray();
var directions = arguments.GetValueOrDefault("direction", full
        ? $"{DigitsDomains.MnistOpenCv}:{DigitsDomains.OptDigits},{DigitsDomains.OptDigits}:{DigitsDomains.MnistOpenCv}"
        : $"{DigitsDomains.OptDigits}:{DigitsDomains.MnistOpenCv}")
    .Split(',').Select(d => d.Split(':')).Select(d => (Source: d[0], Target: d[1])).ToArray();
var methodNames = !arguments.TryGetValue("methods", out var list)
    ? (full ? new[] { "SourceOnly", "DANN", "DeepCORAL", "SourceOnly+BN", "AdaBN" } : new[] { "SourceOnly", "DANN", "MMD" })
    : list == "all" ? DomainAdaptationMethods.Names.ToArray() : list.Split(',').Select(CanonicalName).ToArray();

int runCount = directions.Length * methodNames.Length * seeds.Length;
Console.WriteLine($"{runCount} runs ({directions.Length} direction(s) × {methodNames.Length} method(s) × {seeds.Length} seed(s)) of {iterations:N0} steps of " +
    $"{batchSize} + {batchSize} rows; " +
    (full ? "README's headline table, about 10 minutes on 2 quiet cores."
        : args.Length == 0 ? "the quick main job, about a minute and a half on 2 quiet cores (--full: README's headline table, about 10 minutes)."
        : "each run's result is printed when it ends, the table after the last."));
var total = Stopwatch.StartNew();
int run = 0;
var results = new List<RunResult>();
var failures = new List<string>();
foreach (var (sourceName, targetName) in directions)
{
    var mlContext = new MLContext(seed: 0);
    // A photo-blended (colour) domain makes both colour: grey digits are replicated into the three channels.
    int channels = new[] { sourceName, targetName }.Any(d => d.EndsWith(DigitsDomains.PhotoSuffix)) ? 3 : 1;
    var source = DigitsDomains.Load(mlContext, sourceName, "train", size, channels: channels);
    var target = DigitsDomains.Load(mlContext, targetName, "train", size, channels: channels);
    var sourceTest = DigitsDomains.Load(mlContext, sourceName, "test", size, channels: channels);
    var targetTest = DigitsDomains.Load(mlContext, targetName, "test", size, channels: channels);
    if (grey && channels == 3)
    {
        // --grey: colour rows become their luma (0.299 R + 0.587 G + 0.114 B), the network then reads one channel.
        var toGrey = mlContext.Transforms.ConvertImageVector("Features", "Features", new ImageVectorConversionOptions { OutputChannels = 1 });
        (source, target, sourceTest, targetTest) = (toGrey.Fit(source).Transform(source), toGrey.Fit(target).Transform(target),
            toGrey.Fit(sourceTest).Transform(sourceTest), toGrey.Fit(targetTest).Transform(targetTest));
        channels = 1;
    }
    // Target labels are dropped before training: no method sees them.
    var unlabeledTarget = mlContext.Transforms.DropColumns("Label").Fit(target).Transform(target);
    var trainingData = mlContext.Data.CombineDomains(source, unlabeledTarget);
    // --trace-steps: the test rows each scored step's network is measured on (the label as the trained chain keys it).
    var keyMapping = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(trainingData);
    var (traceTarget, traceSource) = (keyMapping.Transform(targetTest), keyMapping.Transform(sourceTest));

    foreach (var method in methodNames)
    {
        foreach (int seed in seeds)
        {
            run++;
            Console.WriteLine($"run {run}/{runCount}: {sourceName} -> {targetName}, {method}, seed {seed}");
            // "X+DIRT-T": method X, then DIRT-T refining its model on the target for as many steps (README, Methods).
            bool refine = method.EndsWith(DirtTSuffix, StringComparison.OrdinalIgnoreCase);
            var options = DomainAdaptationMethods.Create(refine ? method[..^DirtTSuffix.Length] : method);
            // Every method runs on the same backbone; a method's entry only chooses its normalisation (LeNet), the
            // pretrained ResNet always uses batch norm. The digits' pixels are in [−1, 1]: p / 127.5 − 1 for p in 0–255.
            options.Backbone = backbone == "lenet"
                ? new LeNetBackboneOptions { Channels = channels, Height = size, Width = size, Normalization = options.Backbone.Normalization }
                : new ResNetBackboneOptions { Channels = channels, ImageSize = size, InputOffset = -127.5f, InputScale = 1 / 127.5f, FreezeStages = backbone == "resnet" ? 0 : 4 };
            options.Iterations = iterations;
            options.BatchSize = batchSize;
            options.Seed = seed;
            options.NumberOfThreads = Environment.ProcessorCount;
            options.ProgressInterval = Math.Max(1, iterations / 4);
            int runIndex = run;
            options.ProgressCallback = p =>
            {
                // Remaining time from the steps done so far in all runs (methods differ in cost, so it is a rough guide).
                long done = (long)(runIndex - 1) * iterations + p.Iteration, all = (long)runCount * iterations;
                var left = TimeSpan.FromSeconds(total.Elapsed.TotalSeconds / done * (all - done));
                Console.WriteLine($"    run {runIndex}/{runCount}, step {p.Iteration}/{p.TotalIterations}, ~{(int)left.TotalMinutes}:{left.Seconds:00} left " +
                    $"({string.Join(", ", p.Losses.Select(l => $"{l.Key} {l.Value:F3}"))})");
            };
            // The last step's model is evaluated before KeepBest puts the best step's weights back: one training gives both.
            DomainAdaptationTransformer lastStep = null;
            if (arguments.TryGetValue("validate-every", out var interval))
            {
                options.Validation = new TrainingValidation { Interval = int.Parse(interval), KeepBest = true, LastStepCallback = m => lastStep = m };
                if (arguments.TryGetValue("validation-scorer", out var scorerName))
                    options.Validation.Scorer = Scorer(scorerName);
                if (traceSteps)
                {
                    // The training's scorer, recording every scorer's value on the same held-out outputs; the callback that
                    // follows each score prints them with that step's test accuracies.
                    var recorder = new RecordingScorer(options.Validation.Scorer, Scorers());
                    options.Validation.Scorer = recorder;
                    options.Validation.ScoredStepCallback = (step, copy) => TraceStep(mlContext, step, copy, traceTarget, traceSource, recorder.Last);
                }
            }
            if (arguments.TryGetValue("set", out var assignments))
                DomainAdaptationMethods.ApplySettings(options, assignments); // e.g. DiscrepancyWeight=0.5;Backbone.EmbeddingSize=64
            TransformerChain<DomainAdaptationTransformer> Fit(DomainAdaptationOptions o) =>
                mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Append(mlContext.MulticlassClassification.Trainers.DomainAdaptation(o)).Fit(trainingData);
            // One row of the table: the model's target and source test metrics; with --validate-every, also the last step's
            // target accuracy (lastStep: the same training's last-step model) and the kept step.
            RunResult Result(string name, ITransformer fitted, double seconds, DomainAdaptationTransformer lastStepModel, bool selectedFromHistory)
            {
                var targetMetrics = mlContext.MulticlassClassification.Evaluate(fitted.Transform(targetTest));
                double? lastStepAccuracy = null;
                int? selectedStep = null;
                if (lastStepModel is not null)
                {
                    var chain = (TransformerChain<DomainAdaptationTransformer>)fitted;
                    var keyMapping = chain.First(); // the Label mapping the chain scores with, then the last step's network
                    lastStepAccuracy = mlContext.MulticlassClassification.Evaluate(lastStepModel.Transform(keyMapping.Transform(targetTest))).MicroAccuracy;
                    var history = chain.LastTransformer.TrainingHistory;
                    selectedStep = selectedFromHistory ? history.SelectedStep : null;
                    if (history.LossNames.FirstOrDefault(n => n.StartsWith("validation ", StringComparison.Ordinal)) is string scoreName)
                        Console.WriteLine($"    {scoreName} by step: {string.Join(" ", history.Series(scoreName).Select(s => $"{s.Iteration}:{s.Value:F4}"))}");
                }
                var sourceMetrics = mlContext.MulticlassClassification.Evaluate(fitted.Transform(sourceTest));
                return new RunResult($"{sourceName} -> {targetName}", name, seed, targetMetrics.MicroAccuracy, targetMetrics.MacroAccuracy,
                    targetMetrics.LogLoss, sourceMetrics.MicroAccuracy, seconds / iterations * 1000, lastStepAccuracy, selectedStep);
            }
            // Each run's figures as soon as it ends (a long table stopped half-way keeps what it measured), then into the table.
            void Record(RunResult done)
            {
                Console.WriteLine($"    {done.Method}, seed {done.Seed}: target {done.TargetMicro * 100:F1} %" +
                    (done.LastStepTargetMicro is double lastAccuracy ? $" (last step {lastAccuracy * 100:F1} %)" : "") +
                    $", source {done.SourceMicro * 100:F1} %, {done.SecondsPer1000:F1} s / 1,000 steps on {options.NumberOfThreads} thread(s)");
                results.Add(done);
            }
            var clock = Stopwatch.StartNew();
            ITransformer model;
            try
            {
                model = Fit(options);
                if (refine)
                {
                    // X's own row from the first stage (the model DIRT-T starts from), unless X is run on its own too:
                    // one training gives both rows.
                    string firstMethod = CanonicalName(method[..^DirtTSuffix.Length]);
                    if (!methodNames.Contains(firstMethod))
                        Record(Result(firstMethod, model, clock.Elapsed.TotalSeconds, lastStep, selectedFromHistory: true));
                    lastStep?.Dispose();
                    lastStep = null; // DIRT-T's own row has no validation
                    clock.Restart();
                    // DIRT-T's own defaults (learning rate 0.001, its add-ons); the network, input normalisation included, is the first model's.
                    var dirtT = new DirtTOptions
                    {
                        InitialModel = ((TransformerChain<DomainAdaptationTransformer>)model).LastTransformer,
                        Iterations = iterations, BatchSize = batchSize, Seed = seed, NumberOfThreads = options.NumberOfThreads,
                        ProgressInterval = options.ProgressInterval, ProgressCallback = options.ProgressCallback,
                    };
                    model = Fit(dirtT);
                }
            }
            catch (InvalidOperationException e) when (e.Message.Contains("diverged"))
            {
                // A diverged run is a result too: report it in the table rather than lose the other methods' figures.
                Console.WriteLine($"    {e.Message}");
                failures.Add($"{sourceName} -> {targetName} {method} seed {seed}");
                continue;
            }
            Record(Result(method, model, clock.Elapsed.TotalSeconds, lastStep, selectedFromHistory: !refine));
            lastStep?.Dispose();
        }
    }
}

Console.WriteLine();
Console.WriteLine($"{runCount} runs in {(int)total.Elapsed.TotalMinutes}:{total.Elapsed.Seconds:00}.");
Console.WriteLine($"Target test metrics (ML.NET MulticlassClassification.Evaluate), {backbone} backbone, {size} px, {iterations} steps, batch {batchSize} + {batchSize}, seeds {string.Join(",", seeds)}; mean ± standard deviation over seeds; Fit seconds per 1,000 steps (X+DIRT-T: of its refinement stage alone).");
Console.WriteLine();
ResultTable.Print(results, "source MicroAccuracy %");

if (failures.Count > 0)
    Console.WriteLine($"\nDiverged (not in the table): {string.Join("; ", failures)}.");

// The scorers that need no retraining.
static ValidationScorer[] Scorers() => new[] { ValidationScorer.TargetEntropy, ValidationScorer.SoftNeighborhoodDensity, ValidationScorer.DeepEmbedded,
    ValidationScorer.ImportanceWeighted, ValidationScorer.SourceAccuracy };

// A scorer that needs no retraining, by its name (ValidationScorer.Name).
static ValidationScorer Scorer(string name) =>
    Scorers().FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--validation-scorer: '{name}' is not one of {string.Join(", ", Scorers().Select(s => s.Name))}.");

// --trace-steps: one line per scored step: the copy's test accuracies and every scorer's value on the held-out rows.
static void TraceStep(MLContext mlContext, int step, DomainAdaptationTransformer copy, IDataView target, IDataView source, string heldOutScores)
{
    using (copy)
    {
        double targetAccuracy = mlContext.MulticlassClassification.Evaluate(copy.Transform(target)).MicroAccuracy;
        double sourceAccuracy = mlContext.MulticlassClassification.Evaluate(copy.Transform(source)).MicroAccuracy;
        Console.WriteLine($"    trace step {step}: target {targetAccuracy * 100:F2} %, source {sourceAccuracy * 100:F2} %; held out: {heldOutScores}");
    }
}

// A method's canonical name; "X+DIRT-T" (X then DIRT-T from its model) is the sample's own.
static string CanonicalName(string name) =>
    name.EndsWith(DirtTSuffix, StringComparison.OrdinalIgnoreCase)
        ? DomainAdaptationMethods.CanonicalName(name[..^DirtTSuffix.Length]) + DirtTSuffix
        : DomainAdaptationMethods.CanonicalName(name);

partial class Program
{
    private const string DirtTSuffix = "+DIRT-T";
}

/// <summary>
/// --trace-steps: scores as <c>inner</c> does, and records every scorer's value on the same held-out outputs (the rows the
/// training's validation scores), so any rule on these values can be replayed on the printed trace.
/// </summary>
sealed class RecordingScorer(ValidationScorer inner, ValidationScorer[] all) : ValidationScorer
{
    public override string Name => inner.Name;

    /// <summary>Every scorer's value at the latest score, "Name value, ...".</summary>
    public string Last { get; private set; } = "";

    public override double Score(ValidationSet set)
    {
        Last = string.Join(", ", all.Select(s => $"{s.Name} {s.Score(set):R}"));
        return inner.Score(set);
    }
}
