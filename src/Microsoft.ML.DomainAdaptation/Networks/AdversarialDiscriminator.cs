using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// ADDA's adversarial discriminator (Tzeng et al. 2017, §4.1): three fully connected layers, two hidden layers of the
    /// same width with ReLU, then one logit (source vs target): Linear–ReLU–Linear–ReLU–Linear.
    /// </summary>
    internal sealed class AdversarialDiscriminator : Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public AdversarialDiscriminator(int embeddingSize, int hiddenSize) : base(nameof(AdversarialDiscriminator))
        {
            layers = Sequential(
                ("fc1", Linear(embeddingSize, hiddenSize)), ("relu1", ReLU()),
                ("fc2", Linear(hiddenSize, hiddenSize)), ("relu2", ReLU()),
                ("fc3", Linear(hiddenSize, 1)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor embedding) => layers.forward(embedding).squeeze(1);
    }
}
