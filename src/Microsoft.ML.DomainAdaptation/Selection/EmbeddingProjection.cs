using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Settings of <see cref="EmbeddingProjection.TSne"/>; the defaults are van der Maaten's and scikit-learn's.</summary>
    public sealed class TSneOptions
    {
        /// <summary>The perplexity, about the number of neighbours each point keeps. Default: 30. Must be below the number of points.</summary>
        public double Perplexity = 30;

        /// <summary>Gradient-descent steps. Default: 1000.</summary>
        public int Iterations = 1000;

        /// <summary>Steps with the affinities multiplied by <see cref="EarlyExaggeration"/>. Default: 250.</summary>
        public int ExaggerationIterations = 250;

        /// <summary>The early exaggeration factor. Default: 12.</summary>
        public double EarlyExaggeration = 12;

        /// <summary>The learning rate; null takes scikit-learn's "auto": max(n / exaggeration / 4, 50). Default: null.</summary>
        public double? LearningRate;

        /// <summary>Points are first reduced to this many principal components when they have more (the usual speed-up). Default: 50.</summary>
        public int PcaDimensions = 50;

        /// <summary>Seed of the initial layout. Default: 0.</summary>
        public int Seed;
    }

    /// <summary>
    /// 2-D projections of an embedding for pictures of source against target rows, before and after adaptation:
    /// principal components and t-SNE.
    /// </summary>
    public static class EmbeddingProjection
    {
        /// <summary>
        /// Projects the rows on their leading principal axes (of the rows' own covariance).
        /// </summary>
        /// <param name="points">Rows of the same length.</param>
        /// <param name="dimensions">Axes to keep. Default: 2.</param>
        /// <param name="explainedVariance">The share of the total variance along each kept axis.</param>
        /// <returns>One array of <paramref name="dimensions"/> coordinates per row.</returns>
        public static float[][] Pca(IReadOnlyList<float[]> points, int dimensions, out double[] explainedVariance)
        {
            int dim = CheckPoints(points, nameof(points));
            if (dimensions < 1 || dimensions > dim)
                throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, $"Must be between 1 and the rows' length {dim}.");
            using var scope = NewDisposeScope();
            var x = ToTensor(points);
            var (projected, explained) = Pca(x, dimensions);
            explainedVariance = explained;
            return ToRows(projected);
        }

        /// <summary>
        /// t-distributed stochastic neighbour embedding to 2-D (van der Maaten &amp; Hinton, JMLR 2008): exact gradients,
        /// perplexity-calibrated Gaussian affinities, early exaggeration, momentum 0.5 then 0.8 and per-coordinate gains.
        /// Its cost grows with the square of the rows: a few thousand rows at most.
        /// </summary>
        /// <param name="points">Rows of the same length.</param>
        /// <param name="options">Settings; null for the defaults.</param>
        /// <returns>One (x, y) pair per row.</returns>
        public static float[][] TSne(IReadOnlyList<float[]> points, TSneOptions options = null)
        {
            options ??= new TSneOptions();
            int dim = CheckPoints(points, nameof(points));
            int n = points.Count;
            if (!(options.Perplexity > 0) || options.Perplexity >= n)
                throw new ArgumentOutOfRangeException(nameof(options.Perplexity), options.Perplexity, $"{nameof(TSneOptions.Perplexity)} must be positive and below the number of rows ({n}).");
            if (options.Iterations < 1 || options.ExaggerationIterations < 0)
                throw new ArgumentOutOfRangeException(nameof(options.Iterations), options.Iterations, $"{nameof(TSneOptions.Iterations)} must be positive and {nameof(TSneOptions.ExaggerationIterations)} non-negative.");
            if (options.PcaDimensions < 2)
                throw new ArgumentOutOfRangeException(nameof(options.PcaDimensions), options.PcaDimensions, $"{nameof(TSneOptions.PcaDimensions)} must be at least 2.");

            using var scope = NewDisposeScope();
            var x = ToTensor(points).to(ScalarType.Float64);
            if (dim > options.PcaDimensions)
                x = Pca(x, options.PcaDimensions).Projected;
            // Affinities in double (the bisection needs it); the descent in single precision, which a picture does not miss.
            var p = Affinities(SquaredDistances(x), options.Perplexity).to(ScalarType.Float32);
            var exaggeratedP = p * (float)options.EarlyExaggeration;

            // Seeded initial layout N(0, 1e-4), drawn outside libtorch so the global generator is left alone.
            var random = new Random(options.Seed);
            var start = new float[n * 2];
            for (int i = 0; i < start.Length; i++)
                start[i] = (float)(1e-4 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            var y = tensor(start).reshape(n, 2);
            var velocity = zeros_like(y);
            var gains = ones_like(y);
            var offDiagonal = 1 - eye(n, dtype: ScalarType.Float32);
            double rate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration / 4, 50);
            for (int step = 0; step < options.Iterations; step++)
            {
                using var stepScope = NewDisposeScope();
                var affinity = step < options.ExaggerationIterations ? exaggeratedP : p;
                var (numerator, q) = LayoutAffinities(y, offDiagonal);
                // ∂KL/∂y_i = 4 Σ_j (p_ij − q_ij)(1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j)
                var weights = affinity.sub(q).mul_(numerator);
                var gradient = (weights.sum(1, keepdim: true) * y - weights.matmul(y)).mul_(4);
                // Gains grow where the gradient opposes the last update and shrink where it agrees (Jacobs 1988).
                var opposed = (velocity * gradient) < 0;
                var newGains = where(opposed, gains + 0.2f, gains * 0.8f).clamp_min_(0.01f);
                double momentum = step < options.ExaggerationIterations ? 0.5 : 0.8;
                var newVelocity = velocity * momentum - newGains * gradient * rate;
                var newY = y + newVelocity;
                newY = newY - newY.mean(new long[] { 0 }, keepdim: true);
                gains.Dispose(); velocity.Dispose(); y.Dispose();
                gains = newGains.MoveToOuterDisposeScope();
                velocity = newVelocity.MoveToOuterDisposeScope();
                y = newY.MoveToOuterDisposeScope();
            }
            return ToRows(y.to(ScalarType.Float32));
        }

        /// <summary>The Kullback–Leibler divergence KL(P ‖ Q) t-SNE minimises, for a layout of <paramref name="points"/>.</summary>
        /// <remarks>For checks of a layout: lower is a more faithful picture of the neighbourhoods.</remarks>
        public static double TSneDivergence(IReadOnlyList<float[]> points, IReadOnlyList<float[]> layout, double perplexity = 30)
        {
            CheckPoints(points, nameof(points));
            CheckPoints(layout, nameof(layout));
            if (layout.Count != points.Count)
                throw new ArgumentException($"Has {layout.Count} rows; the points have {points.Count}.", nameof(layout));
            using var scope = NewDisposeScope();
            var p = Affinities(SquaredDistances(ToTensor(points).to(ScalarType.Float64)), perplexity);
            var (_, q) = LayoutAffinities(ToTensor(layout).to(ScalarType.Float64), 1 - eye(points.Count, dtype: ScalarType.Float64));
            return (p * (p.clamp_min(1e-12) / q).log()).sum().item<double>();
        }

        /// <summary>
        /// The layout's Student-t kernel (1 + ‖y_i − y_j‖²)⁻¹ with its diagonal zeroed by <paramref name="offDiagonal"/>, and Q,
        /// the kernel normalised (clipped at 1e-12 for the logarithm).
        /// </summary>
        private static (Tensor Numerator, Tensor Q) LayoutAffinities(Tensor layout, Tensor offDiagonal)
        {
            var numerator = SquaredDistances(layout).add_(1).reciprocal_().mul_(offDiagonal);
            return (numerator, (numerator / numerator.sum()).clamp_min_(1e-12));
        }

        /// <summary>Symmetric joint affinities p_ij = (p_j|i + p_i|j) / 2n, each row's Gaussian width set by bisection to the perplexity.</summary>
        private static Tensor Affinities(Tensor squaredDistances, double perplexity)
        {
            int n = (int)squaredDistances.shape[0];
            var distances = squaredDistances.data<double>().ToArray();
            var conditional = new double[n * n];
            double targetEntropy = Math.Log(perplexity);
            var row = new double[n];
            for (int i = 0; i < n; i++)
            {
                double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
                // Distances relative to the row's nearest neighbour keep exp() from underflowing for far-apart rows.
                double nearest = double.PositiveInfinity;
                for (int j = 0; j < n; j++)
                {
                    if (j != i)
                        nearest = Math.Min(nearest, distances[i * n + j]);
                }
                for (int attempt = 0; attempt < 100; attempt++)
                {
                    double sum = 0, weighted = 0;
                    for (int j = 0; j < n; j++)
                    {
                        row[j] = j == i ? 0 : Math.Exp(-beta * (distances[i * n + j] - nearest));
                        sum += row[j];
                        weighted += row[j] * (distances[i * n + j] - nearest);
                    }
                    double entropy = Math.Log(sum) + beta * weighted / sum;
                    if (Math.Abs(entropy - targetEntropy) < 1e-5)
                        break;
                    if (entropy > targetEntropy)
                    {
                        low = beta;
                        beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
                    }
                    else
                    {
                        high = beta;
                        beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
                    }
                }
                double total = row.Sum();
                for (int j = 0; j < n; j++)
                    conditional[i * n + j] = row[j] / total;
            }
            var p = tensor(conditional, ScalarType.Float64).reshape(n, n);
            return ((p + p.t()) / (2.0 * n)).clamp_min(1e-12);
        }

        // The Gram form ‖a‖² + ‖b‖² − 2 a·b: TripletLoss.SquaredDistances' exact difference form would hold n² × d values
        // (1.6 GB at 2,000 rows of 50 doubles).
        private static Tensor SquaredDistances(Tensor x)
        {
            var norms = (x * x).sum(1, keepdim: true);
            return (norms + norms.t() - 2 * x.matmul(x.t())).clamp_min(0);
        }

        private static (Tensor Projected, double[] Explained) Pca(Tensor x, int dimensions)
        {
            var centred = x - x.mean(new long[] { 0 }, keepdim: true);
            var covariance = centred.t().matmul(centred) / Math.Max(1, x.shape[0] - 1);
            var (values, vectors) = linalg.eigh(covariance.to(ScalarType.Float64)); // ascending eigenvalues
            long dim = values.shape[0];
            var order = arange(dim - 1, dim - 1 - dimensions, -1, dtype: ScalarType.Int64);
            var axes = vectors.index_select(1, order).to(x.dtype);
            // Each axis's sign is fixed (largest loading positive) so a projection does not flip between runs.
            var largest = axes.abs().argmax(0);
            var signs = axes.gather(0, largest.unsqueeze(0)).sign();
            axes = axes * where(signs == 0, ones_like(signs), signs);
            double total = Math.Max(1e-12, values.clamp_min(0).sum().item<double>());
            var kept = values.index_select(0, order).clamp_min(0).data<double>().Select(v => v / total).ToArray();
            return (centred.matmul(axes), kept);
        }

        private static int CheckPoints(IReadOnlyList<float[]> points, string name)
        {
            if (points is null)
                throw new ArgumentNullException(name);
            if (points.Count < 3)
                throw new ArgumentException($"Needs at least 3 rows; got {points.Count}.", name);
            int dim = points[0]?.Length ?? 0;
            if (dim == 0)
                throw new ArgumentException("Rows must be non-empty.", name);
            for (int i = 0; i < points.Count; i++)
            {
                if (points[i] is null || points[i].Length != dim)
                    throw new ArgumentException($"Row {i} has {points[i]?.Length ?? 0} values; row 0 has {dim}. Every row must have the same length.", name);
                if (points[i].Any(v => !float.IsFinite(v)))
                    throw new ArgumentException($"Row {i} has a NaN or infinite value.", name);
            }
            return dim;
        }

        private static Tensor ToTensor(IReadOnlyList<float[]> points)
        {
            int dim = points[0].Length;
            var flat = new float[points.Count * dim];
            for (int i = 0; i < points.Count; i++)
                Array.Copy(points[i], 0, flat, i * dim, dim);
            return tensor(flat).reshape(points.Count, dim);
        }

        private static float[][] ToRows(Tensor x)
        {
            var values = x.to(ScalarType.Float32).contiguous().data<float>().ToArray();
            int dim = (int)x.shape[1];
            return Enumerable.Range(0, (int)x.shape[0]).Select(i => values.AsSpan(i * dim, dim).ToArray()).ToArray();
        }
    }
}
