using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The way users adapt their own images: image files → ML.NET's <c>LoadImages</c> → <c>ResizeImages</c> →
    /// <c>ExtractPixels</c> → a ResNet fine-tuned by a method of the library, all in one pipeline that is saved,
    /// reloaded and scores new image paths with nothing else.
    /// </summary>
    public sealed class ImagePipelineTests : IDisposable
    {
        private const int Side = 32;
        private const int TrainedSide = 40;
        private readonly MLContext _ml = new(seed: 0);
        private readonly TempFolder _folder = new();

        public void Dispose() => _folder.Dispose();

        [Fact]
        public void ImagePathsToPredictionsInOneSavedPipelineWithAFineTunedResNet()
        {
            // The stripes of PretrainedBackboneTests written as 32 px PNG files; the pipeline resizes them to 40 px, so
            // ResizeImages does work in the saved pipeline.
            var rows = PretrainedBackboneTests.Stripes(perDomain: 48, seed: 3);
            string sourceFolder = WriteFolder(rows.Where(r => !r.IsTarget), "source");
            string targetFolder = WriteFolder(rows.Where(r => r.IsTarget), "target");
            var source = _ml.Data.LoadImageFolder(sourceFolder);
            var target = _ml.Data.LoadImageFolder(targetFolder, new ImageFolderOptions { ClassNames = ClassNames(source) });
            var unlabeledTarget = _ml.Transforms.DropColumns("Label").Fit(target).Transform(target);

            var options = new DannOptions
            {
                Backbone = new ResNetBackboneOptions { ImageSize = TrainedSide, EmbeddingSize = 32 },
                Iterations = 30,
                BatchSize = 16,
                Seed = 1,
                NumberOfThreads = 1,
            };
            var pipeline = _ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath")
                .Append(_ml.Transforms.ResizeImages("Image", TrainedSide, TrainedSide))
                .Append(_ml.Transforms.ExtractPixels("Features", "Image"))
                .Append(_ml.MulticlassClassification.Trainers.DomainAdaptation(options));
            var model = pipeline.Fit(_ml.Data.CombineDomains(source, unlabeledTarget));

            // The fine-tuned network learned the source classes from the files (chance is 50 %).
            var sourceMetrics = _ml.MulticlassClassification.Evaluate(model.Transform(source));
            Assert.True(sourceMetrics.MicroAccuracy >= 0.9, $"source accuracy {sourceMetrics.MicroAccuracy:P1}");

            // Saved and reloaded, the pipeline scores image paths alone, bit-identically.
            string zip = _folder.File("images-model.zip");
            _ml.Model.Save(model, source.Schema, zip);
            var loaded = new MLContext(seed: 5).Model.Load(zip, out var inputSchema);
            Assert.NotNull(inputSchema.GetColumnOrNull("ImagePath"));
            var paths = _ml.Data.LoadFromEnumerable(Directory.GetFiles(targetFolder, "*.png", SearchOption.AllDirectories)
                .OrderBy(p => p, StringComparer.Ordinal).Select(p => new PathRow { ImagePath = p }));
            var before = model.Transform(target);
            var after = loaded.Transform(paths);
            Assert.Equal(TestData.Column(before, "Score"), TestData.Column(after, "Score"));
            Assert.Equal(before.GetColumn<uint>("PredictedLabel"), after.GetColumn<uint>("PredictedLabel"));
        }

        private sealed class PathRow
        {
            public string ImagePath;
        }

        private sealed class LabelledImage
        {
            public float[] Features;
            public float Label;
        }

        /// <summary>Writes 0–255 planar rows as PNG files root/&lt;class&gt;/row.png.</summary>
        private string WriteFolder(IEnumerable<PretrainedBackboneTests.ImageRow> rows, string name)
        {
            var images = rows.Select(r => new LabelledImage { Features = r.Features, Label = r.Label == "rows" ? 0 : 1 }).ToArray();
            var schema = SchemaDefinition.Create(typeof(LabelledImage));
            schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, Side, Side);
            string root = Path.Combine(_folder.Path, name);
            // The rows hold 0–255 pixels: no scaling to undo.
            _ml.Data.SaveAsImageFolder(_ml.Data.LoadFromEnumerable(images, schema), root, new ImageFolderWriteOptions { OffsetImage = 0, ScaleImage = 1 });
            return root;
        }

        private static string[] ClassNames(IDataView view)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            view.Schema["Label"].GetKeyValues(ref names);
            return names.DenseValues().Select(n => n.ToString()).ToArray();
        }
    }
}
