using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>Classifier head on the embedding: Linear–ReLU–Linear (or one Linear when hidden size is 0), giving logits.</summary>
    internal sealed class ClassifierHead : Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public ClassifierHead(int embeddingSize, int hiddenSize, int classCount, string name = nameof(ClassifierHead)) : base(name)
        {
            layers = hiddenSize > 0
                ? Sequential(("fc1", Linear(embeddingSize, hiddenSize)), ("relu", ReLU()), ("fc2", Linear(hiddenSize, classCount)))
                : Sequential(("fc", Linear(embeddingSize, classCount)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor embedding) => layers.forward(embedding);
    }

    /// <summary>Domain discriminator on the embedding: Linear–ReLU–Linear to one logit (source vs target).</summary>
    internal sealed class DomainDiscriminator : Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public DomainDiscriminator(int embeddingSize, int hiddenSize) : base(nameof(DomainDiscriminator))
        {
            layers = Sequential(("fc1", Linear(embeddingSize, hiddenSize)), ("relu", ReLU()), ("fc2", Linear(hiddenSize, 1)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor embedding) => layers.forward(embedding).squeeze(1);
    }
}
