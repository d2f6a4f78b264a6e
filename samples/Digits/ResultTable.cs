using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation.Samples
{
    /// <summary>One training run of a sample: ML.NET metrics on the target test split and the source's, and Fit time.</summary>
    /// With validation during training, <see cref="TargetMicro"/> is the kept (validated) step's and <see cref="LastStepTargetMicro"/>
    /// the last step's, of the same training.
    internal sealed record RunResult(string Direction, string Method, int Seed, double TargetMicro, double TargetMacro, double TargetLogLoss,
        double SourceMicro, double SecondsPer1000, double? LastStepTargetMicro = null, int? SelectedStep = null);

    /// <summary>The samples' command line and their Markdown table of results (mean ± standard deviation over seeds).</summary>
    internal static class ResultTable
    {
        public static void Print(IEnumerable<RunResult> results, string sourceColumn)
        {
            var all = results.ToArray();
            // Runs validated during training also show the last step's accuracy, the difference and the steps kept.
            bool validated = all.Any(r => r.LastStepTargetMicro is not null);
            Console.WriteLine($"| direction | method | target MicroAccuracy %{(validated ? " (validated step) | last step % | validated − last | steps kept" : "")} | target MacroAccuracy % | target LogLoss | {sourceColumn} | s / 1000 steps | target % per seed{(validated ? " (validated / last)" : "")} |");
            Console.WriteLine($"|---|---|---|{(validated ? "---|---|---|" : "")}---|---|---|---|---|");
            foreach (var group in all.GroupBy(r => (r.Direction, r.Method)))
            {
                var g = group.ToArray();
                string last = !validated ? "" : g.All(r => r.LastStepTargetMicro is not null)
                    ? $" {Stat(g.Select(r => r.LastStepTargetMicro.Value * 100))} | {Stat(g.Select(r => (r.TargetMicro - r.LastStepTargetMicro.Value) * 100))} | {string.Join("/", g.Select(r => r.SelectedStep))} |"
                    : " – | – | – |";
                string perSeed = string.Join(" / ", g.Select(r => (r.TargetMicro * 100).ToString("F1") +
                    (r.LastStepTargetMicro is double l ? $" ({l * 100:F1})" : "")));
                Console.WriteLine($"| {group.Key.Direction} | {group.Key.Method} | {Stat(g.Select(r => r.TargetMicro * 100))} |{last} {Stat(g.Select(r => r.TargetMacro * 100))} | " +
                    $"{Stat(g.Select(r => r.TargetLogLoss), "F3")} | {Stat(g.Select(r => r.SourceMicro * 100))} | {g.Average(r => r.SecondsPer1000):F1} | {perSeed} |");
            }
        }

        /// <summary>Mean, and ± the sample standard deviation when there are several values.</summary>
        public static string Stat(IEnumerable<double> values, string format = "F1")
        {
            var v = values.ToArray();
            double mean = v.Average();
            if (v.Length == 1)
                return mean.ToString(format);
            double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
            return $"{mean.ToString(format)} ± {std.ToString(format)}";
        }

        /// <summary>"--name value" pairs; <paramref name="known"/> lists the names for the error message.</summary>
        public static Dictionary<string, string> ParseArguments(string[] args, string known)
        {
            var result = new Dictionary<string, string>();
            for (int i = 0; i < args.Length; i += 2)
            {
                if (!args[i].StartsWith("--") || i + 1 >= args.Length)
                    throw new ArgumentException($"Expected '--option value' pairs ({known}); got '{args[i]}'.");
                result[args[i][2..]] = args[i + 1];
            }
            return result;
        }
    }
}
