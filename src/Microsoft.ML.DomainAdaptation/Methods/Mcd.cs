using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Maximum Classifier Discrepancy (MCD; Saito et al., CVPR 2018). A generator G (the backbone) and two classifiers
    /// F1, F2. Each iteration: (A) G, F1, F2 learn the source labels; (B) with G fixed, F1 and F2 stay correct on source
    /// while maximising their discrepancy d(p1, p2) = mean |p1 − p2| on target rows; (C) with F1, F2 fixed, G minimises
    /// that discrepancy, <see cref="GeneratorSteps"/> times. Prediction averages the two classifiers' probabilities.
    /// </summary>
    public sealed class McdOptions : DomainAdaptationOptions
    {
        /// <summary>Generator updates (step C) per iteration. Default: 4 (as the paper's digits experiments). Must be at least 1.</summary>
        public int GeneratorSteps = 4;

        /// <summary>Weight of the discrepancy in steps B and C. Default: 1. Must be non-negative.</summary>
        public float DiscrepancyWeight = 1f;

        internal override string MethodName => "MCD";

        internal override HeadKind Head => HeadKind.AveragedPair;

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.McdMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(GeneratorSteps >= 1, nameof(GeneratorSteps), GeneratorSteps, "must be at least 1");
            Check(DiscrepancyWeight >= 0 && float.IsFinite(DiscrepancyWeight), nameof(DiscrepancyWeight), DiscrepancyWeight, "must be non-negative");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class McdMethod : AdaptationMethod
    {
        private readonly McdOptions _options;

        public McdMethod(McdOptions options, MethodContext context) : base(context) => _options = options;

        private optim.Optimizer Generator => Optimizers[0];

        private optim.Optimizer Classifiers => Optimizers[1];

        protected override IReadOnlyList<optim.Optimizer> BuildOptimizers() => new[]
        {
            Sgd(Network.backbone.parameters()),
            Sgd(Network.classifier.parameters().Concat(Network.SecondClassifier.parameters())),
        };

        private Tensor SourceLoss(Tensor embedding, Tensor labels) =>
            nn.functional.cross_entropy(Network.classifier.forward(embedding), labels)
            + nn.functional.cross_entropy(Network.SecondClassifier.forward(embedding), labels);

        private Tensor Discrepancy(Tensor embedding) =>
            McdDiscrepancy.Compute(Network.classifier.forward(embedding), Network.SecondClassifier.forward(embedding));

        public override Tensor Step(StepBatch batch, StepState state, LossLog losses)
        {
            // A: everything learns the source labels (and labeled target rows, when there are).
            var stepA = SourceLoss(Network.backbone.forward(batch.SourceFeatures), batch.SourceLabels);
            losses.Add("classification", stepA);
            var supervised = TargetLabelLoss(batch, losses);
            if (supervised is not null)
                stepA = stepA + supervised;
            Update(stepA, Generator, Classifiers);

            // B: G fixed; the classifiers disagree on target while staying right on source.
            Tensor sourceEmbedding, targetEmbedding;
            using (no_grad())
            {
                sourceEmbedding = Network.backbone.forward(batch.SourceFeatures);
                targetEmbedding = Network.backbone.forward(batch.TargetFeatures);
            }
            var discrepancy = Discrepancy(targetEmbedding);
            var stepB = SourceLoss(sourceEmbedding, batch.SourceLabels) - discrepancy * _options.DiscrepancyWeight;
            losses.Add("discrepancy", discrepancy);
            Update(stepB, Classifiers);

            // C: the classifiers fixed; G brings target features where they agree.
            Tensor stepC = null;
            for (int i = 0; i < _options.GeneratorSteps; i++)
            {
                stepC = Discrepancy(Network.backbone.forward(batch.TargetFeatures)) * _options.DiscrepancyWeight;
                Update(stepC, Generator);
            }
            losses.Add("generator discrepancy", stepC);
            return stepA.detach() + stepB.detach() + stepC.detach();
        }

        /// <summary>Backward pass of <paramref name="loss"/>, then a step of the given optimizers only.</summary>
        private void Update(Tensor loss, params optim.Optimizer[] optimizers)
        {
            Generator.zero_grad();
            Classifiers.zero_grad();
            loss.backward();
            foreach (var optimizer in optimizers)
                optimizer.step();
        }
    }
}
