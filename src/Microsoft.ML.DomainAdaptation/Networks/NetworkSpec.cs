using System;
using System.IO;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Networks
{
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
    /// The architecture of a trained network — its input normalisation, its backbone (which describes itself,
    /// <see cref="BackboneSpec"/>) and its head — saved beside its weights so that loading rebuilds the same modules before
    /// reading the weights into them.
    /// </summary>
    internal sealed record NetworkSpec(BackboneSpec Backbone, int ClassifierHiddenSize, int ClassCount, HeadKind Head = HeadKind.Softmax)
    {
        /// <summary>Model formats before this one stored MLP and LeNet settings in one fixed record (<see cref="ReadLegacy"/>).</summary>
        public const uint FormatWithBackboneKinds = 0x00010004;

        /// <summary>Model formats before this one had no input normalisation (read as <see cref="InputNormalizationKind.None"/>).</summary>
        public const uint FormatWithInputNormalization = 0x00010005;

        /// <summary>What the network does to its input before the backbone. Default: nothing.</summary>
        public InputNormalizerSpec Input { get; init; } = InputNormalizerSpec.None;

        public int InputSize => Backbone.InputSize;

        public int EmbeddingSize => Backbone.EmbeddingSize;

        /// <summary>The backbone module, behind the input normalisation when there is one (<see cref="InputNormalizedBackbone"/>).</summary>
        public nn.Module<Tensor, Tensor> CreateBackbone() => Input.Kind == InputNormalizationKind.None
            ? Backbone.CreateModule()
            : new InputNormalizedBackbone(Input, Backbone.Image ?? throw new InvalidOperationException($"{Input.Kind} input normalisation needs an image backbone, not {Backbone}."), Backbone.CreateModule());

        public ClassifierHead CreateClassifier(string name = nameof(ClassifierHead)) =>
            new ClassifierHead(EmbeddingSize, ClassifierHiddenSize, ClassCount, name);

        public void Write(BinaryWriter writer)
        {
            Backbone.Write(writer);
            writer.Write(ClassifierHiddenSize);
            writer.Write(ClassCount);
            writer.Write((int)Head);
            Input.Write(writer);
        }

        /// <summary>Reads a description written by a model of format <paramref name="format"/>.</summary>
        public static NetworkSpec Read(BinaryReader reader, uint format)
        {
            var spec = format < FormatWithBackboneKinds
                ? ReadLegacy(reader)
                : new NetworkSpec(BackboneSpec.ReadAnyKind(reader), reader.ReadInt32(), reader.ReadInt32(), (HeadKind)reader.ReadInt32());
            if (!Enum.IsDefined(spec.Head) || spec.ClassCount < 2 || spec.ClassifierHiddenSize < 0)
                throw new InvalidDataException($"The model's network description is invalid: {spec}.");
            if (format >= FormatWithInputNormalization)
            {
                spec = spec with { Input = InputNormalizerSpec.Read(reader) };
                spec.Input.CheckRead(spec.Backbone);
            }
            return spec;
        }

        // Formats 0x00010002–3: backbone kind (1 MLP, 2 LeNet), input size, hidden sizes, C, H, W, embedding, classifier hidden,
        // classes, normalisation, head.
        private static NetworkSpec ReadLegacy(BinaryReader reader)
        {
            int kind = reader.ReadInt32();
            int inputSize = reader.ReadInt32();
            int hiddenCount = reader.ReadInt32();
            if (hiddenCount < 0 || hiddenCount > 1024)
                throw new InvalidDataException($"The model's network description is invalid: {hiddenCount} hidden layers.");
            var hidden = new int[hiddenCount];
            for (int i = 0; i < hidden.Length; i++)
                hidden[i] = reader.ReadInt32();
            var image = new ImageShape(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
            int embeddingSize = reader.ReadInt32(), classifierHidden = reader.ReadInt32(), classCount = reader.ReadInt32();
            var normalization = (NormalizationKind)reader.ReadInt32();
            var head = (HeadKind)reader.ReadInt32();
            BackboneSpec backbone = kind switch
            {
                1 => new MlpBackboneSpec(inputSize, hidden, embeddingSize, normalization),
                2 => new LeNetBackboneSpec(image, embeddingSize, normalization),
                _ => throw new InvalidDataException($"The model's network description is invalid: backbone kind {kind}."),
            };
            backbone.CheckRead();
            return new NetworkSpec(backbone, classifierHidden, classCount, head);
        }
    }
}
