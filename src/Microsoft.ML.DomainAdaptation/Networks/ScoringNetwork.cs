using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// The network a fitted transformer runs: a backbone giving the embedding and a head giving class probabilities
    /// (<see cref="HeadKind"/>: one classifier, the mean of two classifiers, or the nearest class centre).
    /// Methods train it (and their own auxiliary modules beside it); only this network is saved.
    /// </summary>
    internal sealed class ScoringNetwork : Module<Tensor, Tensor>
    {
        public readonly Module<Tensor, Tensor> backbone;
        public readonly ClassifierHead classifier;

        public ScoringNetwork(NetworkSpec spec) : base(nameof(ScoringNetwork))
        {
            Spec = spec;
            backbone = spec.CreateBackbone();
            classifier = spec.CreateClassifier();
            RegisterComponents();
            if (spec.Head == HeadKind.AveragedPair)
            {
                SecondClassifier = spec.CreateClassifier("SecondClassifierHead");
                register_module("classifier2", SecondClassifier);
            }
            else if (spec.Head == HeadKind.NearestCentre)
            {
                register_buffer(CentresName, zeros(spec.ClassCount, spec.EmbeddingSize));
                register_buffer(CentreScaleName, ones(1));
            }
        }

        public NetworkSpec Spec { get; }

        /// <summary>The second classifier of <see cref="HeadKind.AveragedPair"/>, else null.</summary>
        public ClassifierHead SecondClassifier { get; }

        private const string CentresName = "centres";
        internal const string CentreScaleName = "centre_scale";

        /// <summary>
        /// Class centres (classes × embedding) of <see cref="HeadKind.NearestCentre"/>, else null. Read from the registered
        /// buffer each time: moving the network to another device (training on a GPU) replaces the buffer's tensor.
        /// </summary>
        public Tensor Centres => Spec.Head == HeadKind.NearestCentre ? named_buffers().First(b => b.name == CentresName).buffer : null;

        /// <summary>
        /// The factor 1 / 2σ² of <see cref="HeadKind.NearestCentre"/>'s probabilities softmax(−‖e − C_j‖² / 2σ²) (one value), else null.
        /// 1 in models saved before it existed, which keeps their probabilities as they were.
        /// </summary>
        public Tensor CentreScale => Spec.Head == HeadKind.NearestCentre ? named_buffers().First(b => b.name == CentreScaleName).buffer : null;

        /// <summary>Class logits of the first classifier.</summary>
        public override Tensor forward(Tensor input) => classifier.forward(backbone.forward(input));

        /// <summary>Class probabilities from an embedding, as the head kind defines them.</summary>
        public Tensor Probabilities(Tensor embedding)
        {
            using var scope = NewDisposeScope();
            var probabilities = Spec.Head switch
            {
                HeadKind.Softmax => functional.softmax(classifier.forward(embedding), 1),
                HeadKind.AveragedPair => (functional.softmax(classifier.forward(embedding), 1) + functional.softmax(SecondClassifier.forward(embedding), 1)) / 2,
                HeadKind.NearestCentre => functional.softmax(-cdist(embedding, Centres).pow(2) * CentreScale, 1),
                _ => throw new InvalidOperationException($"Unknown head {Spec.Head}."),
            };
            return probabilities.MoveToOuterDisposeScope();
        }

        /// <summary>Embedding and class probabilities of a batch, without gradient.</summary>
        public (Tensor Embedding, Tensor Probabilities) Score(Tensor input)
        {
            using var noGrad = no_grad();
            var embedding = backbone.forward(input);
            return (embedding, Probabilities(embedding));
        }
    }
}
