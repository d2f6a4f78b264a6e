using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Data;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Chooses the training step without target labels: every <see cref="Interval"/> steps the network is scored with an
    /// unsupervised <see cref="Scorer"/> on rows of both domains held out from training; the model keeps the weights of the
    /// latest step that no earlier step beats on both the score and the held-out source accuracy (<see cref="KeepBest"/>,
    /// <see cref="SourceAccuracyMargin"/>) and training stops after <see cref="Patience"/> scores without improvement.
    /// Set it on <see cref="DomainAdaptationOptions.Validation"/>.
    /// </summary>
    /// <remarks>
    /// The scores go into the training history as the loss "validation &lt;scorer&gt;" at the steps that were scored, so the
    /// history CSV and <c>mlnet-da report</c> show them; <see cref="TrainingHistory.SelectedStep"/> says which step the model
    /// holds. Held-out rows are not trained on. Scorers that retrain (<see cref="ValidationScorer.ReverseValidation"/>) are
    /// too costly here; rank whole trainings with <see cref="DomainAdaptationExperiment"/> instead.
    /// </remarks>
    /// <example><code>
    /// var options = new DannOptions { Validation = new TrainingValidation { Interval = 250, Patience = 4 } };
    /// </code></example>
    public sealed class TrainingValidation
    {
        /// <summary>
        /// The criterion, higher is better. Default: <see cref="ValidationScorer.TargetEntropy"/>. Between the steps of one
        /// training on the digits pairs (session 7, strictly best step, no source view) it stayed within 0.6 points of the last step on average over ten method × direction
        /// cells (3 seeds each), where <see cref="ValidationScorer.SoftNeighborhoodDensity"/> (SND, the better scorer for
        /// ranking different methods in samples/ModelSelection) kept early steps, 8.3 points below the last on average (README,
        /// "Choosing the step inside one training").
        /// </summary>
        public ValidationScorer Scorer = ValidationScorer.TargetEntropy;

        /// <summary>Steps between two scores (the last step is always scored). Default: 250. Must be positive.</summary>
        public int Interval = 250;

        /// <summary>Keep the weights of the chosen step (after <see cref="WarmUp"/>, the latest that no earlier step beats by more
        /// than <see cref="Tolerance"/> and <see cref="SourceAccuracyMargin"/>) rather than the last. Default: true.</summary>
        public bool KeepBest = true;

        /// <summary>
        /// When <see cref="KeepBest"/> is true: called once at the end of training with a model holding the last step's weights
        /// (what the model would be without <see cref="KeepBest"/>; a separate copy, the callee's to dispose), before the best
        /// step's weights are put back, so the two can be compared from one training. Default: null.
        /// </summary>
        public Action<DomainAdaptationTransformer> LastStepCallback;

        /// <summary>
        /// Called at every scored step, warm-up included, with the step (1-based) and a copy of the network as the scorer saw it
        /// (a separate model, the callee's to dispose; its <see cref="DomainAdaptationTransformer.TrainingHistory"/> ends at that
        /// step): to check, on a few labelled target rows of your own, how well the scorer follows the accuracy before trusting
        /// it. The copy leaves the training's random state alone, so a seed gives the same model with or without the callback.
        /// Methods that complete their model after the last step (AdaBN's target statistics) hand over the network before that
        /// completion. Each call builds a network: set it for diagnosis, not in production trainings. Default: null.
        /// </summary>
        public Action<int, DomainAdaptationTransformer> ScoredStepCallback;

        /// <summary>Stop after this many scores in a row without improvement; null never stops early. Default: null.</summary>
        public int? Patience;

        /// <summary>Share of each domain's rows held out from training for scoring. Default: 0.1. Must be in (0, 0.5].</summary>
        public float HeldOutFraction = 0.1f;

        /// <summary>Most held-out rows per domain (a seeded sample). Default: 1000. Must be at least 2.</summary>
        public int MaxHeldOutRows = 1000;

        /// <summary>
        /// Share of the training's steps whose scores are recorded but neither kept nor counted for <see cref="Patience"/>: the
        /// first score at or after <c>WarmUp · Iterations</c> steps starts the choice. An early network can score well by chance
        /// (TargetEntropy rewards confident predictions, and an unadapted network can be confident). Default: 0.5. Must be in
        /// [0, 1).
        /// </summary>
        /// <remarks>
        /// Measured with TargetEntropy on the digits pairs (PerImage inputs, Resolution source view, LeNet, 1,000 steps of
        /// 32 + 32, scores every 100 steps, seeds 0, 1, 2; SourceOnly, MCC, DANN and VADA on both directions, 24 trainings): the
        /// strictly best-scoring step (WarmUp 0, Tolerance 0) was 1.8 points below the last step on average (worst −12.2, VADA
        /// keeping step 300 of 1,000); with WarmUp 0.5 and Tolerance 0.1 the kept step is 0.9 points below the last on average
        /// (worst −6.6; it is the last step in 16 of the 24, and per method × direction from +0.1 to −2.8). The two defaults were
        /// chosen on these same trainings. Between late steps the target entropy hardly predicts the accuracy (optdigits →
        /// mnist-opencv moves by several points from one 100-step score to the next), so the choice stays near the last step.
        /// </remarks>
        public float WarmUp = 0.5f;

        /// <summary>
        /// Relative tolerance of the choice: a step whose score is below the best score so far by at most
        /// <c>Tolerance · |best|</c> is kept instead of the earlier best step, so the kept step is the latest one scoring within
        /// the tolerance of the best (0: the strictly best-scoring step); with <see cref="SourceAccuracyMargin"/> set, a step
        /// further below is still kept unless that earlier step also had a higher held-out source accuracy. Later steps have
        /// trained longer on annealed learning rates, and close steps' scores differ by little more than their noise on the
        /// held-out rows. Improvements within the tolerance do not count for <see cref="Patience"/>. Default: 0.1 (with
        /// <see cref="WarmUp"/> 0.5; see there for the measurements). Must be in [0, 1).
        /// </summary>
        public float Tolerance = 0.1f;

        /// <summary>
        /// An earlier step is kept instead of a later one only when it is better on both counts: its score is higher by more
        /// than <see cref="Tolerance"/> · |its score|, and its accuracy on the held-out source rows higher by more than this
        /// margin (0.01: one point). So the kept step is the latest step that no earlier step (after <see cref="WarmUp"/>)
        /// beats on both. null: the score alone decides (the latest step within the tolerance of the best score so far).
        /// Default: 0. Must be in [0, 1] when set.
        /// </summary>
        /// <remarks>
        /// Why: inside one training the target scorers do not tell a confident step from a right one. Measured with
        /// <c>samples/Digits --trace-steps</c> (README, "Choosing the step inside one training"): on optdigits → mnist-opencv
        /// (SourceOnly, PerImage, seed 2) the lowest-entropy step after the warm-up had 31.6 % target accuracy against 43.7 %
        /// at the last step, its held-out source accuracy 97.2 % against 99.3; DANN without normalisation kept steps 1,400 and 1,600
        /// of 2,000 (seeds 0, 1) by their entropy while the accuracy rose toward the end (−5.6 points on average over 3 seeds). The held-out
        /// source rows are labelled, so their accuracy is measured, not estimated, and a step that has not lost any of it
        /// is not replaced by an earlier one on the target score alone.
        /// </remarks>
        public float? SourceAccuracyMargin = 0;

        internal void Validate()
        {
            if (Scorer is null)
                throw new ArgumentNullException($"{nameof(DomainAdaptationOptions.Validation)}.{nameof(Scorer)}", "A validation scorer is required.");
            if (Scorer is ReverseValidationScorer)
                throw new ArgumentOutOfRangeException($"{nameof(DomainAdaptationOptions.Validation)}.{nameof(Scorer)}", Scorer.Name,
                    "Reverse validation trains a model per score, too costly during training; use SND, DEV, IWV or entropy here, or rank whole trainings with DomainAdaptationExperiment.");
            Check(Interval > 0, nameof(Interval), Interval, "must be positive");
            Check(Patience is null || Patience > 0, nameof(Patience), Patience, "must be positive when set");
            Check(Tolerance >= 0 && Tolerance < 1, nameof(Tolerance), Tolerance, "must be in [0, 1)");
            Check(WarmUp >= 0 && WarmUp < 1, nameof(WarmUp), WarmUp, "must be in [0, 1)");
            Check(SourceAccuracyMargin is null || (SourceAccuracyMargin >= 0 && SourceAccuracyMargin <= 1), nameof(SourceAccuracyMargin), SourceAccuracyMargin, "must be in [0, 1] when set");
            Check(HeldOutFraction > 0 && HeldOutFraction <= 0.5f, nameof(HeldOutFraction), HeldOutFraction, "must be in (0, 0.5]");
            Check(MaxHeldOutRows >= 2, nameof(MaxHeldOutRows), MaxHeldOutRows, "must be at least 2");
        }

        private static void Check(bool condition, string name, object value, string requirement) =>
            DomainAdaptationOptions.Check(condition, $"{nameof(DomainAdaptationOptions.Validation)}.{name}", value, requirement);

        internal TrainingValidation Clone() => (TrainingValidation)MemberwiseClone();
    }
}

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// Runs a <see cref="TrainingValidation"/> inside the training loop: scores the network on the held-out rows, remembers the
    /// best step's weights (a copy of the scoring network's state) and says when to stop.
    /// </summary>
    internal sealed class ValidationMonitor : IDisposable
    {
        private const int ScoringBatch = 256;
        private readonly TrainingValidation _settings;
        private readonly DomainData _heldOut;
        private readonly StepChoice _choice;
        private Dictionary<string, Tensor> _best;

        public ValidationMonitor(TrainingValidation settings, DomainData heldOut, int iterations)
        {
            _settings = settings;
            _choice = new StepChoice(settings, iterations);
            _heldOut = heldOut;
            LossName = $"validation {settings.Scorer.Name}";
        }

        /// <summary>The name the scores have in the training history.</summary>
        public string LossName { get; }

        /// <summary>The step whose weights are kept (see <see cref="StepChoice"/>), 1-based; 0 before the first step after the warm-up.</summary>
        public int KeptStep => _choice.KeptStep;

        public bool IsDue(int done, int iterations) => done % _settings.Interval == 0 || done == iterations;

        /// <summary>Scores the network at step <paramref name="done"/>; returns the score and whether training should stop.</summary>
        public (double Score, bool Stop) Score(ScoringNetwork network, int done)
        {
            bool training = network.training;
            network.eval();
            ValidationSet set;
            try
            {
                var (sourceEmbeddings, sourceProbabilities) = Outputs(network, _heldOut.SourceFeatures);
                var (targetEmbeddings, targetProbabilities) = Outputs(network, _heldOut.TargetFeatures);
                set = new ValidationSet(sourceEmbeddings, sourceProbabilities, _heldOut.SourceLabels.Select(l => (int)l).ToArray(), targetEmbeddings, targetProbabilities);
            }
            finally
            {
                network.train(training);
            }
            double score = _settings.Scorer.Score(set);
            var (keep, stop) = _choice.Offer(done, score, SourceAccuracyScorer.Accuracy(set));
            if (keep && _settings.KeepBest)
                Remember(network);
            return (score, stop);
        }

        /// <summary>
        /// Puts the best step's weights back into <paramref name="network"/> (when <see cref="TrainingValidation.KeepBest"/>); the
        /// network scored must be the one restored (<see cref="Methods.AdaptationMethod.PredictingNetwork"/>).
        /// </summary>
        public void RestoreBest(ScoringNetwork network)
        {
            if (_best is null)
                return;
            using var noGrad = no_grad();
            foreach (var (name, tensor) in network.state_dict())
                tensor.copy_(_best[name]);
        }

        private void Remember(ScoringNetwork network)
        {
            DisposeBest();
            using var noGrad = no_grad();
            _best = network.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
        }

        private static (float[][] Embeddings, float[][] Probabilities) Outputs(ScoringNetwork network, FeatureRows features)
        {
            int rows = features.Count;
            var embeddings = new float[rows][];
            var probabilities = new float[rows][];
            var device = network.classifier.parameters().First().device;
            for (int start = 0; start < rows; start += ScoringBatch)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(ScoringBatch, rows - start);
                var input = features.Rows(start, count).to(device);
                var (embedding, probability) = network.Score(input);
                var e = embedding.cpu().data<float>().ToArray();
                var p = probability.cpu().data<float>().ToArray();
                int es = e.Length / count, ps = p.Length / count;
                for (int i = 0; i < count; i++)
                {
                    embeddings[start + i] = e.AsSpan(i * es, es).ToArray();
                    probabilities[start + i] = p.AsSpan(i * ps, ps).ToArray();
                }
            }
            return (embeddings, probabilities);
        }

        private void DisposeBest()
        {
            if (_best is null)
                return;
            foreach (var tensor in _best.Values)
                tensor.Dispose();
            _best = null;
        }

        public void Dispose() => DisposeBest();
    }

    /// <summary>
    /// Which scored step the model keeps, decided online with one stored copy: scores in the warm-up are only recorded; after
    /// it, a step is kept unless an earlier step (after the warm-up) beats it on both counts: a score higher by more than
    /// <see cref="TrainingValidation.Tolerance"/> · |that score|, and a held-out source accuracy higher by more than
    /// <see cref="TrainingValidation.SourceAccuracyMargin"/> (when set). Without the margin this is the latest step within the
    /// tolerance of the best score so far.
    /// </summary>
    internal sealed class StepChoice
    {
        private readonly TrainingValidation _settings;
        private readonly int _firstKept;
        private readonly System.Collections.Generic.List<(double Score, double SourceAccuracy)> _seen = new();
        private double _bestScore = double.NegativeInfinity;
        private int _sinceBest;

        public StepChoice(TrainingValidation settings, int iterations)
        {
            _settings = settings;
            _firstKept = (int)Math.Ceiling(settings.WarmUp * (double)iterations);
        }

        /// <summary>The kept step, 1-based; 0 before the first step after the warm-up.</summary>
        public int KeptStep { get; private set; }

        /// <summary>Offers step <paramref name="step"/>; returns whether it is now the kept step and whether to stop: after
        /// <see cref="TrainingValidation.Patience"/> scores in a row that do not improve on the best score.</summary>
        public (bool Keep, bool Stop) Offer(int step, double score, double sourceAccuracy)
        {
            // During the warm-up the score is only recorded (the last step is never in it: WarmUp < 1).
            if (step < _firstKept)
                return (false, false);
            // A NaN (undefined) score is kept only as the first; it never beats another step nor improves.
            bool keep = KeptStep == 0 || (!double.IsNaN(score) && !_seen.Any(earlier => Beats(earlier, score, sourceAccuracy)));
            if (keep)
                KeptStep = step;
            _seen.Add((score, sourceAccuracy));
            bool improved = score > _bestScore;
            if (improved)
                _bestScore = score;
            _sinceBest = improved || _seen.Count == 1 ? 0 : _sinceBest + 1;
            return (keep, _settings.Patience is int patience && _sinceBest >= patience);
        }

        private bool Beats((double Score, double SourceAccuracy) earlier, double score, double sourceAccuracy) =>
            earlier.Score > score + _settings.Tolerance * Math.Abs(earlier.Score)
            && (_settings.SourceAccuracyMargin is not float margin || earlier.SourceAccuracy > sourceAccuracy + margin);
    }
}
