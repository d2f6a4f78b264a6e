// ML.NET fills the row classes' fields by reflection.
#pragma warning disable CS0649
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;

// Performance benchmark: per method, training time per 1,000 steps in the first Fit of a fresh process (each method in
// its own child process) and at steady state (after warm-up, in a process that has trained before), estimated GFLOP/s
// against a measured peak (a libtorch GEMM), whole Fit time (IDataView reading included), scoring throughput of Transform
// and of a raw batched forward, PredictionEngine latency, peak RSS and RSS growth over a long run; then the first Fit of
// some methods again while a load it starts itself keeps one core busy, with the given threads and with one.
// Prints tables; exits with 1 when a method's exported ONNX model differs from its transformer
// (max |Δ| on Score above 1e-5, or another predicted class).
//   dotnet run --project test/Microsoft.ML.DomainAdaptation.Benchmarks -c Release -- [--steps 1000] [--threads 2]
//       [--methods SourceOnly,DANN,... | all] [--networks lenet,mlp] [--score-rows 100000 (also the ONNX scoring section, run on the first method)] [--soak-steps 20000] [--quick]
//       [--scoring-only lenet|mlp [--repeat 3]: scoring figures alone, repeated in one process, both scoring engines back to back]
//       [--busy-methods SourceOnly,DANN (none: skip the busy-core run)] [--busy-steps 300] [--gap-rows 10000 (0: skip)]
//       [--image-rows 20000 (0: skip) [--image-side 64]]
//       [--before]  (each first Fit, and the busy-core Fit, once more with issue 18's native settings off: a before / after table)
//       [--pytorch path/to/da_ref.py]   (runs the PyTorch reference of each LeNet method the same way, one job at a time,
//                                        and prints both side by side with their ratio)
//       [--profile-lenet [--threads 2] [--batch 64]]: each LeNet layer's forward and backward timed alone
//       [--profile-halves [--repeats 200]]: a LeNet step's forward + backward on 1 and 2 intra-op threads against two
//                                        32-row halves on two threads at once (HalvesProfile)
//       [--profile-step lenet:METHOD [--steps 300] [--threads 1]]: a real Fit's steps timed phase by phase (gather, forward,
//                                        losses, .item() reads, zero_grad, backward, optimizer step, scope, bookkeeping)
//   Internal modes, used by the benchmark on itself: --child-fit NETWORK:METHOD (one Fit, prints a FIRSTFIT line),
//   --child-images ROWS [--image-side 64] [--steps 10] (one Fit on generated 0–255 images, prints an IMAGES line) and
//   --burn SECONDS (one spinning thread that stops after SECONDS or when its parent exits).
if (args.Length == 2 && args[0] == "--burn")
{
    Burn(double.Parse(args[1], CultureInfo.InvariantCulture));
    return;
}
if (args.Length >= 1 && args[0] is "--profile-lenet" or "--profile-halves")
{
    Microsoft.ML.DomainAdaptation.Training.MallocTuning.EnsureConfigured(); // as a training would, before libtorch loads
    Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.EnsureWaitPolicy();
    var profileArguments = args.Skip(1).Chunk(2).ToDictionary(p => p[0].TrimStart('-'), p => p[1]);
    if (args[0] == "--profile-lenet")
        LayerProfile.Run(int.Parse(profileArguments.GetValueOrDefault("threads", Environment.ProcessorCount.ToString())),
            int.Parse(profileArguments.GetValueOrDefault("batch", "64")));
    else
        HalvesProfile.Run(int.Parse(profileArguments.GetValueOrDefault("repeats", "200")));
    return;
}
var arguments = new Dictionary<string, string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--quick" or "--default-threads" or "--before")
        arguments[args[i][2..]] = "true";
    else if (args[i].StartsWith("--") && i + 1 < args.Length)
        arguments[args[i][2..]] = args[++i];
    else
        throw new ArgumentException($"Unexpected argument '{args[i]}'.");
}
bool quick = arguments.ContainsKey("quick");
bool before = arguments.ContainsKey("before"); // also time each first Fit with issue 18's native settings off (the before / after table below)
int steps = int.Parse(arguments.GetValueOrDefault("steps", quick ? "60" : "1000"));
int warmup = Math.Min(50, steps / 4);
int threads = int.Parse(arguments.GetValueOrDefault("threads", Environment.ProcessorCount.ToString()));
int scoreRows = int.Parse(arguments.GetValueOrDefault("score-rows", quick ? "2000" : "100000"));
int soakSteps = int.Parse(arguments.GetValueOrDefault("soak-steps", quick ? "200" : "20000"));
string methodList = arguments.GetValueOrDefault("methods", "SourceOnly,DANN,DeepCORAL,MMD,MCD,ADDA,AdaBN");
var methods = methodList == "all" ? DomainAdaptationMethods.Names.ToArray() : methodList.Split(',');
string pytorchScript = arguments.GetValueOrDefault("pytorch");
// The PyTorch reference's name of each method it implements.
var referenceNames = new Dictionary<string, string>
{
    ["SourceOnly"] = "source_only", ["DANN"] = "dann", ["DeepCORAL"] = "coral", ["MMD"] = "mmd", ["MCD"] = "mcd", ["ADDA"] = "adda",
};
var sideBySide = new List<string>();
var networks = arguments.GetValueOrDefault("networks", "lenet,mlp").Split(',');

if (arguments.TryGetValue("child-gap", out var childGap))
{
    // DomainGap.Measure on random 100-d rows, this many per domain, in a fresh process: seconds and peak RSS.
    int perDomain = int.Parse(childGap);
    var gapRandom = new Random(0);
    float[][] GapRows(double shift) => Enumerable.Range(0, perDomain)
        .Select(_ => Enumerable.Range(0, 100).Select(_ => (float)(gapRandom.NextDouble() + shift)).ToArray()).ToArray();
    var gapSource = GapRows(0);
    var gapTarget = GapRows(0.1);
    TorchSharp.torch.zeros(1).Dispose(); // libtorch loaded: its code is in the RSS before measuring
    double rssBefore = RssMiB();
    var gapClock = Stopwatch.StartNew();
    double gapMmd = DomainGap.Mmd(gapSource, gapTarget, maxRowsPerDomain: perDomain);
    double mmdSeconds = gapClock.Elapsed.TotalSeconds, mmdPeak = PeakRssMiB();
    DomainGap.ProxyADistance(gapSource, gapTarget, maxRowsPerDomain: perDomain);
    Console.WriteLine(FormattableString.Invariant($"GAP {mmdSeconds:F1} {mmdPeak:F0} {rssBefore:F0} {gapMmd:G4} {gapClock.Elapsed.TotalSeconds - mmdSeconds:F1} {PeakRssMiB():F0}"));
    // The report's t-SNE picture of both domains' rows together (its perplexity), last: its peak is the process's.
    var tsneClock = Stopwatch.StartNew();
    var tsneRows = gapSource.Concat(gapTarget).ToArray();
    EmbeddingProjection.TSne(tsneRows, new TSneOptions { Perplexity = Math.Min(30, (tsneRows.Length - 1) / 3.0) });
    Console.WriteLine(FormattableString.Invariant($"TSNE {tsneClock.Elapsed.TotalSeconds:F1} {PeakRssMiB():F0}"));
    return;
}
if (arguments.TryGetValue("child-images", out var childImages))
{
    // One short DANN training (LeNet, batch 32 + 32) on ROWS generated images of side × side × 3 pixels, integers 0–255 as
    // ML.NET's ExtractPixels gives them, half source, half target, streamed from a generator that holds none of them: the
    // peak RSS above the one before Fit is the training's own copy of the pixels plus the network's working memory.
    int imageRows = int.Parse(childImages);
    int side = int.Parse(arguments.GetValueOrDefault("image-side", "64"));
    int imageSteps = int.Parse(arguments.GetValueOrDefault("steps", "10"));
    var imageMl = new MLContext(seed: 0);
    var imageDefinition = SchemaDefinition.Create(typeof(ImageRow));
    imageDefinition[nameof(ImageRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, side, side);
    var images = imageMl.Data.LoadFromEnumerable(GeneratedImages(imageRows, side), imageDefinition);
    var imageOptions = new DannOptions
    {
        Backbone = new LeNetBackboneOptions { Channels = 3, Height = side, Width = side },
        Iterations = imageSteps,
        BatchSize = 32,
        Seed = 0,
        NumberOfThreads = threads,
    };
    TorchSharp.torch.zeros(1).Dispose(); // libtorch loaded: its code is in the RSS before measuring
    double imageRssBefore = RssMiB();
    var imageClock = Stopwatch.StartNew();
    var imageModel = imageMl.Transforms.Conversion.MapValueToKey("Label").Append(imageMl.Transforms.DomainAdapt(imageOptions)).Fit(images);
    imageModel.LastTransformer.Dispose();
    Console.WriteLine(FormattableString.Invariant($"IMAGES {imageRows} {side} {PeakRssMiB():F0} {imageRssBefore:F0} {imageClock.Elapsed.TotalSeconds:F1}"));
    return;
}
if (arguments.TryGetValue("scoring-only", out var scoringNetwork))
{
    // Scoring alone, repeated in one process so that figures compare within one machine state: a short SourceOnly Fit,
    // then per repetition Transform (every row's Score through a cursor) and PredictionEngine under each scoring engine, the
    // raw batched TorchSharp forward, and OnnxRuntime's own InferenceSession on the model's export at batch 256.
    Microsoft.ML.DomainAdaptation.Training.MallocTuning.EnsureConfigured();
    Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.EnsureWaitPolicy();
    TorchSharp.torch.set_num_threads(threads);
    var scoringMl = new MLContext(seed: 0);
    var (scoringTraining, scoringPool, _, scoringBackbone, _) = scoringNetwork == "lenet" ? LeNetData(scoringMl) : MlpData(scoringMl, 512);
    var scoringModel = scoringMl.Transforms.Conversion.MapValueToKey("Label")
        .Append(scoringMl.Transforms.DomainAdapt(BenchmarkOptions("SourceOnly", scoringBackbone, steps, threads))).Fit(scoringTraining);
    int repeat = int.Parse(arguments.GetValueOrDefault("repeat", "3"));
    var scoringAdapter = scoringModel.LastTransformer;
    // Each repetition measures both engines back to back (TorchSharp first, then OnnxRuntime), so that a change of the
    // machine's load shows in both; TorchSharp is the library's scoring before issue 18.
    scoringAdapter.ScoringEngine = ScoringEngine.OnnxRuntime;
    var onnxSession = scoringAdapter.Scoring;
    Console.WriteLine($"scoring {scoringNetwork}, {scoreRows} rows, {TorchSharp.torch.get_num_threads()} threads (libtorch); OnnxRuntime engine: " +
        $"{(onnxSession.Resolve() == ScoringEngine.OnnxRuntime ? "available" : "unavailable")}; OpenMP wait {Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.WaitPolicyStatus}");
    Console.WriteLine("| repetition | Transform rows/s, TorchSharp | Transform rows/s, OnnxRuntime | InferenceSession rows/s (batch 256) | raw forward rows/s (batch 256) | PredictionEngine µs/row, TorchSharp | PredictionEngine µs/row, OnnxRuntime | of which OnnxRuntime run µs/row |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    var transformRatios = new List<double>();
    var onnxLatencies = new List<double>();
    for (int r = 1; r <= repeat; r++)
    {
        scoringAdapter.ScoringEngine = ScoringEngine.TorchSharp;
        var (torchTransform, rawRate, torchLatency, _) = Scoring(scoringMl, scoringAdapter, scoringPool, scoreRows);
        scoringAdapter.ScoringEngine = ScoringEngine.OnnxRuntime;
        var (onnxTransform, _, onnxLatency, _) = Scoring(scoringMl, scoringAdapter, scoringPool, scoreRows, raw: false);
        double sessionRate = SessionRowsPerSecond(scoringAdapter, scoringPool, scoreRows, 256);
        double boundRow = BoundRowMicroseconds(scoringAdapter, scoringPool, Math.Min(scoreRows, 5000));
        transformRatios.Add(onnxTransform / sessionRate);
        onnxLatencies.Add(onnxLatency);
        Console.WriteLine($"| {r} | {torchTransform:N0} | {onnxTransform:N0} | {sessionRate:N0} | {rawRate:N0} | {torchLatency:F0} | {onnxLatency:F1} | {boundRow:F1} |");
    }
    transformRatios.Sort();
    onnxLatencies.Sort();
    double medianRatio = transformRatios[transformRatios.Count / 2], medianLatency = onnxLatencies[onnxLatencies.Count / 2];
    Console.WriteLine(FormattableString.Invariant($"targets (issue 18, OnnxRuntime engine, medians): Transform / InferenceSession = {medianRatio:F2} (target ≥ 1: {(medianRatio >= 1 ? "met" : "not met")}); ") +
        FormattableString.Invariant($"PredictionEngine {medianLatency:F1} µs/row (target ≤ 60{(scoringNetwork == "lenet" ? "" : ", set for LeNet")}: {(medianLatency <= 60 ? "met" : "not met")})"));
    scoringModel.LastTransformer.Dispose();
    return;
}
if (arguments.TryGetValue("profile-step", out var profileStep))
{
    // One Fit in this process with the step's phases timed (Training.StepPhases): the first warm-up steps are not counted.
    var parts = profileStep.Split(':', 2);
    var profileMl = new MLContext(seed: 0);
    var (profileTraining, _, _, profileBackbone, profileFlops) = parts[0] == "lenet" ? LeNetData(profileMl) : MlpData(profileMl, 512);
    var profileOptions = BenchmarkOptions(parts[1], profileBackbone, steps, threads);
    var phases = new Microsoft.ML.DomainAdaptation.Training.StepPhases();
    profileOptions.ProgressInterval = warmup;
    profileOptions.ProgressCallback = p => phases.Recording = p.Iteration >= warmup;
    Microsoft.ML.DomainAdaptation.Training.StepPhases.Current = phases;
    var profileClock = Stopwatch.StartNew();
    var profileModel = profileMl.Transforms.Conversion.MapValueToKey("Label").Append(profileMl.Transforms.DomainAdapt(profileOptions)).Fit(profileTraining);
    Microsoft.ML.DomainAdaptation.Training.StepPhases.Current = null;
    profileModel.LastTransformer.Dispose();
    phases.Steps = steps - warmup;
    double stepMs = phases.Ticks.Keys.Sum(phases.MsPerStep);
    Console.WriteLine(FormattableString.Invariant($"{parts[0]} {parts[1]}: steps {warmup + 1}–{steps} of a Fit, {threads} threads, batch 64 per domain: {stepMs:F2} ms per step ") +
        FormattableString.Invariant($"({profileFlops * BatchPassesPerStep(parts[1], profileOptions) / (stepMs / 1000) / 1e9:F1} GFLOP/s est.), whole Fit {profileClock.Elapsed.TotalSeconds:F1} s"));
    Console.WriteLine("| phase | ms / step | calls / step | share |");
    Console.WriteLine("|---|---|---|---|");
    foreach (var phase in phases.Ticks.Keys)
        Console.WriteLine(FormattableString.Invariant($"| {phase} | {phases.MsPerStep(phase):F3} | {phases.Calls[phase] / (double)phases.Steps:F1} | {phases.MsPerStep(phase) / stepMs * 100:F1} % |"));
    return;
}
if (arguments.TryGetValue("child-fit", out var childFit))
{
    // One Fit in this fresh process: every step timed, the first included.
    var parts = childFit.Split(':', 2);
    var childMl = new MLContext(seed: 0);
    var (childTraining, _, _, childBackbone, _) = parts[0] == "lenet" ? LeNetData(childMl) : MlpData(childMl, 512);
    var childOptions = BenchmarkOptions(parts[1], childBackbone, steps, arguments.ContainsKey("default-threads") ? null : threads);
    TimeSpan childEnd = default;
    int trainingThreads = 0; // read during the training: the library puts libtorch's count back after a Fit on its own choice
    childOptions.ProgressInterval = steps;
    childOptions.ProgressCallback = p =>
    {
        childEnd = p.Elapsed;
        trainingThreads = TorchSharp.torch.get_num_threads();
    };
    var startStat = ProcessStat();
    var childClock = Stopwatch.StartNew();
    var childModel = childMl.Transforms.Conversion.MapValueToKey("Label").Append(childMl.Transforms.DomainAdapt(childOptions)).Fit(childTraining);
    double childFitSeconds = childClock.Elapsed.TotalSeconds;
    var endStat = ProcessStat();
    childModel.LastTransformer.Dispose();
    Console.Error.WriteLine($"child: OpenMP wait {Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.WaitPolicyStatus}, malloc tuning {Microsoft.ML.DomainAdaptation.Training.MallocTuning.Status}");
    Console.WriteLine(FormattableString.Invariant($"FIRSTFIT {childEnd.TotalMilliseconds / steps * 1000:F0} {childFitSeconds:F2} {trainingThreads} {PeakRssMiB():F0} ") +
        FormattableString.Invariant($"{(endStat.MinorFaults - startStat.MinorFaults) / (double)steps:F0} {(endStat.UserSeconds - startStat.UserSeconds) / steps * 1000:F1} {(endStat.SystemSeconds - startStat.SystemSeconds) / steps * 1000:F1}"));
    return;
}

// As an application whose first use of libtorch is a training would: the library's native settings before libtorch loads.
Microsoft.ML.DomainAdaptation.Training.MallocTuning.EnsureConfigured();
Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.EnsureWaitPolicy();
TorchSharp.torch.set_num_threads(threads);
Console.WriteLine($"threads: {TorchSharp.torch.get_num_threads()} (torch.set_num_threads), OpenMP wait: {Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.WaitPolicyStatus}, processors: {Environment.ProcessorCount}, " +
    $"CPU: {CpuModel()}, .NET {Environment.Version}, steps timed: {steps - warmup} after {warmup} warm-up; " +
    $"malloc tuning: {(Environment.GetEnvironmentVariable(Microsoft.ML.DomainAdaptation.Training.MallocTuning.EnvironmentVariable) is string tuning ? $"{Microsoft.ML.DomainAdaptation.Training.MallocTuning.EnvironmentVariable}={tuning}" : "default (on with glibc)")}");
double peakGflops = GemmPeakGflops(threads);
Console.WriteLine($"measured peak: {peakGflops:F1} GFLOP/s (libtorch float GEMM 1024 × 1024 × 1024, {threads} threads, best of 20)");
Console.WriteLine();

var ml = new MLContext(seed: 0);
var rows = new List<string>();
var onnxRows = new List<string>();
var onnxPeaks = new List<string>(); // the same network's forward through OnnxRuntime: a second, network-specific peak
var parityRows = new List<string>();
var beforeRows = new List<string>();
var parityFailures = new List<string>(); // README promises max |Δ| ≤ 1e-5 on Score and the same classes for every method
foreach (var network in networks)
{
    var (training, scoring, targetTest, backbone, flopsPerStep) = network switch
    {
        "lenet" => LeNetData(ml),
        "mlp" => MlpData(ml, 512),
        _ => throw new ArgumentException($"Unknown network '{network}' (lenet, mlp)."),
    };
    // This process's own Fits measure the steady state: one short training first, so none of them is the process's first.
    {
        var warm = BenchmarkOptions(methods[0], backbone, Math.Min(steps, 100), threads);
        ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.DomainAdapt(warm)).Fit(training).LastTransformer.Dispose();
    }
    foreach (var method in methods)
    {
        var first = ChildFit(network, method, steps, threads, defaultThreads: false);
        if (before)
        {
            var old = ChildFit(network, method, steps, threads, defaultThreads: false, before: true);
            beforeRows.Add($"| {network} | {method} | {threads} | {old.MsPer1000:F0} | {old.UserSecondsPer1000:F1} + {old.SystemSecondsPer1000:F1} | {old.FaultsPerStep:N0} | " +
                $"{first.MsPer1000:F0} | {first.UserSecondsPer1000:F1} + {first.SystemSecondsPer1000:F1} | {first.FaultsPerStep:N0} | {old.MsPer1000 / first.MsPer1000:F2} |");
            Console.WriteLine(beforeRows[^1]);
        }
        var options = BenchmarkOptions(method, backbone, steps, threads);
        TimeSpan atWarmup = default, atEnd = default;
        options.ProgressInterval = 1;
        options.ProgressCallback = p =>
        {
            if (p.Iteration == warmup) atWarmup = p.Elapsed;
            if (p.Iteration == p.TotalIterations) atEnd = p.Elapsed;
        };
        var fitClock = Stopwatch.StartNew();
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.DomainAdapt(options)).Fit(training);
        double fitSeconds = fitClock.Elapsed.TotalSeconds;
        double msPer1000 = (atEnd - atWarmup).TotalMilliseconds / (steps - warmup) * 1000;
        double overhead = (fitSeconds - atEnd.TotalSeconds) / atEnd.TotalSeconds;
        double stepFlops = flopsPerStep * BatchPassesPerStep(method, options);
        double gflops = stepFlops / (msPer1000 / 1000 / 1000) / 1e9;

        var (transformRowsPerSecond, rawRowsPerSecond, latencyMicroseconds, firstTransformMs) = Scoring(ml, model.LastTransformer, scoring, scoreRows);
        rows.Add($"| {network} | {method} | {first.MsPer1000:F0} | {first.UserSecondsPer1000:F1} + {first.SystemSecondsPer1000:F1} | {first.FaultsPerStep:N0} | {msPer1000:F0} | {first.MsPer1000 / msPer1000:F2} | {gflops:F1} | {gflops / peakGflops * 100:F0} % | {fitSeconds:F1} | {overhead * 100:F1} % | {firstTransformMs:F0} | {transformRowsPerSecond:N0} | {rawRowsPerSecond:N0} | {transformRowsPerSecond / rawRowsPerSecond * 100:F0} % | {latencyMicroseconds:F0} | {PeakRssMiB():F0} |");
        Console.WriteLine(rows[^1]);
        double targetAccuracy = ml.MulticlassClassification.Evaluate(model.Transform(targetTest)).MicroAccuracy;
        if (method == methods[0])
        {
            onnxRows.AddRange(OnnxScoring(ml, model.LastTransformer, network, scoring, scoreRows, out double onnxRowsPerSecond));
            // OnnxRuntime's forward of the same network: its FLOPs per row are a third of a training step's per image.
            onnxPeaks.Add($"{network}: OnnxRuntime forward at batch 256 {onnxRowsPerSecond * flopsPerStep / 3 / 64 / 1e9:F1} GFLOP/s");
        }
        parityRows.Add(OnnxParity(model.LastTransformer, network, method, scoring, Math.Min(scoring.Length, 2000), parityFailures));
        Console.WriteLine(parityRows[^1]);
        model.LastTransformer.Dispose();
        if (pytorchScript != null && network == "lenet" && referenceNames.TryGetValue(MethodName(method), out var referenceName))
        {
            var reference = RunReference(pytorchScript, referenceName, steps, threads);
            sideBySide.Add($"| {method} | {msPer1000:F0} | {reference.MsPer1000:F0} | {msPer1000 / reference.MsPer1000:F2} | {targetAccuracy * 100:F1} | " +
                $"{reference.TargetAccuracy * 100:F1} | {PeakRssMiB():F0} | {reference.PeakRssMiB:F0} |");
            Console.WriteLine(sideBySide[^1]);
        }
    }
}

Console.WriteLine();
Console.WriteLine($"Training: ms per 1,000 steps in the first Fit of a fresh process (every step, each method in its own child process) and at " +
    $"steady state (after {warmup} warm-up steps, in a process that has trained before); GFLOP/s estimated at steady state, against the measured peak of {peakGflops:F1}.");
if (onnxPeaks.Count > 0)
    Console.WriteLine($"Second peak, the same network's inference through OnnxRuntime (MLAS kernels): {string.Join("; ", onnxPeaks)}.");
Console.WriteLine("| network | method | first Fit ms / 1000 | first Fit CPU s / 1000 (user + system) | first Fit page faults / step | steady ms / 1000 | first / steady | GFLOP/s (est.) | of peak | Fit s | Fit overhead | first Transform ms (200 rows, builds the session) | Transform rows/s (Auto engine) | raw forward rows/s | Transform / raw | PredictionEngine µs/row (Auto engine) | peak RSS MiB |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
foreach (var row in rows)
    Console.WriteLine(row);

Console.WriteLine();
Console.WriteLine("ONNX parity: each method's exported model (OnnxRuntime InferenceSession, batch 256) against its transformer's TorchSharp network, on the scoring rows:");
Console.WriteLine("| network | method | rows | max abs diff Score | max abs diff Embedding | same predicted class |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var row in parityRows)
    Console.WriteLine(row);
if (parityFailures.Count > 0)
{
    foreach (var failure in parityFailures)
        Console.Error.WriteLine(failure);
    Environment.ExitCode = 1; // the figures below still print
}

if (beforeRows.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("Before / after issue 18's native settings, the same first Fit in fresh processes one after the other: before = " +
        "MLNET_DA_MALLOC_TUNING=0 and MLNET_DA_OMP_PASSIVE=0 (glibc's malloc thresholds and OpenMP's spinning wait, as trainings ran before them), same threads.");
    Console.WriteLine("| network | method | threads | before ms / 1000 | before CPU s / 1000 (user + system) | before page faults / step | after ms / 1000 | after CPU s / 1000 | after page faults / step | before / after |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
    foreach (var row in beforeRows)
        Console.WriteLine(row);
}

if (onnxRows.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine($"Scoring throughput, TorchSharp vs OnnxRuntime (CPU, {threads} threads, {methods[0]} model, {scoreRows} rows; ApplyOnnxModel scores one row at a time):");
    Console.WriteLine("| network | batch | TorchSharp forward rows/s | OnnxRuntime InferenceSession rows/s | ML.NET pipeline rows/s (its own batching) |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var row in onnxRows)
        Console.WriteLine(row);
}

if (sideBySide.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine($"Side by side with the PyTorch reference ({pytorchScript}): LeNet, optdigits → mnist-opencv, batch 64 + 64, {steps} steps, " +
        $"{threads} threads each, run one after the other. Ours: ms per 1,000 steps after warm-up; PyTorch: over all its steps. " +
        "Peak RSS: ours is this process's peak so far (it grows with the methods run before), PyTorch's is per run.");
    Console.WriteLine();
    Console.WriteLine("| method | ours ms / 1000 | PyTorch ms / 1000 | ratio (ours / PyTorch) | ours target % | PyTorch target % | ours peak RSS MiB | PyTorch peak RSS MiB |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var row in sideBySide)
        Console.WriteLine(row);
}

// Busy cores: the first Fit of some methods again while one spinning thread of another process (bounded in time, it
// stops by itself) keeps a core busy, with the benchmark's threads and with the library's default (NumberOfThreads unset).
var busyMethods = arguments.GetValueOrDefault("busy-methods", quick ? "SourceOnly" : "SourceOnly,DANN").Split(',', StringSplitOptions.RemoveEmptyEntries)
    .Where(m => m != "none").ToArray();
if (busyMethods.Length > 0)
{
    int busySteps = int.Parse(arguments.GetValueOrDefault("busy-steps", quick ? "60" : "300"));
    var busyRows = new List<string>();
    foreach (var network in networks)
    {
        foreach (var method in busyMethods)
        {
            var quiet = ChildFit(network, method, busySteps, threads, defaultThreads: false);
            var quietDefault = ChildFit(network, method, busySteps, threads, defaultThreads: true);
            using var burner = StartBurner(seconds: 600);
            var busy = ChildFit(network, method, busySteps, threads, defaultThreads: false);
            var busyDefault = ChildFit(network, method, busySteps, threads, defaultThreads: true);
            var busySingle = ChildFit(network, method, busySteps, 1, defaultThreads: false);
            // Before issue 18: the benchmark's threads (libtorch's default then) with OpenMP spinning and glibc's thresholds.
            string busyBefore = "";
            if (before)
            {
                var old = ChildFit(network, method, busySteps, threads, defaultThreads: false, before: true);
                busyBefore = $" {old.MsPer1000:F0} | {old.MsPer1000 / busyDefault.MsPer1000:F2} |";
            }
            burner.Kill();
            busyRows.Add($"| {network} | {method} | {threads} | {quiet.MsPer1000:F0} | {busy.MsPer1000:F0} | {busy.MsPer1000 / quiet.MsPer1000:F2} | " +
                $"{quietDefault.Threads} | {quietDefault.MsPer1000:F0} | {busyDefault.MsPer1000:F0} | {busyDefault.MsPer1000 / quietDefault.MsPer1000:F2} | {busySingle.MsPer1000:F0} | {busyDefault.MsPer1000 / busySingle.MsPer1000:F2} |{busyBefore}");
            Console.WriteLine(busyRows[^1]);
        }
    }
    Console.WriteLine();
    Console.WriteLine($"Busy core: first Fit ms per 1,000 steps ({busySteps} steps, fresh process each), without and with one spinning thread of another process; " +
        "'default' leaves NumberOfThreads unset (the library picks the threads; OMP_WAIT_POLICY as the library sets it).");
    Console.WriteLine("| network | method | threads | quiet | busy | busy / quiet | default threads | default quiet | default busy | busy / quiet | 1 thread busy | default busy / 1 thread busy (target ≤ 1) |" +
        (before ? " before: threads busy, native settings off | before / default busy |" : ""));
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|" + (before ? "---|---|" : ""));
    foreach (var row in busyRows)
        Console.WriteLine(row);
}

// Distances: DomainGap (the report's MMD and proxy A-distance) on 100-d rows, in a fresh process for its peak RSS.
int gapRows = int.Parse(arguments.GetValueOrDefault("gap-rows", quick ? "1000" : "10000"));
if (gapRows > 0)
{
    var start = new ProcessStartInfo(Environment.ProcessPath) { RedirectStandardOutput = true };
    if (!Environment.ProcessPath.EndsWith("Benchmarks", StringComparison.Ordinal))
        start.ArgumentList.Add(typeof(VectorRow).Assembly.Location);
    start.ArgumentList.Add("--child-gap");
    start.ArgumentList.Add(gapRows.ToString());
    using var process = Process.Start(start);
    var output = process.StandardOutput.ReadToEnd().Split('\n');
    string line = output.FirstOrDefault(l => l.StartsWith("GAP ")) ?? "GAP ? ? ? ? ? ?";
    var tsne = (output.FirstOrDefault(l => l.StartsWith("TSNE ")) ?? "TSNE ? ?").Split(' ');
    process.WaitForExit();
    var v = line.Split(' ');
    Console.WriteLine();
    Console.WriteLine($"DomainGap on {gapRows:N0} rows per domain of 100-d (fresh process, {v[3]} MiB before): median-heuristic MMD² {v[4]} in {v[1]} s, " +
        $"peak RSS {v[2]} MiB; then the proxy A-distance (ML.NET L-BFGS) in {v[5]} s, peak RSS {v[6]} MiB; then the report's t-SNE of both domains' rows " +
        $"(Barnes–Hut above {new TSneOptions().ExactMaxRows:N0} rows) in {tsne[1]} s, peak RSS {tsne[2]} MiB (target ≤ 1,024)");
}

// Images: peak RSS of a short training on generated 0–255 images in a fresh process (issue 14: pixels held as bytes).
int imageRowCount = int.Parse(arguments.GetValueOrDefault("image-rows", quick ? "2000" : "20000"));
if (imageRowCount > 0)
{
    int side = int.Parse(arguments.GetValueOrDefault("image-side", "64"));
    var v = ChildImages(imageRowCount, side, threads).Split(' ');
    double pixelsMiB = (double)imageRowCount * 3 * side * side / (1 << 20);
    Console.WriteLine();
    Console.WriteLine($"{string.Join(' ', v.Take(4))} (rows, side, peak RSS MiB: DANN, LeNet, 10 steps of 32 + 32 on {imageRowCount:N0} generated {side} × {side} × 3 images " +
        $"of 0–255, fresh process; {v[4]} MiB before Fit, Fit {v[5]} s; the pixels are {pixelsMiB:F0} MiB as bytes, {4 * pixelsMiB:F0} MiB as floats)");
}

// Memory soak: RSS after warm-up vs at the end of a long run (MLP, DANN: the cheapest step that touches every part of the loop).
if (soakSteps > 0)
{
    var (training, _, _, backbone, _) = MlpData(ml, 512);
    var options = new DannOptions { Backbone = backbone };
    options.Iterations = soakSteps;
    options.Seed = 0;
    options.NumberOfThreads = threads;
    options.ProgressInterval = Math.Max(1, soakSteps / 20);
    double rssAtWarmup = 0, rssAtEnd = 0;
    options.ProgressCallback = p =>
    {
        GC.Collect();
        if (p.Iteration == options.ProgressInterval) rssAtWarmup = RssMiB();
        if (p.Iteration == p.TotalIterations) rssAtEnd = RssMiB();
    };
    ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.DomainAdapt(options)).Fit(training);
    Console.WriteLine();
    Console.WriteLine($"memory soak (MLP 512-d, DANN, {soakSteps} steps): RSS {rssAtWarmup:F0} MiB after {options.ProgressInterval} steps, {rssAtEnd:F0} MiB at the end: growth {(rssAtEnd - rssAtWarmup) / rssAtWarmup * 100:F1} %");
}

static DomainAdaptationOptions BenchmarkOptions(string method, BackboneOptions backbone, int steps, int? threads)
{
    var (name, settings) = MethodEntry(method);
    var options = DomainAdaptationMethods.Create(name);
    options.Backbone = backbone is LeNetBackboneOptions
        ? new LeNetBackboneOptions { Normalization = options.Backbone.Normalization }
        : new MlpBackboneOptions { Normalization = options.Backbone.Normalization };
    options.Iterations = steps;
    options.BatchSize = 64;
    options.Seed = 0;
    options.NumberOfThreads = threads;
    if (settings != null)
        DomainAdaptationMethods.ApplySettings(options, settings); // after the benchmark's own settings, so an entry can change them
    return options;
}

// A --methods entry: "ADDA[SourceAnchorWeight=0]" is the method "ADDA" with those settings (DomainAdaptationMethods.ApplySettings).
static (string Name, string Settings) MethodEntry(string entry) =>
    entry.IndexOf('[') is int open and >= 0 ? (entry[..open], entry[(open + 1)..].TrimEnd(']')) : (entry, null);

static string MethodName(string entry) => MethodEntry(entry).Name;

// One Fit in a fresh child process (this program with --child-fit): ms per 1,000 steps over all its steps, the whole
// Fit's seconds, the threads it trained with and its peak RSS.
// With before: the native settings issue 18 added are switched off in the child (glibc's malloc as it is, OpenMP's own
// wait policy), as a training ran before them.
static (double MsPer1000, double FitSeconds, int Threads, double PeakRssMiB, double FaultsPerStep, double UserSecondsPer1000, double SystemSecondsPer1000) ChildFit(string network, string method, int steps, int threads, bool defaultThreads, bool before = false)
{
    var start = new ProcessStartInfo(Environment.ProcessPath)
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    if (before)
    {
        start.Environment[Microsoft.ML.DomainAdaptation.Training.MallocTuning.EnvironmentVariable] = "0";
        start.Environment[Microsoft.ML.DomainAdaptation.Training.ThreadPolicy.PassiveEnvironmentVariable] = "0";
        start.Environment.Remove("OMP_WAIT_POLICY"); // this process's own, set by the library at its start
    }
    if (!Environment.ProcessPath.EndsWith("Benchmarks", StringComparison.Ordinal))
        start.ArgumentList.Add(typeof(VectorRow).Assembly.Location); // run through the dotnet host
    foreach (var argument in new[] { "--child-fit", $"{network}:{method}", "--steps", steps.ToString(), "--threads", threads.ToString() })
        start.ArgumentList.Add(argument);
    if (defaultThreads)
        start.ArgumentList.Add("--default-threads");
    using var process = Process.Start(start);
    var stderr = process.StandardError.ReadToEndAsync();
    string stdout = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("FIRSTFIT "));
    if (process.ExitCode != 0 || line is null)
        throw new InvalidOperationException($"The child Fit of {method} on {network} failed (exit {process.ExitCode}): {stderr.Result}{stdout}");
    var v = line.Split(' ');
    double D(int i) => double.Parse(v[i], CultureInfo.InvariantCulture);
    return (D(1), D(2), int.Parse(v[3]), D(4), D(5), D(6), D(7));
}

// The IMAGES line of one training on generated images in a fresh child process (this program with --child-images).
static string ChildImages(int rows, int side, int threads)
{
    var start = new ProcessStartInfo(Environment.ProcessPath) { RedirectStandardOutput = true, RedirectStandardError = true };
    if (!Environment.ProcessPath.EndsWith("Benchmarks", StringComparison.Ordinal))
        start.ArgumentList.Add(typeof(VectorRow).Assembly.Location); // run through the dotnet host
    foreach (var argument in new[] { "--child-images", rows.ToString(), "--image-side", side.ToString(), "--threads", threads.ToString() })
        start.ArgumentList.Add(argument);
    using var process = Process.Start(start);
    var stderr = process.StandardError.ReadToEndAsync();
    string stdout = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    return stdout.Split('\n').FirstOrDefault(l => l.StartsWith("IMAGES "))
        ?? throw new InvalidOperationException($"The child training on {rows} generated images failed (exit {process.ExitCode}): {stderr.Result}{stdout}");
}

// Rows of random pixels, integers 0–255 as floats (as ExtractPixels gives them), the same on every pass: row r from seed r,
// 10 classes, the second half target rows.
static IEnumerable<ImageRow> GeneratedImages(int rows, int side)
{
    var bytes = new byte[3 * side * side];
    for (int r = 0; r < rows; r++)
    {
        new Random(r).NextBytes(bytes);
        var features = new float[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            features[i] = bytes[i];
        yield return new ImageRow { Features = features, Label = (uint)(r % 10), IsTarget = r >= rows / 2 };
    }
}

// Minor page faults and CPU seconds (user, system) of this process so far, from /proc/self/stat (clock ticks of 1/100 s).
static (long MinorFaults, double UserSeconds, double SystemSeconds) ProcessStat()
{
    string stat = File.ReadAllText("/proc/self/stat");
    var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // f[0] is field 3 (state)
    return (long.Parse(f[7]), long.Parse(f[11]) / 100.0, long.Parse(f[12]) / 100.0);
}

// A child process spinning one thread (this program with --burn): the load of another job on a shared machine.
static Process StartBurner(double seconds)
{
    var start = new ProcessStartInfo(Environment.ProcessPath);
    if (!Environment.ProcessPath.EndsWith("Benchmarks", StringComparison.Ordinal))
        start.ArgumentList.Add(typeof(VectorRow).Assembly.Location);
    start.ArgumentList.Add("--burn");
    start.ArgumentList.Add(seconds.ToString(CultureInfo.InvariantCulture));
    return Process.Start(start);
}

// Spins until `seconds` have passed or the parent process is gone (its parent id becomes another process's).
static void Burn(double seconds)
{
    int parent = ParentProcessId();
    var clock = Stopwatch.StartNew();
    double x = 0;
    while (clock.Elapsed.TotalSeconds < seconds && ParentProcessId() == parent)
    {
        for (int i = 0; i < 10_000_000; i++)
            x += Math.Sqrt(i);
    }
    GC.KeepAlive(x);
}

static int ParentProcessId()
{
    // /proc/self/stat: pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
    string stat = File.ReadAllText("/proc/self/stat");
    return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
}

// The best of 20 float GEMMs 1024 × 1024 × 1024 through libtorch, in GFLOP/s: the machine's reachable peak for dense work.
static double GemmPeakGflops(int threads)
{
    TorchSharp.torch.set_num_threads(threads);
    using var scope = TorchSharp.torch.NewDisposeScope();
    var a = TorchSharp.torch.rand(1024, 1024);
    var b = TorchSharp.torch.rand(1024, 1024);
    double best = double.MaxValue;
    for (int i = 0; i < 23; i++)
    {
        using var inner = TorchSharp.torch.NewDisposeScope();
        var clock = Stopwatch.StartNew();
        a.mm(b);
        if (i >= 3)
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
    }
    return 2.0 * 1024 * 1024 * 1024 / best / 1e9;
}

// Forward + backward passes of one batch through the backbone per step, relative to source-only (for the GFLOP/s estimate):
// methods with a target batch do two; MCD adds a no-grad pass of the source batch and n = 4 generator updates, the first of
// which reuses phase B's forward pass of the target batch (with gradients: a third of a pass there, two thirds in C); ADDA and M-ADDA
// spend half their steps source-only and half with a frozen forward plus a source + target pass.
// (without its source anchor, the adversarial stage's M_t passes only the target batch).
static double BatchPassesPerStep(string method, DomainAdaptationOptions options) => MethodName(method) switch
{
    "SourceOnly" or "SourceOnly+BN" or "AdaBN" => 1,
    "MCD" => 1 + 1.0 / 3 + 4,
    "ADDA" or "M-ADDA" => 0.5 * 1 + 0.5 * (1.0 / 3 + (((TwoStageAdversarialOptions)options).SourceAnchorWeight > 0 ? 2 : 1)),
    _ => 2,
};

// Runs the PyTorch reference for one method (Debian's python3-torch) and reads its JSON line.
static (double MsPer1000, double TargetAccuracy, double PeakRssMiB) RunReference(string script, string method, int steps, int threads)
{
    string output = Path.Combine(Path.GetTempPath(), $"da-ref-{Environment.ProcessId}-{method}.jsonl");
    File.Delete(output);
    var start = new ProcessStartInfo("/usr/bin/python3")
    {
        ArgumentList = { script, "--method", method, "--source", DigitsDomains.OptDigits, "--target", DigitsDomains.MnistOpenCv, "--seed", "0",
            "--iters", steps.ToString(), "--batch", "64", "--threads", threads.ToString(), "--eval-every", "0", "--out", output },
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    using var process = Process.Start(start);
    var stdoutTask = process.StandardOutput.ReadToEndAsync();
    var stderrTask = process.StandardError.ReadToEndAsync();
    // The child's own peak RSS, polled from /proc (VmHWM only grows): the script's getrusage ru_maxrss would report this
    // process's peak, which Linux carries into a child across fork and execve.
    double childPeakMiB = 0;
    while (!process.WaitForExit(100))
    {
        try
        {
            var hwm = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
            if (hwm != null)
                childPeakMiB = Math.Max(childPeakMiB, double.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024);
        }
        catch (IOException)
        {
            // exited between the check and the read
        }
    }
    string stdout = stdoutTask.Result, stderr = stderrTask.Result;
    if (process.ExitCode != 0 || !File.Exists(output))
        throw new InvalidOperationException($"The PyTorch reference failed (exit {process.ExitCode}): {stderr}{stdout}");
    using var json = System.Text.Json.JsonDocument.Parse(File.ReadLines(output).Last(l => l.Trim().Length > 0));
    File.Delete(output);
    var root = json.RootElement;
    return (root.GetProperty("sec_per_1k_iters").GetDouble() * 1000, root.GetProperty("target_acc").GetDouble(), childPeakMiB);
}

// Real digits for LeNet (28 × 28 × 1): optdigits → mnist-opencv; scoring rows are the target test rows repeated.
static (IDataView Training, float[][] Scoring, IDataView TargetTest, BackboneOptions Backbone, double FlopsPerStep) LeNetData(MLContext ml)
{
    var source = DigitsDomains.Load(ml, DigitsDomains.OptDigits, "train");
    var target = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "train");
    var training = ml.Data.Cache(ml.Data.CombineDomains(source, ml.Transforms.DropColumns("Label").Fit(target).Transform(target)));
    var features = target.GetColumn<float[]>("Features").ToArray();
    // Forward multiply-adds per image: the convolutions as the backbone counts them (24·24·32·25 + 8·8·48·800), fc 768·100,
    // classifier 100·100 + 100·10; a training step is about 3 forward passes (forward + backward), 2 FLOPs per multiply-add, 64 images.
    var backbone = new LeNetBackboneOptions();
    double macs = backbone.CreateSpec(28 * 28, NormalizationKind.None).ConvolutionMultiplyAddsPerRow.Value + 768 * 100 + 100 * 100 + 100 * 10;
    var targetTest = ml.Data.Cache(DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "test"));
    return (training, features, targetTest, backbone, macs * 2 * 3 * 64);
}

// Random 512-d vectors (an embedding from a pretrained featurizer, say), 10 classes, target shifted.
static (IDataView Training, float[][] Scoring, IDataView TargetTest, BackboneOptions Backbone, double FlopsPerStep) MlpData(MLContext ml, int size)
{
    var random = new Random(0);
    var rows = new List<VectorRow>();
    for (int i = 0; i < 20000; i++)
    {
        bool isTarget = i >= 10000;
        int label = i % 10;
        var features = new float[size];
        for (int j = 0; j < size; j++)
            features[j] = (float)(random.NextDouble() - 0.5 + (j % 10 == label ? 1 : 0) + (isTarget ? 0.3 : 0));
        rows.Add(new VectorRow { Features = features, Label = label, IsTarget = isTarget });
    }
    var definition = SchemaDefinition.Create(typeof(VectorRow));
    definition[nameof(VectorRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
    var training = ml.Data.LoadFromEnumerable(rows, definition);
    double macs = size * 256 + 256 * 100 + 100 * 100 + 100 * 10;
    var targetTest = ml.Data.LoadFromEnumerable(rows.Skip(10000).Take(2000).ToList(), definition);
    return (training, rows.Take(5000).Select(r => r.Features).ToArray(), targetTest, new MlpBackboneOptions(), macs * 2 * 3 * 64);
}

static (double TransformRowsPerSecond, double RawRowsPerSecond, double LatencyMicroseconds, double FirstTransformMs) Scoring(MLContext ml, DomainAdaptationTransformer adapter, float[][] pool, int count, bool raw = true)
{
    int size = pool[0].Length;
    var definition = SchemaDefinition.Create(typeof(ScoringRow));
    definition[nameof(ScoringRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
    var input = ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new ScoringRow { Features = pool[i % pool.Length] }), definition);

    // Transform: every row's Score read through a cursor. The model's first Transform (200 rows) is timed apart: it
    // builds the OnnxRuntime session from the model's export once, which the InferenceSession figures (a session built
    // beforehand, one warm-up batch) do not count either.
    var clock = Stopwatch.StartNew();
    ReadScores(adapter.Transform(input), Math.Min(count, 200));
    double firstTransformMs = clock.Elapsed.TotalMilliseconds;
    double transform = ReadScores(adapter.Transform(input), count);

    // Raw batched TorchSharp forward of the same network, 256 rows a batch, from ready managed arrays.
    double rawRate = double.NaN;
    if (raw)
    {
        var batch = new float[256 * size];
        var embeddings = new float[256 * adapter.EmbeddingSize];
        var probabilities = new float[256 * adapter.ClassCount];
        var scorer = new Microsoft.ML.DomainAdaptation.Transformer.NetworkScorer(adapter.Network, size);
        clock.Restart();
        for (int start = 0; start < count; start += 256)
        {
            int n = Math.Min(256, count - start);
            for (int i = 0; i < n; i++)
                pool[(start + i) % pool.Length].CopyTo(batch, i * size);
            scorer.Score(batch, n, embeddings, probabilities);
        }
        rawRate = count / clock.Elapsed.TotalSeconds;
    }

    var engine = ml.Model.CreatePredictionEngine<ScoringRow, ScoringOutput>(adapter, inputSchemaDefinition: definition);
    var one = new ScoringRow { Features = pool[0] };
    for (int i = 0; i < 100; i++)
        engine.Predict(one);
    int predictions = Math.Min(count, 5000);
    clock.Restart();
    for (int i = 0; i < predictions; i++)
    {
        one.Features = pool[i % pool.Length];
        engine.Predict(one);
    }
    return (transform, rawRate, clock.Elapsed.TotalMilliseconds * 1000 / predictions, firstTransformMs);
}

// The exported model against the TorchSharp network: raw forward and InferenceSession at batch 1 and 256, then
// the ML.NET pipelines (the transformer's Transform vs ApplyOnnxModel, every row's Score read through a cursor).
static List<string> OnnxScoring(MLContext ml, DomainAdaptationTransformer adapter, string network, float[][] pool, int count, out double onnxBatchRowsPerSecond)
{
    onnxBatchRowsPerSecond = 0;
    int size = pool[0].Length;
    string path = Path.Combine(Path.GetTempPath(), $"da-bench-{Environment.ProcessId}-{network}.onnx");
    adapter.ExportToOnnx(path);
    var result = new List<string>();
    try
    {
        var scorer = new Microsoft.ML.DomainAdaptation.Transformer.NetworkScorer(adapter.Network, size);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = TorchSharp.torch.get_num_threads(),
        });
        var definition = SchemaDefinition.Create(typeof(ScoringRow));
        definition[nameof(ScoringRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        var input = ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new ScoringRow { Features = pool[i % pool.Length] }), definition);
        ReadScores(adapter.Transform(input), Math.Min(count, 200)); // warm-up
        double torchPipeline = ReadScores(adapter.Transform(input), count);
        var onnxTransformer = ml.Transforms.ApplyOnnxModel(new[] { "Score" }, new[] { "Features" }, path).Fit(input);
        ReadScores(onnxTransformer.Transform(input), Math.Min(count, 200)); // warm-up
        double onnxPipeline = ReadScores(onnxTransformer.Transform(input), count);
        foreach (int batchSize in new[] { 1, 256 })
        {
            var batch = new float[batchSize * size];
            var embeddings = new float[batchSize * adapter.EmbeddingSize];
            var probabilities = new float[batchSize * adapter.ClassCount];
            double Time(Action<int> score)
            {
                score(Math.Min(batchSize, count)); // warm-up
                var clock = Stopwatch.StartNew();
                for (int start = 0; start < count; start += batchSize)
                {
                    int n = Math.Min(batchSize, count - start);
                    for (int i = 0; i < n; i++)
                        pool[(start + i) % pool.Length].CopyTo(batch, i * size);
                    score(n);
                }
                return count / clock.Elapsed.TotalSeconds;
            }
            double torch = Time(n => scorer.Score(batch, n, embeddings, probabilities));
            double onnx = Time(n =>
            {
                var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new Memory<float>(batch, 0, n * size), new[] { n, size });
                using var outputs = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Features", tensor) }, new[] { "Score" });
                outputs.First().AsTensor<float>().ToArray().CopyTo(probabilities, 0);
            });
            if (batchSize == 256)
                onnxBatchRowsPerSecond = onnx;
            result.Add($"| {network} | {batchSize} | {torch:N0} | {onnx:N0} | {(batchSize == 1 ? $"Transform {torchPipeline:N0} / ApplyOnnxModel {onnxPipeline:N0}" : "")} |");
            Console.WriteLine(result[^1]);
        }
    }
    finally
    {
        File.Delete(path);
    }
    return result;
}

// The transformer's own single-row OnnxRuntime scoring without ML.NET around it (features copied in, one run on the
// bound buffers): the floor of PredictionEngine under the OnnxRuntime engine, in µs per row.
static double BoundRowMicroseconds(DomainAdaptationTransformer adapter, float[][] pool, int count)
{
    using var row = adapter.Scoring.Bind(1);
    for (int i = 0; i < 100; i++)
        row.Score(1);
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < count; i++)
    {
        pool[i % pool.Length].CopyTo(row.Features, 0);
        row.Score(1);
    }
    return clock.Elapsed.TotalMilliseconds * 1000 / count;
}

// OnnxRuntime's InferenceSession on the transformer's own export: rows/s at `batchSize` over `count` rows of the pool.
static double SessionRowsPerSecond(DomainAdaptationTransformer adapter, float[][] pool, int count, int batchSize)
{
    int size = pool[0].Length;
    using var export = new MemoryStream();
    adapter.ExportToOnnx(export);
    using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(export.ToArray(), new Microsoft.ML.OnnxRuntime.SessionOptions
    {
        IntraOpNumThreads = TorchSharp.torch.get_num_threads(),
    });
    var batch = new float[batchSize * size];
    var probabilities = new float[batchSize * adapter.ClassCount];
    void Run(int start, int n)
    {
        for (int i = 0; i < n; i++)
            pool[(start + i) % pool.Length].CopyTo(batch, i * size);
        var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new Memory<float>(batch, 0, n * size), new[] { n, size });
        using var outputs = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Features", tensor) }, new[] { "Score" });
        outputs.First().AsTensor<float>().ToArray().CopyTo(probabilities, 0);
    }
    Run(0, Math.Min(batchSize, count)); // warm-up
    var clock = Stopwatch.StartNew();
    for (int start = 0; start < count; start += batchSize)
        Run(start, Math.Min(batchSize, count - start));
    return count / clock.Elapsed.TotalSeconds;
}

// Largest differences between the exported model and the network it was exported from, over `count` rows of the pool.
static string OnnxParity(DomainAdaptationTransformer adapter, string network, string method, float[][] pool, int count, List<string> failures)
{
    int size = pool[0].Length;
    string path = Path.Combine(Path.GetTempPath(), $"da-parity-{Environment.ProcessId}-{network}-{method}.onnx");
    adapter.ExportToOnnx(path);
    try
    {
        var scorer = new Microsoft.ML.DomainAdaptation.Transformer.NetworkScorer(adapter.Network, size);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        double scoreDiff = 0, embeddingDiff = 0;
        int same = 0;
        const int batchSize = 256;
        var batch = new float[batchSize * size];
        var embeddings = new float[batchSize * adapter.EmbeddingSize];
        var probabilities = new float[batchSize * adapter.ClassCount];
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            for (int i = 0; i < n; i++)
                pool[start + i].CopyTo(batch, i * size);
            scorer.Score(batch, n, embeddings, probabilities);
            var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new Memory<float>(batch, 0, n * size), new[] { n, size });
            using var outputs = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Features", tensor) });
            var onnxScore = outputs.Single(o => o.Name == "Score").AsTensor<float>().ToArray();
            var onnxEmbedding = outputs.Single(o => o.Name == "Embedding").AsTensor<float>().ToArray();
            var onnxClass = outputs.Single(o => o.Name == "PredictedLabel").AsTensor<long>().ToArray();
            for (int i = 0; i < n * adapter.ClassCount; i++)
                scoreDiff = Math.Max(scoreDiff, Math.Abs(onnxScore[i] - probabilities[i]));
            for (int i = 0; i < n * adapter.EmbeddingSize; i++)
                embeddingDiff = Math.Max(embeddingDiff, Math.Abs(onnxEmbedding[i] - embeddings[i]));
            for (int r = 0; r < n; r++)
            {
                var row = new ReadOnlySpan<float>(probabilities, r * adapter.ClassCount, adapter.ClassCount);
                int best = 0;
                for (int k = 1; k < row.Length; k++)
                    best = row[k] > row[best] ? k : best;
                same += onnxClass[r] == best ? 1 : 0;
            }
        }
        if (!(scoreDiff <= 1e-5) || same != count)
            failures.Add($"ONNX parity failed for {method} ({network}): max |Δ| on Score {scoreDiff:E1} (allowed 1E-005), same predicted class on {same} of {count} rows.");
        return $"| {network} | {method} | {count} | {scoreDiff:E1} | {embeddingDiff:E1} | {same} / {count} |";
    }
    finally
    {
        File.Delete(path);
    }
}

static double ReadScores(IDataView scored, int count)
{
    var clock = Stopwatch.StartNew();
    int read = 0;
    using (var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] }))
    {
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> value = default;
        while (read < count && cursor.MoveNext())
        {
            getter(ref value);
            read++;
        }
    }
    return read / clock.Elapsed.TotalSeconds;
}

static double RssMiB() => ReadStatusKiB("VmRSS:") / 1024.0;

static double PeakRssMiB() => ReadStatusKiB("VmHWM:") / 1024.0;

static double ReadStatusKiB(string key)
{
    var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key));
    return line is null ? double.NaN : double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':')[1].Trim() ?? "?" : "?";

internal sealed class VectorRow
{
    public float[] Features;
    public float Label;
    public bool IsTarget;
}

internal sealed class ImageRow
{
    public float[] Features;
    public uint Label;
    public bool IsTarget;
}

internal sealed class ScoringRow
{
    public float[] Features;
}

internal sealed class ScoringOutput
{
    public float[] Score;
}
