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

        /// <summary>
        /// Up to this many rows, t-SNE is exact (memory and time grow with the square of the rows: about 10 MB of n × n
        /// matrices at 1,000 rows, 1.6 GB each at 20,000); above it, Barnes–Hut t-SNE (sparse nearest-neighbour affinities and
        /// a quadtree, memory growing with the rows). Default: 1000. Must be non-negative (0: always Barnes–Hut).
        /// </summary>
        public int ExactMaxRows = 1000;

        /// <summary>
        /// Barnes–Hut's angle θ: a quadtree cell stands for its points when its width over its distance is below θ. Larger is
        /// faster and coarser; 0 is the exact repulsion. Default: 0.5 (scikit-learn's). Must be in [0, 1].
        /// </summary>
        public double Angle = 0.5;
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
        /// Exact up to <see cref="TSneOptions.ExactMaxRows"/> rows (cost growing with the square of the rows), Barnes–Hut
        /// above (memory growing with the rows, time with n log n).
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

            if (options.ExactMaxRows < 0)
                throw new ArgumentOutOfRangeException(nameof(options.ExactMaxRows), options.ExactMaxRows, $"{nameof(TSneOptions.ExactMaxRows)} must be non-negative.");
            if (!(options.Angle >= 0 && options.Angle <= 1))
                throw new ArgumentOutOfRangeException(nameof(options.Angle), options.Angle, $"{nameof(TSneOptions.Angle)} must be in [0, 1].");

            using var scope = NewDisposeScope();
            var x = ToTensor(points).to(ScalarType.Float64);
            if (dim > options.PcaDimensions)
                x = Pca(x, options.PcaDimensions).Projected;
            Action<double[], double, double[]> gradient;
            if (n <= options.ExactMaxRows)
            {
                // Affinities in double (the bisection needs it); the gradient in single precision, which a picture does not miss.
                var p = Affinities(SquaredDistances(x), options.Perplexity).to(ScalarType.Float32);
                // Both affinities made once: the exaggerated copy is not rebuilt every early step.
                var exaggeratedP = p * (float)options.EarlyExaggeration;
                var offDiagonal = 1 - eye(n, dtype: ScalarType.Float32);
                gradient = (layout, exaggeration, result) =>
                {
                    using var stepScope = NewDisposeScope();
                    var y = tensor(layout, ScalarType.Float64).reshape(n, 2).to(ScalarType.Float32);
                    var (numerator, q) = LayoutAffinities(y, offDiagonal);
                    // ∂KL/∂y_i = 4 Σ_j (p_ij − q_ij)(1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j)
                    var weights = (exaggeration == 1 ? p : exaggeratedP).sub(q).mul_(numerator);
                    var g = (weights.sum(1, keepdim: true) * y - weights.matmul(y)).mul_(4);
                    g.to(ScalarType.Float64).data<double>().CopyTo(result, 0);
                };
            }
            else
            {
                var p = BarnesHutTSne.SparseAffinities(x, options.Perplexity);
                gradient = (layout, exaggeration, result) => BarnesHutTSne.Gradient(p, layout, exaggeration, options.Angle, result);
            }
            return Descend(n, options, gradient);
        }

        /// <summary>
        /// t-SNE's gradient descent from a seeded N(0, 1e-4) layout: early exaggeration, momentum 0.5 then 0.8, per-coordinate
        /// gains (Jacobs 1988), the layout re-centred after every step. <paramref name="gradient"/> fills the gradient of a
        /// layout (x, y interleaved) with P multiplied by the given exaggeration.
        /// </summary>
        private static float[][] Descend(int n, TSneOptions options, Action<double[], double, double[]> gradient)
        {
            // Drawn outside libtorch so the global generator is left alone.
            var random = new Random(options.Seed);
            var y = new double[n * 2];
            for (int i = 0; i < y.Length; i++)
                y[i] = (float)(1e-4 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            var velocity = new double[n * 2];
            var gains = new double[n * 2];
            Array.Fill(gains, 1.0);
            var g = new double[n * 2];
            double rate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration / 4, 50);
            for (int step = 0; step < options.Iterations; step++)
            {
                bool early = step < options.ExaggerationIterations;
                gradient(y, early ? options.EarlyExaggeration : 1, g);
                double momentum = early ? 0.5 : 0.8;
                double meanX = 0, meanY = 0;
                for (int i = 0; i < y.Length; i++)
                {
                    // Gains grow where the gradient opposes the last update and shrink where it agrees.
                    gains[i] = Math.Max(velocity[i] * g[i] < 0 ? gains[i] + 0.2 : gains[i] * 0.8, 0.01);
                    velocity[i] = velocity[i] * momentum - gains[i] * g[i] * rate;
                    y[i] += velocity[i];
                    if (i % 2 == 0) meanX += y[i]; else meanY += y[i];
                }
                meanX /= n;
                meanY /= n;
                for (int i = 0; i < y.Length; i += 2)
                {
                    y[i] -= meanX;
                    y[i + 1] -= meanY;
                }
            }
            return Enumerable.Range(0, n).Select(i => new[] { (float)y[2 * i], (float)y[2 * i + 1] }).ToArray();
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
            for (int i = 0; i < n; i++)
                CalibrateRow(distances.AsSpan(i * n, n), perplexity, conditional.AsSpan(i * n, n), skip: i);
            var p = tensor(conditional, ScalarType.Float64).reshape(n, n);
            return ((p + p.t()) / (2.0 * n)).clamp_min(1e-12);
        }

        /// <summary>
        /// The conditional affinities p_j|i ∝ exp(−β d_ij) of one row over its squared <paramref name="distances"/> (entry
        /// <paramref name="skip"/>, the row itself, gets 0; −1 for none), with β found by bisection so that the entropy is
        /// log(perplexity).
        /// </summary>
        internal static void CalibrateRow(ReadOnlySpan<double> distances, double perplexity, Span<double> row, int skip)
        {
            int n = distances.Length;
            double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
            double targetEntropy = Math.Log(perplexity);
            // Distances relative to the row's nearest neighbour keep exp() from underflowing for far-apart rows.
            double nearest = double.PositiveInfinity;
            for (int j = 0; j < n; j++)
            {
                if (j != skip)
                    nearest = Math.Min(nearest, distances[j]);
            }
            for (int attempt = 0; attempt < 100; attempt++)
            {
                double sum = 0, weighted = 0;
                for (int j = 0; j < n; j++)
                {
                    row[j] = j == skip ? 0 : Math.Exp(-beta * (distances[j] - nearest));
                    sum += row[j];
                    weighted += row[j] * (distances[j] - nearest);
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
            double total = 0;
            for (int j = 0; j < n; j++)
                total += row[j];
            for (int j = 0; j < n; j++)
                row[j] /= total;
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
