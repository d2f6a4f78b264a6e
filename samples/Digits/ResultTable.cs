using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation.Samples
{
    /// <summary>One training run of a sample: ML.NET metrics on the target test split and the source's, and Fit time.</summary>
    internal sealed record RunResult(string Direction, string Method, int Seed, double TargetMicro, double TargetMacro, double TargetLogLoss,
        double SourceMicro, double SecondsPer1000);

    /// <summary>The samples' command line and their Markdown table of results (mean ± standard deviation over seeds).</summary>
    internal static class ResultTable
    {
        public static void Print(IEnumerable<RunResult> results, string sourceColumn)
        {
            Console.WriteLine($"| direction | method | target MicroAccuracy % | target MacroAccuracy % | target LogLoss | {sourceColumn} | s / 1000 steps | target % per seed |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var group in results.GroupBy(r => (r.Direction, r.Method)))
            {
                var g = group.ToArray();
                Console.WriteLine($"| {group.Key.Direction} | {group.Key.Method} | {Stat(g.Select(r => r.TargetMicro * 100))} | {Stat(g.Select(r => r.TargetMacro * 100))} | " +
                    $"{Stat(g.Select(r => r.TargetLogLoss), "F3")} | {Stat(g.Select(r => r.SourceMicro * 100))} | {g.Average(r => r.SecondsPer1000):F1} | " +
                    $"{string.Join(" / ", g.Select(r => (r.TargetMicro * 100).ToString("F1")))} |");
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
