using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Data;
using ScottPlot;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// The report folder: metrics of each labeled domain (metrics.csv, per-class-accuracy.csv), per-class accuracy bars,
    /// and one 2-D PCA of the source and target embeddings (fitted on both) drawn twice, coloured by domain and by class;
    /// index.html shows them all.
    /// </summary>
    internal static class ReportWriter
    {
        private sealed class Domain
        {
            public string Name;
            public TabularData Data;
            public float[][] Embeddings;
            public int[] Keys; // 0-based class, −1 = no label
            public Microsoft.ML.Data.MulticlassClassificationMetrics Metrics;
        }

        public static string[] Write(MLContext mlContext, DomainAdaptationTransformer transformer, DataDescription description, string modelName,
            (string Name, TabularData Data) source, (string Name, TabularData Data) target, int maxPoints, string folder)
        {
            var domains = new[] { source, target }.Select(d => Score(mlContext, transformer, description, d.Name, d.Data)).ToArray();
            var files = new List<string> { "metrics.csv" };
            WriteMetrics(domains, description, folder);
            if (domains.Any(d => d.Metrics != null))
            {
                PerClassAccuracy(domains, description).SavePng(Path.Combine(folder, "per-class-accuracy.png"), 900, 500);
                files.Add("per-class-accuracy.csv");
                files.Add("per-class-accuracy.png");
            }
            var (points, explained) = Project(domains, maxPoints);
            ByDomain(domains, points, explained).SavePng(Path.Combine(folder, "pca-domain.png"), 800, 650);
            ByClass(domains, points, explained, description).SavePng(Path.Combine(folder, "pca-class.png"), 800, 650);
            files.Add("pca-domain.png");
            files.Add("pca-class.png");
            File.WriteAllText(Path.Combine(folder, "index.html"), Html(domains, description, modelName, files), new UTF8Encoding(false));
            files.Insert(0, "index.html");
            return files.ToArray();
        }

        private static Domain Score(MLContext mlContext, DomainAdaptationTransformer transformer, DataDescription description, string name, TabularData data)
        {
            var view = transformer.Transform(data.ToDataView(mlContext, description, requireKnownLabels: false));
            var classIndex = description.ClassNames.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            var domain = new Domain
            {
                Name = name,
                Data = data,
                Embeddings = view.GetColumn<float[]>(transformer.EmbeddingColumnName).ToArray(),
                Keys = data.Labels?.Select(l => l != null && classIndex.TryGetValue(l, out int k) ? k : -1).ToArray() ?? Enumerable.Repeat(-1, data.Count).ToArray(),
            };
            // Metrics only over rows whose label is one of the model's classes.
            if (domain.Keys.Any(k => k >= 0))
            {
                var labeled = new TabularData
                {
                    Features = data.Features.Where((_, i) => domain.Keys[i] >= 0).ToArray(),
                    Labels = data.Labels.Where((_, i) => domain.Keys[i] >= 0).ToArray(),
                    RowNames = data.RowNames.Where((_, i) => domain.Keys[i] >= 0).ToArray(),
                };
                domain.Metrics = mlContext.MulticlassClassification.Evaluate(transformer.Transform(labeled.ToDataView(mlContext, description)));
            }
            return domain;
        }

        private static void WriteMetrics(Domain[] domains, DataDescription description, string folder)
        {
            var csv = new StringBuilder("Domain,Rows,LabeledRows,MicroAccuracy,MacroAccuracy,LogLoss\n");
            foreach (var d in domains)
            {
                csv.Append(d.Name).Append(',').Append(d.Data.Count).Append(',').Append(d.Keys.Count(k => k >= 0));
                csv.Append(d.Metrics == null ? ",,,\n" : $",{F(d.Metrics.MicroAccuracy)},{F(d.Metrics.MacroAccuracy)},{F(d.Metrics.LogLoss)}\n");
            }
            File.WriteAllText(Path.Combine(folder, "metrics.csv"), csv.ToString());
            if (domains.All(d => d.Metrics == null))
                return;
            var perClass = new StringBuilder("Class," + string.Join(",", domains.Where(d => d.Metrics != null).Select(d => d.Name)) + "\n");
            for (int k = 0; k < description.ClassNames.Length; k++)
                perClass.Append(description.ClassNames[k]).Append(',')
                    .Append(string.Join(",", domains.Where(d => d.Metrics != null).Select(d => F(d.Metrics.ConfusionMatrix.PerClassRecall[k])))).Append('\n');
            File.WriteAllText(Path.Combine(folder, "per-class-accuracy.csv"), perClass.ToString());
        }

        private static Plot PerClassAccuracy(Domain[] domains, DataDescription description)
        {
            var plot = new Plot();
            var labeled = domains.Where(d => d.Metrics != null).ToArray();
            var palette = new ScottPlot.Palettes.Category10();
            int group = labeled.Length + 1;
            var bars = new List<Bar>();
            for (int j = 0; j < labeled.Length; j++)
            {
                var color = palette.GetColor(Array.IndexOf(domains, labeled[j]));
                for (int k = 0; k < description.ClassNames.Length; k++)
                    bars.Add(new Bar { Position = k * group + j, Value = labeled[j].Metrics.ConfusionMatrix.PerClassRecall[k], FillColor = color, Size = 0.9 });
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{labeled[j].Name} ({labeled[j].Metrics.MicroAccuracy:P1} overall)", FillColor = color });
            }
            plot.Add.Bars(bars);
            plot.Axes.Bottom.SetTicks(
                description.ClassNames.Select((_, k) => k * group + (labeled.Length - 1) / 2.0).ToArray(), description.ClassNames);
            plot.Axes.SetLimitsY(0, 1.12);
            plot.Axes.SetLimitsX(-1, description.ClassNames.Length * group - 1);
            plot.Title("Accuracy per class");
            plot.XLabel("class");
            plot.YLabel("accuracy (recall of the class)");
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }

        /// <summary>A seeded subset of each domain projected on the two leading principal axes of their embeddings.</summary>
        private static (List<(Domain Domain, int Row, double X, double Y)> Points, double[] Explained) Project(Domain[] domains, int maxPoints)
        {
            var random = new Random(0);
            var chosen = domains.SelectMany(d => Enumerable.Range(0, d.Data.Count).OrderBy(_ => random.Next()).Take(maxPoints).Select(i => (Domain: d, Row: i))).ToArray();
            int dim = domains[0].Embeddings[0].Length;
            var x = Matrix<double>.Build.Dense(chosen.Length, dim, (i, j) => chosen[i].Domain.Embeddings[chosen[i].Row][j]);
            var mean = x.ColumnSums() / chosen.Length;
            var centred = x - Matrix<double>.Build.Dense(chosen.Length, dim, (_, j) => mean[j]);
            var covariance = centred.TransposeThisAndMultiply(centred) / Math.Max(1, chosen.Length - 1);
            var evd = covariance.Evd(Symmetricity.Symmetric);
            var order = Enumerable.Range(0, dim).OrderByDescending(i => evd.EigenValues[i].Real).Take(2).ToArray();
            double total = Math.Max(1e-12, evd.EigenValues.Sum(v => v.Real));
            var axes = Matrix<double>.Build.DenseOfColumnVectors(order.Select(i => evd.EigenVectors.Column(i)));
            var projected = centred * axes;
            var points = chosen.Select((c, i) => (c.Domain, c.Row, projected[i, 0], projected[i, 1])).ToList();
            return (points, order.Select(i => evd.EigenValues[i].Real / total).ToArray());
        }

        private static Plot ByDomain(Domain[] domains, List<(Domain Domain, int Row, double X, double Y)> points, double[] explained)
        {
            var plot = ProjectionPlot("Embeddings by domain (PCA of source and target together)", explained);
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

        private static Plot ByClass(Domain[] domains, List<(Domain Domain, int Row, double X, double Y)> points, double[] explained, DataDescription description)
        {
            var plot = ProjectionPlot($"Embeddings by class (circles: {domains[0].Name}, crosses: {domains[1].Name})", explained);
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

        private static Plot ProjectionPlot(string title, double[] explained)
        {
            var plot = new Plot();
            plot.Title(title);
            plot.XLabel($"first principal axis ({explained[0]:P0} of the variance)");
            plot.YLabel($"second principal axis ({explained[1]:P0})");
            return plot;
        }

        private static string Html(Domain[] domains, DataDescription description, string modelName, List<string> files)
        {
            string E(string s) => WebUtility.HtmlEncode(s);
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mlnet-da report: ").Append(E(modelName)).Append("</title>\n");
            html.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}" +
                "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}</style></head><body>\n");
            html.Append("<h1>Domain-adaptation report</h1>\n<p>Model <code>").Append(E(modelName)).Append("</code>: ").Append(E(description.Method ?? "?"))
                .Append(", ").Append(E(description.Network ?? "?")).Append(" network, ").Append(description.Iterations).Append(" steps, seed ").Append(description.Seed)
                .Append("; ").Append(E(description.ToString())).Append(".</p>\n");
            html.Append("<h2>Metrics</h2>\n<table><tr><th>domain</th><th>rows</th><th>labeled rows</th><th>MicroAccuracy</th><th>MacroAccuracy</th><th>LogLoss</th></tr>\n");
            foreach (var d in domains)
            {
                html.Append("<tr><td>").Append(E(d.Name)).Append("</td><td>").Append(d.Data.Count).Append("</td><td>").Append(d.Keys.Count(k => k >= 0)).Append("</td>");
                html.Append(d.Metrics == null ? "<td>—</td><td>—</td><td>—</td>"
                    : $"<td>{d.Metrics.MicroAccuracy:P1}</td><td>{d.Metrics.MacroAccuracy:P1}</td><td>{F(d.Metrics.LogLoss)}</td>");
                html.Append("</tr>\n");
            }
            html.Append("</table>\n");
            if (files.Contains("per-class-accuracy.png"))
                html.Append("<h2>Accuracy per class</h2>\n<img src=\"per-class-accuracy.png\" alt=\"accuracy per class and domain\">\n");
            html.Append("<h2>Embeddings</h2>\n<p>One principal-component projection of the embeddings of both domains; an adapted model's domains overlap while its classes stay apart.</p>\n");
            html.Append("<img src=\"pca-domain.png\" alt=\"PCA of the embeddings coloured by domain\">\n<img src=\"pca-class.png\" alt=\"PCA of the embeddings coloured by class\">\n");
            html.Append("<p>Data: <a href=\"metrics.csv\">metrics.csv</a>").Append(files.Contains("per-class-accuracy.csv") ? ", <a href=\"per-class-accuracy.csv\">per-class-accuracy.csv</a>" : "").Append(".</p>\n</body></html>\n");
            return html.ToString();
        }

        private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
    }
}
