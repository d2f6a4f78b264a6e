using Microsoft.ML.DomainAdaptation.Losses;
using Microsoft.ML.DomainAdaptation.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Class-criterion adaptation in the manner of DTML (Hu, Lu &amp; Tan, CVPR 2015): the labeled embeddings (source rows
    /// and, with <see cref="DomainAdaptationOptions.UseTargetLabels"/>, the labeled target rows) are made compact within a
    /// class and separated between classes, while an MMD term aligns the source and target distributions:
    /// <c>L = CE + w_c · Σ‖f_i − μ_{y_i}‖² / n + w_s · mean_{c≠c'} max(0, m − ‖μ_c − μ_c'‖²) + w_p · MMD²(f_s, f_t)</c>.
    /// The kernel, estimator and MMD weight are those of <see cref="MmdOptionsBase"/>.
    /// </summary>
    /// <example><code>
    /// // A few target rows carry a label, the others have a missing label:
    /// var estimator = mlContext.Transforms.DomainAdapt(new ClassCriterionOptions { UseTargetLabels = true });
    /// </code></example>
    public sealed class ClassCriterionOptions : MmdOptionsBase
    {
        internal override bool UsesSharedStep => false;

        /// <summary>Weight w_c of the within-class compactness. Default: 0.01. Must be non-negative.</summary>
        public float CompactnessWeight = 0.01f;

        /// <summary>Weight w_s of the between-class separation. Default: 0.01. Must be non-negative.</summary>
        public float SeparationWeight = 0.01f;

        /// <summary>Margin m on the squared distance between two class means of a batch. Default: 10. Must be positive.</summary>
        public float SeparationMargin = 10f;

        internal override string MethodName => "ClassCriterion";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.ClassCriterionMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            base.ValidateMethodOptions();
            Check(CompactnessWeight >= 0 && float.IsFinite(CompactnessWeight), nameof(CompactnessWeight), CompactnessWeight, "must be non-negative");
            Check(SeparationWeight >= 0 && float.IsFinite(SeparationWeight), nameof(SeparationWeight), SeparationWeight, "must be non-negative");
            Check(SeparationMargin > 0 && float.IsFinite(SeparationMargin), nameof(SeparationMargin), SeparationMargin, "must be positive");
            CheckBatchOfTwo("the class criterion (compactness and separation compare rows of a batch)");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class ClassCriterionMethod : AdaptationMethod
    {
        private readonly ClassCriterionOptions _options;
        private readonly GaussianKernelFamily _kernels;

        public ClassCriterionMethod(ClassCriterionOptions options, MethodContext context) : base(context)
        {
            _options = options;
            _kernels = options.Kernels;
        }

        public override Tensor Step(StepBatch batch, StepState state, LossLog losses)
        {
            int sourceRows = (int)batch.SourceFeatures.shape[0], targetRows = (int)batch.TargetFeatures.shape[0];
            bool labeledTarget = batch.LabeledTargetFeatures is not null;
            var inputs = labeledTarget
                ? new[] { batch.SourceFeatures, batch.TargetFeatures, batch.LabeledTargetFeatures }
                : new[] { batch.SourceFeatures, batch.TargetFeatures };
            var embedding = Network.backbone.forward(cat(inputs, 0));
            var sourceEmbedding = embedding[..sourceRows];
            var targetEmbedding = embedding[sourceRows..(sourceRows + targetRows)];
            var labeledEmbedding = labeledTarget ? cat(new[] { sourceEmbedding, embedding[(sourceRows + targetRows)..] }, 0) : sourceEmbedding;
            var labels = labeledTarget ? cat(new[] { batch.SourceLabels, batch.LabeledTargetLabels }, 0) : batch.SourceLabels;

            var classification = nn.functional.cross_entropy(Network.classifier.forward(sourceEmbedding), batch.SourceLabels);
            losses.Add("classification", classification);
            var total = classification;
            if (labeledTarget)
            {
                var targetClassification = nn.functional.cross_entropy(Network.classifier.forward(embedding[(sourceRows + targetRows)..]), batch.LabeledTargetLabels);
                losses.Add("target classification", targetClassification);
                total = total + targetClassification * Options.TargetLabelWeight;
            }

            var (compactness, separation) = ClassCriterionLoss.Compute(labeledEmbedding, labels, Network.Spec.ClassCount, _options.SeparationMargin);
            losses.Add("compactness", compactness);
            losses.Add("separation", separation);
            var mmd = MmdLoss.Compute(sourceEmbedding, targetEmbedding, _kernels, _options.Estimator);
            losses.Add("mmd", mmd);
            double mmdWeight = _options.MmdWeight * (_options.RampWeight ? Schedules.WarmStart(state.Progress) : 1);
            losses.AddSchedule(ScheduleName.AlignmentWeight, mmdWeight);
            total = total + compactness * _options.CompactnessWeight + separation * _options.SeparationWeight + mmd * mmdWeight;

            Optimizer.zero_grad();
            total.backward();
            Optimizer.step();
            return total;
        }
    }
}
