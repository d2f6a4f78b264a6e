using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// M-ADDA: ADDA with metric learning (Laradji &amp; Babanezhad, 2018). The source encoder M_s is trained with a
    /// triplet loss (batch-all on Euclidean distances, margin <see cref="TripletMargin"/>) so that source embeddings form one
    /// cluster per class; the class centres C_j (mean source embedding of class j under M_s) are kept in the model. The
    /// adversarial stage is ADDA's (<see cref="TwoStageAdversarialOptions"/>) with the centre regulariser added to the
    /// target encoder's loss: <c>min_{M_t} BCE(D(M_t(x_t)), 1) + w · E_t[min_j ‖M_t(x_t) − C_j‖²] / s</c> (s: the mean squared
    /// distance between two centres, so the regulariser does not depend on the embedding's scale), pulling each
    /// target embedding to its nearest source cluster. Rows are classified by their nearest centre, with probabilities
    /// softmax(−‖e − C_j‖² / 2σ²), σ² the source rows' mean squared distance to their class centre (the magnet loss's).
    /// </summary>
    /// <remarks>
    /// The centres are the running class means of M_s's embeddings of every source batch drawn in the adversarial stage.
    /// M_s is frozen then and each epoch of the sampler draws every source row once, so they are the class means over
    /// the source rows (each row weighted by the number of epochs it was drawn in, which differ by at most one), available
    /// from the first adversarial step. (Before it, they follow the source batches, so that a training too short for an
    /// adversarial stage still scores.) The network's classifier head is not used.
    /// </remarks>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new MAddaOptions { Backbone = new LeNetBackboneOptions() });
    /// </code></example>
    public sealed class MAddaOptions : TwoStageAdversarialOptions
    {
        /// <summary>
        /// Makes M-ADDA options with <see cref="TwoStageAdversarialOptions.AdversarialOptimizer"/> = Adam (learning rate 2e-4, as
        /// the paper). With SGD at 0.01, the centre regulariser's squared distances grew the target embedding without bound
        /// (divergence at step 506 of 1,000 on optdigits → mnist-opencv); Adam's steps do not grow with the gradient.
        /// </summary>
        public MAddaOptions()
        {
            AdversarialOptimizer = AdversarialOptimizerKind.Adam;
        }

        /// <summary>Margin m of the triplet loss, in (Euclidean) distance units. Default: 1 (M-ADDA's code). Must be positive.</summary>
        public float TripletMargin = 1f;

        /// <summary>Weight w of the centre regulariser E[min_j ‖M_t(x_t) − C_j‖²] / s (s: mean squared distance between centres). Default: 1. Must be non-negative.</summary>
        public float CentreWeight = 1f;

        internal override string MethodName => "M-ADDA";

        internal override HeadKind Head => HeadKind.NearestCentre;

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.MAddaMethod(this, context);

        internal override void ValidateStageOptions()
        {
            Check(TripletMargin > 0 && float.IsFinite(TripletMargin), nameof(TripletMargin), TripletMargin, "must be positive");
            Check(CentreWeight >= 0 && float.IsFinite(CentreWeight), nameof(CentreWeight), CentreWeight, "must be non-negative");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class MAddaMethod : TwoStageAdversarialMethod
    {
        private readonly MAddaOptions _options;
        private readonly int _classCount;
        private Tensor _sums, _counts, _squaredNorms;

        public MAddaMethod(MAddaOptions options, MethodContext context) : base(options, context)
        {
            _options = options;
            _classCount = context.Spec.ClassCount;
            _sums = zeros(_classCount, context.Spec.EmbeddingSize);
            _counts = zeros(_classCount);
            _squaredNorms = zeros(_classCount);
        }

        protected override IEnumerable<Parameter> SourceHeadParameters => Enumerable.Empty<Parameter>();

        protected override string SourceCriterionName => "triplet";

        protected override Tensor SourceCriterion(Tensor embedding, Tensor labels) => TripletLoss.BatchAll(embedding, labels, _options.TripletMargin);

        protected override Tensor SourceLoss(Tensor sourceEmbedding, StepBatch batch, LossLog losses)
        {
            var embedding = sourceEmbedding;
            var labels = batch.SourceLabels;
            if (batch.LabeledTargetFeatures is not null)
            {
                // Labeled target rows join the triplets (anchors, positives and negatives across domains).
                embedding = cat(new[] { embedding, Network.backbone.forward(batch.LabeledTargetFeatures) }, 0);
                labels = cat(new[] { labels, batch.LabeledTargetLabels }, 0);
            }
            var triplet = SourceCriterion(embedding, labels);
            losses.Add(SourceCriterionName, triplet);
            // Centres of the encoder being trained, so that even a training too short for an adversarial stage scores;
            // the adversarial stage starts them afresh from the frozen M_s.
            UpdateCentres(sourceEmbedding, batch.SourceLabels);
            return triplet;
        }

        protected override void OnAdaptationStarted()
        {
            _sums.zero_();
            _counts.zero_();
            _squaredNorms.zero_();
        }

        protected override Tensor TargetEncoderLoss(Tensor targetEmbedding, Tensor sourceEmbedding, StepBatch batch, LossLog losses)
        {
            UpdateCentres(sourceEmbedding, batch.SourceLabels);
            var centre = CentreLoss.Compute(targetEmbedding, Network.Centres);
            losses.Add("centre", centre);
            var loss = centre * _options.CentreWeight;
            if (batch.LabeledTargetFeatures is not null)
            {
                // The class criterion of the nearest-centre head: cross-entropy of softmax(−‖M_t(x) − C_j‖²).
                var logits = CentreLoss.Logits(Network.backbone.forward(batch.LabeledTargetFeatures), Network.Centres);
                var supervised = nn.functional.cross_entropy(logits, batch.LabeledTargetLabels);
                losses.Add("target classification", supervised);
                loss = loss + supervised * Options.TargetLabelWeight;
            }
            return loss;
        }

        /// <summary>Running class means of M_s's source embeddings, written in place into the network's centres.</summary>
        private void UpdateCentres(Tensor sourceEmbedding, Tensor labels)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (sums, counts) = CentreLoss.ClassSums(sourceEmbedding.detach(), labels, _classCount);
            _sums.add_(sums);
            _counts.add_(counts);
            var seen = _counts.gt(0).unsqueeze(1);
            // Classes not seen yet keep their current centre.
            Network.Centres.copy_(where(seen, _sums / _counts.clamp_min(1).unsqueeze(1), Network.Centres));

            // The magnet loss's σ² (Rippel et al., 2016): the mean squared distance of the rows to their class centre, from the
            // running sums as Σ‖e‖² − Σ_k n_k ‖C_k‖². Scoring divides the squared distances by 2σ², so the probabilities
            // follow the clusters' spread instead of the embedding's scale (unscaled, they were near one-hot: LogLoss ≈ 20).
            var embedding = sourceEmbedding.detach();
            _squaredNorms.index_add_(0, labels, (embedding * embedding).sum(1), 1);
            var means = _sums / _counts.clamp_min(1).unsqueeze(1);
            var within = _squaredNorms.sum() - (_counts * (means * means).sum(1)).sum();
            var variance = (within / (_counts.sum() - 1).clamp_min(1)).clamp_min(1e-12);
            Network.CentreScale.copy_((0.5 / variance).reshape(1));
        }

        public override void Dispose()
        {
            _sums?.Dispose();
            _counts?.Dispose();
            _squaredNorms?.Dispose();
            base.Dispose();
        }
    }
}
