using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Settings of a <see cref="DomainAdaptationExperiment"/>.</summary>
    public sealed class DomainAdaptationExperimentOptions
    {
        /// <summary>
        /// The configurations to try (methods and their weights), fitted in this order. A source-only baseline is always
        /// fitted too, first (see <see cref="SourceOnly"/>); a <see cref="SourceOnlyOptions"/> in this list is another candidate.
        /// Columns and the domain column must be the same in every candidate. Default: empty (only the baseline).
        /// </summary>
        public List<DomainAdaptationOptions> Candidates = new();

        /// <summary>
        /// Names shown for the candidates, in the order of <see cref="Candidates"/>; missing or null entries take the method's name
        /// (e.g. "DANN"), with " #2", " #3"… for repeats. Default: empty.
        /// </summary>
        public List<string> CandidateNames = new();

        /// <summary>
        /// The source-only baseline the negative-transfer guard compares with. Default: null, which makes a plain
        /// <see cref="SourceOnlyOptions"/> with the first candidate's common data, network and loop settings (columns, backbone,
        /// classifier, iterations, batch, optimizer, seed, device, threads, progress, cancellation) and nothing else: no target
        /// loss, no target labels, no training history file.
        /// </summary>
        public SourceOnlyOptions SourceOnly;

        /// <summary>
        /// The criterion that ranks the candidates (higher is better). Default: <see cref="ValidationScorer.ReverseValidation"/> (RV),
        /// which retrains each candidate backwards at half its steps, so an experiment takes about 1.5 times as long.
        /// </summary>
        /// <remarks>
        /// Chosen on samples/ModelSelection's runs (optdigits ↔ mnist-opencv, synthetic → mnist-opencv and → optdigits, seeds 0–2,
        /// 1,000 steps, candidates source-only, DANN, MMD, DeepCORAL, MCC): RV's pick was 7.0 points below the best in hindsight
        /// on average (1.4 with MCC left out), DEV's 9.9, and DEV kept source-only in 5 of 12 runs. Target entropy
        /// (<see cref="ValidationScorer.TargetEntropy"/>) did best (1.5) because MCC, which minimises a near-entropy, was the best
        /// candidate in the synthetic directions; it is the cheap choice when such a candidate is in the list. RV needs a budget long
        /// enough for the reverse model to learn (at a few hundred steps it is near chance).
        /// </remarks>
        public ValidationScorer Scorer = ValidationScorer.ReverseValidation;

        /// <summary>
        /// Further criteria computed for every candidate and reported beside the ranking one. Default: <see cref="ValidationScorer.All"/>,
        /// every built-in scorer that needs no training (add <see cref="ValidationScorer.ReverseValidation"/> to retrain per candidate).
        /// </summary>
        public List<ValidationScorer> ReportedScorers = ValidationScorer.All.ToList();

        /// <summary>
        /// The criterion of the negative-transfer guard: the best adapted candidate is returned only if it beats the source-only
        /// baseline by more than <see cref="GuardMargin"/> by this criterion. Default: null, the ranking <see cref="Scorer"/>.
        /// </summary>
        public ValidationScorer GuardScorer;

        /// <summary>How much the best adapted candidate must beat source-only by, on the guard's scale. Default: 0. Must be non-negative.</summary>
        public double GuardMargin;

        /// <summary>
        /// Wall-clock budget for the candidates after the baseline: a candidate still training when it runs out is stopped (and
        /// left out), and the candidates after it are not started. The baseline always trains in full. Default: null (no limit).
        /// </summary>
        public TimeSpan? TimeBudget;

        /// <summary>Fraction of the rows of each domain held out of training for the scorers. Default: 0.2. Must be in (0, 1).</summary>
        public double HeldOutFraction = 0.2;

        /// <summary>Seed of the held-out split and of the scorers' domain classifiers. Default: 0.</summary>
        public int Seed;

        /// <summary>A copy with its own lists and copies of every candidate's options (the experiment keeps what it was made with).</summary>
        internal DomainAdaptationExperimentOptions Clone()
        {
            var copy = (DomainAdaptationExperimentOptions)MemberwiseClone();
            copy.Candidates = Candidates?.Select(c => c?.Clone()).ToList();
            copy.CandidateNames = CandidateNames?.ToList() ?? new List<string>();
            copy.SourceOnly = (SourceOnlyOptions)SourceOnly?.Clone();
            copy.ReportedScorers = ReportedScorers?.ToList();
            return copy;
        }
    }

    /// <summary>One fitted (or skipped) candidate of a <see cref="DomainAdaptationExperiment"/>.</summary>
    public sealed class DomainAdaptationCandidate
    {
        internal DomainAdaptationCandidate(string name, DomainAdaptationOptions options, bool isBaseline)
        {
            Name = name;
            Options = options;
            IsSourceOnlyBaseline = isBaseline;
        }

        /// <summary>The candidate's name, e.g. "DANN".</summary>
        public string Name { get; }

        /// <summary>The options it was trained with.</summary>
        public DomainAdaptationOptions Options { get; }

        /// <summary>True for the source-only baseline the guard compares with.</summary>
        public bool IsSourceOnlyBaseline { get; }

        /// <summary>The fitted network, or null when the candidate was not fitted (see <see cref="Error"/>).</summary>
        public DomainAdaptationTransformer Model { get; internal set; }

        /// <summary>The ranking scorer's value (higher is better); NaN when not fitted or undefined.</summary>
        public double Score { get; internal set; } = double.NaN;

        /// <summary>Every computed scorer's value by scorer name (the ranking, guard and reported scorers).</summary>
        public IReadOnlyDictionary<string, double> Scores { get; internal set; } = new Dictionary<string, double>();

        /// <summary>Time spent fitting it.</summary>
        public TimeSpan FitTime { get; internal set; }

        /// <summary>Why the candidate has no model (time budget spent, training error), or null.</summary>
        public string Error { get; internal set; }

        /// <inheritdoc />
        public override string ToString() => Model is null ? $"{Name}: {Error}" : $"{Name}: {Score:G4} ({string.Join(", ", Scores.Select(s => $"{s.Key} {s.Value:G4}"))})";
    }

    /// <summary>The outcome of a <see cref="DomainAdaptationExperiment"/>.</summary>
    public sealed class DomainAdaptationExperimentResult
    {
        internal DomainAdaptationExperimentResult(string scorerName, IReadOnlyList<DomainAdaptationCandidate> ranked, DomainAdaptationCandidate sourceOnly,
            DomainAdaptationCandidate bestAdapted, DomainAdaptationCandidate chosen, string reason)
        {
            ScorerName = scorerName;
            Candidates = ranked;
            SourceOnly = sourceOnly;
            BestAdapted = bestAdapted;
            Chosen = chosen;
            Reason = reason;
        }

        /// <summary>The ranking scorer's name.</summary>
        public string ScorerName { get; }

        /// <summary>Every candidate, the baseline included: the fitted ones best first by the ranking scorer, then the others.</summary>
        public IReadOnlyList<DomainAdaptationCandidate> Candidates { get; }

        /// <summary>The source-only baseline.</summary>
        public DomainAdaptationCandidate SourceOnly { get; }

        /// <summary>The best-ranked candidate other than the baseline, or null when none was fitted.</summary>
        public DomainAdaptationCandidate BestAdapted { get; }

        /// <summary>The returned candidate: <see cref="BestAdapted"/>, or the baseline when the guard rejected it.</summary>
        public DomainAdaptationCandidate Chosen { get; }

        /// <summary>The chosen fitted network.</summary>
        public DomainAdaptationTransformer Model => Chosen.Model;

        /// <summary>True when the negative-transfer guard returned the source-only baseline.</summary>
        public bool FellBackToSourceOnly => Chosen == SourceOnly;

        /// <summary>Why <see cref="Chosen"/> was chosen, in words.</summary>
        public string Reason { get; }
    }

    /// <summary>
    /// Chooses a domain adaptation model without target labels: fits each candidate configuration on the training part of the
    /// data, scores it on held-out rows of both domains with an unsupervised <see cref="ValidationScorer"/>, ranks them, and
    /// guards against negative transfer by returning the source-only baseline when the best adapted candidate does not beat it.
    /// </summary>
    /// <example><code>
    /// var data = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(combined).Transform(combined);
    /// var result = mlContext.Transforms.DomainAdaptationExperiment(new DomainAdaptationExperimentOptions
    /// {
    ///     Candidates = { new DannOptions { Backbone = lenet }, new MmdOptions { Backbone = lenet } },
    ///     Scorer = ValidationScorer.DeepEmbedded,
    ///     TimeBudget = TimeSpan.FromMinutes(10),
    /// }).Run(data);
    /// Console.WriteLine($"{result.Chosen.Name}: {result.Reason}");
    /// </code></example>
    public sealed class DomainAdaptationExperiment
    {
        private readonly IHostEnvironment _env;
        private readonly IHost _host;
        private readonly DomainAdaptationExperimentOptions _options;

        /// <summary>Makes an experiment; <see cref="Run"/> fits and ranks the candidates.</summary>
        public DomainAdaptationExperiment(MLContext mlContext, DomainAdaptationExperimentOptions options)
            : this((IHostEnvironment)mlContext, options)
        {
        }

        internal DomainAdaptationExperiment(IHostEnvironment env, DomainAdaptationExperimentOptions options)
        {
            Contracts.CheckValue(env, nameof(env));
            _env = env;
            _host = env.Register(nameof(DomainAdaptationExperiment));
            _host.CheckValue(options, nameof(options));
            // A copy: later changes to the caller's options change nothing here, and the experiment never writes into them.
            options = options.Clone();
            if (options.Candidates is null || options.Candidates.Any(c => c is null))
                throw new ArgumentNullException(nameof(options.Candidates), "Candidates must be a list of options, without null entries.");
            if (options.Scorer is null)
                throw new ArgumentNullException(nameof(options.Scorer), "A ranking Scorer is required, e.g. ValidationScorer.DeepEmbedded.");
            DomainAdaptationOptions.Check(options.HeldOutFraction > 0 && options.HeldOutFraction < 1, nameof(options.HeldOutFraction), options.HeldOutFraction, "must be in (0, 1)");
            DomainAdaptationOptions.Check(options.GuardMargin >= 0 && double.IsFinite(options.GuardMargin), nameof(options.GuardMargin), options.GuardMargin, "must be non-negative");
            DomainAdaptationOptions.Check(options.TimeBudget is null || options.TimeBudget > TimeSpan.Zero, nameof(options.TimeBudget), options.TimeBudget, "must be positive when set");
            if (options.SourceOnly is null && options.Candidates.Count == 0)
                throw new ArgumentOutOfRangeException(nameof(options.Candidates), "Candidates must hold at least one configuration, or SourceOnly must be set.");
            foreach (var candidate in options.Candidates)
                candidate.Validate();
            options.SourceOnly?.Validate();
            _options = options;
        }

        /// <summary>
        /// Splits <paramref name="data"/> (both domains, as for <c>DomainAdapt</c>: features, a key label, the Boolean domain
        /// column) into training and held-out rows, fits the baseline and the candidates, scores and ranks them, and applies the
        /// negative-transfer guard.
        /// </summary>
        public DomainAdaptationExperimentResult Run(IDataView data)
        {
            _host.CheckValue(data, nameof(data));
            var o = _options;
            var baselineOptions = o.SourceOnly ?? MakeSourceOnly(o.Candidates[0]);
            string domainColumn = baselineOptions.DomainColumnName;
            var mlContext = new MLContext(o.Seed);
            var split = mlContext.Data.TrainTestSplit(data, o.HeldOutFraction, seed: o.Seed);
            var training = split.TrainSet;
            var heldOut = mlContext.Data.Cache(split.TestSet);

            var scorers = new List<ValidationScorer> { o.Scorer };
            if (o.GuardScorer != null)
                scorers.Add(o.GuardScorer);
            scorers.AddRange((o.ReportedScorers ?? new List<ValidationScorer>()).Where(s => s != null));
            scorers = scorers.GroupBy(s => s.Name).Select(g => g.First()).ToList();

            var baseline = new DomainAdaptationCandidate("SourceOnly", baselineOptions, isBaseline: true);
            FitAndScore(baseline, training, heldOut, domainColumn, scorers, budget: null);
            if (baseline.Model is null)
                throw new InvalidOperationException($"The source-only baseline failed to train: {baseline.Error}");

            var candidates = new List<DomainAdaptationCandidate> { baseline };
            var deadline = o.TimeBudget is { } budget ? Stopwatch.StartNew() : null;
            var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { ["SourceOnly"] = 1 };
            for (int i = 0; i < o.Candidates.Count; i++)
            {
                string name = i < o.CandidateNames.Count && o.CandidateNames[i] != null ? o.CandidateNames[i] : o.Candidates[i].MethodName;
                int count = seen[name] = seen.GetValueOrDefault(name) + 1;
                var candidate = new DomainAdaptationCandidate(count > 1 ? $"{name} #{count}" : name, o.Candidates[i], isBaseline: false);
                candidates.Add(candidate);
                TimeSpan? remaining = deadline is null ? null : o.TimeBudget.Value - deadline.Elapsed;
                if (remaining is { } r && r <= TimeSpan.Zero)
                {
                    candidate.Error = "not started: time budget spent";
                    continue;
                }
                FitAndScore(candidate, training, heldOut, domainColumn, scorers, remaining);
            }

            var ranked = candidates.Where(c => c.Model != null).OrderByDescending(c => Rankable(c.Score)).ThenBy(c => candidates.IndexOf(c))
                .Concat(candidates.Where(c => c.Model is null)).ToList();
            var bestAdapted = ranked.FirstOrDefault(c => c.Model != null && !c.IsSourceOnlyBaseline);
            var (chosen, reason) = Guard(baseline, bestAdapted, o.GuardScorer ?? o.Scorer);
            Log($"Chose {chosen.Name}: {reason}");
            return new DomainAdaptationExperimentResult(o.Scorer.Name, ranked, baseline, bestAdapted, chosen, reason);
        }

        private (DomainAdaptationCandidate, string) Guard(DomainAdaptationCandidate baseline, DomainAdaptationCandidate best, ValidationScorer guard)
        {
            if (best is null)
                return (baseline, "no adapted candidate was fitted; returning the source-only baseline");
            double adapted = best.Scores[guard.Name], sourceOnly = baseline.Scores[guard.Name];
            string ranking = $"{best.Name} ranks first among the adapted candidates by {_options.Scorer.Name} ({best.Score:G6})";
            if (double.IsNaN(adapted))
                return (baseline, $"{ranking}, but its {guard.Name} is undefined: negative-transfer guard, returning source-only");
            if (!(adapted > (double.IsNaN(sourceOnly) ? double.NegativeInfinity : sourceOnly + _options.GuardMargin)))
                return (baseline, $"{ranking}, but its {guard.Name} {adapted:G6} does not beat source-only's {sourceOnly:G6}"
                    + (_options.GuardMargin > 0 ? $" by more than {_options.GuardMargin:G4}" : "") + ": negative-transfer guard, returning source-only");
            return (best, $"{ranking}; its {guard.Name} {adapted:G6} beats source-only's {sourceOnly:G6}");
        }

        private void Log(string message)
        {
            using var channel = _host.Start(nameof(DomainAdaptationExperiment));
            channel.Info(message);
        }

        private static double Rankable(double score) => double.IsNaN(score) ? double.NegativeInfinity : score;

        private void FitAndScore(DomainAdaptationCandidate candidate, IDataView training, IDataView heldOut, string domainColumn,
            List<ValidationScorer> scorers, TimeSpan? budget)
        {
            var options = candidate.Options;
            var userToken = options.CancellationToken;
            using var timeout = budget is { } b ? new CancellationTokenSource(b) : null;
            using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(userToken, timeout.Token);
            var watch = Stopwatch.StartNew();
            try
            {
                // The budget's token goes on a copy: the candidate keeps the options it was given.
                var fitOptions = options.Clone();
                if (linked != null)
                    fitOptions.CancellationToken = linked.Token;
                candidate.Model = new DomainAdaptationEstimator(_env, fitOptions).Fit(training);
            }
            catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true && !userToken.IsCancellationRequested)
            {
                candidate.Error = "stopped: time budget spent";
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                candidate.Error = $"training failed: {e.Message}";
                return;
            }
            finally
            {
                candidate.FitTime = watch.Elapsed;
            }
            var set = ValidationSet.Create(candidate.Model, heldOut, domainColumn);
            var context = new ValidationContext(_env, candidate.Model, options, training, heldOut);
            var scores = new Dictionary<string, double>();
            foreach (var scorer in scorers)
                scores[scorer.Name] = scorer.Score(set, context);
            candidate.Scores = scores;
            candidate.Score = scores[_options.Scorer.Name];
            Log($"{candidate.Name}: fitted in {candidate.FitTime.TotalSeconds:F1} s; {string.Join(", ", scores.Select(s => $"{s.Key} {s.Value:G4}"))}");
        }

        /// <summary>
        /// A plain source-only baseline with <paramref name="template"/>'s common data, network and loop settings. The settings are
        /// listed one by one, not copied wholesale: anything else (a method's or an add-on's weights, target labels, the
        /// training history file, options added later) stays at <see cref="SourceOnlyOptions"/>'s default and cannot leak in.
        /// </summary>
        internal static SourceOnlyOptions MakeSourceOnly(DomainAdaptationOptions template)
        {
            var t = template.Clone(); // its own backbone copy
            var baseline = new SourceOnlyOptions
            {
                FeatureColumnName = t.FeatureColumnName,
                LabelColumnName = t.LabelColumnName,
                DomainColumnName = t.DomainColumnName,
                EmbeddingColumnName = t.EmbeddingColumnName,
                ScoreColumnName = t.ScoreColumnName,
                PredictedLabelColumnName = t.PredictedLabelColumnName,
                Backbone = t.Backbone,
                InputNormalization = t.InputNormalization, // part of the network: the baseline sees the same pixels
                ClassifierHiddenSize = t.ClassifierHiddenSize,
                Iterations = t.Iterations,
                BatchSize = t.BatchSize,
                LearningRate = t.LearningRate,
                Momentum = t.Momentum,
                WeightDecay = t.WeightDecay,
                AnnealLearningRate = t.AnnealLearningRate,
                Device = t.Device,
                Seed = t.Seed,
                NumberOfThreads = t.NumberOfThreads,
                ProgressInterval = t.ProgressInterval,
                CancellationToken = t.CancellationToken,
                ProgressCallback = t.ProgressCallback,
            };
            baseline.Validate();
            return baseline;
        }
    }
}

namespace Microsoft.ML
{
    /// <summary>Catalog entry point of the unsupervised model selection for domain adaptation.</summary>
    public static class DomainAdaptationExperimentCatalog
    {
        /// <summary>
        /// An experiment that fits several domain adaptation configurations and a source-only baseline, ranks them by an
        /// unsupervised validation score and returns the best one unless it does not beat the baseline (see
        /// <see cref="DomainAdaptationExperiment"/>).
        /// </summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="options">Candidates, scorer, budget, held-out fraction and seed.</param>
        public static DomainAdaptationExperiment DomainAdaptationExperiment(this TransformsCatalog catalog, DomainAdaptationExperimentOptions options)
            => new DomainAdaptationExperiment(((IInternalCatalog)catalog).Environment, options);
    }
}
