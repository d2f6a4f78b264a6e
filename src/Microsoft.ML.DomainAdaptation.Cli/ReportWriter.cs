using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using Microsoft.ML.Data;
using ScottPlot;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// The report folder: metrics of each labeled domain (metrics.csv, per-class-accuracy.csv), per-class recall bars, the
    /// domain gap before and after adaptation (domain-gap.csv), 2-D projections (PCA or t-SNE) of the source and target rows
    /// before and after, coloured by domain and by class, and the training curves when the training history is at hand;
    /// index.html shows them all.
    /// </summary>
    /// <remarks>"Before" is the baseline model's embedding when one is given (a source-only model trained the same way),
    /// otherwise the input features; "after" is the model's embedding.</remarks>
    internal static class ReportWriter
    {
        public sealed class Settings
        {
            public DomainAdaptationTransformer Baseline;
            public string BaselineName;
            public string BaselineMethod;
            public TrainingHistory History;
            public string Projection = "pca";
            public int MaxPoints = 1000;
        }

        private sealed class Domain
        {
            public string Name;
            public TabularData Data;
            public float[][] Embeddings;
            public float[][] BaselineEmbeddings;
            public int[] Keys; // 0-based class, −1 = no label
            public MulticlassClassificationMetrics Metrics;
            public MulticlassClassificationMetrics BaselineMetrics;
            public int[] Sample; // the rows drawn in the projections
        }

        private sealed class Stage
        {
            public string Key; // "before" / "after"
            public string Title;
            public Func<Domain, int, float[]> Row;
        }

        public static string[] Write(MLContext mlContext, DomainAdaptationTransformer transformer, DataDescription description, string modelName,
            (string Name, TabularData Data) source, (string Name, TabularData Data) target, Settings settings, string folder)
        {
            var random = new Random(0);
            var domains = new[] { source, target }.Select(d => Score(mlContext, transformer, settings.Baseline, description, d.Name, d.Data)).ToArray();
            foreach (var d in domains)
                d.Sample = Enumerable.Range(0, d.Data.Count).OrderBy(_ => random.Next()).Take(settings.MaxPoints).OrderBy(i => i).ToArray();

            var files = new List<string> { "metrics.csv" };
            WriteMetrics(domains, description, settings, folder);
            if (domains.Any(d => d.Metrics != null))
            {
                SavePng(PerClassAccuracy(domains, description), Path.Combine(folder, "per-class-accuracy.png"), 900, 560);
                files.Add("per-class-accuracy.csv");
                files.Add("per-class-accuracy.png");
            }

            var stages = new[]
            {
                settings.Baseline is null
                    ? new Stage { Key = "before", Title = "input features", Row = (d, i) => d.Data.Features[i] }
                    : new Stage { Key = "before", Title = $"baseline {settings.BaselineMethod} embedding", Row = (d, i) => d.BaselineEmbeddings[i] },
                new Stage { Key = "after", Title = $"{description.Method ?? "model"} embedding", Row = (d, i) => d.Embeddings[i] },
            };
            var gaps = stages.Select(s => DomainGap.Measure(
                domains[0].Sample.Select(i => s.Row(domains[0], i)).ToArray(), domains[1].Sample.Select(i => s.Row(domains[1], i)).ToArray(),
                settings.MaxPoints)).ToArray();
            WriteGaps(stages, gaps, folder);
            files.Add("domain-gap.csv");

            string method = settings.Projection == "tsne" ? "t-SNE" : "PCA";
            foreach (var stage in stages)
            {
                var points = Project(domains, stage, settings.Projection, out string[] axes);
                string title = $"{method}, {stage.Key}: {stage.Title}";
                SavePng(ByDomain(domains, points, title, axes), Path.Combine(folder, $"{settings.Projection}-{stage.Key}-domain.png"), 800, 650);
                SavePng(ByClass(domains, points, title, axes, description), Path.Combine(folder, $"{settings.Projection}-{stage.Key}-class.png"), 800, 650);
                files.Add($"{settings.Projection}-{stage.Key}-domain.png");
                files.Add($"{settings.Projection}-{stage.Key}-class.png");
            }

            if (settings.History is { Steps.Count: > 0 } history)
            {
                SavePng(TrainingLosses(history), Path.Combine(folder, "training-losses.png"), 900, 500);
                SavePng(TrainingSchedules(history), Path.Combine(folder, "training-schedules.png"), 900, 400);
                files.Add("training-losses.png");
                files.Add("training-schedules.png");
            }
            WriteText(Path.Combine(folder, "index.html"), Html(domains, description, modelName, settings, stages, gaps, method, files));
            files.Insert(0, "index.html");
            return files.ToArray();
        }

        /// <summary>Every file of the report is written whole or not at all (see <see cref="AtomicFile"/>).</summary>
        private static void WriteText(string path, string text) => AtomicFile.WriteText(path, writer => writer.Write(text));

        private static void SavePng(Plot plot, string path, int width, int height) =>
            AtomicFile.Write(path, (Stream file) => file.Write(plot.GetImageBytes(width, height, ImageFormat.Png)));

        private static Domain Score(MLContext mlContext, DomainAdaptationTransformer transformer, DomainAdaptationTransformer baseline,
            DataDescription description, string name, TabularData data)
        {
            var classIndex = description.ClassNames.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            var domain = new Domain
            {
                Name = name,
                Data = data,
                Keys = data.Labels?.Select(l => l != null && classIndex.TryGetValue(l, out int k) ? k : -1).ToArray() ?? Enumerable.Repeat(-1, data.Count).ToArray(),
            };
            var view = data.ToDataView(mlContext, description, requireKnownLabels: false);
            domain.Embeddings = transformer.Transform(view).GetColumn<float[]>(transformer.EmbeddingColumnName).ToArray();
            if (baseline != null)
                domain.BaselineEmbeddings = baseline.Transform(view).GetColumn<float[]>(baseline.EmbeddingColumnName).ToArray();
            // Metrics only over rows whose label is one of the model's classes.
            if (domain.Keys.Any(k => k >= 0))
            {
                var labeled = new TabularData
                {
                    Features = data.Features.Where((_, i) => domain.Keys[i] >= 0).ToArray(),
                    Labels = data.Labels.Where((_, i) => domain.Keys[i] >= 0).ToArray(),
                    RowNames = data.RowNames.Where((_, i) => domain.Keys[i] >= 0).ToArray(),
                };
                var labeledView = labeled.ToDataView(mlContext, description);
                domain.Metrics = mlContext.MulticlassClassification.Evaluate(transformer.Transform(labeledView));
                if (baseline != null)
                    domain.BaselineMetrics = mlContext.MulticlassClassification.Evaluate(baseline.Transform(labeledView));
            }
            return domain;
        }

        private static void WriteMetrics(Domain[] domains, DataDescription description, Settings settings, string folder)
        {
            var csv = new StringBuilder("Model,Domain,Rows,LabeledRows,MicroAccuracy,MacroAccuracy,LogLoss\n");
            foreach (var (model, d, m) in MetricRows(domains, description, settings))
            {
                csv.Append(model).Append(',').Append(d.Name).Append(',').Append(d.Data.Count).Append(',').Append(d.Keys.Count(k => k >= 0));
                csv.Append(m == null ? ",,,\n" : $",{F(m.MicroAccuracy)},{F(m.MacroAccuracy)},{F(m.LogLoss)}\n");
            }
            WriteText(Path.Combine(folder, "metrics.csv"), csv.ToString());
            if (domains.All(d => d.Metrics == null))
                return;
            var perClass = new StringBuilder("Class," + string.Join(",", domains.Where(d => d.Metrics != null).Select(d => d.Name)) + "\n");
            for (int k = 0; k < description.ClassNames.Length; k++)
                perClass.Append(description.ClassNames[k]).Append(',')
                    .Append(string.Join(",", domains.Where(d => d.Metrics != null).Select(d => F(d.Metrics.ConfusionMatrix.PerClassRecall[k])))).Append('\n');
            WriteText(Path.Combine(folder, "per-class-accuracy.csv"), perClass.ToString());
        }

        /// <summary>The metrics table's rows: the model on each domain, then the baseline on each (when there is one).</summary>
        private static IEnumerable<(string Model, Domain Domain, MulticlassClassificationMetrics Metrics)> MetricRows(
            Domain[] domains, DataDescription description, Settings settings)
        {
            foreach (var d in domains)
                yield return (description.Method ?? "model", d, d.Metrics);
            if (settings.Baseline == null)
                yield break;
            foreach (var d in domains)
                yield return ("baseline " + settings.BaselineName, d, d.BaselineMetrics);
        }

        private static void WriteGaps(Stage[] stages, DomainGapReport[] gaps, string folder)
        {
            var csv = new StringBuilder("Stage,Representation,ProxyADistance,DomainClassifierError,Mmd,MmdBandwidth,SourceRows,TargetRows\n");
            for (int s = 0; s < stages.Length; s++)
            {
                var g = gaps[s];
                csv.Append(stages[s].Key).Append(",\"").Append(stages[s].Title.Replace("\"", "\"\"")).Append("\",")
                    .Append(F(g.ProxyADistance)).Append(',').Append(F(g.DomainClassifierError)).Append(',').Append(F(g.Mmd)).Append(',')
                    .Append(g.MmdBandwidth.ToString("G6", CultureInfo.InvariantCulture)).Append(',').Append(g.SourceRows).Append(',').Append(g.TargetRows).Append('\n');
            }
            WriteText(Path.Combine(folder, "domain-gap.csv"), csv.ToString());
        }

        private static Plot PerClassAccuracy(Domain[] domains, DataDescription description)
        {
            var plot = new Plot();
            var series = new List<(string Name, MulticlassClassificationMetrics Metrics)>();
            foreach (var d in domains.Where(d => d.Metrics != null))
            {
                series.Add(($"{d.Name}, {description.Method ?? "model"}", d.Metrics));
                if (d.BaselineMetrics != null)
                    series.Add(($"{d.Name}, baseline", d.BaselineMetrics));
            }
            var palette = new ScottPlot.Palettes.Category10();
            int group = series.Count + 1;
            var bars = new List<Bar>();
            for (int j = 0; j < series.Count; j++)
            {
                var color = palette.GetColor(j);
                for (int k = 0; k < description.ClassNames.Length; k++)
                    bars.Add(new Bar { Position = k * group + j, Value = series[j].Metrics.ConfusionMatrix.PerClassRecall[k], FillColor = color, Size = 0.9 });
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{series[j].Name} ({series[j].Metrics.MicroAccuracy:P1} overall)", FillColor = color });
            }
            plot.Add.Bars(bars);
            plot.Axes.Bottom.SetTicks(
                description.ClassNames.Select((_, k) => k * group + (series.Count - 1) / 2.0).ToArray(), description.ClassNames);
            plot.Axes.SetLimitsY(0, 1.05);
            plot.Axes.SetLimitsX(-1, description.ClassNames.Length * group - 1);
            plot.Title("Recall per class");
            plot.XLabel("class");
            plot.YLabel("recall (rows of the class predicted as it)");
            plot.ShowLegend(Edge.Bottom); // beside the bars, never over them
            return plot;
        }

        /// <summary>The sampled rows of both domains projected together to 2-D; returns (domain, row, x, y) and the axis titles.</summary>
        private static List<(Domain Domain, int Row, double X, double Y)> Project(Domain[] domains, Stage stage, string projection, out string[] axes)
        {
            var chosen = domains.SelectMany(d => d.Sample.Select(i => (Domain: d, Row: i))).ToArray();
            var rows = chosen.Select(c => stage.Row(c.Domain, c.Row)).ToArray();
            float[][] projected;
            if (projection == "tsne")
            {
                projected = EmbeddingProjection.TSne(rows, new TSneOptions { Perplexity = Math.Min(30, (rows.Length - 1) / 3.0) });
                axes = new[] { "t-SNE 1", "t-SNE 2" };
            }
            else
            {
                projected = EmbeddingProjection.Pca(rows, 2, out var explained);
                axes = new[] { $"first principal axis ({explained[0]:P0} of the variance)", $"second principal axis ({explained[1]:P0})" };
            }
            return chosen.Select((c, i) => (c.Domain, c.Row, (double)projected[i][0], (double)projected[i][1])).ToList();
        }

        private static Plot ByDomain(Domain[] domains, List<(Domain Domain, int Row, double X, double Y)> points, string title, string[] axes)
        {
            var plot = ProjectionPlot($"{title}, by domain", axes);
            var palette = new ScottPlot.Palettes.Category10();
            for (int d = 0; d < domains.Length; d++)
            {
                var mine = points.Where(p => p.Domain == domains[d]).ToArray();
                var scatter = plot.Add.ScatterPoints(mine.Select(p => p.X).ToArray(), mine.Select(p => p.Y).ToArray(), palette.GetColor(d).WithAlpha(0.55));
                scatter.MarkerSize = 5;
                scatter.LegendText = $"{domains[d].Name} ({mine.Length} rows)";
            }
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }

        private static Plot ByClass(Domain[] domains, List<(Domain Domain, int Row, double X, double Y)> points, string title, string[] axes, DataDescription description)
        {
            var plot = ProjectionPlot($"{title}, by class", new[] { $"{axes[0]}  (circles: {domains[0].Name}, crosses: {domains[1].Name})", axes[1] });
            var palette = new ScottPlot.Palettes.Category10();
            var shapes = new[] { MarkerShape.FilledCircle, MarkerShape.Cross };
            for (int d = 0; d < domains.Length; d++)
            {
                var mine = points.Where(p => p.Domain == domains[d]).ToArray();
                for (int k = -1; k < description.ClassNames.Length; k++)
                {
                    var ofClass = mine.Where(p => domains[d].Keys[p.Row] == k).ToArray();
                    if (ofClass.Length == 0)
                        continue;
                    var color = k < 0 ? Colors.Gray : palette.GetColor(k % palette.Colors.Length);
                    var scatter = plot.Add.ScatterPoints(ofClass.Select(p => p.X).ToArray(), ofClass.Select(p => p.Y).ToArray(), color.WithAlpha(0.6));
                    scatter.MarkerSize = 6;
                    scatter.MarkerShape = shapes[d];
                    if (d == 0 || !points.Any(p => p.Domain == domains[0] && domains[0].Keys[p.Row] == k))
                        scatter.LegendText = k < 0 ? "no label" : description.ClassNames[k];
                }
            }
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }

        private static Plot ProjectionPlot(string title, string[] axes)
        {
            var plot = new Plot();
            plot.Title(title);
            plot.XLabel(axes[0]);
            plot.YLabel(axes[1]);
            return plot;
        }

        /// <summary>Each loss per step (faint) and its moving average over 2 % of the steps (solid).</summary>
        private static Plot TrainingLosses(TrainingHistory history)
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            int window = Math.Max(1, history.Steps.Count / 50);
            for (int n = 0; n < history.LossNames.Count; n++)
            {
                string name = history.LossNames[n];
                var (xs, ys) = Coordinates(history.Series(name));
                var color = palette.GetColor(n % palette.Colors.Length);
                var raw = plot.Add.ScatterLine(xs, ys, color.WithAlpha(0.2));
                raw.LineWidth = 1;
                var smooth = plot.Add.ScatterLine(xs, MovingAverage(ys, window), color);
                smooth.LineWidth = 2;
                smooth.LegendText = name;
            }
            plot.Title($"{history.Method} training losses (solid: moving average over {window} steps)");
            plot.XLabel("step");
            plot.YLabel("loss");
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }

        /// <summary>The learning rate (relative to its first value) and the scheduled coefficients per step.</summary>
        private static Plot TrainingSchedules(TrainingHistory history)
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var xs = history.Steps.Select(s => (double)s.Iteration).ToArray();
            double first = history.Steps[0].LearningRate;
            var rate = plot.Add.ScatterLine(xs, history.Steps.Select(s => s.LearningRate / first).ToArray(), palette.GetColor(0));
            rate.LineWidth = 2;
            rate.LegendText = $"learning rate / {first.ToString("G3", CultureInfo.InvariantCulture)}";
            for (int n = 0; n < history.ScheduleNames.Count; n++)
            {
                string name = history.ScheduleNames[n];
                var (steps, values) = Coordinates(history.Series(name));
                var line = plot.Add.ScatterLine(steps, values, palette.GetColor(n + 1));
                line.LineWidth = 2;
                line.LegendText = name;
            }
            plot.Title($"{history.Method} schedules");
            plot.XLabel("step");
            plot.YLabel("value");
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }

        private static (double[] Steps, double[] Values) Coordinates(IReadOnlyList<(int Iteration, double Value)> series) =>
            (series.Select(p => (double)p.Iteration).ToArray(), series.Select(p => p.Value).ToArray());

        private static double[] MovingAverage(double[] values, int window)
        {
            var result = new double[values.Length];
            double sum = 0;
            for (int i = 0; i < values.Length; i++)
            {
                sum += values[i];
                if (i >= window)
                    sum -= values[i - window];
                result[i] = sum / Math.Min(i + 1, window);
            }
            return result;
        }

        private static string Html(Domain[] domains, DataDescription description, string modelName, Settings settings, Stage[] stages,
            DomainGapReport[] gaps, string projection, List<string> files)
        {
            string E(string s) => WebUtility.HtmlEncode(s);
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mlnet-da report: ").Append(E(modelName)).Append("</title>\n");
            html.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}" +
                "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}</style></head><body>\n");
            html.Append("<h1>Domain-adaptation report</h1>\n<p>Model <code>").Append(E(modelName)).Append("</code>: ").Append(E(description.Method ?? "?"))
                .Append(", ").Append(E(description.Network ?? "?")).Append(" network, ").Append(description.Iterations).Append(" steps, seed ").Append(description.Seed)
                .Append("; ").Append(E(description.ToString())).Append(".");
            if (settings.Baseline != null)
                html.Append(" Baseline <code>").Append(E(settings.BaselineName)).Append("</code>.");
            html.Append("</p>\n");
            html.Append("<h2>Metrics</h2>\n<table><tr><th>model</th><th>domain</th><th>rows</th><th>labeled rows</th><th>MicroAccuracy</th><th>MacroAccuracy</th><th>LogLoss</th></tr>\n");
            foreach (var (model, d, m) in MetricRows(domains, description, settings))
            {
                html.Append("<tr><td>").Append(E(model)).Append("</td><td>").Append(E(d.Name)).Append("</td><td>").Append(d.Data.Count).Append("</td><td>").Append(d.Keys.Count(k => k >= 0)).Append("</td>");
                html.Append(m == null ? "<td>—</td><td>—</td><td>—</td>" : $"<td>{m.MicroAccuracy:P1}</td><td>{m.MacroAccuracy:P1}</td><td>{F(m.LogLoss)}</td>");
                html.Append("</tr>\n");
            }
            html.Append("</table>\n");
            if (files.Contains("per-class-accuracy.png"))
                html.Append("<h2>Recall per class</h2>\n<img src=\"per-class-accuracy.png\" alt=\"recall per class and domain\">\n");
            html.Append("<h2>Domain gap</h2>\n<p>Proxy A-distance (0: a linear classifier cannot tell the domains apart; 2: it always can) and MMD² at the median-heuristic bandwidth, on the rows drawn below.</p>\n");
            html.Append("<table><tr><th>stage</th><th>representation</th><th>proxy A-distance</th><th>MMD²</th></tr>\n");
            for (int s = 0; s < stages.Length; s++)
                html.Append("<tr><td>").Append(stages[s].Key).Append("</td><td>").Append(E(stages[s].Title)).Append("</td><td>").Append(F(gaps[s].ProxyADistance))
                    .Append("</td><td>").Append(F(gaps[s].Mmd)).Append("</td></tr>\n");
            html.Append("</table>\n");
            html.Append("<h2>Embeddings</h2>\n<p>").Append(projection).Append(" of the rows of both domains together, before and after adaptation; an adapted model's domains overlap while its classes stay apart.</p>\n");
            foreach (var stage in stages)
            {
                html.Append("<h3>").Append(E(char.ToUpperInvariant(stage.Key[0]) + stage.Key.Substring(1))).Append(": ").Append(E(stage.Title)).Append("</h3>\n");
                html.Append($"<img src=\"{settings.Projection}-{stage.Key}-domain.png\" alt=\"{projection} {stage.Key}, by domain\">\n");
                html.Append($"<img src=\"{settings.Projection}-{stage.Key}-class.png\" alt=\"{projection} {stage.Key}, by class\">\n");
            }
            if (files.Contains("training-losses.png"))
                html.Append("<h2>Training</h2>\n<img src=\"training-losses.png\" alt=\"training losses per step\">\n<img src=\"training-schedules.png\" alt=\"learning rate and coefficients per step\">\n");
            html.Append("<p>Data: <a href=\"metrics.csv\">metrics.csv</a>, <a href=\"domain-gap.csv\">domain-gap.csv</a>")
                .Append(files.Contains("per-class-accuracy.csv") ? ", <a href=\"per-class-accuracy.csv\">per-class-accuracy.csv</a>" : "").Append(".</p>\n</body></html>\n");
            return html.ToString();
        }

        private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
    }
}
