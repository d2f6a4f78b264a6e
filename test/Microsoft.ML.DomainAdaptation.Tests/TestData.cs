using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Small synthetic views for API and error tests (the real-data tests use the shipped digits).</summary>
    internal static class TestData
    {
        public sealed class Row
        {
            [VectorType(4)]
            public float[] Features;
            public string Label;
            public bool IsTarget;
        }

        /// <summary>Two Gaussian blobs per domain; the target is the source shifted by <paramref name="shift"/>.</summary>
        public static List<Row> Blobs(int perDomain, float shift, int seed)
        {
            var random = new Random(seed);
            var rows = new List<Row>();
            for (int domain = 0; domain < 2; domain++)
            {
                for (int i = 0; i < perDomain; i++)
                {
                    int cls = i % 2;
                    var f = new float[4];
                    for (int j = 0; j < 4; j++)
                        f[j] = (float)(Gaussian(random) * 0.5 + (cls == 0 ? -1 : 1) + (domain == 1 ? shift : 0));
                    rows.Add(new Row { Features = f, Label = cls == 0 ? "a" : "b", IsTarget = domain == 1 });
                }
            }
            return rows;
        }

        /// <summary>The training view of a source and a target collection: the target's labels dropped, both combined, cached.</summary>
        public static IDataView UnlabeledTargetTraining(MLContext mlContext, IDataView source, IDataView target) =>
            mlContext.Data.Cache(mlContext.Data.CombineDomains(source, mlContext.Transforms.DropColumns("Label").Fit(target).Transform(target)));

        public static IDataView BlobsView(MLContext mlContext, int perDomain = 128, float shift = 0.5f, int seed = 1)
            => mlContext.Data.LoadFromEnumerable(Blobs(perDomain, shift, seed));

        /// <summary>A tiny, fast configuration for API tests: 60 steps of 32 + 32 rows, a 16-unit MLP with an 8-d embedding.</summary>
        public static DomainAdaptationOptions Tiny(DomainAdaptationOptions options)
        {
            options.Iterations = 60;
            options.BatchSize = 32;
            options.Seed = 7;
            options.Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8 };
            options.ClassifierHiddenSize = 8;
            return options;
        }

        public static IEstimator<ITransformer> KeyLabel(MLContext mlContext) => mlContext.Transforms.Conversion.MapValueToKey("Label");

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        /// <summary>Largest |actual − expected| over the rows and values of an ONNX output against the transformer's.</summary>
        public static double MaxAbsDifference(Microsoft.ML.OnnxRuntime.Tensors.Tensor<float> actual, float[][] expected)
        {
            double max = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                for (int k = 0; k < expected[i].Length; k++)
                    max = Math.Max(max, Math.Abs(actual[i, k] - expected[i][k]));
            }
            return max;
        }

        public static float[][] Column(IDataView data, string name)
        {
            var result = new List<float[]>();
            using var cursor = data.GetRowCursor(new[] { data.Schema[name] });
            var getter = cursor.GetGetter<VBuffer<float>>(data.Schema[name]);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                result.Add(value.DenseValues().ToArray());
            }
            return result.ToArray();
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>A temporary folder deleted with its content on dispose, so test runs leave nothing behind.</summary>
    internal sealed class TempFolder : System.IDisposable
    {
        public string Path { get; } = System.IO.Directory.CreateTempSubdirectory("da-test-").FullName;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { System.IO.Directory.Delete(Path, recursive: true); }
            catch (System.IO.IOException) { }
        }
    }
}
