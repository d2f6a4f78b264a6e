using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML.Data;
using Spectre.Console;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>The tool's commands: their options and what they do.</summary>
    internal static class Commands
    {
        private const string RowsHelp = "a file of 0-based row indices, one per line (as the digits' train-indices.txt): only those rows are used, " +
            "in that order; messages and predict's Row keep the data's own numbers, from 1";

        private const string DataHelp = "an IDX images file (labels from --*-labels or the '*labels*idx1*' file beside it), " +
            "a folder of class/image files, or a .csv/.tsv table with a header";

        public static System.CommandLine.Command Train()
        {
            var method = Required<string>("--method", $"The method: {string.Join(", ", DomainAdaptationMethods.Names)} (case-insensitive), or auto: source-only and {string.Join(", ", Program.AutoCandidates)} " +
                "ranked without target labels by reverse validation on held-out rows, with source-only kept when no method scores above it.", "-m");
            var source = Required<string>("--source", $"Labeled source data: {DataHelp}.", "-s");
            var target = Required<string>("--target", "Target data, same kind as the source; its labels, if any, are not used for training.", "-t");
            var sourceLabels = Optional<string>("--source-labels", "IDX labels file of the source images.");
            var targetLabels = Optional<string>("--target-labels", "IDX labels file of the target images (only to print the target accuracy).");
            var sourceRows = Optional<string>("--source-rows", $"Source split: {RowsHelp}.");
            var targetRows = Optional<string>("--target-rows", $"Target split: {RowsHelp}.");
            var labelColumn = WithDefault("--label-column", "Tables: the label column; every other column of numbers (most of its cells) is a feature, and each of its cells must be a finite number.", "Label");
            var iterations = WithDefault("--iterations", "Training steps.", 2000, "-i");
            var batch = WithDefault("--batch", "Rows per domain and step.", 64, "-b");
            var learningRate = WithDefault("--learning-rate", "SGD learning rate (annealed).", 0.01f);
            var seed = WithDefault("--seed", "Random seed (same seed, same model).", 0);
            var network = WithDefault("--network", "Backbone: lenet (images), mlp (any vector), or auto: lenet for images, mlp for tables.", "auto");
            network.AcceptOnlyFromAmong("auto", "lenet", "mlp");
            var imageSize = Optional<int?>("--image-size", "Images: height and width the images are resized to (IDX: the source's own by default; folders: 32).");
            var channels = Optional<int?>("--channels", "Images: 1 (grey) or 3 (RGB). IDX: 1 by default; folders: 3.");
            var threads = WithDefault("--threads", "CPU threads for libtorch.", Environment.ProcessorCount);
            var device = WithDefault("--device", "Where training runs: cpu, cuda or cuda:N (needs TorchSharp's CUDA build and an NVIDIA GPU).", "cpu");
            var validateEvery = Optional<int?>("--validate-every", "Score the network every N steps on held-out rows of both domains without target labels " +
                "(TargetEntropy) and keep the chosen step (Options.Validation.Interval).");
            var keepBest = WithDefault("--keep-best", "With --validate-every: keep the chosen step's weights (the latest that no earlier step beats on both the score and the held-out source accuracy) rather than the last (true or false).", true);
            var checkpoint = Optional<string>("--checkpoint", "A file to write the training state to every --checkpoint-every steps; continue a killed run with --resume.");
            var checkpointEvery = WithDefault("--checkpoint-every", "Steps between two checkpoints.", 500);
            var resume = Optional<string>("--resume", "A checkpoint file (--checkpoint) to continue training from, with the same method, data, steps, batch and seed.");
            var set = Optional<string>("--set", "Further options of the method, \"Option=value;Option=value\", applied after the flags above: public fields of the " +
                "method's options class (e.g. DannOptions) or, dotted, of its backbone or validation: \"DiscrepancyWeight=0.5;Backbone.EmbeddingSize=64;Validation.Interval=100\". " +
                "With --method auto they apply to every candidate.");
            var output = WithDefault("--output", "The model file to write: an ML.NET model zip holding the whole chain from the raw input (image path, IDX pixels or table columns) to the class name. Code to use it from an application is written beside it, in <model>.consumption/.", "model.zip", "-o");
            var history = Optional<string>("--history", "The CSV file to write the per-step training history into (losses, learning rate, " +
                "coefficients), which 'report' plots. Default: beside the model, <model>.history.csv.");
            var command = new System.CommandLine.Command("train", "Train a domain-adaptation model and save it as an ML.NET model zip.")
            {
                method, source, target, sourceLabels, targetLabels, sourceRows, targetRows, labelColumn, iterations, batch, learningRate, seed, network,
                imageSize, channels, threads, device, validateEvery, keepBest, checkpoint, checkpointEvery, resume, set, output, history,
            };
            command.SetAction(r => Program.Run(() =>
            {
                bool auto = Program.IsAuto(r.GetValue(method));
                string methodName = auto ? "auto" : Program.MethodName(r.GetValue(method));
                // Outputs are checked before the data is read and the network trained: a bad path must not cost a training.
                string path = Program.CheckOutputFile(r.GetValue(output), "--output");
                string historyPath = Program.CheckOutputFile(r.GetValue(history) ?? HistoryPathOf(path), "--history");
                string consumptionFolder = Program.CheckOutputFolder(ConsumptionCode.FolderOf(path), "--output");
                if (historyPath == path)
                    throw new CliException(ExitCodes.BadInput, $"--history: '{historyPath}' is also the model file (--output); give another file.");
                if (r.GetValue(imageSize) is int size && size < 1)
                    throw new CliException(ExitCodes.BadInput, $"--image-size must be a positive number of pixels; got {size}.");
                if (r.GetValue(channels) is int channelCount && channelCount is not (1 or 3))
                    throw new CliException(ExitCodes.BadInput, $"--channels must be 1 (grey) or 3 (RGB); got {channelCount}.");
                // Options checked before any data is read or trained on, each error naming the option.
                if (!TryDevice(r.GetValue(device), out bool cuda))
                    throw new CliException(ExitCodes.BadInput, $"--device must be cpu, cuda or cuda:N; got '{r.GetValue(device)}'.");
                if (cuda && !TorchSharp.torch.cuda.is_available())
                    throw new CliException(ExitCodes.BadInput, $"--device {r.GetValue(device)}: CUDA is not available to TorchSharp here (this build uses the CPU libtorch, " +
                        "or the machine has no usable NVIDIA GPU); use --device cpu.");
                if (r.GetValue(validateEvery) is int every && every < 1)
                    throw new CliException(ExitCodes.BadInput, $"--validate-every must be a positive number of steps; got {every}.");
                if (r.GetValue(checkpointEvery) < 1)
                    throw new CliException(ExitCodes.BadInput, $"--checkpoint-every must be a positive number of steps; got {r.GetValue(checkpointEvery)}.");
                string checkpointPath = r.GetValue(checkpoint) is string c ? Program.CheckOutputFile(c, "--checkpoint") : null;
                if (r.GetValue(resume) is string resumePath && !File.Exists(resumePath))
                    throw new CliException(ExitCodes.BadInput, $"--resume: checkpoint file '{resumePath}' does not exist.");
                // --set checked now on each method's options and the kind of backbone the data will get (names, types);
                // applied below, after the flags, on the options trained.
                bool lenet = r.GetValue(network) == "lenet" || r.GetValue(network) == "auto" && DataReader.IsImages(r.GetValue(source));
                foreach (string name in auto ? Program.AutoCandidates.Prepend("SourceOnly") : new[] { methodName })
                {
                    var check = DomainAdaptationMethods.Create(name);
                    check.Backbone = lenet ? new LeNetBackboneOptions() : new MlpBackboneOptions();
                    ApplySettings(check, r.GetValue(set), name);
                }
                var sourceSplit = RowSelection.Read(r.GetValue(sourceRows), "--source-rows");
                var targetSplit = RowSelection.Read(r.GetValue(targetRows), "--target-rows");
                var mlContext = new MLContext(seed: r.GetValue(seed));
                var settings = new DataReader.Settings { ImageSize = r.GetValue(imageSize), Channels = r.GetValue(channels), LabelColumn = r.GetValue(labelColumn) };
                var (rawSource, description) = DataReader.ReadSource(mlContext, r.GetValue(source), r.GetValue(sourceLabels), settings, sourceSplit);
                var rawTarget = DataReader.Read(mlContext, r.GetValue(target), r.GetValue(targetLabels), description, "Target", targetSplit);
                // The preprocessing (resize, scale, standardise) is fitted on the source and saved at the head of the model.
                var preprocessing = Preprocessing.Fit(mlContext, description, rawSource);
                var sourceData = Preprocessing.Featurize(mlContext, description, preprocessing, rawSource);
                var targetData = Preprocessing.Featurize(mlContext, description, preprocessing, rawTarget);
                Console.WriteLine($"Source: {sourceData.Count} rows, target: {targetData.Count} rows; {description}.");

                string networkName = r.GetValue(network) == "auto" ? (description.IsImage ? "lenet" : "mlp") : r.GetValue(network);
                if (networkName == "lenet" && !description.IsImage)
                    throw new CliException(ExitCodes.BadInput, "--network lenet needs images (an IDX file or an image folder); use mlp for tables.");
                DomainAdaptationOptions Configure(string name)
                {
                    var options = DomainAdaptationMethods.Create(name);
                    var normalization = options.Backbone.Normalization; // the method's table chooses only the normalisation
                    options.Backbone = networkName == "lenet"
                        ? new LeNetBackboneOptions { Channels = description.Shape[0], Height = description.Shape[1], Width = description.Shape[2], Normalization = normalization }
                        : new MlpBackboneOptions { Normalization = normalization };
                    options.Iterations = r.GetValue(iterations);
                    options.BatchSize = r.GetValue(batch);
                    options.LearningRate = r.GetValue(learningRate);
                    options.Seed = r.GetValue(seed);
                    options.NumberOfThreads = r.GetValue(threads);
                    options.Device = r.GetValue(device);
                    if (r.GetValue(validateEvery) is int interval)
                        options.Validation = new TrainingValidation { Interval = interval, KeepBest = r.GetValue(keepBest) };
                    options.CheckpointPath = checkpointPath;
                    options.CheckpointInterval = r.GetValue(checkpointEvery);
                    options.ResumeFrom = r.GetValue(resume);
                    ApplySettings(options, r.GetValue(set), name);
                    return options;
                }
                var options = Configure(auto ? "SourceOnly" : methodName);
                description.SourceFingerprint = sourceData.Fingerprint();
                description.TargetFingerprint = targetData.Fingerprint();
                description.Network = networkName;
                description.Iterations = options.Iterations;
                description.Seed = r.GetValue(seed);

                var training = mlContext.Data.CombineDomains(sourceData.ToDataView(mlContext, description), targetData.ToDataView(mlContext, description, withLabels: false));
                var clock = Stopwatch.StartNew();
                DomainAdaptationTransformer model;
                if (auto)
                {
                    var result = TrainingProgressBar.RunExperiment(mlContext, new DomainAdaptationExperimentOptions
                    {
                        SourceOnly = (SourceOnlyOptions)options,
                        Candidates = Program.AutoCandidates.Select(Configure).ToList(),
                        CandidateNames = Program.AutoCandidates.ToList(),
                        Seed = r.GetValue(seed),
                    }, training);
                    model = result.Model;
                    methodName = result.Chosen.Name;
                    foreach (var candidate in result.Candidates.Where(c => c != result.Chosen))
                        candidate.Model?.Dispose();
                }
                else
                {
                    model = TrainingProgressBar.Fit(mlContext, options, methodName, training);
                }
                description.Method = methodName;
                Console.WriteLine($"Trained {methodName} ({networkName}) for {options.Iterations} steps in {clock.Elapsed.TotalSeconds:F1} s.");

                // The model and its data description are complete in a temporary file before they replace any previous model.
                var chain = Preprocessing.Chain(mlContext, preprocessing, model, sourceData.ToDataView(mlContext, description));
                AtomicFile.Write(path, (string temporary) =>
                {
                    mlContext.Model.Save(chain, Preprocessing.RawView(rawSource, description).Schema, temporary);
                    description.WriteInto(temporary);
                });
                Console.WriteLine($"Model written to {path}");
                ConsumptionCode.Write(consumptionFolder, path, description);
                Console.WriteLine($"Code to use it (ModelInput, ModelOutput, ConsumeModel.Predict, a console project) written to {consumptionFolder}");
                if (model.TrainingHistory != null)
                {
                    AtomicFile.WriteText(historyPath, model.TrainingHistory.WriteCsv);
                    Console.WriteLine($"Training history written to {historyPath}");
                }

                Console.WriteLine($"Source accuracy (training rows): {Accuracy(mlContext, model, sourceData.ToDataView(mlContext, description)):P1}");
                if (targetData.HasLabels)
                    Console.WriteLine($"Target accuracy (its labels were not used for training): {Accuracy(mlContext, model, targetData.ToDataView(mlContext, description, requireKnownLabels: false)):P1}");
                model.Dispose();
                return ExitCodes.Success;
            }));
            return command;
        }

        public static System.CommandLine.Command Evaluate()
        {
            var model = Required<string>("--model", "A model zip written by 'mlnet-da train'.");
            var data = Required<string>("--data", $"Labeled data in the model's format: {DataHelp}.", "-d");
            var labels = Optional<string>("--labels", "IDX labels file of the images.");
            var rowsFile = Optional<string>("--rows", $"Split: {RowsHelp}.");
            var command = new System.CommandLine.Command("evaluate", "Print ML.NET's multiclass metrics (micro/macro accuracy, log-loss, per-class recall, confusion matrix) of a model on labeled data, and whether the rows were its training source or target.")
            {
                model, data, labels, rowsFile,
            };
            command.SetAction(r => Program.Run(() =>
            {
                var split = RowSelection.Read(r.GetValue(rowsFile), "--rows");
                var mlContext = new MLContext(seed: 0);
                var (transformer, description, preprocessing) = ModelFile.Load(mlContext, r.GetValue(model));
                using var _ = transformer;
                var rows = Preprocessing.Featurize(mlContext, description, preprocessing,
                    DataReader.Read(mlContext, r.GetValue(data), r.GetValue(labels), description, "Data", split));
                if (!rows.HasLabels)
                    throw new CliException(ExitCodes.BadInput, $"Data '{r.GetValue(data)}' has no labels to evaluate against.");
                int unlabeled = Array.IndexOf(rows.Labels, null);
                if (unlabeled >= 0)
                    throw new CliException(ExitCodes.BadInput, $"Data '{r.GetValue(data)}', row {rows.RowNames[unlabeled]}: no label; evaluate needs every row labeled " +
                        $"({rows.Labels.Count(l => l == null)} of {rows.Count} rows have none; 'predict' scores unlabeled rows).");
                var metrics = mlContext.MulticlassClassification.Evaluate(transformer.Transform(rows.ToDataView(mlContext, description)));

                var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
                table.AddRow("Rows", rows.Count.ToString(CultureInfo.InvariantCulture));
                table.AddRow("MicroAccuracy", metrics.MicroAccuracy.ToString("F4", CultureInfo.InvariantCulture));
                table.AddRow("MacroAccuracy", metrics.MacroAccuracy.ToString("F4", CultureInfo.InvariantCulture));
                table.AddRow("LogLoss", metrics.LogLoss.ToString("F4", CultureInfo.InvariantCulture));
                table.AddRow("LogLossReduction", metrics.LogLossReduction.ToString("F4", CultureInfo.InvariantCulture));
                var recall = metrics.ConfusionMatrix.PerClassRecall;
                for (int k = 0; k < recall.Count; k++)
                    table.AddRow(Markup.Escape($"Recall of class {description.ClassNames[k]}"), recall[k].ToString("F4", CultureInfo.InvariantCulture));
                AnsiConsole.Write(table);
                Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
                if (description.TrainingRoleOf(rows) is string role)
                    Console.WriteLine(role);
                return ExitCodes.Success;
            }));
            return command;
        }

        public static System.CommandLine.Command Predict()
        {
            var model = Required<string>("--model", "A model zip written by 'mlnet-da train'.");
            var data = Required<string>("--data", $"Data in the model's format: {DataHelp}.", "-d");
            var labels = Optional<string>("--labels", "IDX labels file of the images (copied into the output).");
            var rowsFile = Optional<string>("--rows", $"Split: {RowsHelp}.");
            var output = WithDefault("--output", "The CSV file to write: row (from 1, or the image's path), label (if any), predicted label, one probability per class.", "predictions.csv", "-o");
            var command = new System.CommandLine.Command("predict", "Score data with a model and write the predicted classes and probabilities to a CSV file.")
            {
                model, data, labels, rowsFile, output,
            };
            command.SetAction(r => Program.Run(() =>
            {
                string path = Program.CheckOutputFile(r.GetValue(output), "--output");
                var split = RowSelection.Read(r.GetValue(rowsFile), "--rows");
                var mlContext = new MLContext(seed: 0);
                var (transformer, description, preprocessing) = ModelFile.Load(mlContext, r.GetValue(model));
                using var _ = transformer;
                var rows = Preprocessing.Featurize(mlContext, description, preprocessing,
                    DataReader.Read(mlContext, r.GetValue(data), r.GetValue(labels), description, "Data", split));
                var scored = transformer.Transform(rows.ToDataView(mlContext, description, requireKnownLabels: false));
                var scores = scored.GetColumn<float[]>(transformer.ScoreColumnName).ToArray();
                AtomicFile.WriteText(path, writer =>
                {
                    bool withLabels = rows.HasLabels;
                    writer.WriteLine(string.Join(",", new[] { "Row" }.Concat(withLabels ? new[] { "Label" } : Array.Empty<string>())
                        .Append("PredictedLabel").Concat(description.ClassNames.Select(c => "P(" + c + ")")).Select(Csv)));
                    for (int i = 0; i < rows.Count; i++)
                    {
                        int best = Array.IndexOf(scores[i], scores[i].Max());
                        var cells = new[] { rows.RowNames[i] }.Concat(withLabels ? new[] { rows.Labels[i] ?? "" } : Array.Empty<string>())
                            .Append(description.ClassNames[best]).Select(Csv)
                            .Concat(scores[i].Select(p => p.ToString("G6", CultureInfo.InvariantCulture)));
                        writer.WriteLine(string.Join(",", cells));
                    }
                });
                Console.WriteLine($"{rows.Count} predictions written to {path}");
                return ExitCodes.Success;
            }));
            return command;
        }

        public static System.CommandLine.Command ExportOnnx()
        {
            var model = Required<string>("--model", "A model zip written by 'mlnet-da train'.");
            var output = WithDefault("--output", "The ONNX file to write.", "model.onnx", "-o");
            var command = new System.CommandLine.Command("export-onnx", "Export a model's network to ONNX: input Features float [N, D]; outputs Embedding, Score (class probabilities) and PredictedLabel (0-based class index).")
            {
                model, output,
            };
            command.SetAction(r => Program.Run(() =>
            {
                string path = Program.CheckOutputFile(r.GetValue(output), "--output");
                var mlContext = new MLContext(seed: 0);
                var (transformer, description, _) = ModelFile.Load(mlContext, r.GetValue(model));
                using var __ = transformer;
                transformer.ExportToOnnx(path);
                Console.WriteLine($"ONNX model written to {path}: input Features float [N, {transformer.FeatureSize}] ({description}); " +
                    $"outputs Embedding [N, {transformer.EmbeddingSize}], Score [N, {transformer.ClassCount}], PredictedLabel int64 [N].");
                Console.WriteLine($"PredictedLabel k is class: {string.Join(", ", description.ClassNames.Select((c, k) => $"{k} = {c}"))}.");
                return ExitCodes.Success;
            }));
            return command;
        }

        public static System.CommandLine.Command Report()
        {
            var model = Required<string>("--model", "A model zip written by 'mlnet-da train'.");
            var source = Required<string>("--source", $"Source data in the model's format: {DataHelp}.", "-s");
            var target = Required<string>("--target", "Target data in the model's format (labeled for its accuracy; unlabeled rows still appear in the projections).", "-t");
            var sourceLabels = Optional<string>("--source-labels", "IDX labels file of the source images.");
            var targetLabels = Optional<string>("--target-labels", "IDX labels file of the target images.");
            var sourceRows = Optional<string>("--source-rows", $"Source split: {RowsHelp}.");
            var targetRows = Optional<string>("--target-rows", $"Target split: {RowsHelp}.");
            var maxPoints = WithDefault("--max-points", "Rows per domain drawn in the projections and measured for the domain gap (a seeded random subset).", 1000);
            var baseline = Optional<string>("--baseline", "A baseline model zip (e.g. 'train --method SourceOnly' on the same data): " +
                "its metrics and embedding are the 'before' of the report. Without it, 'before' is the input features.");
            var history = Optional<string>("--history", "The training history CSV to plot. Default: <model>.history.csv beside the model, when it exists.");
            var projection = WithDefault("--projection", "The 2-D projection of the embeddings: pca, or tsne (t-SNE: exact up to 1,000 rows in all, Barnes–Hut above; seconds to minutes per picture).", "pca");
            projection.AcceptOnlyFromAmong("pca", "tsne");
            var output = WithDefault("--output", "The folder to write index.html, the CSV files and the PNG plots into.", "report", "-o");
            var command = new System.CommandLine.Command("report", "Write a report folder: metrics table, per-class recall bars, domain gap and 2-D projections " +
                "(PCA or t-SNE) of the source and target rows before and after adaptation, training curves; shown by index.html.")
            {
                model, source, target, sourceLabels, targetLabels, sourceRows, targetRows, maxPoints, baseline, history, projection, output,
            };
            command.SetAction(r => Program.Run(() =>
            {
                if (r.GetValue(maxPoints) < 10)
                    throw new CliException(ExitCodes.BadInput, $"--max-points must be at least 10; got {r.GetValue(maxPoints)}.");
                string folder = Program.CheckOutputFolder(r.GetValue(output), "--output");
                var sourceSplit = RowSelection.Read(r.GetValue(sourceRows), "--source-rows");
                var targetSplit = RowSelection.Read(r.GetValue(targetRows), "--target-rows");
                var mlContext = new MLContext(seed: 0);
                var modelPath = r.GetValue(model);
                var (transformer, description, preprocessing) = ModelFile.Load(mlContext, modelPath);
                using var _ = transformer;
                var sourceData = Preprocessing.Featurize(mlContext, description, preprocessing,
                    DataReader.Read(mlContext, r.GetValue(source), r.GetValue(sourceLabels), description, "Source", sourceSplit));
                var targetData = Preprocessing.Featurize(mlContext, description, preprocessing,
                    DataReader.Read(mlContext, r.GetValue(target), r.GetValue(targetLabels), description, "Target", targetSplit));
                var settings = new ReportWriter.Settings { MaxPoints = r.GetValue(maxPoints), Projection = r.GetValue(projection) };
                string historyPath = r.GetValue(history) ?? HistoryPathOf(modelPath);
                if (File.Exists(historyPath))
                {
                    try
                    {
                        settings.History = TrainingHistory.ReadCsv(historyPath, description.Method);
                    }
                    catch (InvalidDataException e)
                    {
                        throw new CliException(ExitCodes.BadInput, e.Message);
                    }
                }
                else if (r.GetValue(history) != null)
                    throw new CliException(ExitCodes.BadInput, $"--history: file '{historyPath}' not found.");
                DomainAdaptationTransformer baselineModel = null;
                if (r.GetValue(baseline) is string baselinePath)
                {
                    var loaded = ModelFile.Load(mlContext, baselinePath);
                    baselineModel = loaded.Transformer;
                    var baselineDescription = loaded.Description;
                    if (!baselineDescription.ClassNames.SequenceEqual(description.ClassNames) || baselineModel.FeatureSize != transformer.FeatureSize)
                    {
                        baselineModel.Dispose();
                        throw new CliException(ExitCodes.BadInput, $"--baseline '{baselinePath}' was trained on other data: {baselineDescription} " +
                            $"with classes {string.Join(", ", baselineDescription.ClassNames)}, where the model has {description} with classes {string.Join(", ", description.ClassNames)}.");
                    }
                    settings.Baseline = baselineModel;
                    settings.BaselineName = $"{Path.GetFileName(baselinePath)} ({baselineDescription.Method})";
                    settings.BaselineMethod = baselineDescription.Method;
                }
                using var __ = baselineModel;
                var files = ReportWriter.Write(mlContext, transformer, description, Path.GetFileName(modelPath),
                    ("source", sourceData), ("target", targetData), settings, folder);
                Console.WriteLine($"Report written to {Path.Combine(folder, "index.html")} ({string.Join(", ", files)}).");
                if (description.TrainingRoleOf(targetData) is string role)
                    Console.WriteLine("Target: " + role);
                return ExitCodes.Success;
            }));
            return command;
        }

        /// <summary>--set on a method's options; a bad setting is a usage error naming the setting and the method.</summary>
        private static void ApplySettings(DomainAdaptationOptions options, string settings, string method)
        {
            try
            {
                DomainAdaptationMethods.ApplySettings(options, settings);
            }
            catch (ArgumentException e)
            {
                throw new CliException(ExitCodes.BadInput, $"--set ({DomainAdaptationMethods.CanonicalName(method)}): {e.Message.Replace(" (Parameter 'settings')", "")}");
            }
        }

        private static bool TryDevice(string value, out bool cuda)
        {
            string text = (value ?? "").Trim().ToLowerInvariant();
            cuda = text.StartsWith("cuda", StringComparison.Ordinal);
            return text is "cpu" or "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), out int index) && index >= 0;
        }

        /// <summary>model.zip → model.history.csv, in the model's folder.</summary>
        private static string HistoryPathOf(string modelPath) =>
            Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)), Path.GetFileNameWithoutExtension(modelPath) + ".history.csv");

        private static double Accuracy(MLContext mlContext, ITransformer model, IDataView data) =>
            mlContext.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy;

        private static string Csv(string value) =>
            value.IndexOfAny(new[] { ',', '"', '\n', '\r' }) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

        private static Option<T> Required<T>(string name, string description, params string[] aliases) =>
            new Option<T>(name, aliases) { Description = description, Required = true };

        private static Option<T> Optional<T>(string name, string description, params string[] aliases) =>
            new Option<T>(name, aliases) { Description = description };

        private static Option<T> WithDefault<T>(string name, string description, T value, params string[] aliases) =>
            new Option<T>(name, aliases) { Description = description, DefaultValueFactory = _ => value };
    }
}
