using System;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Backbones;
using Microsoft.ML.DomainAdaptation.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>Trunk input channel c′ = feature channel <see cref="ChannelIndex"/>[c′] × <see cref="Scale"/>[c′] + <see cref="Shift"/>[c′].</summary>
    internal sealed record TrunkInputMapping(long[] ChannelIndex, float[] Scale, float[] Shift)
    {
        public void Write(BinaryWriter writer)
        {
            writer.Write(ChannelIndex.Length);
            for (int i = 0; i < ChannelIndex.Length; i++)
            {
                writer.Write(ChannelIndex[i]);
                writer.Write(Scale[i]);
                writer.Write(Shift[i]);
            }
        }

        public static TrunkInputMapping Read(BinaryReader reader)
        {
            int count = reader.ReadInt32();
            if (count is not (1 or 3))
                throw new InvalidDataException($"The model's pretrained backbone description is invalid: {count} input channels.");
            var index = new long[count];
            var scale = new float[count];
            var shift = new float[count];
            for (int i = 0; i < count; i++)
            {
                index[i] = reader.ReadInt64();
                scale[i] = reader.ReadSingle();
                shift[i] = reader.ReadSingle();
            }
            return new TrunkInputMapping(index, scale, shift);
        }
    }

    /// <summary>
    /// A pretrained backbone's architecture (<see cref="PretrainedBackbone"/>): the image layout, the bottleneck width, the
    /// input normalisation and the trunk's own description. Where the pretrained weights come from (a file path) and the
    /// trunk's learning-rate scale are training settings, not saved: a loaded model gets its weights from the model file.
    /// </summary>
    internal abstract record PretrainedBackboneSpec(ImageShape Shape, int Embedding, TrunkInputMapping Input) : BackboneSpec
    {
        public override int InputSize => Shape.Size;

        public override int EmbeddingSize => Embedding;

        public override ImageShape? Image => Shape;

        /// <summary>Factor on the trunk's learning rate (training only).</summary>
        public double LearningRateScale { get; init; } = 1;

        /// <summary>The trunk and its output width; with the pretrained weights when <paramref name="pretrained"/>.</summary>
        protected abstract (nn.Module<Tensor, Tensor> Trunk, int Features) CreateTrunk(bool pretrained);

        /// <summary>Freezes what the settings say is frozen (nothing by default).</summary>
        protected virtual void Freeze(PretrainedBackbone backbone) { }

        /// <summary>Writes the trunk's nodes from the N×C×H×W value <paramref name="images"/>; returns the N×features value.</summary>
        protected abstract string ExportTrunk(nn.Module<Tensor, Tensor> trunk, OnnxGraph graph, string images);

        public override nn.Module<Tensor, Tensor> CreateModule() => Create(pretrained: true);

        private PretrainedBackbone Create(bool pretrained)
        {
            var (trunk, features) = CreateTrunk(pretrained);
            var backbone = new PretrainedBackbone(trunk, features, Shape.Channels, Shape.Height, Input.ChannelIndex, Input.Scale, Input.Shift, Embedding)
            {
                LearningRateScale = LearningRateScale,
            };
            Freeze(backbone);
            return backbone;
        }

        public override string ExportOnnx(OnnxGraph graph, OnnxWeights weights, string input)
        {
            // The module rebuilt with the fitted weights, which then writes its own nodes.
            using var backbone = Create(pretrained: false);
            using (no_grad())
                foreach (var (name, tensor) in backbone.state_dict())
                    tensor.copy_(weights.Tensor($"backbone.{name}"));
            return backbone.ExportOnnx(graph, input, (g, images) => ExportTrunk(backbone.trunk, g, images));
        }

        protected void WriteCommon(BinaryWriter writer)
        {
            writer.Write(Shape.Channels);
            writer.Write(Shape.Height);
            writer.Write(Shape.Width);
            writer.Write(Embedding);
            Input.Write(writer);
        }

        protected static (ImageShape Shape, int Embedding, TrunkInputMapping Input) ReadCommon(BinaryReader reader) =>
            (new ImageShape(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32()), reader.ReadInt32(), TrunkInputMapping.Read(reader));

        public override void CheckRead()
        {
            if (Shape.Channels is not (1 or 3) || Shape.Height < 32 || Shape.Width != Shape.Height || Embedding <= 0 || Input.ChannelIndex.Any(c => c < 0 || c >= Shape.Channels))
                throw new InvalidDataException($"The model's {Kind} backbone description is invalid: {this}.");
        }
    }

    /// <summary>The ResNet backbone: blocks per stage, frozen stages and the stem's pooling (<see cref="ResNetBackboneOptions"/>).</summary>
    [BackboneKind("ResNet")]
    internal sealed record ResNetBackboneSpec(ImageShape Shape, int Embedding, TrunkInputMapping Input, int[] Blocks, int FreezeStages, bool StemPooling = true)
        : PretrainedBackboneSpec(Shape, Embedding, Input)
    {
        // Saved in the frozen-stage count's bit 8, so model files from before the option (bit clear: pooling) read as they were.
        private const int NoStemPoolingFlag = 1 << 8;

        /// <summary>The ONNX file of the pretrained weights (training only).</summary>
        public string WeightsPath { get; init; }

        protected override (nn.Module<Tensor, Tensor>, int) CreateTrunk(bool pretrained)
        {
            var network = new ResNet(Blocks, StemPooling);
            if (pretrained && WeightsPath is not null)
                network.LoadOnnxWeights(OnnxModelReader.ReadShared(WeightsPath, nameof(ResNetBackboneOptions.WeightsPath)), $"{nameof(ResNetBackboneOptions.WeightsPath)} ('{WeightsPath}')");
            return (network, ResNet.FeatureSize);
        }

        protected override void Freeze(PretrainedBackbone backbone)
        {
            if (FreezeStages > 0 && backbone.trunk is ResNet resnet)
                backbone.Freeze(resnet.Stem.Concat(resnet.Stages.Take(FreezeStages)));
        }

        protected override string ExportTrunk(nn.Module<Tensor, Tensor> trunk, OnnxGraph graph, string images) =>
            ((ResNet)trunk).ExportOnnx(graph, images, "backbone.trunk.");

        protected override void WriteSettings(BinaryWriter writer)
        {
            WriteCommon(writer);
            writer.Write(Blocks.Length);
            foreach (int b in Blocks)
                writer.Write(b);
            writer.Write(FreezeStages | (StemPooling ? 0 : NoStemPoolingFlag));
        }

        public static BackboneSpec Read(BinaryReader reader)
        {
            var (shape, embedding, input) = ReadCommon(reader);
            int count = reader.ReadInt32();
            if (count != ResNet.StageCount)
                throw new InvalidDataException($"The model's ResNet backbone description is invalid: {count} stages.");
            var blocks = Enumerable.Range(0, count).Select(_ => reader.ReadInt32()).ToArray();
            int frozen = reader.ReadInt32();
            return new ResNetBackboneSpec(shape, embedding, input, blocks, frozen & ~NoStemPoolingFlag, (frozen & NoStemPoolingFlag) == 0);
        }

        public override void CheckRead()
        {
            base.CheckRead();
            if (Blocks.Any(b => b < 1 || b > 64) || FreezeStages < 0 || FreezeStages > ResNet.StageCount)
                throw new InvalidDataException($"The model's ResNet backbone description is invalid: {this}.");
        }

        public override string ToString() => $"ResNet [{string.Join(", ", Blocks)}] {Shape} → {Embedding}, {FreezeStages} frozen stages{(StemPooling ? "" : ", no stem pooling")}";
    }

    /// <summary>An imported ONNX CNN: its graph without the weights, its output and width (<see cref="OnnxBackboneOptions"/>).</summary>
    [BackboneKind("OnnxCnn")]
    internal sealed record OnnxBackboneSpec(ImageShape Shape, int Embedding, TrunkInputMapping Input, byte[] Structure, string OutputName, int TrunkFeatures)
        : PretrainedBackboneSpec(Shape, Embedding, Input)
    {
        /// <summary>The ONNX file of the pretrained weights (training only).</summary>
        public string ModelPath { get; init; }

        protected override (nn.Module<Tensor, Tensor>, int) CreateTrunk(bool pretrained)
        {
            var network = pretrained && ModelPath is not null
                ? new OnnxGraphNetwork(OnnxModelReader.ReadShared(ModelPath, nameof(OnnxBackboneOptions.ModelPath)), OutputName, $"{nameof(OnnxBackboneOptions.ModelPath)} ('{ModelPath}')")
                : new OnnxGraphNetwork(OnnxModelReader.Parse(Structure, "the model's ONNX backbone"), OutputName, "the model's ONNX backbone");
            return (network, TrunkFeatures);
        }

        protected override string ExportTrunk(nn.Module<Tensor, Tensor> trunk, OnnxGraph graph, string images) =>
            ((OnnxGraphNetwork)trunk).ExportOnnx(graph, images, "backbone.trunk.");

        protected override void WriteSettings(BinaryWriter writer)
        {
            WriteCommon(writer);
            writer.Write(Structure.Length);
            writer.Write(Structure);
            writer.Write(OutputName);
            writer.Write(TrunkFeatures);
        }

        public static BackboneSpec Read(BinaryReader reader)
        {
            var (shape, embedding, input) = ReadCommon(reader);
            var structure = reader.ReadBytes(reader.ReadInt32());
            return new OnnxBackboneSpec(shape, embedding, input, structure, reader.ReadString(), reader.ReadInt32());
        }

        public override void CheckRead()
        {
            base.CheckRead();
            if (Structure.Length == 0 || TrunkFeatures <= 0)
                throw new InvalidDataException($"The model's ONNX backbone description is invalid: {this}.");
        }

        public override string ToString() => $"ONNX CNN to '{OutputName}' ({TrunkFeatures} features) {Shape} → {Embedding}";
    }
}
