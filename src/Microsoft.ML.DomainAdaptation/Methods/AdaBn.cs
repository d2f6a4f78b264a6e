using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Losses;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// AdaBN (Li et al., 2016/2018): the network is trained with batch normalisation on the labeled source rows; after
    /// training every batch-normalisation layer's statistics are re-estimated on the target rows, with no gradient
    /// step. Domain knowledge then lives in the normalisation statistics. Optionally combined with a CORAL loss
    /// during training (<see cref="CoralWeight"/>).
    /// </summary>
    /// <remarks>
    /// AdaBN needs batch-normalisation layers: a backbone whose <see cref="BackboneOptions.Normalization"/> is
    /// <see cref="NormalizationKind.None"/> is built with <see cref="NormalizationKind.BatchNorm"/>. The fitted
    /// transformer normalises with target statistics, so it is meant for target-domain data.
    /// </remarks>
    public sealed class AdaBnOptions : DomainAdaptationOptions
    {
        /// <summary>Weight of a Deep CORAL loss on the embedding during training; 0 trains on source rows only. Default: 0. Must be non-negative.</summary>
        public float CoralWeight;

        /// <summary>Target rows per forward pass when re-estimating the statistics (the estimate is the cumulative
        /// average over these chunks, as PyTorch's momentum=None). Default: 1024. Must be positive.</summary>
        public int StatisticsBatchSize = 1024;

        /// <summary>
        /// With a target term (<see cref="CoralWeight"/> or <see cref="DomainAdaptationOptions.AddOns"/>): true passes the
        /// source and the target batch through the network separately, so during training too each domain is normalised by
        /// its own batch statistics, as the fitted model normalises the target by the target's (domain-specific batch
        /// norm); false passes them concatenated, as the other methods do. Default: false.
        /// </summary>
        public bool SeparateDomainBatches;

        internal override string MethodName => "AdaBN";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.AdaBnMethod(this, context);

        internal override NormalizationKind RequiredNormalization(NormalizationKind requested)
        {
            if (requested == NormalizationKind.InstanceNorm)
                throw new ArgumentOutOfRangeException(nameof(BackboneOptions.Normalization), requested,
                    "AdaBN re-estimates batch-normalisation statistics; use a backbone with Normalization BatchNorm (or None, which AdaBN turns into BatchNorm).");
            return NormalizationKind.BatchNorm;
        }

        internal override void ValidateMethodOptions()
        {
            RequiredNormalization(Backbone.Normalization);
            Check(CoralWeight >= 0 && float.IsFinite(CoralWeight), nameof(CoralWeight), CoralWeight, "must be non-negative");
            Check(StatisticsBatchSize > 0, nameof(StatisticsBatchSize), StatisticsBatchSize, "must be positive");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class AdaBnMethod : AdaptationMethod
    {
        private readonly AdaBnOptions _options;

        public AdaBnMethod(AdaBnOptions options, MethodContext context) : base(context) => _options = options;

        // Pure AdaBN trains on source batches alone, so the training statistics are the source's.
        public override bool UsesTarget => _options.CoralWeight > 0 || Options.HasAddOns;

        protected override AlignmentInputs ForwardBothDomains(StepBatch batch)
        {
            if (!_options.SeparateDomainBatches)
                return base.ForwardBothDomains(batch);
            // Two passes: batch norm sees one domain at a time, its statistics those the scoring will use for that domain.
            var sourceEmbedding = Network.backbone.forward(batch.SourceFeatures);
            var targetEmbedding = Network.backbone.forward(batch.TargetFeatures);
            return new AlignmentInputs(sourceEmbedding, targetEmbedding, Network.classifier.forward(sourceEmbedding), Network.classifier.forward(targetEmbedding));
        }

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            var coral = CoralLoss.Compute(inputs.SourceEmbedding, inputs.TargetEmbedding);
            losses.Add("coral", coral);
            return coral * _options.CoralWeight;
        }

        public override void CompleteTraining(Data.FeatureRows sourceFeatures, Data.FeatureRows targetFeatures)
        {
            var layers = Network.modules().OfType<BatchNorm>().ToArray();
            if (layers.Length == 0)
                throw new InvalidOperationException("AdaBN found no batch-normalisation layer in the network.");
            var momenta = layers.Select(l => l.momentum).ToArray();
            foreach (var layer in layers)
            {
                layer.reset_running_stats();
                layer.momentum = null;
            }
            Network.train();
            long rows = targetFeatures.Count;
            long start = 0;
            while (start < rows)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(_options.StatisticsBatchSize, rows - start);
                // A last chunk of one row has no batch statistics: it joins this one.
                if (rows - start - length == 1)
                    length++;
                Network.backbone.forward(targetFeatures.Rows(start, length));
                start += length;
            }
            Network.eval();
            for (int i = 0; i < layers.Length; i++)
                layers[i].momentum = momenta[i];
        }
    }
}
