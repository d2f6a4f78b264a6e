using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// The network a fitted transformer runs: a backbone giving the embedding and a head giving class probabilities.
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
        }

        public NetworkSpec Spec { get; }

        /// <summary>Class logits.</summary>
        public override Tensor forward(Tensor input) => classifier.forward(backbone.forward(input));

        /// <summary>Embedding and class probabilities of a batch, without gradient.</summary>
        public (Tensor Embedding, Tensor Probabilities) Score(Tensor input)
        {
            using var noGrad = no_grad();
            var embedding = backbone.forward(input);
            var probabilities = functional.softmax(classifier.forward(embedding), 1);
            return (embedding, probabilities);
        }
    }
}
