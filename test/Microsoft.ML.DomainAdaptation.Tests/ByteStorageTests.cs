using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Data;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Training rows held as bytes when their values are integers in 0–255 (<see cref="FeatureStore"/>): the same trainings
    /// as float storage bit for bit, the fall-back to floats, and chunk boundaries.
    /// </summary>
    public class ByteStorageTests
    {
        internal const int Channels = 3, Side = 16, ImageSize = Channels * Side * Side, PerDomain = 96;

        internal sealed class ImageRow
        {
            [VectorType(Channels, Side, Side)]
            public float[] Features;

            public string Label; // null: missing (unlabeled target row)

            public bool IsTarget;
        }

        /// <summary>
        /// 3 × 16 × 16 pixels, integers in 0–255: class 0 brighter on the left, class 1 on the right, noise everywhere; the
        /// target is brighter and every fourth target row keeps its label. <paramref name="fractional"/> adds 0.5 to every value.
        /// </summary>
        internal static List<ImageRow> Images(bool fractional)
        {
            var random = new Random(5);
            var rows = new List<ImageRow>();
            for (int domain = 0; domain < 2; domain++)
            {
                for (int i = 0; i < PerDomain; i++)
                {
                    int cls = i % 2;
                    var f = new float[ImageSize];
                    for (int c = 0; c < Channels; c++)
                    {
                        for (int y = 0; y < Side; y++)
                        {
                            for (int x = 0; x < Side; x++)
                            {
                                bool lit = cls == 0 ? x < Side / 2 : x >= Side / 2;
                                int v = (lit ? 120 : 40) + random.Next(80) + (domain == 1 ? 50 : 0);
                                f[(c * Side + y) * Side + x] = Math.Min(255, v) + (fractional ? 0.5f : 0f);
                            }
                        }
                    }
                    bool target = domain == 1;
                    rows.Add(new ImageRow { Features = f, Label = !target || i % 4 == 0 ? (cls == 0 ? "left" : "right") : null, IsTarget = target });
                }
            }
            return rows;
        }

        /// <summary>
        /// Short trainings that read the rows every way training does: batches of both domains and of the labeled target rows,
        /// a validation hold-out scored during training, the dataset's channel statistics, AdaBN's pass over all target rows.
        /// </summary>
        internal static DomainAdaptationOptions Options(string method)
        {
            var backbone = new LeNetBackboneOptions { Channels = Channels, Height = Side, Width = Side };
            DomainAdaptationOptions options = method switch
            {
                "DANN" => new DannOptions
                {
                    UseTargetLabels = true,
                    Validation = new TrainingValidation { Interval = 10, HeldOutFraction = 0.2f },
                },
                "AdaBN" => new AdaBnOptions { StatisticsBatchSize = 20, CoralWeight = 1 },
                _ => throw new ArgumentOutOfRangeException(nameof(method)),
            };
            options.Backbone = backbone;
            options.InputNormalization = InputNormalizationKind.PerChannelDataset;
            options.Iterations = 30;
            options.BatchSize = 16;
            options.Seed = 3;
            options.NumberOfThreads = 1;
            return options;
        }

        /// <summary>The rows with their label as a key ("left" 1, "right" 2, missing 0), as training reads them.</summary>
        internal static IDataView Keyed(MLContext ml, List<ImageRow> rows)
        {
            var view = ml.Data.LoadFromEnumerable(rows);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
        }

        /// <summary>The class probabilities of the first 6 target rows, as the fitted transformer scores them.</summary>
        internal static float[] Scores(MLContext ml, ITransformer model, List<ImageRow> rows)
        {
            var view = ml.Data.LoadFromEnumerable(rows.Where(r => r.IsTarget).Take(6).ToList());
            return model.Transform(view).GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues()).ToArray();
        }

        // Integral rows take the byte storage, the same rows + 0.5 the float storage; the per-channel standardisation removes
        // the shift, so both trainings must give the same bits. (When the byte storage landed, both also reproduced, bit for bit,
        // the scores of the previous build, which held every row as floats: recorded on this project's AMD EPYC machine, not
        // kept here because libtorch's kernels, hence the last bits, depend on the CPU.)
        [Theory]
        [InlineData("DANN")]
        [InlineData("AdaBN")]
        public void ByteAndFloatStorageTrainTheSameBits(string method)
        {
            float[] Train(bool fractional)
            {
                var ml = new MLContext(seed: 0);
                var rows = Images(fractional);
                var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.DomainAdapt(Options(method))).Fit(ml.Data.LoadFromEnumerable(rows));
                return Scores(ml, model, rows);
            }
            var bytes = Train(fractional: false);
            var floats = Train(fractional: true);
            Assert.Equal(12, bytes.Length);
            Assert.Contains(bytes, p => p > 0.6f); // a trained model, not a constant
            Assert.Equal(floats, bytes);
        }
    }
}
