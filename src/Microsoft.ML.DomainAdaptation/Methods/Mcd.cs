using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Maximum Classifier Discrepancy (MCD; Saito, Watanabe, Ushiku &amp; Harada, CVPR 2018). A generator G (the
    /// backbone) feeds two classifiers F1 and F2. Each step has three phases:
    /// A. G, F1, F2 minimise the source cross-entropy <c>CE(F1(G(x_s)), y_s) + CE(F2(G(x_s)), y_s)</c>;
    /// B. with G fixed, F1 and F2 minimise <c>CE_s − w · d(F1(G(x_t)), F2(G(x_t)))</c>: they disagree as much as they
    /// can on target rows while staying correct on source rows, exposing target rows outside the source support;
    /// C. with F1, F2 fixed, G minimises <c>w · d</c> on the target batch, <see cref="GeneratorSteps"/> times, moving
    /// those rows inside it. d is the mean absolute difference of the two softmax outputs.
    /// The fitted model predicts with the mean of the two classifiers' probabilities.
    /// </summary>
    /// <remarks>
    /// Both optimisers are SGD with the shared learning rate, momentum, weight decay and annealing. Each of the n generator
    /// updates minimises <c>(w / n) · d</c>, so that the n of them move G about as far as one update of <c>w · d</c>: Saito et al.
    /// use Adam at 2e-4, whose steps do not grow with the gradient; with SGD at 0.01 and momentum, n unscaled updates drove the
    /// target embedding to a point (10.9 % target accuracy on optdigits → mnist-opencv, source-only 25 %). A step costs about
    /// 2 + <see cref="GeneratorSteps"/> forward and backward passes of the backbone (≈ 6× a source-only step by default); without
    /// batch normalisation, B's forward pass of the target batch (with gradients) serves C's first update, which would compute
    /// the same values.
    /// </remarks>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new McdOptions { Backbone = new LeNetBackboneOptions() });
    /// </code></example>
    public sealed class McdOptions : DomainAdaptationOptions
    {
        internal override bool UsesSharedStep => false;

        /// <summary>Weight w of the classifier discrepancy in phases B and C. Default: 1 (Saito et al.). Must be non-negative.</summary>
        public float DiscrepancyWeight = 1f;

        /// <summary>Number n of generator updates (phase C) per step. Default: 4 (Saito et al.'s choice for digits). Must be at least 1.</summary>
        public int GeneratorSteps = 4;

        internal override string MethodName => "MCD";

        internal override HeadKind Head => HeadKind.AveragedPair;

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.McdMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(DiscrepancyWeight >= 0 && float.IsFinite(DiscrepancyWeight), nameof(DiscrepancyWeight), DiscrepancyWeight, "must be non-negative");
            Check(GeneratorSteps >= 1, nameof(GeneratorSteps), GeneratorSteps, "must be at least 1");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class McdMethod : AdaptationMethod
    {
        private readonly McdOptions _options;

        // With batch normalisation a forward pass depends on its batch (source and target together in B) and updates running
        // statistics, so sharing G(x_t) between B and C would change the training: only networks without it share.
        public McdMethod(McdOptions options, MethodContext context) : base(context)
        {
            _options = options;
            ShareTargetForward = !Network.backbone.modules().OfType<TorchSharp.Modules.BatchNorm>().Any();
        }

        /// <summary>True when B's target forward pass serves C's first update (no batch normalisation); tests switch it off to compare.</summary>
        internal bool ShareTargetForward { get; set; }

        private optim.Optimizer GeneratorOptimizer => Optimizers[0];

        private optim.Optimizer ClassifierOptimizer => Optimizers[1];

        protected override IReadOnlyList<optim.Optimizer> BuildOptimizers() => new[]
        {
            Sgd(Network.backbone.parameters()),
            Sgd(Network.classifier.parameters().Concat(Network.SecondClassifier.parameters())),
        };

        public override Tensor Step(StepBatch batch, StepState state, LossLog losses)
        {
            var g = Network.backbone;
            var f1 = Network.classifier;
            var f2 = Network.SecondClassifier;
            double w = _options.DiscrepancyWeight;

            // A: everything on the source rows (and on the labeled target rows, when there are some).
            var sourceEmbedding = g.forward(batch.SourceFeatures);
            var classification = SourceCrossEntropy(sourceEmbedding, batch.SourceLabels);
            StepPhases.Mark("A: forward + loss");
            losses.Add("classification", classification);
            var stepA = classification;
            if (batch.LabeledTargetFeatures is not null)
            {
                // F1 through the shared criterion, F2 with the same weight: both classifiers learn the labeled rows.
                var second = nn.functional.cross_entropy(f2.forward(g.forward(batch.LabeledTargetFeatures)), batch.LabeledTargetLabels);
                stepA = stepA + TargetLabelLoss(batch, losses) + second * Options.TargetLabelWeight;
            }
            GeneratorOptimizer.zero_grad();
            ClassifierOptimizer.zero_grad();
            StepPhases.Mark("zero_grad");
            stepA.backward();
            StepPhases.Mark("A: backward");
            GeneratorOptimizer.step();
            ClassifierOptimizer.step();
            StepPhases.Mark("optimizer step");

            // B: G fixed; the classifiers stay correct on source and maximise their discrepancy on target.
            Tensor fixedSource, fixedTarget, sharedTarget = null;
            if (ShareTargetForward)
            {
                // G(x_t) with gradients, which C's first update reuses: G does not change between here and there (B steps
                // only the classifiers), so that update gets the very values it would compute, one backbone forward fewer.
                using (no_grad())
                    fixedSource = g.forward(batch.SourceFeatures);
                sharedTarget = g.forward(batch.TargetFeatures);
                fixedTarget = sharedTarget.detach();
            }
            else
            {
                using (no_grad())
                {
                    int sourceRows = (int)batch.SourceFeatures.shape[0];
                    var embedding = g.forward(cat(new[] { batch.SourceFeatures, batch.TargetFeatures }, 0));
                    fixedSource = embedding[..sourceRows];
                    fixedTarget = embedding[sourceRows..];
                }
            }
            StepPhases.Mark("B: backbone forward");
            var discrepancyB = ClassifierDiscrepancy.Compute(f1.forward(fixedTarget), f2.forward(fixedTarget));
            losses.Add("discrepancy (classifiers)", discrepancyB);
            var stepB = SourceCrossEntropy(fixedSource, batch.SourceLabels) - discrepancyB * w;
            StepPhases.Mark("B: classifiers forward + loss");
            ClassifierOptimizer.zero_grad();
            StepPhases.Mark("zero_grad");
            stepB.backward();
            StepPhases.Mark("B: backward");
            ClassifierOptimizer.step();
            StepPhases.Mark("optimizer step");

            // C: classifiers fixed (only G's optimizer steps); G minimises the discrepancy, n times.
            for (int k = 0; k < _options.GeneratorSteps; k++)
            {
                var targetEmbedding = k == 0 && sharedTarget is not null ? sharedTarget : g.forward(batch.TargetFeatures);
                var discrepancyC = ClassifierDiscrepancy.Compute(f1.forward(targetEmbedding), f2.forward(targetEmbedding));
                StepPhases.Mark("C: forward + loss");
                GeneratorOptimizer.zero_grad();
                StepPhases.Mark("zero_grad");
                (discrepancyC * (w / _options.GeneratorSteps)).backward();
                StepPhases.Mark("C: backward");
                GeneratorOptimizer.step();
                StepPhases.Mark("optimizer step");
                if (k == _options.GeneratorSteps - 1)
                    losses.Add("discrepancy (generator)", discrepancyC);
            }
            return stepA;
        }

        private Tensor SourceCrossEntropy(Tensor embedding, Tensor labels) =>
            nn.functional.cross_entropy(Network.classifier.forward(embedding), labels)
            + nn.functional.cross_entropy(Network.SecondClassifier.forward(embedding), labels);
    }
}
