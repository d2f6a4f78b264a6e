using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Transforms;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// The first part of the chain saved by <c>mlnet-da train</c>: from the raw input to the network's "Features", with
    /// ML.NET's transforms, so that <c>mlContext.Model.Load("model.zip")</c> scores raw rows as the tool does.
    /// <list type="bullet">
    /// <item>Image folders: "ImagePath" (text) → <c>LoadImages</c> → <c>ResizeImages</c> (the model's size) → <c>ExtractPixels</c>
    /// ("Pixels", R, G, B planes, 0–255) → <c>ConvertImageVector</c> (grey = 0.299 R + 0.587 G + 0.114 B when the model has one
    /// channel; (p − 127.5) / 127.5).</item>
    /// <item>IDX files: "Image" (H × W pixels 0–255, the source file's size) → <c>ConvertImageVector</c> (bilinear resize to the
    /// model's size, channels, (p − 127.5) / 127.5).</item>
    /// <item>Tables: one Single column per feature column → <c>Concatenate</c> → <c>NormalizeMeanVariance</c> fitted on the
    /// source ((x − mean) / standard deviation).</item>
    /// </list>
    /// Then come the adapted network and <c>MapKeyToValue</c> of "PredictedLabel" (the class name).
    /// </summary>
    internal static class Preprocessing
    {
        public const string ImagePathColumn = "ImagePath";
        public const string ImageColumn = "Image";
        public const string PixelsColumn = "Pixels";
        public const string FeaturesColumn = "Features";
        private const float Offset = -127.5f, Scale = 1f / 127.5f;

        /// <summary>The raw rows as the chain's input view: the columns a consumer's <c>ModelInput</c> has.</summary>
        public static IDataView RawView(TabularData raw, DataDescription description)
        {
            var builder = new RowsDataView.Builder(raw.Count);
            switch (raw.Input)
            {
                case "folder":
                    builder.AddText(ImagePathColumn, r => raw.RowNames[r]);
                    break;
                case "idx":
                    builder.AddVector(ImageColumn, raw.InputShape, r => raw.Features[r]);
                    break;
                case "table":
                    for (int j = 0; j < description.FeatureColumns.Length; j++)
                    {
                        int column = j;
                        builder.AddSingle(description.FeatureColumns[j], r => raw.Features[r][column]);
                    }
                    break;
                default:
                    throw new InvalidOperationException($"Rows of input '{raw.Input}' have no raw view.");
            }
            return builder.Build();
        }

        /// <summary>The preprocessing estimator for raw rows of <paramref name="input"/> ("folder", "idx", "table").</summary>
        public static IEstimator<ITransformer> Estimator(MLContext mlContext, DataDescription description, string input)
        {
            var transforms = mlContext.Transforms;
            switch (input)
            {
                case "folder":
                    return transforms.LoadImages(ImageColumn, imageFolder: null, ImagePathColumn)
                        .Append(transforms.ResizeImages(ImageColumn, imageWidth: description.Shape[2], imageHeight: description.Shape[1]))
                        .Append(transforms.ExtractPixels(PixelsColumn, ImageColumn))
                        .Append(transforms.ConvertImageVector(FeaturesColumn, PixelsColumn,
                            new ImageVectorConversionOptions { OutputChannels = description.Shape[0], Offset = Offset, Scale = Scale }));
                case "idx":
                    return transforms.ConvertImageVector(FeaturesColumn, ImageColumn, new ImageVectorConversionOptions
                    {
                        OutputChannels = description.Shape[0], OutputHeight = description.Shape[1], OutputWidth = description.Shape[2], Offset = Offset, Scale = Scale,
                    });
                case "table":
                    // Columns of a table come in any units: standardised with the source's statistics, as images are
                    // brought to [−1, 1], so that the default learning rate suits every table.
                    return transforms.Concatenate(FeaturesColumn, description.FeatureColumns)
                        .Append(transforms.NormalizeMeanVariance(FeaturesColumn, fixZero: false));
                default:
                    throw new InvalidOperationException($"Unknown input '{input}'.");
            }
        }

        /// <summary>Fits the preprocessing on the raw source rows (the table's statistics come from them).</summary>
        public static ITransformer Fit(MLContext mlContext, DataDescription description, TabularData rawSource) =>
            Estimator(mlContext, description, rawSource.Input).Fit(RawView(rawSource, description));

        /// <summary>
        /// Raw rows → the features the network sees, through <paramref name="preprocessing"/> (the model's saved one) when the
        /// rows are of its input kind and size; an IDX file of another size (or another kind of images) gets the same
        /// conversion made for its own input. Rows of a model of an earlier version come featurized already.
        /// </summary>
        public static TabularData Featurize(MLContext mlContext, DataDescription description, ITransformer preprocessing, TabularData raw)
        {
            if (raw.Input == null)
                return raw;
            var view = RawView(raw, description);
            bool sameInput = raw.Input == description.Input && (raw.Input != "idx" || raw.InputShape.SequenceEqual(description.InputShape));
            var chain = preprocessing != null && sameInput ? preprocessing : Estimator(mlContext, description, raw.Input).Fit(view);
            var parts = Flatten(chain).ToList();
            int extract = parts.FindIndex(t => t is ImagePixelExtractingTransformer);
            IDataView features;
            if (extract < 0)
            {
                features = chain.Transform(view);
            }
            else
            {
                // ML.NET's ExtractPixels needs SkiaSharp 2 (SKBitmap.GetPixelSpan); the tool runs on SkiaSharp 3 (ScottPlot's), so
                // it reads the pixels of the chain's loaded and resized images itself, as ExtractPixels does with its defaults
                // (R, G, B planes, 0–255), and runs the rest of the chain.
                var resized = parts.Take(extract).Aggregate((IDataView)view, (data, t) => t.Transform(data));
                features = parts.Skip(extract + 1).Aggregate(PixelsOf(resized, raw.Count, description), (data, t) => t.Transform(data));
            }
            return new TabularData
            {
                Features = features.GetColumn<float[]>(FeaturesColumn).ToArray(),
                Labels = raw.Labels,
                RowNames = raw.RowNames,
            };
        }

        /// <summary>The saved model: preprocessing, the adapted network, then the predicted key mapped to the class name.</summary>
        public static ITransformer Chain(MLContext mlContext, ITransformer preprocessing, DomainAdaptationTransformer model, IDataView features)
        {
            var toName = mlContext.Transforms.Conversion.MapKeyToValue(model.PredictedLabelColumnName).Fit(model.Transform(features));
            return new TransformerChain<ITransformer>(Flatten(preprocessing).Append(model).Append(toName).ToArray());
        }

        /// <summary>The transformers of a (nested) chain, in order.</summary>
        public static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
            transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : new[] { transformer };

        private static readonly FieldInfo BitmapField = typeof(MLImage).GetField("_image", BindingFlags.NonPublic | BindingFlags.Instance);

        private static IDataView PixelsOf(IDataView images, int count, DataDescription description)
        {
            if (BitmapField?.FieldType != typeof(SKBitmap))
                throw new InvalidOperationException("This version of Microsoft.ML.ImageAnalytics keeps its pixels where mlnet-da does not look (MLImage._image).");
            int height = description.Shape[1], width = description.Shape[2], plane = height * width;
            var rows = new float[count][];
            using (var cursor = images.GetRowCursor(new[] { images.Schema[ImageColumn] }))
            {
                var getImage = cursor.GetGetter<MLImage>(images.Schema[ImageColumn]);
                MLImage image = null;
                var bytes = new byte[plane * 4];
                for (int i = 0; cursor.MoveNext(); i++)
                {
                    getImage(ref image);
                    var bitmap = (SKBitmap)BitmapField.GetValue(image);
                    if (bitmap.Width != width || bitmap.Height != height || bitmap.BytesPerPixel != 4 || bitmap.ColorType is not (SKColorType.Bgra8888 or SKColorType.Rgba8888))
                        throw new InvalidOperationException($"Resized image {i + 1} is {bitmap.Width} × {bitmap.Height} {bitmap.ColorType}; expected {width} × {height} 32-bit colour.");
                    bool bgra = bitmap.ColorType == SKColorType.Bgra8888;
                    var row = new float[3 * plane];
                    for (int y = 0; y < height; y++)
                    {
                        Marshal.Copy(bitmap.GetPixels() + y * bitmap.RowBytes, bytes, y * width * 4, width * 4);
                    }
                    for (int p = 0; p < plane; p++)
                    {
                        byte b0 = bytes[4 * p], b1 = bytes[4 * p + 1], b2 = bytes[4 * p + 2];
                        row[p] = bgra ? b2 : b0;
                        row[plane + p] = b1;
                        row[2 * plane + p] = bgra ? b0 : b2;
                    }
                    rows[i] = row;
                }
            }
            return new RowsDataView.Builder(count).AddVector(PixelsColumn, new[] { 3, height, width }, r => rows[r]).Build();
        }
    }
}
