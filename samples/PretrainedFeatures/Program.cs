using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;

// PretrainedFeatures: the Office-31 way of working. Two image folders (root/<class>/<image>), a pretrained network
// (ResNet18 through ML.NET's DnnFeaturizeImage, or any ONNX model) turns every image into a feature vector once, and
// domain adaptation trains a small MLP on those features. Without folders, it writes two digit domains as PNG folders
// first: synthetic RGB digits (source) and the real mnist-opencv digits (target).
const string Usage = @"dotnet run --project samples/PretrainedFeatures -c Release -- [options]
  --source-folder DIR   labeled source images, DIR/<class>/<image> (default: synthetic RGB digits written to data/images/synthetic)
  --target-folder DIR   target images, same class folder names (default: real mnist-opencv digits written to data/images/mnist-opencv)
  --rows N              images per domain, a seeded random subset when a folder holds more (default 1000)
  --iterations N        training steps of each method (default 2000)
  --batch N             rows per domain per step (default 32)
  --seeds 0,1,2         one run per seed (default 0)
  --methods A,B         from the Digits sample's list (default SourceOnly,DANN,DeepCORAL,MMD)
  --target-test 0.3     fraction of the target images held out for the metrics, the rest being the unlabeled target;
                        'all': adapt to every target image and measure on all of them (the Office-31 papers' protocol)
  --upper-bound true    also train SourceOnly on the target training rows' own labels (what adaptation tries to approach)
  --onnx-model FILE     featurize with this ONNX model instead of ResNet18 (ApplyOnnxModel)
  --onnx-input NAME     its input (default 'input'); it gets planar 3 x size x size pixels, R, G, B
  --onnx-output NAME    its feature output (default 'output')
  --image-size N        side the images are resized to for the ONNX model (default 224; 64 with --fine-tune)
  --fine-tune           no feature cache: LoadImages -> ResizeImages -> ExtractPixels -> the method fine-tunes ResNet-18
                        (ImageNet weights of Microsoft.ML.DnnImageFeaturizer.ResNet18) end to end, in one saved pipeline
  --pixel-offset X --pixel-scale Y   pixels given to the ONNX model: ExtractPixels' (p - X) * Y for p in 0..255
                        (default 0 and 1/255)
Features are cached in data/features/, so a second run skips featurization.";
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(Usage);
    return;
}
var arguments = ResultTable.ParseArguments(args.Where(a => a != "--fine-tune").ToArray(), "--source-folder, --target-folder, --rows, --iterations, --batch, --seeds, --methods, " +
    "--target-test, --upper-bound, --onnx-model, --onnx-input, --onnx-output, --image-size, --pixel-offset, --pixel-scale, --fine-tune, --help");
int rows = int.Parse(arguments.GetValueOrDefault("rows", "1000"));
int iterations = int.Parse(arguments.GetValueOrDefault("iterations", "2000"));
int batchSize = int.Parse(arguments.GetValueOrDefault("batch", "32"));
var seeds = arguments.GetValueOrDefault("seeds", "0").Split(',').Select(int.Parse).ToArray();
var methodNames = arguments.GetValueOrDefault("methods", "SourceOnly,DANN,DeepCORAL,MMD").Split(',');
string targetTest = arguments.GetValueOrDefault("target-test", "0.3");
string onnxModel = arguments.GetValueOrDefault("onnx-model");
bool fineTune = args.Contains("--fine-tune");
if (fineTune && onnxModel is not null)
{
    Console.Error.WriteLine("--fine-tune: fine-tunes ResNet-18; it does not take --onnx-model.");
    Environment.Exit(2);
}
int imageSize = int.Parse(arguments.GetValueOrDefault("image-size", fineTune ? "64" : "224"));
string cache = Path.Combine(AppContext.BaseDirectory, "data");

var mlContext = new MLContext(seed: 0);

// 1. The two image folders.
string sourceFolder = arguments.GetValueOrDefault("source-folder") ?? WriteSyntheticDigits(Path.Combine(cache, "images", "synthetic"), rows);
string targetFolder = arguments.GetValueOrDefault("target-folder") ?? WriteRealDigits(Path.Combine(cache, "images", DigitsDomains.MnistOpenCv));

// 2. Features: image → pixels → pretrained network, computed once per folder and cached as an ML.NET binary file.
string featurizerName = fineTune ? $"ResNet-18 fine-tuned on {imageSize} px images" : onnxModel is null ? "ResNet18" : $"ONNX {Path.GetFileName(onnxModel)}";
var sourceImages = mlContext.Data.LoadImageFolder(sourceFolder);
var classNames = KeyValues(sourceImages.Schema["Label"]);
// The target's keys follow the source's class list, so a class folder missing from the target does not shift them.
var targetImages = mlContext.Data.LoadImageFolder(targetFolder, new ImageFolderOptions { ClassNames = classNames });
var rates = new List<double>();
// Fine-tuning reads the pixels inside the trained pipeline (the paths are the data); otherwise the features are cached.
var source = fineTune ? Subset(sourceImages) : Featurize(sourceImages, sourceFolder);
var target = fineTune ? Subset(targetImages) : Featurize(targetImages, targetFolder);

// 3. Splits: held-out source rows measure the source fit; the target's held-out rows are the test rows, the rest is
// the unlabeled target the methods adapt to (its labels are dropped). With "all", the test rows are the adaptation rows.
var sourceSplit = mlContext.Data.TrainTestSplit(source, testFraction: 0.2, seed: 0);
var targetSplit = targetTest == "all" ? (TrainSet: target, TestSet: target)
    : Split(mlContext.Data.TrainTestSplit(target, testFraction: double.Parse(targetTest, System.Globalization.CultureInfo.InvariantCulture), seed: 0));
var unlabeledTarget = mlContext.Transforms.DropColumns("Label").Fit(targetSplit.TrainSet).Transform(targetSplit.TrainSet);
var trainingData = mlContext.Data.Cache(mlContext.Data.CombineDomains(sourceSplit.TrainSet, unlabeledTarget));
int featureSize = fineTune ? 3 * imageSize * imageSize : ((VectorDataViewType)source.Schema["Features"].Type).Size;
Console.WriteLine($"{Count(sourceSplit.TrainSet)} source + {Count(unlabeledTarget)} unlabeled target training rows, {Count(targetSplit.TestSet)} target test rows, " +
    $"{featureSize} features, {classNames.Length} classes.");

// 4. Adaptation on the features: an MLP backbone, each method with the same budget.
string direction = $"{DomainName(sourceFolder)} → {DomainName(targetFolder)}";
var results = new List<RunResult>();
var runs = methodNames.Select(m => (Name: m, Method: m, Data: trainingData)).ToList();
// Not with "all": the target test rows would be its training rows.
if (bool.Parse(arguments.GetValueOrDefault("upper-bound", "true")) && targetTest != "all")
    runs.Add(("SourceOnly on target labels (upper bound)", "SourceOnly", mlContext.Data.Cache(mlContext.Data.CombineDomains(targetSplit.TrainSet, unlabeledTarget))));
foreach (var (name, method, data) in runs)
{
    foreach (int seed in seeds)
    {
        var options = DomainAdaptationMethods.Create(method);
        // ExtractPixels' defaults (planar R, G, B, 0–255) are the ResNet backbone's default input.
        options.Backbone = fineTune ? new ResNetBackboneOptions { ImageSize = imageSize }
            : new MlpBackboneOptions { Normalization = options.Backbone.Normalization };
        options.Iterations = iterations;
        options.BatchSize = batchSize;
        options.Seed = seed;
        options.NumberOfThreads = Environment.ProcessorCount;
        var watch = Stopwatch.StartNew();
        var model = fineTune
            ? PixelPipeline().Append(mlContext.MulticlassClassification.Trainers.DomainAdaptation(options)).Fit(data)
            : (ITransformer)mlContext.Transforms.DomainAdapt(options).Fit(data);
        double seconds = watch.Elapsed.TotalSeconds;
        var targetMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(targetSplit.TestSet));
        var sourceMetrics = mlContext.MulticlassClassification.Evaluate(model.Transform(sourceSplit.TestSet));
        Console.WriteLine($"{name}, seed {seed}: target {targetMetrics.MicroAccuracy:P1}, source {sourceMetrics.MicroAccuracy:P1} ({seconds:F0} s)");
        results.Add(new RunResult(direction, name, seed, targetMetrics.MicroAccuracy, targetMetrics.MacroAccuracy,
            targetMetrics.LogLoss, sourceMetrics.MicroAccuracy, seconds / iterations * 1000));
    }
}

Console.WriteLine();
Console.WriteLine($"Target test metrics (ML.NET MulticlassClassification.Evaluate), {(fineTune ? featurizerName : $"{featurizerName} features, MLP backbone")}, {iterations} steps, " +
    $"batch {batchSize} + {batchSize}, seeds {string.Join(",", seeds)}; mean ± standard deviation over seeds; Fit seconds per 1,000 steps.");
Console.WriteLine();
ResultTable.Print(results, "source test MicroAccuracy %");
if (rates.Count > 0)
    Console.WriteLine($"\nFeaturization ({featurizerName}, {Environment.ProcessorCount} cores): {string.Join(", ", rates.Select(r => $"{r:F1}"))} rows/s.");

// Featurizes up to `rows` images of a folder (a seeded random subset) or reads them from the cache.
IDataView Featurize(IDataView images, string folder)
{
    // A changed ONNX file (size or time) or folder path, row count or class list gives another cache file.
    string model = onnxModel is null ? "" : $"{Path.GetFullPath(onnxModel)}:{new FileInfo(onnxModel).Length}:{File.GetLastWriteTimeUtc(onnxModel).Ticks}";
    string key = $"{Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))}|{rows}|{featurizerName}|{model}|{arguments.GetValueOrDefault("onnx-input")}|" +
        $"{arguments.GetValueOrDefault("onnx-output")}|{imageSize}|{arguments.GetValueOrDefault("pixel-offset")}|{arguments.GetValueOrDefault("pixel-scale")}|{string.Join(",", classNames)}";
    string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12].ToLowerInvariant();
    string file = Path.Combine(cache, "features", $"{DomainName(folder)}-{hash}.idv");
    if (File.Exists(file))
    {
        Console.WriteLine($"{folder}: features from {file}");
        return mlContext.Data.LoadFromBinary(file);
    }
    // The folder's rows come in class order: a full shuffle (pool = all rows, paths only) before taking a subset.
    long total = Count(images);
    var subset = mlContext.Data.TakeRows(mlContext.Data.ShuffleRows(images, seed: 0, shufflePoolSize: (int)Math.Max(total, 1)), rows);
    var featurized = FeaturePipeline().Fit(subset).Transform(subset);
    Directory.CreateDirectory(Path.GetDirectoryName(file));
    var watch = Stopwatch.StartNew();
    string partial = file + ".partial";
    using (var stream = File.Create(partial))
        mlContext.Data.SaveAsBinary(featurized, stream, keepHidden: false);
    File.Move(partial, file, overwrite: true);
    long n = Math.Min(rows, total);
    rates.Add(n / watch.Elapsed.TotalSeconds);
    Console.WriteLine($"{folder}: featurized {n} images with {featurizerName} in {watch.Elapsed.TotalSeconds:F0} s ({rates[^1]:F1} rows/s), cached in {file}");
    return mlContext.Data.LoadFromBinary(file);
}

// Up to `rows` image paths of a folder (a seeded random subset when it holds more), kept in memory.
IDataView Subset(IDataView images)
{
    long total = Count(images);
    return mlContext.Data.Cache(mlContext.Data.TakeRows(mlContext.Data.ShuffleRows(images, seed: 0, shufflePoolSize: (int)Math.Max(total, 1)), rows));
}

// Image path -> the planar 0–255 pixels the ResNet backbone takes, as the first steps of the trained pipeline.
IEstimator<ITransformer> PixelPipeline() =>
    mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath")
        .Append(mlContext.Transforms.ResizeImages("Image", imageSize, imageSize))
        .Append(mlContext.Transforms.ExtractPixels("Features", "Image"));

IEstimator<ITransformer> FeaturePipeline()
{
    // Paths from LoadImageFolder are absolute: no image folder for LoadImages.
    var images = mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath");
    IEstimator<ITransformer> pipeline;
    if (onnxModel is null)
    {
        // ResNet18's own ONNX preprocessing (shipped with the featurizer) normalises the pixels: it takes ExtractPixels'
        // default output (planar RGB, 0–255), as ML.NET's DnnFeaturizeImage samples do.
        pipeline = images
            .Append(mlContext.Transforms.ResizeImages("Image", 224, 224))
            .Append(mlContext.Transforms.ExtractPixels("Pixels", "Image"))
            .Append(mlContext.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(mlContext, m.OutputColumn, m.InputColumn), "Pixels"));
    }
    else
    {
        float offset = float.Parse(arguments.GetValueOrDefault("pixel-offset", "0"), System.Globalization.CultureInfo.InvariantCulture);
        float scale = float.Parse(arguments.GetValueOrDefault("pixel-scale", (1 / 255f).ToString("R", System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);
        string input = arguments.GetValueOrDefault("onnx-input") ?? "input";
        string output = arguments.GetValueOrDefault("onnx-output") ?? "output";
        pipeline = images
            .Append(mlContext.Transforms.ResizeImages("Image", imageSize, imageSize))
            .Append(mlContext.Transforms.ExtractPixels(input, "Image", offsetImage: offset, scaleImage: scale))
            .Append(mlContext.Transforms.ApplyOnnxModel(new[] { output }, new[] { input }, onnxModel))
            .Append(mlContext.Transforms.CopyColumns("Features", output));
    }
    // Only what adaptation needs goes into the cache.
    return pipeline.Append(mlContext.Transforms.SelectColumns("Label", "Features"));
}

// The folder's name, or its parent's for Office-31's amazon/images layout.
static string DomainName(string folder)
{
    var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
    string name = Path.GetFileName(full);
    return name == "images" ? Path.GetFileName(Path.GetDirectoryName(full)) : name;
}

static (IDataView TrainSet, IDataView TestSet) Split(DataOperationsCatalog.TrainTestData split) => (split.TrainSet, split.TestSet);

static long Count(IDataView data)
{
    if (data.GetRowCount() is long known)
        return known;
    long n = 0;
    using var cursor = data.GetRowCursor(Array.Empty<DataViewSchema.Column>());
    while (cursor.MoveNext())
        n++;
    return n;
}

static string[] KeyValues(DataViewSchema.Column column)
{
    var values = default(VBuffer<ReadOnlyMemory<char>>);
    column.GetKeyValues(ref values);
    return values.DenseValues().Select(v => v.ToString()).ToArray();
}

// Synthetic colour digits, 32 × 32, written once (again only when more rows are asked for).
static string WriteSyntheticDigits(string folder, int count)
{
    if (Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories).Count() >= count)
        return folder;
    var watch = Stopwatch.StartNew();
    SyntheticDigits.WriteImages(new SyntheticDigitsOptions { Channels = 3, Height = 32, Width = 32, Seed = 0 }, folder, count);
    Console.WriteLine($"Wrote {count} synthetic RGB digits to {folder} ({watch.Elapsed.TotalSeconds:F1} s)");
    return folder;
}

// The real mnist-opencv digits (both of its splits: 5,000 images), 32 × 32 grey PNGs, written once.
string WriteRealDigits(string folder)
{
    if (Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories).Any())
        return folder;
    var watch = Stopwatch.StartNew();
    // Both splits in one view (CombineDomains streams one after the other), so the row numbers naming the files are unique;
    // the Single label (the digit) names the class folders "0" … "9" like the synthetic ones.
    var digits = mlContext.Data.CombineDomains(DigitsDomains.Load(mlContext, DigitsDomains.MnistOpenCv, "train", size: 32),
        DigitsDomains.Load(mlContext, DigitsDomains.MnistOpenCv, "test", size: 32));
    int written = mlContext.Data.SaveAsImageFolder(digits, folder).Length;
    Console.WriteLine($"Wrote {written} real {DigitsDomains.MnistOpenCv} digits to {folder} ({watch.Elapsed.TotalSeconds:F1} s)");
    return folder;
}
