using System;
using System.Linq;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class EmbeddingProjectionTests
    {
        [Fact]
        public void PcaOfPointsOnALineIsTheirPositionAlongIt()
        {
            // Points t · (1, 2, 0): one axis (1, 2, 0) / √5 carries all the variance; the coordinate on it is t √5 (the mean t is 0).
            var ts = new[] { -2f, -1f, 0f, 1f, 2f };
            var points = ts.Select(t => new[] { t, 2 * t, 0f }).ToArray();
            var projected = EmbeddingProjection.Pca(points, 1, out var explained);
            Assert.Equal(1.0, explained[0], 6);
            for (int i = 0; i < ts.Length; i++)
                Assert.Equal(ts[i] * Math.Sqrt(5), projected[i][0], 4);
        }

        [Theory]
        [InlineData(1000)] // exact
        [InlineData(0)] // Barnes–Hut
        public void TSneKeepsSeparatedClustersApartAndIsSeeded(int exactMaxRows)
        {
            // Three clusters in 20-D, 30 rows each, unit noise around centres 8 apart.
            var random = new Random(3);
            var clusters = Enumerable.Range(0, 90).Select(i => i / 30).ToArray();
            var points = clusters.Select(c => Enumerable.Range(0, 20)
                .Select(j => (float)((j == c ? 8 : 0) + Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))
                .ToArray()).ToArray();
            var options = new TSneOptions { Perplexity = 10, Iterations = 500, Seed = 1, ExactMaxRows = exactMaxRows };
            var layout = EmbeddingProjection.TSne(points, options);

            Assert.Equal(90, layout.Length);
            Assert.All(layout, p => Assert.Equal(2, p.Length));
            // Every row's nearest neighbour in the picture is from its own cluster.
            for (int i = 0; i < layout.Length; i++)
            {
                int nearest = Enumerable.Range(0, layout.Length).Where(j => j != i)
                    .OrderBy(j => Math.Pow(layout[i][0] - layout[j][0], 2) + Math.Pow(layout[i][1] - layout[j][1], 2)).First();
                Assert.Equal(clusters[i], clusters[nearest]);
            }
            // The optimised layout is far more faithful than a random one of the same spread.
            var shuffled = layout.OrderBy(_ => random.Next()).ToArray();
            double divergence = EmbeddingProjection.TSneDivergence(points, layout, 10);
            double shuffledDivergence = EmbeddingProjection.TSneDivergence(points, shuffled, 10);
            Assert.True(divergence < shuffledDivergence / 3, $"KL {divergence:F3} against {shuffledDivergence:F3} shuffled");

            var again = EmbeddingProjection.TSne(points, options);
            Assert.Equal(layout.SelectMany(p => p), again.SelectMany(p => p));
            var otherSeed = EmbeddingProjection.TSne(points, new TSneOptions { Perplexity = 10, Iterations = 500, Seed = 2, ExactMaxRows = exactMaxRows });
            Assert.NotEqual(layout.SelectMany(p => p), otherSeed.SelectMany(p => p));
        }

        [Fact]
        public void BarnesHutGradientIsTheExactGradientAtAngleZeroAndCloseAtTheDefault()
        {
            // 60 rows, perplexity 20: the 59 nearest neighbours are every other row, so the sparse P is the whole P; the
            // gradient 4 Σ_j (p_ij − q_ij)(1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j) computed here term by term.
            var random = new Random(7);
            int n = 60;
            var x = Enumerable.Range(0, n * 5).Select(_ => random.NextDouble() * 4).ToArray();
            var y = Enumerable.Range(0, n * 2).Select(_ => random.NextDouble() * 10 - 5).ToArray();
            using var scope = TorchSharp.torch.NewDisposeScope();
            var p = BarnesHutTSne.SparseAffinities(TorchSharp.torch.tensor(x).reshape(n, 5), 20);
            Assert.All(p, row => Assert.Equal(n - 1, row.Columns.Length));
            Assert.Equal(1.0, p.Sum(row => row.Values.Sum()), 9);
            var dense = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int m = 0; m < p[i].Columns.Length; m++)
                    dense[i, p[i].Columns[m]] = p[i].Values[m];
            }
            double z = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                    z += i == j ? 0 : 1 / (1 + Square(y, i, j));
            }
            var expected = new double[2 * n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    if (i == j) continue;
                    double kernel = 1 / (1 + Square(y, i, j));
                    for (int c = 0; c < 2; c++)
                        expected[2 * i + c] += 4 * (2 * dense[i, j] - kernel / z) * kernel * (y[2 * i + c] - y[2 * j + c]);
                }
            }
            var exact = new double[2 * n];
            BarnesHutTSne.Gradient(p, y, 2, 0, exact); // exaggeration 2
            for (int i = 0; i < 2 * n; i++)
                Assert.Equal(expected[i], exact[i], 12);
            var approximate = new double[2 * n];
            BarnesHutTSne.Gradient(p, y, 2, 0.5, approximate);
            double error = Math.Sqrt(approximate.Zip(expected, (a, e) => (a - e) * (a - e)).Sum() / expected.Sum(e => e * e));
            Assert.True(error < 0.05 && error > 0, $"relative error at θ = 0.5: {error:G3}");
        }

        private static double Square(double[] y, int i, int j) =>
            (y[2 * i] - y[2 * j]) * (y[2 * i] - y[2 * j]) + (y[2 * i + 1] - y[2 * j + 1]) * (y[2 * i + 1] - y[2 * j + 1]);

        [Fact]
        public void BadInputIsNamed()
        {
            var points = Enumerable.Range(0, 10).Select(i => new[] { (float)i, (float)(i * i) }).ToArray();
            var perplexity = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingProjection.TSne(points, new TSneOptions { Perplexity = 10 }));
            Assert.Contains("Perplexity", perplexity.Message);
            var ragged = points.Append(new[] { 1f }).ToArray();
            Assert.Contains("Row 10 has 1 values", Assert.Throws<ArgumentException>(() => EmbeddingProjection.Pca(ragged, 2, out _)).Message);
            var nan = points.Append(new[] { 1f, float.NaN }).ToArray();
            Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => EmbeddingProjection.TSne(nan)).Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingProjection.Pca(points, 3, out _));
            Assert.Contains("Angle", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingProjection.TSne(points, new TSneOptions { Perplexity = 3, Angle = 1.5 })).Message);
            Assert.Contains("ExactMaxRows", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingProjection.TSne(points, new TSneOptions { Perplexity = 3, ExactMaxRows = -1 })).Message);
        }
    }
}
