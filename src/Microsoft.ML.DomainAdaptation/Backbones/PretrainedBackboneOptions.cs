using System;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Backbones;
using Microsoft.ML.DomainAdaptation.Networks;
using TorchSharp.Modules;
using Microsoft.ML.DomainAdaptation.Onnx;
using Microsoft.ML.DomainAdaptation.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// A pretrained CNN fine-tuned end to end on square images: the features are <see cref="Channels"/> ×
    /// <see cref="ImageSize"/> × <see cref="ImageSize"/> pixel values in planar order (ML.NET's <c>ExtractPixels</c>
    /// default), the pretrained network's normalisation is applied inside, a new bottleneck Linear–BatchNorm–ReLU of
    /// <see cref="BackboneOptions.EmbeddingSize"/> (default 256 here) gives the embedding. Saved models carry the
    /// fine-tuned weights, so loading and scoring need no model file.
    /// </summary>
    public abstract class PretrainedBackboneOptions : BackboneOptions
    {
        /// <summary>Sets the bottleneck width (<see cref="BackboneOptions.EmbeddingSize"/>) to 256 and batch normalisation, as in the peers.</summary>
        protected PretrainedBackboneOptions()
        {
            EmbeddingSize = 256;
            Normalization = NormalizationKind.BatchNorm;
        }

        /// <summary>Side of the square images in pixels, at least 32 (global pooling makes the rest size-independent). Default: 224.</summary>
        public int ImageSize = 224;

        /// <summary>Colour channels of the features: 3 (R, G, B) or 1 (grey, fed to the three input channels). Default: 3.</summary>
        public int Channels = 3;

        /// <summary>
        /// Factor on the learning rate of the pretrained layers; the new layers (bottleneck, classifier, the methods' own
        /// modules) learn at the full rate. Default: 0.1. Must be in [0, 1]; 0 keeps the pretrained weights as they are.
        /// For images far from ImageNet's (small grey digits), 1 fits them much better: on the digits sample's photo shift
        /// at 32 px it raised source-only target accuracy from 15.7 % to 34.9 % (README, "Adapting your own images").
        /// </summary>
        public float BackboneLearningRateScale = 0.1f;

        /// <summary>The layout of the features: <see cref="Channels"/> × <see cref="ImageSize"/> × <see cref="ImageSize"/>.</summary>
        private protected ImageShape Shape(int featureSize)
        {
            var shape = new ImageShape(Channels, ImageSize, ImageSize);
            if (shape.Size != featureSize)
                throw new ArgumentOutOfRangeException(nameof(DomainAdaptationOptions.Backbone),
                    $"{GetType().Name} expects {shape} = {shape.Size} feature values per row (Channels × ImageSize²), but the feature column has {featureSize}.");
            return shape;
        }

        internal override void Validate()
        {
            base.Validate();
            DomainAdaptationOptions.Check(ImageSize >= 32, nameof(ImageSize), ImageSize, "must be at least 32 (the pretrained network halves the resolution five times)");
            DomainAdaptationOptions.Check(Channels is 1 or 3, nameof(Channels), Channels, "must be 1 (grey) or 3 (R, G, B)");
            DomainAdaptationOptions.Check(BackboneLearningRateScale >= 0 && BackboneLearningRateScale <= 1, nameof(BackboneLearningRateScale), BackboneLearningRateScale, "must be in [0, 1]");
            DomainAdaptationOptions.Check(Normalization != NormalizationKind.InstanceNorm, nameof(Normalization), Normalization, "must be BatchNorm (or None): the pretrained network and the bottleneck use batch normalisation");
        }

        /// <summary>Trunk input channel c′ reads feature channel index[c′]: grey feeds every channel.</summary>
        private protected long[] ChannelIndex(int trunkChannels, bool reverse) =>
            Enumerable.Range(0, trunkChannels).Select(c => Channels == 1 ? 0L : reverse ? trunkChannels - 1 - c : c).ToArray();
    }

    /// <summary>
    /// ResNet initialised from the ImageNet weights that ship with ML.NET: <c>ResNet18.onnx</c> of the NuGet package
    /// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (whose build step copies it to <c>DnnImageModels/ResNet18Onnx/</c>
    /// in the application's output). That model, converted from CNTK, is a ResNet of basic blocks with { 2, 2, 2, 3 }
    /// blocks per stage (one more than ResNet-18 in the last stage); its weights are read into TorchSharp modules with
    /// the same architecture and fine-tuned. Inputs are pixel values as <see cref="InputOffset"/> and
    /// <see cref="InputScale"/> describe; the network turns them into what the weights expect (B, G, R order, 0–255
    /// minus the ImageNet channel means 103.06, 115.90, 123.15 of ML.NET's ResNetPreprocess.onnx).
    /// </summary>
    public sealed class ResNetBackboneOptions : PretrainedBackboneOptions
    {
        /// <summary>Per-channel means (B, G, R) of the mean image in ML.NET's ResNetPreprocess.onnx, on 0–255 pixels.</summary>
        internal static readonly float[] BgrMeans = { 103.0626f, 115.9029f, 123.1516f };

        /// <summary>The ImageNet weights' default location: where the ResNet18 package copies them in the output folder.</summary>
        public static string DefaultWeightsPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

        /// <summary>
        /// The ONNX model holding the pretrained weights (read once, when training starts). Default:
        /// <see cref="DefaultWeightsPath"/>, present when the application references the NuGet package
        /// Microsoft.ML.DnnImageFeaturizer.ResNet18.
        /// </summary>
        public string WeightsPath = DefaultWeightsPath;

        /// <summary>
        /// How the features relate to 0–255 pixel values p: <c>feature = (p + InputOffset) × InputScale</c>, the
        /// convention of <see cref="ImageDataOptions"/>. Default: 0 (with <see cref="InputScale"/> 1: ExtractPixels' default 0–255).
        /// </summary>
        public float InputOffset = 0;

        /// <summary>See <see cref="InputOffset"/>. Default: 1. Must be finite and non-zero.</summary>
        public float InputScale = 1;

        /// <summary>
        /// Pretrained stages kept as they are: 0 trains everything; n (1–4) freezes the stem and the first n stages,
        /// weights and batch-norm statistics. Default: 0.
        /// </summary>
        public int FreezeStages = 0;

        /// <summary>
        /// Whether the stem ends with its 3×3 max pooling (stride 2), as in the pretrained network. false drops it: every stage
        /// then works at twice the resolution (four times the compute; the weights are the same), so a 32 px image reaches the
        /// last stage as 2 × 2 cells instead of 1 × 1, the usual change for small images. Measured on README's photo-background
        /// digits at 32 px (3 seeds): the best recipe 90.3 → 94.8 %, source-only 74.5 → 82.9 %, for 3.1–3.4× the time per step.
        /// Saved with the model; ONNX export follows it. Default: true.
        /// </summary>
        public bool StemPooling = true;

        internal override void Validate()
        {
            base.Validate();
            DomainAdaptationOptions.Check(float.IsFinite(InputOffset), nameof(InputOffset), InputOffset, "must be finite");
            DomainAdaptationOptions.Check(float.IsFinite(InputScale) && InputScale != 0, nameof(InputScale), InputScale, "must be finite and non-zero");
            DomainAdaptationOptions.Check(FreezeStages >= 0 && FreezeStages <= ResNet.StageCount, nameof(FreezeStages), FreezeStages, $"must be in 0–{ResNet.StageCount}");
            if (string.IsNullOrWhiteSpace(WeightsPath) || !File.Exists(WeightsPath))
                throw new FileNotFoundException(
                    $"{nameof(WeightsPath)}: the ResNet weights file '{WeightsPath}' does not exist. Add the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 " +
                    "to the application (it copies DnnImageModels/ResNet18Onnx/ResNet18.onnx into the output folder), or set WeightsPath to that file.", WeightsPath);
        }

        internal override BackboneSpec CreateSpec(int featureSize, NormalizationKind normalization)
        {
            var shape = Shape(featureSize);
            string source = $"{nameof(WeightsPath)} ('{WeightsPath}')";
            var blocks = ResNet.BlockCounts(OnnxModelReader.ReadShared(WeightsPath, nameof(WeightsPath)), source);
            // p = feature / scale − offset; trunk channel c′ (B, G, R) = p − mean[c′].
            var input = new TrunkInputMapping(ChannelIndex(3, reverse: true), Enumerable.Repeat(1 / InputScale, 3).ToArray(), BgrMeans.Select(m => -InputOffset - m).ToArray());
            return new ResNetBackboneSpec(shape, EmbeddingSize, input, blocks, FreezeStages, StemPooling) { WeightsPath = WeightsPath, LearningRateScale = BackboneLearningRateScale };
        }
    }

    /// <summary>
    /// Any ONNX CNN of the common operators (Conv, BatchNormalization, Relu, Clip, MaxPool, AveragePool,
    /// GlobalAveragePool, Add, Concat, Flatten, Gemm, MatMul, Reshape, Mul, Sub, Div, Identity, Dropout) as a trainable
    /// backbone with its weights, up to <see cref="OutputName"/> (a spatial output is globally average-pooled). An
    /// unsupported operator is an error naming it and its node, before any training. The model's input normalisation is
    /// <see cref="Mean"/> and <see cref="StandardDeviation"/> per channel on the features.
    /// </summary>
    public sealed class OnnxBackboneOptions : PretrainedBackboneOptions
    {
        /// <summary>The ONNX model file (read once, when training starts). Required.</summary>
        public string ModelPath;

        /// <summary>The graph value to use as features: a node output. Default: empty, the graph's first output.</summary>
        public string OutputName = "";

        /// <summary>Subtracted from each feature channel before the model (one value, or one per model input channel). Default: { 0 }.</summary>
        public float[] Mean = { 0 };

        /// <summary>Divides each centred feature channel (one value, or one per model input channel); positive. Default: { 1 }.</summary>
        public float[] StandardDeviation = { 1 };

        internal override void Validate()
        {
            base.Validate();
            if (string.IsNullOrWhiteSpace(ModelPath) || !File.Exists(ModelPath))
                throw new FileNotFoundException($"{nameof(ModelPath)}: the ONNX model file '{ModelPath}' does not exist.", ModelPath);
            if (Mean is null || Mean.Length is not (1 or 3) || Mean.Any(m => !float.IsFinite(m)))
                throw new ArgumentOutOfRangeException(nameof(Mean), "Mean must hold 1 or 3 finite values.");
            if (StandardDeviation is null || StandardDeviation.Length is not (1 or 3) || StandardDeviation.Any(s => !(s > 0) || !float.IsFinite(s)))
                throw new ArgumentOutOfRangeException(nameof(StandardDeviation), "StandardDeviation must hold 1 or 3 positive finite values.");
        }

        internal override BackboneSpec CreateSpec(int featureSize, NormalizationKind normalization)
        {
            var shape = Shape(featureSize);
            var model = OnnxModelReader.ReadShared(ModelPath, nameof(ModelPath));
            string source = $"{nameof(ModelPath)} ('{ModelPath}')";
            using var network = new OnnxGraphNetwork(model, OutputName, source);
            var dims = model.Graph.Input.First(i => i.Name == network.InputName).Type?.TensorType?.Shape?.Dim;
            int modelChannels = dims is not null && dims[1].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int)dims[1].DimValue : Channels;
            if (modelChannels != Channels && Channels != 1)
                throw new ArgumentOutOfRangeException(nameof(Channels), Channels, $"Channels is {Channels} but {source} takes {modelChannels} input channels.");
            float Value(float[] values, int c) => values.Length == 1 ? values[0] : values[c];
            var input = new TrunkInputMapping(ChannelIndex(modelChannels, reverse: false),
                Enumerable.Range(0, modelChannels).Select(c => 1 / Value(StandardDeviation, c)).ToArray(),
                Enumerable.Range(0, modelChannels).Select(c => -Value(Mean, c) / Value(StandardDeviation, c)).ToArray());
            int features = network.FeatureCount(modelChannels, ImageSize, source);
            return new OnnxBackboneSpec(shape, EmbeddingSize, input, network.StructureBytes, network.OutputName, features) { ModelPath = ModelPath, LearningRateScale = BackboneLearningRateScale };
        }
    }
}
