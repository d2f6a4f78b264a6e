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

        [Fact]
        public void TSneKeepsSeparatedClustersApartAndIsSeeded()
        {
            // Three clusters in 20-D, 30 rows each, unit noise around centres 8 apart.
            var random = new Random(3);
            var clusters = Enumerable.Range(0, 90).Select(i => i / 30).ToArray();
            var points = clusters.Select(c => Enumerable.Range(0, 20)
                .Select(j => (float)((j == c ? 8 : 0) + Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))
                .ToArray()).ToArray();
            var options = new TSneOptions { Perplexity = 10, Iterations = 500, Seed = 1 };
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
            var otherSeed = EmbeddingProjection.TSne(points, new TSneOptions { Perplexity = 10, Iterations = 500, Seed = 2 });
            Assert.NotEqual(layout.SelectMany(p => p), otherSeed.SelectMany(p => p));
        }

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
        }
    }
}
