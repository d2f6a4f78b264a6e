using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Issue 16: the zip of <c>mlnet-da train</c> is one ML.NET chain from the raw input to the class name. Loaded with a
    /// plain <c>mlContext.Model.Load</c> in this process (ML.NET's own LoadImages / ResizeImages / ExtractPixels, SkiaSharp 2),
    /// it scores raw rows as <c>mlnet-da predict</c> does; zips of the previous format still score as they did.
    /// </summary>
    public sealed class CliModelZipTests : IClassFixture<CliData>
    {
        private readonly CliData _data;

        public CliModelZipTests(CliData data) => _data = data;

        /// <summary>predict's CSV: the predicted class and the probabilities per row (after Row and, when present, Label).</summary>
        internal static (string Predicted, float[] Scores)[] ReadPredictions(string path, bool withLabels)
        {
            int first = withLabels ? 2 : 1;
            return File.ReadAllLines(path).Skip(1).Select(l => l.Split(','))
                .Select(c => (c[first], c.Skip(first + 1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())).ToArray();
        }

        /// <summary>Scores <paramref name="raw"/> with the zip loaded by ML.NET alone; asserts predict's classes and probabilities (≤ 1e-5).</summary>
        private static void AssertScoresAsPredict(string model, IDataView raw, string predictions, string inputColumn)
        {
            var mlContext = new MLContext(seed: 0);
            var chain = mlContext.Model.Load(model, out var inputSchema);
            Assert.Equal(new[] { inputColumn }, inputSchema.Select(c => c.Name).Take(1));
            var scored = chain.Transform(raw);
            Assert.IsType<TextDataViewType>(scored.Schema["PredictedLabel"].Type); // the class name, not a key
            var classes = scored.GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(c => c.ToString()).ToArray();
            var scores = scored.GetColumn<float[]>("Score").ToArray();
            var expected = ReadPredictions(predictions, withLabels: true);
            Assert.Equal(expected.Length, classes.Length);
            Assert.Equal(expected.Select(e => e.Predicted), classes);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i].Scores.Length, scores[i].Length);
                for (int k = 0; k < scores[i].Length; k++)
                    Assert.True(Math.Abs(expected[i].Scores[k] - scores[i][k]) <= 1e-5, $"row {i + 1}, class {k}: predict {expected[i].Scores[k]}, chain {scores[i][k]}");
            }
        }

        private sealed class PathRow
        {
            public string ImagePath;
        }

        /// <summary>Image folder: grey 24 × 24 from 20 × 20 PNG files; the zip takes the image paths.</summary>
        [Fact]
        public void ImageFolderZipScoresImagePathsAsPredict()
        {
            string model = _data["zip-folder.zip"], predictions = _data["zip-folder.csv"];
            CliTests.Succeed("train", "--method", "SourceOnly", "--source", _data["images"], "--target", _data["images"],
                "--channels", "1", "--image-size", "24", "--iterations", "40", "--batch", "16", "--output", model);
            CliTests.Succeed("predict", "--model", model, "--data", _data["images"], "--output", predictions);
            var paths = File.ReadAllLines(predictions).Skip(1).Select(l => new PathRow { ImagePath = l.Split(',')[0] }).ToArray();
            Assert.Equal(100, paths.Length);
            AssertScoresAsPredict(model, new MLContext(0).Data.LoadFromEnumerable(paths), predictions, "ImagePath");
        }

        /// <summary>IDX: the zip takes the source's 20 × 20 pixels (0–255) and resizes and scales them itself.</summary>
        [Fact]
        public void IdxZipScoresRawPixelsAsPredict()
        {
            string model = _data["zip-idx.zip"], predictions = _data["zip-idx.csv"], images = _data["source-images-idx3-ubyte"];
            CliTests.Succeed("train", "--method", "SourceOnly", "--source", images, "--target", _data["target-images-idx3-ubyte"],
                "--image-size", "28", "--iterations", "40", "--batch", "16", "--output", model);
            CliTests.Succeed("predict", "--model", model, "--data", images, "--output", predictions);
            var raw = new MLContext(0).Data.LoadFromIdx(images, featureColumnName: "Image");
            Assert.Equal(new[] { 20, 20 }, ((VectorDataViewType)raw.Schema["Image"].Type).Dimensions);
            AssertScoresAsPredict(model, raw, predictions, "Image");
        }

        /// <summary>Tables: the zip takes the raw columns by name and standardises them with the source's statistics.</summary>
        [Fact]
        public void TableZipScoresRawColumnsAsPredict()
        {
            string model = _data["zip-table.zip"], predictions = _data["zip-table.csv"], table = _data["optdigits-b.tsv"];
            CliTests.Succeed("train", "--method", "SourceOnly", "--source", _data["optdigits-a.csv"], "--target", table,
                "--label-column", "digit", "--iterations", "40", "--batch", "16", "--output", model);
            CliTests.Succeed("predict", "--model", model, "--data", table, "--output", predictions);
            var header = File.ReadLines(table).First().Split('\t');
            var columns = header.Select((name, i) => (name, i)).Where(c => c.name.StartsWith('p'))
                .Select(c => new TextLoader.Column(c.name, DataKind.Single, c.i)).ToArray();
            var raw = new MLContext(0).Data.LoadFromTextFile(table, columns, separatorChar: '\t', hasHeader: true);
            AssertScoresAsPredict(model, raw, predictions, "p0");
        }

        /// <summary>
        /// Zips of the previous format (network alone, preprocessing in data.json) score as that version did: the same rows,
        /// labels and predicted labels, and probabilities within 1e-5. That
        /// version scored with TorchSharp; the tool now scores with OnnxRuntime (<see cref="ScoringEngine.Auto"/>), whose
        /// kernels round differently (OnnxRuntimeScoringTests compares the two engines).
        /// </summary>
        [Theory]
        [InlineData("idx-mlp", "images-idx3-ubyte")]
        [InlineData("table-mlp", "digits.csv")]
        public void ZipsOfThePreviousFormatStillPredict(string name, string data)
        {
            string folder = Path.Combine(AppContext.BaseDirectory, "data", "legacy-cli");
            string output = _data[name + "-legacy.csv"];
            CliTests.Succeed("predict", "--model", Path.Combine(folder, name + ".zip"), "--data", Path.Combine(folder, data), "--output", output);
            CliTests.AssertSamePredictions(File.ReadAllLines(Path.Combine(folder, name + ".predictions.csv")), File.ReadAllLines(output));
        }
    }
}
