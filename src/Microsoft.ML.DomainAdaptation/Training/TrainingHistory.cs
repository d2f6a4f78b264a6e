using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>One training step of a <see cref="TrainingHistory"/>.</summary>
    public sealed class TrainingStep
    {
        internal TrainingStep(int iteration, double learningRate, double elapsedSeconds, IReadOnlyDictionary<string, float> losses,
            IReadOnlyDictionary<string, double> schedules)
        {
            Iteration = iteration;
            LearningRate = learningRate;
            ElapsedSeconds = elapsedSeconds;
            Losses = losses;
            Schedules = schedules;
        }

        /// <summary>The step, 1-based.</summary>
        public int Iteration { get; }

        /// <summary>The learning rate the step used.</summary>
        public double LearningRate { get; }

        /// <summary>Seconds since training started, at the end of the step.</summary>
        public double ElapsedSeconds { get; }

        /// <summary>The step's losses by name (e.g. "classification", "domain"); a method's phases may log different names.</summary>
        public IReadOnlyDictionary<string, float> Losses { get; }

        /// <summary>Scheduled coefficients of the step by name, e.g. "gradient reversal" (DANN, CDAN, MDD) or "alignment weight".</summary>
        public IReadOnlyDictionary<string, double> Schedules { get; }
    }

    /// <summary>
    /// Every step of a training: its losses by name, learning rate and scheduled coefficients (such as the gradient-reversal
    /// coefficient). Given by <see cref="DomainAdaptationTransformer.TrainingHistory"/> after <c>Fit</c>, and written as
    /// CSV when <see cref="DomainAdaptationOptions.TrainingHistoryPath"/> is set.
    /// </summary>
    public sealed class TrainingHistory
    {
        private readonly List<TrainingStep> _steps;

        internal TrainingHistory(string method, List<TrainingStep> steps)
        {
            Method = method;
            _steps = steps;
            LossNames = Names(steps.Select(s => s.Losses.Keys));
            ScheduleNames = Names(steps.Select(s => s.Schedules.Keys));
        }

        /// <summary>The method that trained, e.g. "DANN".</summary>
        public string Method { get; }

        /// <summary>
        /// The step whose weights the model holds: the last step, or with <see cref="TrainingValidation.KeepBest"/> the best-scoring
        /// one. 0 for a history read from CSV (the CSV does not store it).
        /// </summary>
        public int SelectedStep { get; internal init; }

        /// <summary>The steps in order.</summary>
        public IReadOnlyList<TrainingStep> Steps => _steps;

        /// <summary>Every loss name logged by any step, in order of first appearance.</summary>
        public IReadOnlyList<string> LossNames { get; }

        /// <summary>Every scheduled coefficient logged by any step, in order of first appearance.</summary>
        public IReadOnlyList<string> ScheduleNames { get; }

        /// <summary>
        /// One loss or scheduled coefficient over the steps that logged it, as (step, value) pairs in order: what a training curve
        /// plots. Empty when no step logged <paramref name="name"/>.
        /// </summary>
        /// <param name="name">A name from <see cref="LossNames"/> or <see cref="ScheduleNames"/>.</param>
        public IReadOnlyList<(int Iteration, double Value)> Series(string name)
        {
            if (name is null)
                throw new ArgumentNullException(nameof(name));
            var series = new List<(int, double)>();
            foreach (var step in _steps)
            {
                if (step.Losses.TryGetValue(name, out float loss))
                    series.Add((step.Iteration, loss));
                else if (step.Schedules.TryGetValue(name, out double value))
                    series.Add((step.Iteration, value));
            }
            return series;
        }

        /// <summary>
        /// Writes the history as CSV (invariant culture, comma-separated, header row): <c>step, learning_rate, elapsed_seconds</c>,
        /// one column per loss and one per schedule. A cell is empty when the step did not log that name (e.g. a
        /// two-stage method's other phase).
        /// </summary>
        public void WriteCsv(string path)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new ArgumentException("Must be a file path.", nameof(path));
            string folder = Path.GetDirectoryName(Path.GetFullPath(path));
            Directory.CreateDirectory(folder);
            using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
            WriteCsv(writer);
        }

        /// <summary>Writes the history as CSV to <paramref name="writer"/> (see <see cref="WriteCsv(string)"/>).</summary>
        public void WriteCsv(TextWriter writer)
        {
            if (writer is null)
                throw new ArgumentNullException(nameof(writer));
            var header = new[] { "step", "learning_rate", "elapsed_seconds" }.Concat(LossNames).Concat(ScheduleNames).Select(Quote);
            writer.WriteLine(string.Join(",", header));
            var culture = CultureInfo.InvariantCulture;
            foreach (var step in _steps)
            {
                var cells = new List<string>
                {
                    step.Iteration.ToString(culture), step.LearningRate.ToString("R", culture), step.ElapsedSeconds.ToString("F3", culture),
                };
                cells.AddRange(LossNames.Select(n => step.Losses.TryGetValue(n, out var v) ? v.ToString("R", culture) : ""));
                cells.AddRange(ScheduleNames.Select(n => step.Schedules.TryGetValue(n, out var v) ? v.ToString("R", culture) : ""));
                writer.WriteLine(string.Join(",", cells));
            }
        }

        /// <summary>Reads a history written by <see cref="WriteCsv(string)"/>.</summary>
        /// <param name="path">The CSV file.</param>
        /// <param name="method">The method name to give the history (the CSV does not hold it).</param>
        /// <exception cref="InvalidDataException">The file is not such a CSV.</exception>
        public static TrainingHistory ReadCsv(string path, string method = null)
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0)
                throw new InvalidDataException($"Training history '{path}' is empty; expected a header row 'step,learning_rate,elapsed_seconds,…'.");
            var header = SplitCsv(lines[0]);
            if (header.Count < 3 || header[0] != "step" || header[1] != "learning_rate" || header[2] != "elapsed_seconds")
                throw new InvalidDataException($"Training history '{path}' does not start with the columns step, learning_rate, elapsed_seconds.");
            // Loss columns precede schedule columns; the schedule names the library logs are known, so the split is by name.
            var culture = CultureInfo.InvariantCulture;
            var steps = new List<TrainingStep>(lines.Length - 1);
            for (int i = 1; i < lines.Length; i++)
            {
                if (lines[i].Length == 0)
                    continue;
                var cells = SplitCsv(lines[i]);
                if (cells.Count != header.Count)
                    throw new InvalidDataException($"Training history '{path}', line {i + 1}: {cells.Count} cells where the header has {header.Count}.");
                try
                {
                    var losses = new Dictionary<string, float>();
                    var schedules = new Dictionary<string, double>();
                    for (int c = 3; c < header.Count; c++)
                    {
                        if (cells[c].Length == 0)
                            continue;
                        if (IsScheduleName(header[c]))
                            schedules[header[c]] = double.Parse(cells[c], culture);
                        else
                            losses[header[c]] = float.Parse(cells[c], culture);
                    }
                    steps.Add(new TrainingStep(int.Parse(cells[0], culture), double.Parse(cells[1], culture), double.Parse(cells[2], culture), losses, schedules));
                }
                catch (FormatException e)
                {
                    throw new InvalidDataException($"Training history '{path}', line {i + 1}: a cell is not a number ({e.Message}).", e);
                }
            }
            return new TrainingHistory(method, steps);
        }

        /// <summary>The names <see cref="ScheduleName"/> defines.</summary>
        private static bool IsScheduleName(string name) => name == ScheduleName.GradientReversal || name == ScheduleName.AlignmentWeight;

        private static IReadOnlyList<string> Names(IEnumerable<IEnumerable<string>> perStep)
        {
            var seen = new HashSet<string>();
            var names = new List<string>();
            foreach (var keys in perStep)
            {
                foreach (var name in keys)
                {
                    if (seen.Add(name))
                        names.Add(name);
                }
            }
            return names;
        }

        private static string Quote(string value) =>
            value.IndexOfAny(new[] { ',', '"', '\n', '\r' }) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

        private static List<string> SplitCsv(string line)
        {
            var cells = new List<string>();
            var cell = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    {
                        cell.Append('"');
                        i++;
                    }
                    else if (c == '"')
                        quoted = false;
                    else
                        cell.Append(c);
                }
                else if (c == '"')
                    quoted = true;
                else if (c == ',')
                {
                    cells.Add(cell.ToString());
                    cell.Clear();
                }
                else
                    cell.Append(c);
            }
            cells.Add(cell.ToString());
            return cells;
        }
    }

    /// <summary>The names of the scheduled coefficients in a <see cref="TrainingHistory"/>.</summary>
    public static class ScheduleName
    {
        /// <summary>The gradient-reversal coefficient λ(p) of DANN, CDAN and MDD.</summary>
        public const string GradientReversal = "gradient reversal";

        /// <summary>The warm-started weight of a discrepancy loss (MMD, JAN, CMD, class-criterion) when its ramp is on.</summary>
        public const string AlignmentWeight = "alignment weight";
    }
}
