using System;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    internal enum BackboneKind
    {
        Mlp = 1,
        LeNet = 2,
        /// <summary>ResNet with pretrained weights (Backbones/ResNet.cs).</summary>
        ResNet = 3,
        /// <summary>An imported ONNX CNN (Backbones/OnnxGraphNetwork.cs).</summary>
        Onnx = 4,
    }

    /// <summary>How the scoring network turns an embedding into class probabilities.</summary>
    internal enum HeadKind
    {
        /// <summary>softmax of one classifier head.</summary>
        Softmax = 1,
        /// <summary>mean of the softmax of two classifier heads (MCD).</summary>
        AveragedPair = 2,
        /// <summary>softmax of minus the squared distance to one centre per class (M-ADDA).</summary>
        NearestCentre = 3,
    }

    /// <summary>
    /// The architecture of a trained network, saved beside its weights so that loading rebuilds the same modules
    /// before reading the weights into them.
    /// </summary>
    internal sealed record NetworkSpec(
        BackboneKind Backbone,
        int InputSize,
        int[] HiddenSizes,
        int Channels,
        int Height,
        int Width,
        int EmbeddingSize,
        int ClassifierHiddenSize,
        int ClassCount,
        NormalizationKind Normalization = NormalizationKind.None,
        HeadKind Head = HeadKind.Softmax)
    {
        /// <summary>The pretrained backbone's settings (<see cref="BackboneKind.ResNet"/>, <see cref="BackboneKind.Onnx"/>), else null.</summary>
        public Backbones.PretrainedBackboneSettings Pretrained { get; init; }

        public nn.Module<Tensor, Tensor> CreateBackbone() => Backbone switch
        {
            BackboneKind.ResNet or BackboneKind.Onnx => Pretrained.CreateBackbone(EmbeddingSize),
            BackboneKind.Mlp => new MlpBackbone(InputSize, HiddenSizes, EmbeddingSize, Normalization),
            BackboneKind.LeNet => new LeNetBackbone(Channels, Height, Width, EmbeddingSize, Normalization),
            _ => throw new InvalidOperationException($"Unknown backbone kind {Backbone}."),
        };

        public ClassifierHead CreateClassifier(string name = nameof(ClassifierHead)) =>
            new ClassifierHead(EmbeddingSize, ClassifierHiddenSize, ClassCount, name);

        public void Write(BinaryWriter writer)
        {
            writer.Write((int)Backbone);
            writer.Write(InputSize);
            writer.Write(HiddenSizes.Length);
            foreach (int h in HiddenSizes)
                writer.Write(h);
            writer.Write(Channels);
            writer.Write(Height);
            writer.Write(Width);
            writer.Write(EmbeddingSize);
            writer.Write(ClassifierHiddenSize);
            writer.Write(ClassCount);
            writer.Write((int)Normalization);
            writer.Write((int)Head);
            Pretrained?.Write(writer);
        }

        public static NetworkSpec Read(BinaryReader reader)
        {
            var backbone = (BackboneKind)reader.ReadInt32();
            int inputSize = reader.ReadInt32();
            var hidden = new int[reader.ReadInt32()];
            for (int i = 0; i < hidden.Length; i++)
                hidden[i] = reader.ReadInt32();
            var spec = new NetworkSpec(backbone, inputSize, hidden, reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(),
                reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), (NormalizationKind)reader.ReadInt32(), (HeadKind)reader.ReadInt32());
            if (spec.Backbone is BackboneKind.ResNet or BackboneKind.Onnx)
                spec = spec with { Pretrained = Backbones.PretrainedBackboneSettings.Read(reader, spec.Backbone) };
            if (!Enum.IsDefined(spec.Backbone) || !Enum.IsDefined(spec.Normalization) || !Enum.IsDefined(spec.Head) || spec.InputSize <= 0 || spec.EmbeddingSize <= 0 || spec.ClassCount < 2 || hidden.Any(h => h <= 0))
                throw new InvalidDataException($"The model's network description is invalid: {spec}.");
            return spec;
        }
    }
}
