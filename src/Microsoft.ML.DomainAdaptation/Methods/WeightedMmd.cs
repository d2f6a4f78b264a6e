using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Class-weighted MMD for class-prior shift (weighted MMD of Yan et al., "Mind the Class Weight Bias", CVPR 2017). Plain MMD
    /// also aligns the class mixes of the domains, which is wrong when the class proportions differ (the target's classes get
    /// pushed towards the source's proportions). Here every source row of class c is weighted by w_c = p̂_t(c) / p_s(c), so the
    /// source's class mix is re-weighted to the target's estimate before the distributions are compared:
    /// <c>L = CE(C(G(x_s)), y_s) + w_p · MMD²_w(G(x_s), G(x_t))</c>, with the source mean embedding Σ_i w_{y_i} φ(x_i) / Σ_i w_{y_i}.
    /// </summary>
    /// <remarks>
    /// <para>The target's class proportions p̂_t come from pseudo-labels: the classes the current classifier predicts for the target
    /// rows of each step whose softmax probability reaches <see cref="ConfidenceThreshold"/>; no gradient flows through them.
    /// Source proportions p_s come from the source labels of the steps. Both are running estimates: class counts averaged over
    /// steps with the decay <see cref="ClassProportionMomentum"/>. Until a target row is confident the weights are uniform (plain
    /// MMD). Weights are clipped to [1 / <see cref="MaxClassWeight"/>, <see cref="MaxClassWeight"/>].</para>
    /// <para>The estimate is only as good as the pseudo-labels: a classifier that is confidently wrong on the target skews the
    /// weights. When the domains' class proportions are equal, <see cref="MmdOptions"/> is the safer choice.</para>
    /// <para>The kernel, estimator and loss weight are those of <see cref="MmdOptionsBase"/> (same defaults as <see cref="MmdOptions"/>).</para>
    /// </remarks>
    public sealed class WeightedMmdOptions : MmdOptionsBase
    {
        /// <summary>
        /// Smallest softmax probability of a target row's predicted class for the row to count in the target class proportions.
        /// Default: 0.9 (only confident predictions, whose pseudo-labels are mostly right, estimate the proportions). Must be in [0, 1].
        /// </summary>
        public float ConfidenceThreshold = 0.9f;

        /// <summary>
        /// Decay β of the running class counts: each step, counts ← β · counts + (1 − β) · the step's counts, for each domain
        /// (steps without a confident target row leave the target's unchanged). Default: 0.99, an average over about 100 steps,
        /// i.e. a few thousand rows at the usual batch sizes, close to Yan et al.'s re-estimation over the whole target set while
        /// following the classifier as it improves. 0 uses the current batch only. Must be in [0, 1).
        /// </summary>
        public float ClassProportionMomentum = 0.99f;

        /// <summary>
        /// Largest class weight m: each w_c is clipped to [1 / m, m]. The proportions come from pseudo-labels, which early in training
        /// concentrate on a few classes; unclipped, the other classes got weight 0, left the alignment, and the classifier's bias
        /// fed on itself (target accuracy below source-only on the digits). Default: 3. Must be at least 1 (1 is plain MMD).
        /// </summary>
        public float MaxClassWeight = 3f;

        internal override string MethodName => "WeightedMMD";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.WeightedMmdMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            base.ValidateMethodOptions();
            Check(ConfidenceThreshold >= 0 && ConfidenceThreshold <= 1, nameof(ConfidenceThreshold), ConfidenceThreshold, "must be in [0, 1]");
            Check(ClassProportionMomentum >= 0 && ClassProportionMomentum < 1, nameof(ClassProportionMomentum), ClassProportionMomentum, "must be in [0, 1)");
            Check(MaxClassWeight >= 1 && float.IsFinite(MaxClassWeight), nameof(MaxClassWeight), MaxClassWeight, "must be a number of at least 1");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>
    /// Running class proportions of a domain: class counts averaged over steps with exponential decay, counts ← β · counts +
    /// (1 − β) · the step's counts. Proportions are counts / Σ counts (so the zero start needs no bias correction).
    /// </summary>
    internal sealed class ClassProportions
    {
        private readonly double[] _counts;
        private readonly double _momentum;

        public ClassProportions(int classCount, double momentum)
        {
            _counts = new double[classCount];
            _momentum = momentum;
        }

        /// <summary>True until a step with at least one row.</summary>
        public bool IsEmpty { get; private set; } = true;

        /// <summary>Adds one step's rows, given by their classes. A step without rows changes nothing.</summary>
        public void Update(long[] classes)
        {
            if (classes.Length == 0)
                return;
            for (int c = 0; c < _counts.Length; c++)
                _counts[c] *= _momentum;
            foreach (long c in classes)
                _counts[c] += 1 - _momentum;
            IsEmpty = false;
        }

        /// <summary>The estimated proportion of class <paramref name="c"/> (0 while empty).</summary>
        public double this[long c]
        {
            get
            {
                double total = _counts.Sum();
                return total > 0 ? _counts[c] / total : 0;
            }
        }

        /// <summary>
        /// w_c = target(c) / source(c) per class, clipped to [1 / <paramref name="maxWeight"/>, <paramref name="maxWeight"/>]
        /// (0 where the source has none: no row carries it), or null while either is empty.
        /// </summary>
        public static double[] Ratios(ClassProportions target, ClassProportions source, double maxWeight = double.PositiveInfinity)
        {
            if (target.IsEmpty || source.IsEmpty)
                return null;
            return Enumerable.Range(0, source._counts.Length)
                .Select(c => source[c] > 0 ? Math.Clamp(target[c] / source[c], 1 / maxWeight, maxWeight) : 0).ToArray();
        }
    }

    internal sealed class WeightedMmdMethod : MmdMethod
    {
        // State of its own (running class proportions; the frozen stage copy and centres) is not in checkpoints.
        public override bool ResumesExactly => false;

        private readonly WeightedMmdOptions _options;
        private readonly ClassProportions _sourceProportions;
        private readonly ClassProportions _targetProportions;
        private Tensor _sourceLabels;

        public WeightedMmdMethod(WeightedMmdOptions options, MethodContext context) : base(options, context)
        {
            _options = options;
            _sourceProportions = new ClassProportions(context.Spec.ClassCount, options.ClassProportionMomentum);
            _targetProportions = new ClassProportions(context.Spec.ClassCount, options.ClassProportionMomentum);
        }

        protected override string LossName => "weighted mmd";

        public override Tensor Step(StepBatch batch, StepState state, LossLog losses)
        {
            // The default step's alignment inputs carry no labels: keep the batch's source labels for SourceWeights.
            _sourceLabels = batch.SourceLabels;
            try
            {
                return base.Step(batch, state, losses);
            }
            finally
            {
                _sourceLabels = null;
            }
        }

        protected override Tensor SourceWeights(AlignmentInputs inputs)
        {
            var labels = _sourceLabels.data<long>().ToArray();
            _sourceProportions.Update(labels);
            _targetProportions.Update(ConfidentPredictions(inputs.TargetLogits, _options.ConfidenceThreshold));

            var classWeights = ClassProportions.Ratios(_targetProportions, _sourceProportions, _options.MaxClassWeight);
            if (classWeights is null)
                return null;
            var weights = labels.Select(c => (float)classWeights[c]).ToArray();
            // The estimators need two weighted rows (a single one has no pair); else this step aligns as plain MMD.
            long used = MmdLoss.SourceRowsUsed(labels.Length, inputs.TargetEmbedding.shape[0], _options.Estimator);
            if (weights.Take((int)used).Count(w => w > 0) < 2)
                return null;
            return tensor(weights);
        }

        /// <summary>The predicted classes of the rows whose softmax probability reaches the threshold (no gradient).</summary>
        internal static long[] ConfidentPredictions(Tensor logits, double threshold)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (probability, predicted) = nn.functional.softmax(logits.detach(), 1).max(1);
            var confident = probability.ge(threshold);
            return predicted.masked_select(confident).data<long>().ToArray();
        }
    }
}
