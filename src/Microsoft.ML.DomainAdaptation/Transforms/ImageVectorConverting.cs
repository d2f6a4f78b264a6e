using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Data;
using Microsoft.ML.DomainAdaptation.Transforms;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(ImageVectorConvertingTransformer), null, typeof(SignatureLoadModel),
    ImageVectorConvertingTransformer.UserName, ImageVectorConvertingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IDataTransform), typeof(ImageVectorConvertingTransformer), null, typeof(SignatureLoadDataTransform),
    ImageVectorConvertingTransformer.UserName, ImageVectorConvertingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(ImageVectorConvertingTransformer), null, typeof(SignatureLoadRowMapper),
    ImageVectorConvertingTransformer.UserName, ImageVectorConvertingTransformer.LoaderSignature)]

namespace Microsoft.ML.DomainAdaptation.Transforms
{
    /// <summary>How the values of an image vector are ordered.</summary>
    public enum ImageVectorLayout
    {
        /// <summary>Planar: channel, then row, then column (C × H × W). ML.NET's <c>ExtractPixels</c> default and the
        /// LeNet backbone's input.</summary>
        Chw = 0,

        /// <summary>Interleaved: row, then column, then channel (H × W × C). Colour IDX files, <c>ExtractPixels</c> with
        /// <c>interleavePixelColors: true</c>, most image decoders.</summary>
        Hwc = 1,
    }

    /// <summary>Options of <see cref="ImageVectorConvertingEstimator"/>: the input's geometry and what to make of it.</summary>
    /// <remarks>
    /// Steps, in this order: read the input in <see cref="InputLayout"/>; colour → grey if asked; bilinear resize to
    /// <see cref="OutputHeight"/> × <see cref="OutputWidth"/>; grey → colour if asked; (value + <see cref="Offset"/>) ×
    /// <see cref="Scale"/>; write in <see cref="OutputLayout"/>. The output column is a vector of Single with dimensions
    /// C × H × W (or H × W × C), which <c>LeNetBackboneOptions</c> reads as they are.
    /// </remarks>
    public sealed class ImageVectorConversionOptions
    {
        /// <summary>Order of the input vector's values. Default: <see cref="ImageVectorLayout.Chw"/>.</summary>
        public ImageVectorLayout InputLayout { get; set; } = ImageVectorLayout.Chw;

        /// <summary>Input image height in pixels. Default 0: from the column's dimensions (H × W, C × H × W or H × W × C
        /// after <see cref="InputLayout"/>, as <c>LoadFromIdx</c> and <c>ExtractPixels</c> give them). Set it, with
        /// <see cref="InputWidth"/>, for a plain vector.</summary>
        public int InputHeight { get; set; }

        /// <summary>Input image width in pixels. Default 0: from the column's dimensions.</summary>
        public int InputWidth { get; set; }

        /// <summary>Input channels. Default 0: from the column's dimensions (1 for H × W), or the vector's size divided by
        /// <see cref="InputHeight"/> × <see cref="InputWidth"/> when those are set.</summary>
        public int InputChannels { get; set; }

        /// <summary>Order of the output vector's values. Default: <see cref="ImageVectorLayout.Chw"/>.</summary>
        public ImageVectorLayout OutputLayout { get; set; } = ImageVectorLayout.Chw;

        /// <summary>Output height; a different size from the input's is resized bilinearly (half-pixel centres, edges clamped,
        /// as torch's <c>interpolate</c> with <c>align_corners=False</c>). Default 0: the input's height.</summary>
        public int OutputHeight { get; set; }

        /// <summary>Output width. Default 0: the input's width.</summary>
        public int OutputWidth { get; set; }

        /// <summary>Output channels. Default 0: the input's. From 1 channel, any count replicates the grey value (grey →
        /// colour); from 3 channels, 1 is the luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601).</summary>
        public int OutputChannels { get; set; }

        /// <summary>Added to every value after resizing, before <see cref="Scale"/> (as <c>ExtractPixels</c>'s
        /// <c>offsetImage</c>). Default 0. With −127.5 and a scale of 1/127.5, pixels 0–255 become [−1, 1].</summary>
        public float Offset { get; set; }

        /// <summary>Multiplies every value after <see cref="Offset"/> (as <c>ExtractPixels</c>'s <c>scaleImage</c>). Default 1.</summary>
        public float Scale { get; set; } = 1f;

        internal ImageVectorConversionOptions Clone() => (ImageVectorConversionOptions)MemberwiseClone();

        internal void Check()
        {
            CheckNonNegative(InputHeight, nameof(InputHeight));
            CheckNonNegative(InputWidth, nameof(InputWidth));
            CheckNonNegative(InputChannels, nameof(InputChannels));
            CheckNonNegative(OutputHeight, nameof(OutputHeight));
            CheckNonNegative(OutputWidth, nameof(OutputWidth));
            CheckNonNegative(OutputChannels, nameof(OutputChannels));
            if ((InputHeight == 0) != (InputWidth == 0))
                throw new ArgumentOutOfRangeException(InputHeight == 0 ? nameof(InputHeight) : nameof(InputWidth),
                    $"Set both InputHeight and InputWidth, or neither (they come from the column's dimensions); got {InputHeight} × {InputWidth}.");
            if (!Enum.IsDefined(InputLayout))
                throw new ArgumentOutOfRangeException(nameof(InputLayout), InputLayout, "InputLayout must be Chw or Hwc.");
            if (!Enum.IsDefined(OutputLayout))
                throw new ArgumentOutOfRangeException(nameof(OutputLayout), OutputLayout, "OutputLayout must be Chw or Hwc.");
            if (!float.IsFinite(Offset))
                throw new ArgumentOutOfRangeException(nameof(Offset), Offset, "Offset must be a finite number.");
            if (!float.IsFinite(Scale))
                throw new ArgumentOutOfRangeException(nameof(Scale), Scale, "Scale must be a finite number.");
        }

        private static void CheckNonNegative(int value, string name)
        {
            if (value < 0)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be 0 (from the input) or positive; got {value}.");
        }
    }

    /// <summary>
    /// Estimator of <see cref="ImageVectorConvertingTransformer"/>, made by
    /// <see cref="ImageVectorCatalog.ConvertImageVector(TransformsCatalog, string, string, ImageVectorConversionOptions)"/>.
    /// Nothing is learned: fitting checks the input column and returns the transformer.
    /// </summary>
    public sealed class ImageVectorConvertingEstimator : TrivialEstimator<ImageVectorConvertingTransformer>
    {
        internal ImageVectorConvertingEstimator(IHostEnvironment env, string outputColumnName, string inputColumnName, ImageVectorConversionOptions options)
            : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(ImageVectorConvertingEstimator)),
                  new ImageVectorConvertingTransformer(env, outputColumnName, inputColumnName, options))
        {
        }

        /// <summary>The output schema: the input's columns and the converted column, a known-size vector of Single.
        /// Checks that the input column exists and is a known-size vector of Single.</summary>
        public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            Host.CheckValue(inputSchema, nameof(inputSchema));
            string input = Transformer.InputColumnName;
            if (!inputSchema.TryFindColumn(input, out var column))
                throw SchemaErrors.MissingColumn(nameof(inputSchema), "input", input);
            if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
                throw SchemaErrors.Mismatch(nameof(inputSchema), "input", input, "known-size vector of Single", column.GetTypeString());
            var columns = inputSchema.ToDictionary(c => c.Name);
            columns[Transformer.OutputColumnName] = new SchemaShape.Column(Transformer.OutputColumnName,
                SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
            return new SchemaShape(columns.Values);
        }
    }

    /// <summary>
    /// Converts an image held as a vector of Single (e.g. <c>LoadFromIdx</c>'s colour H × W × C, or <c>ExtractPixels</c>'s
    /// C × H × W) for a network: reorders it between H × W × C and C × H × W, resizes it bilinearly, turns grey into colour
    /// or colour into grey, and scales it (<see cref="ImageVectorConversionOptions"/>). Saved and loaded with the model.
    /// </summary>
    public sealed class ImageVectorConvertingTransformer : OneToOneTransformerBase
    {
        internal const string LoaderSignature = "ImageVectorConverting";
        internal const string UserName = "Image Vector Converting Transform";
        private const uint FormatVersion = 0x00010001;

        private readonly ImageVectorConversionOptions _options;

        /// <summary>The column read.</summary>
        public string InputColumnName => ColumnPairs[0].inputColumnName;

        /// <summary>The column written.</summary>
        public string OutputColumnName => ColumnPairs[0].outputColumnName;

        /// <summary>A copy of the conversion's options.</summary>
        public ImageVectorConversionOptions Options => _options.Clone();

        internal ImageVectorConvertingTransformer(IHostEnvironment env, string outputColumnName, string inputColumnName, ImageVectorConversionOptions options)
            : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(ImageVectorConvertingTransformer)),
                  (CheckName(outputColumnName, nameof(outputColumnName)), CheckName(inputColumnName ?? outputColumnName, nameof(inputColumnName))))
        {
            Host.CheckValue(options, nameof(options));
            options.Check();
            _options = options.Clone();
        }

        private ImageVectorConvertingTransformer(IHost host, ModelLoadContext ctx)
            : base(host, ctx)
        {
            // int: input layout, input height, width, channels, output layout, height, width, channels; float: offset, scale.
            var r = ctx.Reader;
            _options = new ImageVectorConversionOptions
            {
                InputLayout = (ImageVectorLayout)r.ReadInt32(),
                InputHeight = r.ReadInt32(),
                InputWidth = r.ReadInt32(),
                InputChannels = r.ReadInt32(),
                OutputLayout = (ImageVectorLayout)r.ReadInt32(),
                OutputHeight = r.ReadInt32(),
                OutputWidth = r.ReadInt32(),
                OutputChannels = r.ReadInt32(),
                Offset = r.ReadSingle(),
                Scale = r.ReadSingle(),
            };
            try
            {
                _options.Check();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new InvalidDataException("The image vector conversion in the model file is corrupt: " + e.Message, e);
            }
        }

        private static string CheckName(string name, string paramName)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException("A column name is required.", paramName);
            return name;
        }

        private static VersionInfo GetVersionInfo() => new VersionInfo(
            modelSignature: "IMGVECCV",
            verWrittenCur: FormatVersion,
            verReadableCur: FormatVersion,
            verWeCanReadBack: FormatVersion,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(ImageVectorConvertingTransformer).Assembly.FullName);

        /// <summary>Loads the transformer from an ML.NET model file (found by ML.NET through the loader signature).</summary>
        internal static ImageVectorConvertingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            Contracts.CheckValue(env, nameof(env));
            var host = env.Register(nameof(ImageVectorConvertingTransformer));
            host.CheckValue(ctx, nameof(ctx));
            ctx.CheckAtModel(GetVersionInfo());
            return new ImageVectorConvertingTransformer(host, ctx);
        }

        internal static IDataTransform Create(IHostEnvironment env, ModelLoadContext ctx, IDataView input)
            => Create(env, ctx).MakeDataTransform(input);

        internal static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
            => Create(env, ctx).MakeRowMapper(inputSchema);

        /// <inheritdoc/>
        public override void SaveModel(ModelSaveContext ctx)
        {
            Host.CheckValue(ctx, nameof(ctx));
            ctx.CheckAtModel();
            ctx.SetVersionInfo(GetVersionInfo());
            SaveColumns(ctx);
            var w = ctx.Writer;
            w.Write((int)_options.InputLayout);
            w.Write(_options.InputHeight);
            w.Write(_options.InputWidth);
            w.Write(_options.InputChannels);
            w.Write((int)_options.OutputLayout);
            w.Write(_options.OutputHeight);
            w.Write(_options.OutputWidth);
            w.Write(_options.OutputChannels);
            w.Write(_options.Offset);
            w.Write(_options.Scale);
        }

        /// <inheritdoc/>
        public override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

        /// <summary>
        /// The input column's image geometry and the output's, from the options and the column's type; the errors name the
        /// column and say which dimensions do not fit.
        /// </summary>
        internal ImageVectorGeometry Resolve(DataViewSchema.Column column)
        {
            var o = _options;
            if (column.Type is not VectorDataViewType { IsKnownSize: true } vector || vector.ItemType != NumberDataViewType.Single)
                throw SchemaErrors.Mismatch("schema", "input", column.Name, "known-size vector of Single", column.Type.ToString());
            int size = vector.Size;
            var dims = vector.Dimensions;
            int height, width, channels;
            if (o.InputHeight > 0)
            {
                height = o.InputHeight;
                width = o.InputWidth;
                long pixels = (long)height * width;
                channels = o.InputChannels > 0 ? o.InputChannels : (int)Math.Max(1, size / pixels);
                if (pixels * channels != size)
                    throw new ArgumentOutOfRangeException("schema",
                        $"Column '{column.Name}' has {size} values; InputHeight × InputWidth × InputChannels = {height} × {width} × {channels} = {pixels * channels}.");
            }
            else if (dims.Length == 2)
            {
                (height, width, channels) = (dims[0], dims[1], o.InputChannels > 0 ? o.InputChannels : 1);
                if (channels != 1)
                    throw new ArgumentOutOfRangeException("schema",
                        $"Column '{column.Name}' has dimensions {dims[0]} × {dims[1]} (one channel), but InputChannels is {channels}; set InputHeight and InputWidth too.");
            }
            else if (dims.Length == 3)
            {
                (channels, height, width) = o.InputLayout == ImageVectorLayout.Chw ? (dims[0], dims[1], dims[2]) : (dims[2], dims[0], dims[1]);
                if (o.InputChannels > 0 && o.InputChannels != channels)
                    throw new ArgumentOutOfRangeException("schema",
                        $"Column '{column.Name}' has dimensions {string.Join(" × ", dims)}, read as {o.InputLayout}: {channels} channels, but InputChannels is {o.InputChannels}.");
            }
            else
            {
                throw new ArgumentOutOfRangeException("schema",
                    $"Column '{column.Name}' is a vector of {size} values with dimensions {string.Join(" × ", dims)}: not an image's H × W, C × H × W or H × W × C. " +
                    "Set InputHeight and InputWidth (and InputChannels) in ImageVectorConversionOptions.");
            }
            int outChannels = o.OutputChannels > 0 ? o.OutputChannels : channels;
            if (outChannels != channels && channels != 1 && !(channels == 3 && outChannels == 1))
                throw new ArgumentOutOfRangeException(nameof(ImageVectorConversionOptions.OutputChannels),
                    $"Column '{column.Name}' has {channels} channels; OutputChannels {outChannels} cannot be made from them (supported: the same count, 1 → any, 3 → 1).");
            return new ImageVectorGeometry(channels, height, width, o.InputLayout,
                outChannels, o.OutputHeight > 0 ? o.OutputHeight : height, o.OutputWidth > 0 ? o.OutputWidth : width, o.OutputLayout,
                o.Offset, o.Scale);
        }

        /// <summary>
        /// Bilinear resize of planar (C × H × W) images with half-pixel centres (torch's <c>interpolate</c> with
        /// <c>align_corners=False</c>), edges clamped: the library's one resize, used by this transform, the digits sample,
        /// the data set loaders and the mlnet-da tool.
        /// </summary>
        /// <param name="source">channels × height × width values.</param>
        /// <param name="channels">Number of planes.</param>
        /// <param name="height">Source height.</param>
        /// <param name="width">Source width.</param>
        /// <param name="destination">channels × <paramref name="newHeight"/> × <paramref name="newWidth"/> values, written.</param>
        /// <param name="newHeight">Destination height.</param>
        /// <param name="newWidth">Destination width.</param>
        public static void ResizeBilinear(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, int newHeight, int newWidth)
        {
            if (channels <= 0 || height <= 0 || width <= 0 || newHeight <= 0 || newWidth <= 0)
                throw new ArgumentOutOfRangeException(nameof(channels), $"Image sizes must be positive: {channels} × {height} × {width} → {newHeight} × {newWidth}.");
            if (source.Length != (long)channels * height * width)
                throw new ArgumentException($"source has {source.Length} values, not {channels} × {height} × {width}.", nameof(source));
            if (destination.Length != (long)channels * newHeight * newWidth)
                throw new ArgumentException($"destination has {destination.Length} values, not {channels} × {newHeight} × {newWidth}.", nameof(destination));
            float scaleY = (float)height / newHeight, scaleX = (float)width / newWidth;
            for (int c = 0; c < channels; c++)
            {
                var src = source.Slice(c * height * width, height * width);
                var dst = destination.Slice(c * newHeight * newWidth, newHeight * newWidth);
                for (int y = 0; y < newHeight; y++)
                {
                    float sy = Math.Max((y + 0.5f) * scaleY - 0.5f, 0);
                    int y0 = Math.Min((int)sy, height - 1), y1 = Math.Min(y0 + 1, height - 1);
                    float wy = sy - y0;
                    for (int x = 0; x < newWidth; x++)
                    {
                        float sx = Math.Max((x + 0.5f) * scaleX - 0.5f, 0);
                        int x0 = Math.Min((int)sx, width - 1), x1 = Math.Min(x0 + 1, width - 1);
                        float wx = sx - x0;
                        float top = src[y0 * width + x0] * (1 - wx) + src[y0 * width + x1] * wx;
                        float bottom = src[y1 * width + x0] * (1 - wx) + src[y1 * width + x1] * wx;
                        dst[y * newWidth + x] = top * (1 - wy) + bottom * wy;
                    }
                }
            }
        }

        private sealed class Mapper : OneToOneMapperBase
        {
            private readonly ImageVectorConvertingTransformer _transformer;
            private readonly ImageVectorGeometry _geometry;
            private readonly int _inputIndex;

            public Mapper(ImageVectorConvertingTransformer parent, DataViewSchema inputSchema)
                : base(parent.Host.Register(nameof(Mapper)), parent, inputSchema)
            {
                _transformer = parent;
                if (!inputSchema.TryGetColumnIndex(parent.InputColumnName, out _inputIndex))
                    throw SchemaErrors.MissingColumn(nameof(inputSchema), "input", parent.InputColumnName);
                _geometry = parent.Resolve(inputSchema[_inputIndex]);
            }

            public override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
                => new[] { new DataViewSchema.DetachedColumn(_transformer.OutputColumnName, _geometry.OutputType) };

            public override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
            {
                disposer = null;
                var getSource = input.GetGetter<VBuffer<float>>(input.Schema[_inputIndex]);
                var geometry = _geometry;
                var scratch = new ImageVectorGeometry.Scratch(geometry);
                VBuffer<float> source = default;
                float[] dense = null;
                ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> destination) =>
                {
                    getSource(ref source);
                    ReadOnlySpan<float> values;
                    if (source.IsDense)
                    {
                        values = source.GetValues();
                    }
                    else
                    {
                        dense ??= new float[geometry.InputSize];
                        source.CopyTo(dense);
                        values = dense;
                    }
                    if (values.Length != geometry.InputSize)
                        throw new InvalidOperationException($"Column '{_transformer.InputColumnName}' gave a row of {values.Length} values; expected {geometry.InputSize}.");
                    var editor = VBufferEditor.Create(ref destination, geometry.OutputSize);
                    geometry.Convert(values, editor.Values, scratch);
                    destination = editor.Commit();
                };
                return getter;
            }
        }
    }

    /// <summary>The resolved geometry of one conversion and the conversion itself (kept apart from ML.NET's plumbing so it can be tested on arrays).</summary>
    internal sealed class ImageVectorGeometry
    {
        public int InChannels { get; }
        public int InHeight { get; }
        public int InWidth { get; }
        public ImageVectorLayout InLayout { get; }
        public int OutChannels { get; }
        public int OutHeight { get; }
        public int OutWidth { get; }
        public ImageVectorLayout OutLayout { get; }
        public float Offset { get; }
        public float Scale { get; }

        public ImageVectorGeometry(int inChannels, int inHeight, int inWidth, ImageVectorLayout inLayout,
            int outChannels, int outHeight, int outWidth, ImageVectorLayout outLayout, float offset, float scale)
        {
            (InChannels, InHeight, InWidth, InLayout) = (inChannels, inHeight, inWidth, inLayout);
            (OutChannels, OutHeight, OutWidth, OutLayout) = (outChannels, outHeight, outWidth, outLayout);
            (Offset, Scale) = (offset, scale);
        }

        public int InputSize => InChannels * InHeight * InWidth;
        public int OutputSize => OutChannels * OutHeight * OutWidth;

        public VectorDataViewType OutputType => OutLayout == ImageVectorLayout.Chw
            ? new VectorDataViewType(NumberDataViewType.Single, OutChannels, OutHeight, OutWidth)
            : new VectorDataViewType(NumberDataViewType.Single, OutHeight, OutWidth, OutChannels);

        /// <summary>Per-getter buffers, so a row allocates nothing.</summary>
        public sealed class Scratch
        {
            public readonly float[] Planar;   // the input as C × H × W
            public readonly float[] Mixed;    // after colour → grey
            public readonly float[] Resized;  // after the resize, before grey → colour

            public Scratch(ImageVectorGeometry g)
            {
                Planar = new float[g.InputSize];
                int mixedChannels = g.InChannels == 3 && g.OutChannels == 1 ? 1 : g.InChannels;
                Mixed = new float[mixedChannels * g.InHeight * g.InWidth];
                Resized = new float[mixedChannels * g.OutHeight * g.OutWidth];
            }
        }

        /// <summary>Converts one image: <paramref name="input"/> in the input geometry → <paramref name="output"/> in the output's.</summary>
        public void Convert(ReadOnlySpan<float> input, Span<float> output, Scratch scratch)
        {
            int inPlane = InHeight * InWidth, outPlane = OutHeight * OutWidth;
            // 1. To planar.
            if (InLayout == ImageVectorLayout.Chw)
                input.CopyTo(scratch.Planar);
            else
                for (int p = 0; p < inPlane; p++)
                    for (int c = 0; c < InChannels; c++)
                        scratch.Planar[c * inPlane + p] = input[p * InChannels + c];
            // 2. Colour → grey (BT.601 luminance) before the resize: a third of the work.
            float[] mixed = scratch.Planar;
            int channels = InChannels;
            if (InChannels == 3 && OutChannels == 1)
            {
                for (int p = 0; p < inPlane; p++)
                    scratch.Mixed[p] = 0.299f * scratch.Planar[p] + 0.587f * scratch.Planar[inPlane + p] + 0.114f * scratch.Planar[2 * inPlane + p];
                mixed = scratch.Mixed;
                channels = 1;
            }
            // 3. Resize.
            float[] resized = mixed;
            if (OutHeight != InHeight || OutWidth != InWidth)
            {
                ImageVectorConvertingTransformer.ResizeBilinear(new ReadOnlySpan<float>(mixed, 0, channels * inPlane), channels, InHeight, InWidth,
                    scratch.Resized, OutHeight, OutWidth);
                resized = scratch.Resized;
            }
            // 4. Grey → colour (replicated), offset and scale, output layout.
            for (int c = 0; c < OutChannels; c++)
            {
                int from = channels == 1 ? 0 : c;
                for (int p = 0; p < outPlane; p++)
                {
                    float value = (resized[from * outPlane + p] + Offset) * Scale;
                    output[OutLayout == ImageVectorLayout.Chw ? c * outPlane + p : p * OutChannels + c] = value;
                }
            }
        }
    }
}

namespace Microsoft.ML
{
    using Microsoft.ML.DomainAdaptation.Transforms;

    /// <summary>Catalog extension for image vectors (<see cref="ImageVectorConvertingEstimator"/>).</summary>
    public static class ImageVectorCatalog
    {
        /// <summary>
        /// Converts the image vector in <paramref name="inputColumnName"/> into <paramref name="outputColumnName"/>:
        /// H × W × C ↔ C × H × W, bilinear resize, grey → colour (or colour → grey), (value + offset) × scale. The input's
        /// geometry comes from its column type's dimensions unless the options give it. Saved and loaded with the model.
        /// </summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="outputColumnName">Name of the converted column (a vector of Single, C × H × W or H × W × C).</param>
        /// <param name="inputColumnName">Name of the image column (a known-size vector of Single); null: <paramref name="outputColumnName"/>.</param>
        /// <param name="options">What to convert; null: the defaults (nothing changes but the column's dimensions).</param>
        /// <example><code>
        /// // Colour IDX images (32 × 32 × 3, pixels 0–255) for a LeNet that reads 3 × 28 × 28 in [−1, 1]:
        /// var pipeline = mlContext.Transforms.ConvertImageVector("Features", "Features", new ImageVectorConversionOptions
        /// {
        ///     InputLayout = ImageVectorLayout.Hwc, OutputHeight = 28, OutputWidth = 28, Offset = -127.5f, Scale = 1 / 127.5f,
        /// });
        /// </code></example>
        public static ImageVectorConvertingEstimator ConvertImageVector(this TransformsCatalog catalog, string outputColumnName,
            string inputColumnName = null, ImageVectorConversionOptions options = null)
            => new ImageVectorConvertingEstimator(((IInternalCatalog)catalog).Environment, outputColumnName, inputColumnName,
                options ?? new ImageVectorConversionOptions());
    }
}
