using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>The optimiser of the adversarial stage of <see cref="AddaOptions"/> and <see cref="MAddaOptions"/>.</summary>
    public enum AdversarialOptimizerKind
    {
        /// <summary>SGD with the shared <see cref="DomainAdaptationOptions.Momentum"/> and weight decay: steps proportional to the gradient.</summary>
        Sgd = 0,
        /// <summary>Adam with betas (0.5, 0.999), as ADDA (Tzeng et al. 2017, after DCGAN): steps of about the learning rate per weight.</summary>
        Adam = 1,
    }

    /// <summary>
    /// Options shared by the two-stage adversarial methods (<see cref="AddaOptions"/>, <see cref="MAddaOptions"/>):
    /// (1) a source encoder M_s is trained on the labeled source rows for <see cref="PretrainFraction"/> of the steps;
    /// (2) a target encoder M_t starts as a copy of M_s; (3) with M_s frozen, a discriminator D learns to tell
    /// M_s(x_s) (label 1) from M_t(x_t) (label 0), and M_t learns to fool the frozen D with inverted labels,
    /// <c>min_{M_t} BCE(D(M_t(x_t)), 1)</c>, the two alternating each step. The fitted model scores with M_t.
    /// </summary>
    public abstract class TwoStageAdversarialOptions : DomainAdaptationOptions
    {
        internal override bool UsesSharedStep => false;

        /// <summary>Fraction of <see cref="DomainAdaptationOptions.Iterations"/> spent training the source encoder before the
        /// adversarial stage. Default: 0.5. Must be in (0, 1).</summary>
        public float PretrainFraction = 0.5f;

        /// <summary>Width of the discriminator's two hidden layers (Linear–ReLU–Linear–ReLU–Linear). Default: 500, as in
        /// ADDA's digits experiments. Must be positive.</summary>
        public int DiscriminatorHiddenSize = 500;

        /// <summary>
        /// Optimiser of the discriminator and the target encoder in the adversarial stage. Default (ADDA; M-ADDA defaults to Adam):
        /// <see cref="AdversarialOptimizerKind.Sgd"/> (see the method's remarks for why not ADDA's Adam).
        /// </summary>
        public AdversarialOptimizerKind AdversarialOptimizer = AdversarialOptimizerKind.Sgd;

        /// <summary>
        /// Initial learning rate of the adversarial stage, annealed like <see cref="DomainAdaptationOptions.LearningRate"/>
        /// when <see cref="DomainAdaptationOptions.AnnealLearningRate"/> is on. Default: null, which takes a tenth of
        /// <see cref="DomainAdaptationOptions.LearningRate"/> for SGD (see <see cref="AddaOptions"/>' remarks for why) and
        /// 2e-4 (ADDA's) for Adam. Must be positive when set.
        /// </summary>
        public float? AdversarialLearningRate;

        /// <summary>The SGD adversarial stage's default learning rate as a share of <see cref="DomainAdaptationOptions.LearningRate"/>
        /// (the measurements are in <see cref="AddaOptions"/>' remarks).</summary>
        internal const double SgdAdversarialLearningRateScale = 0.1;

        /// <summary>
        /// One-sided label smoothing of the discriminator: source rows get the label 1 − s instead of 1 (Salimans et al.
        /// 2016), so D never grows overconfident and its gradient to M_t stays informative. Default: 0.1. Must be in [0, 0.5).
        /// </summary>
        public float DiscriminatorLabelSmoothing = 0.1f;

        /// <summary>
        /// Weight a of the source anchor added to the target encoder's loss in the adversarial stage: the source-stage
        /// criterion on M_t's embedding of the source batch (ADDA: <c>CE(C(M_t(x_s)), y_s)</c> through the frozen classifier;
        /// M-ADDA: the triplet loss). M_t must go on encoding source rows as M_s did, so it cannot fool D by sending every
        /// row to one point (mode collapse, which leaves the frozen classifier one class to predict). Default: 1.
        /// 0 gives the paper's procedure. Must be non-negative.
        /// </summary>
        public float SourceAnchorWeight = 1f;

        /// <summary>The learning rate the adversarial stage starts from.</summary>
        internal double AdversarialInitialLearningRate =>
            AdversarialLearningRate ?? (AdversarialOptimizer == AdversarialOptimizerKind.Adam ? 2e-4 : SgdAdversarialLearningRateScale * LearningRate);

        internal override void ValidateMethodOptions()
        {
            Check(PretrainFraction > 0 && PretrainFraction < 1, nameof(PretrainFraction), PretrainFraction, "must be in (0, 1)");
            Check(DiscriminatorHiddenSize > 0, nameof(DiscriminatorHiddenSize), DiscriminatorHiddenSize, "must be positive");
            Check(Enum.IsDefined(AdversarialOptimizer), nameof(AdversarialOptimizer), AdversarialOptimizer, "must be Sgd or Adam");
            Check(AdversarialLearningRate is null || (AdversarialLearningRate > 0 && float.IsFinite(AdversarialLearningRate.Value)),
                nameof(AdversarialLearningRate), AdversarialLearningRate, "must be a positive number when set");
            Check(SourceAnchorWeight >= 0 && float.IsFinite(SourceAnchorWeight), nameof(SourceAnchorWeight), SourceAnchorWeight, "must be non-negative");
            Check(DiscriminatorLabelSmoothing >= 0 && DiscriminatorLabelSmoothing < 0.5f, nameof(DiscriminatorLabelSmoothing),
                DiscriminatorLabelSmoothing, "must be in [0, 0.5)");
            ValidateStageOptions();
        }

        /// <summary>Checks the options of the derived method.</summary>
        internal virtual void ValidateStageOptions()
        {
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>
    /// The two-stage procedure of ADDA and M-ADDA. The scoring network's backbone is trained on source as M_s, then
    /// becomes M_t in place (so the saved network holds M_t); a frozen copy of it is kept as M_s beside it.
    /// Derived methods give the source-stage loss and may add a term to the target encoder's loss.
    /// </summary>
    internal abstract class TwoStageAdversarialMethod : AdaptationMethod
    {
        // State of its own (running class proportions; the frozen stage copy and centres) is not in checkpoints.
        public override bool ResumesExactly => false;

        private readonly TwoStageAdversarialOptions _options;
        private readonly AdversarialDiscriminator _discriminator;

        protected TwoStageAdversarialMethod(TwoStageAdversarialOptions options, MethodContext context) : base(context)
        {
            _options = options;
            SourceEncoder = AddAuxiliary(context.Spec.CreateBackbone());
            _discriminator = AddAuxiliary(new AdversarialDiscriminator(context.Spec.EmbeddingSize, options.DiscriminatorHiddenSize));
            PretrainSteps = Math.Clamp((int)Math.Round(options.PretrainFraction * options.Iterations), 1, Math.Max(1, options.Iterations - 1));
        }

        /// <summary>Steps of the source stage.</summary>
        protected int PretrainSteps { get; }

        /// <summary>M_s: the frozen copy of the source-trained backbone (meaningful once <see cref="Adapting"/>).</summary>
        protected nn.Module<Tensor, Tensor> SourceEncoder { get; }

        /// <summary>True in the adversarial stage.</summary>
        protected bool Adapting { get; private set; }

        private optim.Optimizer SourceOptimizer => Optimizers[0];

        private optim.Optimizer DiscriminatorOptimizer => Optimizers[1];

        private optim.Optimizer TargetEncoderOptimizer => Optimizers[2];

        /// <summary>Parameters trained in the source stage beside the backbone (ADDA: the classifier; M-ADDA: none).</summary>
        protected abstract IEnumerable<Parameter> SourceHeadParameters { get; }

        /// <summary>The source stage's criterion (ADDA: cross-entropy of the classifier; M-ADDA: triplet loss) on an embedding of labeled rows.</summary>
        protected abstract Tensor SourceCriterion(Tensor embedding, Tensor labels);

        /// <summary>The name the source criterion is logged under.</summary>
        protected abstract string SourceCriterionName { get; }

        /// <summary>
        /// The source stage's loss: by default the criterion on the source batch, plus the labeled target rows' class
        /// criterion when there are some.
        /// </summary>
        protected virtual Tensor SourceLoss(Tensor sourceEmbedding, StepBatch batch, LossLog losses)
        {
            var loss = SourceCriterion(sourceEmbedding, batch.SourceLabels);
            losses.Add(SourceCriterionName, loss);
            var supervised = TargetLabelLoss(batch, losses);
            return supervised is null ? loss : loss + supervised;
        }

        /// <summary>
        /// Extra terms of the target encoder's loss in the adversarial stage (regularisers, labeled target rows), or null.
        /// <paramref name="sourceEmbedding"/> is M_s's (constant) embedding of the source batch.
        /// </summary>
        protected virtual Tensor TargetEncoderLoss(Tensor targetEmbedding, Tensor sourceEmbedding, StepBatch batch, LossLog losses) => null;

        /// <summary>Called once when the adversarial stage starts, after M_s is copied and frozen.</summary>
        protected virtual void OnAdaptationStarted()
        {
        }

        protected override IReadOnlyList<optim.Optimizer> BuildOptimizers() => new[]
        {
            Sgd(Network.backbone.parameters().Concat(SourceHeadParameters)),
            AdversarialOptimizer(_discriminator.parameters()),
            AdversarialOptimizer(Network.backbone.parameters()),
        };

        private optim.Optimizer AdversarialOptimizer(IEnumerable<Parameter> parameters) => _options.AdversarialOptimizer switch
        {
            AdversarialOptimizerKind.Adam => optim.Adam(parameters, _options.AdversarialInitialLearningRate, 0.5, 0.999, weight_decay: Options.WeightDecay),
            _ => optim.SGD(parameters, _options.AdversarialInitialLearningRate, Options.Momentum, weight_decay: Options.WeightDecay),
        };

        public override Tensor Step(StepBatch batch, StepState state, LossLog losses)
        {
            if (state.Iteration < PretrainSteps)
                return SourceStep(batch, losses);
            if (!Adapting)
                StartAdaptation();
            return AdversarialStep(batch, state, losses);
        }

        private Tensor SourceStep(StepBatch batch, LossLog losses)
        {
            var loss = SourceLoss(Network.backbone.forward(batch.SourceFeatures), batch, losses);
            StepPhases.Mark("source stage: forward + loss");
            SourceOptimizer.zero_grad();
            StepPhases.Mark("zero_grad");
            loss.backward();
            StepPhases.Mark("source stage: backward");
            SourceOptimizer.step();
            StepPhases.Mark("optimizer step");
            return loss;
        }

        /// <summary>M_s ← copy of the backbone (weights and normalisation statistics), frozen; the backbone goes on as M_t.</summary>
        private void StartAdaptation()
        {
            using (no_grad())
            {
                foreach (var (to, from) in SourceEncoder.parameters().Zip(Network.backbone.parameters()))
                    to.copy_(from);
                foreach (var (to, from) in SourceEncoder.buffers().Zip(Network.backbone.buffers()))
                    to.copy_(from);
            }
            foreach (var parameter in SourceEncoder.parameters())
                parameter.requires_grad = false;
            SourceEncoder.eval();
            Adapting = true;
            OnAdaptationStarted();
        }

        private Tensor AdversarialStep(StepBatch batch, StepState state, LossLog losses)
        {
            // The adversarial stage follows the shared schedule, scaled to its own initial learning rate.
            double learningRate = _options.AdversarialInitialLearningRate * state.LearningRate / Options.LearningRate;
            foreach (var optimizer in new[] { DiscriminatorOptimizer, TargetEncoderOptimizer })
            {
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = learningRate;
            }

            Tensor sourceEmbedding, anchorEmbedding = null, targetEmbedding;
            using (no_grad())
                sourceEmbedding = SourceEncoder.forward(batch.SourceFeatures);
            if (_options.SourceAnchorWeight > 0)
            {
                int sourceCount = (int)batch.SourceFeatures.shape[0];
                var embedding = Network.backbone.forward(cat(new[] { batch.SourceFeatures, batch.TargetFeatures }, 0));
                anchorEmbedding = embedding[..sourceCount];
                targetEmbedding = embedding[sourceCount..];
            }
            else
            {
                targetEmbedding = Network.backbone.forward(batch.TargetFeatures);
            }
            long sourceRows = sourceEmbedding.shape[0], targetRows = targetEmbedding.shape[0];
            StepPhases.Mark("adversarial: encoders forward");

            // Discriminator: M_s(x_s) → 1 − s (one-sided smoothing), M_t(x_t) → 0; M_t untouched.
            var logits = _discriminator.forward(cat(new[] { sourceEmbedding, targetEmbedding.detach() }, 0));
            var labels = cat(new[] { full(sourceRows, 1.0 - _options.DiscriminatorLabelSmoothing), zeros(targetRows) }, 0);
            var discriminatorLoss = nn.functional.binary_cross_entropy_with_logits(logits, labels);
            losses.Add("discriminator", discriminatorLoss);
            DiscriminatorOptimizer.zero_grad();
            StepPhases.Mark("zero_grad");
            discriminatorLoss.backward();
            StepPhases.Mark("adversarial: discriminator backward");
            DiscriminatorOptimizer.step();
            StepPhases.Mark("optimizer step");

            // Target encoder against the updated, frozen discriminator, with inverted labels (M_t(x_t) → 1).
            var adversarialLoss = nn.functional.binary_cross_entropy_with_logits(_discriminator.forward(targetEmbedding), ones(targetRows));
            losses.Add("adversarial", adversarialLoss);
            var loss = adversarialLoss;
            if (anchorEmbedding is not null)
            {
                var anchor = SourceCriterion(anchorEmbedding, batch.SourceLabels);
                losses.Add("source anchor", anchor);
                loss = loss + anchor * _options.SourceAnchorWeight;
            }
            var extra = TargetEncoderLoss(targetEmbedding, sourceEmbedding, batch, losses);
            if (extra is not null)
                loss = loss + extra;
            StepPhases.Mark("losses");
            TargetEncoderOptimizer.zero_grad();
            StepPhases.Mark("zero_grad");
            loss.backward();
            StepPhases.Mark("adversarial: encoder backward");
            TargetEncoderOptimizer.step();
            StepPhases.Mark("optimizer step");
            return loss;
        }
    }
}
