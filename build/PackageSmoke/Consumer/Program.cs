// Smoke test of the packed library, run by build/package-smoke.sh in a project that references only the NuGet package:
// train DANN on two synthetic domains, evaluate on the target, save, reload with a fresh MLContext, compare scores.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;

internal static class Program
{
    private sealed class Row
    {
        [VectorType(4)]
        public float[] Features;
        public string Label;
    }

    private static int Main()
    {
        try
        {
            return Run();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("package smoke: FAILED with an exception:");
            Console.Error.WriteLine(ex);
            return 1;
        }
    }

    private static int Run()
    {
        var ml = new MLContext(seed: 1);
        // With the native OnnxRuntime referenced, the transformer scores through it: no fallback message may appear.
        var fallbacks = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("scores with TorchSharp", StringComparison.Ordinal))
                lock (fallbacks)
                    fallbacks.Add(e.Message);
        };

        // Two Gaussian blobs (classes "a" at -1, "b" at +1, sd 0.5) in 4-d; the target domain is shifted by +0.5.
        var source = ml.Data.LoadFromEnumerable(Blobs(200, shift: 0f, seed: 1));
        var target = ml.Data.LoadFromEnumerable(Blobs(200, shift: 0.5f, seed: 2));
        var targetTest = ml.Data.LoadFromEnumerable(Blobs(200, shift: 0.5f, seed: 3));
        var data = ml.Data.CombineDomains(source, target);

        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.DomainAdapt(new DannOptions
            {
                Iterations = 50,
                BatchSize = 16,
                Seed = 1,
                Backbone = new MlpBackboneOptions { HiddenLayerSizes = new[] { 16 }, EmbeddingSize = 8 },
            }));
        var model = pipeline.Fit(data);

        var scored = model.Transform(targetTest);
        var metrics = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "Label", scoreColumnName: "Score",
            predictedLabelColumnName: "PredictedLabel");
        double accuracy = metrics.MicroAccuracy;
        var failures = new List<string>();
        if (!(accuracy > 0.8))
            failures.Add($"target accuracy {accuracy:F4} is not above 0.8");
        if (metrics.ConfusionMatrix.NumberOfClasses != 2)
            failures.Add($"expected 2 classes, the evaluator saw {metrics.ConfusionMatrix.NumberOfClasses}");

        string dir = Path.Combine(Path.GetTempPath(), "da-package-smoke-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.zip");
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext(seed: 99);
            var loaded = fresh.Model.Load(path, out _);

            var before = Scores(scored);
            var after = Scores(loaded.Transform(targetTest));
            if (before.Length != 200)
                failures.Add($"expected 200 scored rows, got {before.Length}");
            if (before.Length != after.Length)
                failures.Add($"the reloaded model scored {after.Length} rows, the original {before.Length}");
            else
            {
                int differing = Enumerable.Range(0, before.Length).Count(i => !before[i].SequenceEqual(after[i]));
                if (differing != 0)
                    failures.Add($"{differing} of {before.Length} rows score differently after save and load");
            }
            if (before.Any(s => s.Length != 2 || s.Any(v => !float.IsFinite(v)) || Math.Abs(s.Sum() - 1f) > 1e-4f))
                failures.Add("scores are not finite 2-class probabilities");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }

        failures.AddRange(fallbacks.Select(m => "expected OnnxRuntime scoring, got: " + m));
        foreach (var f in failures)
            Console.Error.WriteLine("package smoke: " + f);
        Console.WriteLine("accuracy=" + accuracy.ToString("F4", CultureInfo.InvariantCulture));
        return failures.Count == 0 ? 0 : 1;
    }

    private static List<Row> Blobs(int count, float shift, int seed)
    {
        var random = new Random(seed);
        var rows = new List<Row>(count);
        for (int i = 0; i < count; i++)
        {
            int cls = i % 2;
            var f = new float[4];
            for (int j = 0; j < 4; j++)
            {
                double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                f[j] = (float)(gaussian * 0.5 + (cls == 0 ? -1 : 1) + shift);
            }
            rows.Add(new Row { Features = f, Label = cls == 0 ? "a" : "b" });
        }
        return rows;
    }

    private static float[][] Scores(IDataView data)
    {
        var column = data.Schema["Score"];
        var result = new List<float[]>();
        using var cursor = data.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value.DenseValues().ToArray());
        }
        return result.ToArray();
    }
}
