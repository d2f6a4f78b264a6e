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

// Performance benchmark: per method, training time per 1,000 steps after warm-up, whole Fit time (IDataView reading
// included), scoring throughput of Transform and of a raw batched forward, PredictionEngine latency, peak RSS and RSS
// growth over a long run. Prints tables; exits with 1 when a method's exported ONNX model differs from its transformer
// (max |Δ| on Score above 1e-5, or another predicted class).
//   dotnet run --project test/Microsoft.ML.DomainAdaptation.Benchmarks -c Release -- [--steps 1000] [--threads 2]
//       [--methods SourceOnly,DANN,... | all] [--networks lenet,mlp] [--score-rows 100000 (also the ONNX scoring section, run on the first method)] [--soak-steps 20000] [--quick]
//       [--pytorch path/to/da_ref.py]   (runs the PyTorch reference of each LeNet method the same way, one job at a time,
//                                        and prints both side by side with their ratio)
var arguments = new Dictionary<string, string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--quick")
        arguments["quick"] = "true";
    else if (args[i].StartsWith("--") && i + 1 < args.Length)
        arguments[args[i][2..]] = args[++i];
    else
        throw new ArgumentException($"Unexpected argument '{args[i]}'.");
}
bool quick = arguments.ContainsKey("quick");
int steps = int.Parse(arguments.GetValueOrDefault("steps", quick ? "60" : "1000"));
int warmup = Math.Min(50, steps / 4);
int threads = int.Parse(arguments.GetValueOrDefault("threads", Environment.ProcessorCount.ToString()));
int scoreRows = int.Parse(arguments.GetValueOrDefault("score-rows", quick ? "2000" : "100000"));
int soakSteps = int.Parse(arguments.GetValueOrDefault("soak-steps", quick ? "200" : "20000"));
string methodList = arguments.GetValueOrDefault("methods", "SourceOnly,DANN,DeepCORAL,MMD,MCD,ADDA,AdaBN");
var methods = methodList == "all" ? DigitsMethods.Names : methodList.Split(',');
string pytorchScript = arguments.GetValueOrDefault("pytorch");
// The PyTorch reference's name of each method it implements.
var referenceNames = new Dictionary<string, string>
{
    ["SourceOnly"] = "source_only", ["DANN"] = "dann", ["DeepCORAL"] = "coral", ["MMD"] = "mmd", ["MCD"] = "mcd", ["ADDA"] = "adda",
};
var sideBySide = new List<string>();
var networks = arguments.GetValueOrDefault("networks", "lenet,mlp").Split(',');

TorchSharp.torch.set_num_threads(threads);
Console.WriteLine($"threads: {TorchSharp.torch.get_num_threads()} (torch.set_num_threads), processors: {Environment.ProcessorCount}, " +
    $"CPU: {CpuModel()}, .NET {Environment.Version}, steps timed: {steps - warmup} after {warmup} warm-up");
Console.WriteLine();

var ml = new MLContext(seed: 0);
var rows = new List<string>();
var onnxRows = new List<string>();
var parityRows = new List<string>();
var parityFailures = new List<string>(); // README promises max |Δ| ≤ 1e-5 on Score and the same classes for every method
foreach (var network in networks)
{
    var (training, scoring, targetTest, backbone, flopsPerStep) = network switch
    {
        "lenet" => LeNetData(ml),
        "mlp" => MlpData(ml, 512),
        _ => throw new ArgumentException($"Unknown network '{network}' (lenet, mlp)."),
    };
    foreach (var method in methods)
    {
        var options = DigitsMethods.Create(method);
        options.Backbone = backbone is LeNetBackboneOptions
            ? new LeNetBackboneOptions { Normalization = options.Backbone.Normalization }
            : new MlpBackboneOptions { Normalization = options.Backbone.Normalization };
        options.Iterations = steps;
        options.BatchSize = 64;
        options.Seed = 0;
        options.NumberOfThreads = threads;
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
        double stepFlops = flopsPerStep * BatchPassesPerStep(method);
        double gflops = stepFlops / (msPer1000 / 1000 / 1000) / 1e9;

        var (transformRowsPerSecond, rawRowsPerSecond, latencyMicroseconds) = Scoring(ml, model.LastTransformer, scoring, scoreRows);
        rows.Add($"| {network} | {method} | {msPer1000:F0} | {gflops:F1} | {fitSeconds:F1} | {overhead * 100:F1} % | {transformRowsPerSecond:N0} | {rawRowsPerSecond:N0} | {transformRowsPerSecond / rawRowsPerSecond * 100:F0} % | {latencyMicroseconds:F0} | {PeakRssMiB():F0} |");
        Console.WriteLine(rows[^1]);
        double targetAccuracy = ml.MulticlassClassification.Evaluate(model.Transform(targetTest)).MicroAccuracy;
        if (method == methods[0])
            onnxRows.AddRange(OnnxScoring(ml, model.LastTransformer, network, scoring, scoreRows));
        parityRows.Add(OnnxParity(model.LastTransformer, network, method, scoring, Math.Min(scoring.Length, 2000), parityFailures));
        Console.WriteLine(parityRows[^1]);
        model.LastTransformer.Dispose();
        if (pytorchScript != null && network == "lenet" && referenceNames.TryGetValue(method, out var referenceName))
        {
            var reference = RunReference(pytorchScript, referenceName, steps, threads);
            sideBySide.Add($"| {method} | {msPer1000:F0} | {reference.MsPer1000:F0} | {msPer1000 / reference.MsPer1000:F2} | {targetAccuracy * 100:F1} | " +
                $"{reference.TargetAccuracy * 100:F1} | {PeakRssMiB():F0} | {reference.PeakRssMiB:F0} |");
            Console.WriteLine(sideBySide[^1]);
        }
    }
}

Console.WriteLine();
Console.WriteLine("| network | method | ms / 1000 steps | GFLOP/s (est.) | Fit s | Fit overhead | Transform rows/s | raw forward rows/s | Transform / raw | PredictionEngine µs/row | peak RSS MiB |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
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

// Memory soak: RSS after warm-up vs at the end of a long run (MLP, DANN: the cheapest step that touches every part of the loop).
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

// Forward + backward passes of one batch through the backbone per step, relative to source-only (for the GFLOP/s estimate):
// methods with a target batch do two; MCD adds a no-grad pass of both batches and n = 4 generator updates; ADDA and M-ADDA
// spend half their steps source-only and half with a frozen forward plus a source + target pass.
static double BatchPassesPerStep(string method) => method switch
{
    "SourceOnly" or "SourceOnly+BN" or "AdaBN" => 1,
    "MCD" => 1 + 2.0 / 3 + 4,
    "ADDA" or "M-ADDA" => 0.5 * 1 + 0.5 * (1.0 / 3 + 2),
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
    string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0 || !File.Exists(output))
        throw new InvalidOperationException($"The PyTorch reference failed (exit {process.ExitCode}): {stderr}{stdout}");
    using var json = System.Text.Json.JsonDocument.Parse(File.ReadLines(output).Last(l => l.Trim().Length > 0));
    File.Delete(output);
    var root = json.RootElement;
    return (root.GetProperty("sec_per_1k_iters").GetDouble() * 1000, root.GetProperty("target_acc").GetDouble(), root.GetProperty("peak_rss_mib").GetDouble());
}

// Real digits for LeNet (28 × 28 × 1): optdigits → mnist-opencv; scoring rows are the target test rows repeated.
static (IDataView Training, float[][] Scoring, IDataView TargetTest, BackboneOptions Backbone, double FlopsPerStep) LeNetData(MLContext ml)
{
    var source = DigitsDomains.Load(ml, DigitsDomains.OptDigits, "train");
    var target = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "train");
    var training = ml.Data.Cache(ml.Data.CombineDomains(source, ml.Transforms.DropColumns("Label").Fit(target).Transform(target)));
    var features = target.GetColumn<float[]>("Features").ToArray();
    // Forward multiply-adds per image: conv1 24·24·32·25, conv2 8·8·48·800, fc 768·100, classifier 100·100 + 100·10;
    // a training step is about 3 forward passes (forward + backward), 2 FLOPs per multiply-add, 64 images.
    double macs = 24 * 24 * 32 * 25 + 8 * 8 * 48 * 800 + 768 * 100 + 100 * 100 + 100 * 10;
    var targetTest = ml.Data.Cache(DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "test"));
    return (training, features, targetTest, new LeNetBackboneOptions(), macs * 2 * 3 * 64);
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

static (double TransformRowsPerSecond, double RawRowsPerSecond, double LatencyMicroseconds) Scoring(MLContext ml, DomainAdaptationTransformer adapter, float[][] pool, int count)
{
    int size = pool[0].Length;
    var definition = SchemaDefinition.Create(typeof(ScoringRow));
    definition[nameof(ScoringRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
    var input = ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new ScoringRow { Features = pool[i % pool.Length] }), definition);

    // Transform: every row's Score read through a cursor.
    var clock = Stopwatch.StartNew();
    var scored = adapter.Transform(input);
    using (var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] }))
    {
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
            getter(ref value);
    }
    double transform = count / clock.Elapsed.TotalSeconds;

    // Raw batched TorchSharp forward of the same network, 256 rows a batch, from ready managed arrays.
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
    double raw = count / clock.Elapsed.TotalSeconds;

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
    return (transform, raw, clock.Elapsed.TotalMilliseconds * 1000 / predictions);
}

// The exported model against the TorchSharp network: raw forward and InferenceSession at batch 1 and 256, then
// the ML.NET pipelines (the transformer's Transform vs ApplyOnnxModel, every row's Score read through a cursor).
static List<string> OnnxScoring(MLContext ml, DomainAdaptationTransformer adapter, string network, float[][] pool, int count)
{
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

internal sealed class ScoringRow
{
    public float[] Features;
}

internal sealed class ScoringOutput
{
    public float[] Score;
}
