using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// How the network standardises its input pixels before the backbone (<see cref="DomainAdaptationOptions.InputNormalization"/>).
    /// It is part of the network: applied identically at training, scoring and in the ONNX export, and saved with the model.
    /// </summary>
    public enum InputNormalizationKind
    {
        /// <summary>The pixels go to the backbone as they are.</summary>
        None = 0,

        /// <summary>
        /// Each image is standardised per channel by its own statistics: (x − mean_c(x)) / √(var_c(x) + 1e-5), the variance
        /// over the channel's H × W pixels (biased, as instance normalisation). This is the instance normalisation DIRT-T
        /// (Shu et al. 2018) applies to its inputs; it removes per-image brightness and contrast.
        /// </summary>
        PerImage = 1,

        /// <summary>
        /// Each channel is standardised by statistics computed once on the training rows of both domains (source and target,
        /// no label used): (x − mean_c) / √(var_c + 1e-5). They are stored in the model.
        /// </summary>
        PerChannelDataset = 2,
    }
}

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// The input normalisation of a network as its model file keeps it: the kind and, for
    /// <see cref="InputNormalizationKind.PerChannelDataset"/>, each channel's mean and standard deviation √(var + ε). The one
    /// place of its formula, in TorchSharp (<see cref="Apply"/>) and in ONNX (<see cref="ExportOnnx"/>).
    /// </summary>
    internal sealed record InputNormalizerSpec(InputNormalizationKind Kind, float[] Mean, float[] Std)
    {
        /// <summary>ε under the square root (the instance normalisation default).</summary>
        public const float Epsilon = 1e-5f;

        public static readonly InputNormalizerSpec None = new(InputNormalizationKind.None, Array.Empty<float>(), Array.Empty<float>());

        /// <summary>
        /// The normaliser of <paramref name="kind"/> for images of <paramref name="image"/>; per-channel statistics are computed
        /// (in double precision) over every pixel of the rows of <paramref name="features"/> (each list: rows × C·H·W values).
        /// </summary>
        public static InputNormalizerSpec Create(InputNormalizationKind kind, ImageShape image, params float[][] features) =>
            Create(kind, image, (IEnumerable<float[]>)features);

        /// <summary>
        /// The same, from blocks of whole rows read twice in order (e.g. <see cref="Data.FeatureRows.Blocks"/>: the rows need not
        /// be floats in memory all at once); sums run in the same order as over one array.
        /// </summary>
        public static InputNormalizerSpec Create(InputNormalizationKind kind, ImageShape image, IEnumerable<float[]> features)
        {
            if (kind != InputNormalizationKind.PerChannelDataset)
                return kind == InputNormalizationKind.None ? None : new InputNormalizerSpec(kind, Array.Empty<float>(), Array.Empty<float>());
            int c = image.Channels, plane = image.Height * image.Width;
            var sum = new double[c];
            var count = new long[c];
            foreach (var values in features)
            {
                for (long i = 0; i < values.LongLength; i++)
                {
                    int channel = (int)(i % image.Size / plane);
                    sum[channel] += values[i];
                    count[channel]++;
                }
            }
            var mean = new double[c];
            for (int k = 0; k < c; k++)
                mean[k] = count[k] == 0 ? 0 : sum[k] / count[k];
            var squares = new double[c];
            foreach (var values in features)
            {
                for (long i = 0; i < values.LongLength; i++)
                {
                    int channel = (int)(i % image.Size / plane);
                    double d = values[i] - mean[channel];
                    squares[channel] += d * d;
                }
            }
            var std = new float[c];
            for (int k = 0; k < c; k++)
                std[k] = (float)Math.Sqrt((count[k] == 0 ? 0 : squares[k] / count[k]) + Epsilon);
            return new InputNormalizerSpec(kind, mean.Select(m => (float)m).ToArray(), std);
        }

        /// <summary>Normalises a batch of flat rows [N, C·H·W] (any device); returns rows of the same shape.</summary>
        public Tensor Apply(Tensor input, ImageShape image)
        {
            using var scope = NewDisposeScope();
            var x = input.view(-1, image.Channels, image.Height * image.Width);
            Tensor y;
            if (Kind == InputNormalizationKind.PerImage)
            {
                var centred = x - x.mean(new long[] { 2 }, keepdim: true);
                var variance = (centred * centred).mean(new long[] { 2 }, keepdim: true);
                y = centred / (variance + Epsilon).sqrt();
            }
            else
            {
                var mean = tensor(Mean, new long[] { 1, image.Channels, 1 }).to(x.device);
                var std = tensor(Std, new long[] { 1, image.Channels, 1 }).to(x.device);
                y = (x - mean) / std;
            }
            return y.view(-1, image.Size).MoveToOuterDisposeScope();
        }

        /// <summary>Appends the same computation to an ONNX graph from the float [N, C·H·W] value <paramref name="input"/>; returns the normalised value's name.</summary>
        public string ExportOnnx(OnnxGraph graph, string input, ImageShape image)
        {
            string x = graph.Node("Reshape", new[] { input, graph.Int64Initializer("input_planes", new long[] { -1, image.Channels, image.Height * image.Width }) });
            string y;
            if (Kind == InputNormalizationKind.PerImage)
            {
                var axes = new (string, object)[] { ("axes", new long[] { 2 }), ("keepdims", 1L) };
                string centred = graph.Node("Sub", new[] { x, graph.Node("ReduceMean", new[] { x }, attributes: axes) });
                string variance = graph.Node("ReduceMean", new[] { graph.Node("Mul", new[] { centred, centred }) }, attributes: axes);
                string std = graph.Node("Sqrt", new[] { graph.Node("Add", new[] { variance, graph.Initializer("input_epsilon", new[] { Epsilon }) }) });
                y = graph.Node("Div", new[] { centred, std });
            }
            else
            {
                string mean = graph.Initializer("input_mean", Mean, 1, image.Channels, 1);
                string std = graph.Initializer("input_std", Std, 1, image.Channels, 1);
                y = graph.Node("Div", new[] { graph.Node("Sub", new[] { x, mean }), std });
            }
            return graph.Node("Reshape", new[] { y, graph.Int64Initializer("input_rows", new long[] { -1, image.Size }) });
        }

        public void Write(BinaryWriter writer)
        {
            writer.Write((int)Kind);
            writer.Write(Mean.Length);
            for (int i = 0; i < Mean.Length; i++)
            {
                writer.Write(Mean[i]);
                writer.Write(Std[i]);
            }
        }

        public static InputNormalizerSpec Read(BinaryReader reader)
        {
            var kind = (InputNormalizationKind)reader.ReadInt32();
            int count = reader.ReadInt32();
            if (count < 0 || count > 4096)
                throw new InvalidDataException($"The model's input normalisation is invalid: {count} channels.");
            var mean = new float[count];
            var std = new float[count];
            for (int i = 0; i < count; i++)
            {
                mean[i] = reader.ReadSingle();
                std[i] = reader.ReadSingle();
            }
            return new InputNormalizerSpec(kind, mean, std);
        }

        /// <summary>Throws an <see cref="InvalidDataException"/> when a normaliser read from a model file cannot go with <paramref name="backbone"/>.</summary>
        public void CheckRead(BackboneSpec backbone)
        {
            bool valid = Kind switch
            {
                InputNormalizationKind.None => Mean.Length == 0,
                InputNormalizationKind.PerImage => Mean.Length == 0 && backbone.Image is not null,
                InputNormalizationKind.PerChannelDataset => backbone.Image is ImageShape image && Mean.Length == image.Channels
                    && Mean.All(float.IsFinite) && Std.All(s => float.IsFinite(s) && s > 0),
                _ => false,
            };
            if (!valid)
                throw new InvalidDataException($"The model's input normalisation is invalid for its backbone ({backbone}): {this}.");
        }

        public override string ToString() => Kind == InputNormalizationKind.PerChannelDataset
            ? $"{Kind} (mean {string.Join(", ", Mean)}; std {string.Join(", ", Std)})"
            : Kind.ToString();
    }

    /// <summary>
    /// A backbone behind its input normalisation: what <see cref="NetworkSpec.CreateBackbone"/> builds when the network has
    /// one, so that every forward pass of every method (they call the scoring network's <c>backbone</c> directly, and ADDA
    /// builds a second encoder from the same description) sees normalised pixels. Its weights are the inner backbone's, under
    /// "inner."; the statistics live in the description, not among the weights.
    /// </summary>
    internal sealed class InputNormalizedBackbone : Module<Tensor, Tensor>
    {
        public const string InnerName = nameof(inner);

        private readonly InputNormalizerSpec _normalizer;
        private readonly ImageShape _image;
        private readonly Module<Tensor, Tensor> inner;

        public InputNormalizedBackbone(InputNormalizerSpec normalizer, ImageShape image, Module<Tensor, Tensor> backbone) : base(nameof(InputNormalizedBackbone))
        {
            _normalizer = normalizer;
            _image = image;
            inner = backbone;
            RegisterComponents();
        }

        /// <summary>The backbone the normalised pixels go to.</summary>
        public Module<Tensor, Tensor> Inner => inner;

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            return inner.forward(_normalizer.Apply(input, _image)).MoveToOuterDisposeScope();
        }
    }
}
