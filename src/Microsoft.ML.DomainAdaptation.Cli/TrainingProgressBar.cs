using System;
using System.Linq;
using Spectre.Console;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// Fits while showing progress: a live bar with the remaining time on a terminal, or one line per tenth of the run
    /// (with its estimate) when the output is redirected, so that logs stay readable.
    /// </summary>
    internal static class TrainingProgressBar
    {
        public static DomainAdaptationTransformer Fit(MLContext mlContext, DomainAdaptationOptions options, string name, IDataView data)
        {
            options.ProgressInterval = Math.Max(1, options.Iterations / 100);
            // Ctrl+C stops training at the next step instead of killing the process mid-write.
            ConsoleCancelEventHandler cancel = (_, e) =>
            {
                e.Cancel = true;
                mlContext.CancelExecution();
            };
            Console.CancelKeyPress += cancel;
            try
            {
                if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
                    return FitWithBar(mlContext, options, name, data);
                ReportEveryTenth(options);
                return mlContext.Transforms.DomainAdapt(options).Fit(data);
            }
            catch (OperationCanceledException)
            {
                throw new CliException(ExitCodes.Failed, "Training was cancelled; no model was written.");
            }
            finally
            {
                Console.CancelKeyPress -= cancel;
            }
        }

        /// <summary>
        /// <c>--method auto</c>: fits source-only and every candidate (a line per tenth of each run), prints the ranking with
        /// every scorer's value and the choice, and returns the experiment's result.
        /// </summary>
        public static DomainAdaptationExperimentResult RunExperiment(MLContext mlContext, DomainAdaptationExperimentOptions options, IDataView data)
        {
            foreach (var candidate in options.Candidates.Append(options.SourceOnly))
                ReportEveryTenth(candidate);
            var result = new DomainAdaptationExperiment(mlContext, options).Run(data);
            Console.WriteLine($"Candidates ranked by {result.ScorerName} on held-out rows (higher is better):");
            foreach (var candidate in result.Candidates)
                Console.WriteLine($"  {candidate}");
            Console.WriteLine($"Chose {result.Chosen.Name}: {result.Reason}");
            return result;
        }

        private static void ReportEveryTenth(DomainAdaptationOptions options)
        {
            options.ProgressInterval = Math.Max(1, options.Iterations / 100);
            int lastTenth = 0;
            options.ProgressCallback = p =>
            {
                int tenth = p.Iteration * 10 / p.TotalIterations;
                if (tenth < lastTenth)
                    lastTenth = 0; // a two-stage method started its second stage
                if (tenth == lastTenth)
                    return;
                lastTenth = tenth;
                var remaining = TimeSpan.FromSeconds(p.Elapsed.TotalSeconds / p.Iteration * (p.TotalIterations - p.Iteration));
                Console.WriteLine($"  {p.Method}: step {p.Iteration}/{p.TotalIterations} ({100.0 * p.Iteration / p.TotalIterations:F0} %), " +
                    $"elapsed {p.Elapsed:mm\\:ss}, remaining ~{remaining:mm\\:ss}; {Losses(p)}");
            };
        }

        private static DomainAdaptationTransformer FitWithBar(MLContext mlContext, DomainAdaptationOptions options, string name, IDataView data)
        {
            DomainAdaptationTransformer model = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(name), maxValue: options.Iterations);
                    options.ProgressCallback = p =>
                    {
                        task.MaxValue = p.TotalIterations;
                        task.Value = p.Iteration;
                        task.Description = Markup.Escape($"{p.Method} {Losses(p)}");
                    };
                    model = mlContext.Transforms.DomainAdapt(options).Fit(data);
                    task.Value = task.MaxValue;
                });
            return model;
        }

        private static string Losses(TrainingProgress p) =>
            string.Join(", ", p.Losses.Select(kv => $"{kv.Key} {kv.Value:F3}"));
    }
}
