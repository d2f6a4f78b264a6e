using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>How far apart two domains are in an embedding (see <see cref="DomainGap"/>).</summary>
    public sealed class DomainGapReport
    {
        internal DomainGapReport(double proxyADistance, double domainClassifierError, double mmd, double bandwidth, int sourceRows, int targetRows)
        {
            ProxyADistance = proxyADistance;
            DomainClassifierError = domainClassifierError;
            Mmd = mmd;
            MmdBandwidth = bandwidth;
            SourceRows = sourceRows;
            TargetRows = targetRows;
        }

        /// <summary>Proxy A-distance 2 (1 − 2ε), in [0, 2]: 0 when a linear classifier cannot tell the domains apart, 2 when it always can.</summary>
        public double ProxyADistance { get; }

        /// <summary>The held-out error ε of the linear domain classifier on balanced domains.</summary>
        public double DomainClassifierError { get; }

        /// <summary>Unbiased MMD² with a Gaussian kernel at the median heuristic bandwidth (can be slightly negative when the domains match).</summary>
        public double Mmd { get; }

        /// <summary>σ² of the kernel exp(−‖a − b‖² / (2σ²)): the median squared distance between distinct rows of both domains.</summary>
        public double MmdBandwidth { get; }

        /// <summary>Source rows the measures used.</summary>
        public int SourceRows { get; }

        /// <summary>Target rows the measures used.</summary>
        public int TargetRows { get; }

        /// <inheritdoc />
        public override string ToString() => $"proxy A-distance {ProxyADistance:F3} (domain classifier error {DomainClassifierError:P1}), MMD² {Mmd:F4} (σ² {MmdBandwidth:G3}), {SourceRows} + {TargetRows} rows";
    }

    /// <summary>
    /// Domain-gap diagnostics on any embedding (raw features, a network's embedding before or after adaptation):
    /// the proxy A-distance and the maximum mean discrepancy.
    /// </summary>
    /// <remarks>
    /// <para><b>Proxy A-distance</b> (Ben-David, Blitzer, Crammer &amp; Pereira, NIPS 2006; used by Ganin et al., JMLR 2016):
    /// d_A = 2 (1 − 2ε), ε the held-out error of a linear classifier trained to tell the domains apart. Here: the same number of
    /// rows from each domain (a seeded sample of the larger one), ML.NET's L-BFGS logistic regression on standardised features,
    /// ε from 2-fold cross-fitting; ε is clipped to [0, 0.5], so d_A ∈ [0, 2].</para>
    /// <para><b>MMD</b> (Gretton, Borgwardt, Rasch, Schölkopf &amp; Smola, JMLR 2012): unbiased MMD² with the Gaussian kernel
    /// exp(−‖a − b‖² / (2σ²)), σ the median distance between distinct rows of the pooled sample (the median heuristic).</para>
    /// <para>Both cost more than linearly in the rows: at most <c>maxRowsPerDomain</c> rows of each domain are used (a seeded sample).</para>
    /// </remarks>
    public static class DomainGap
    {
        /// <summary>Measures the gap between the source and target rows of an embedding column.</summary>
        /// <param name="data">Rows of both domains, e.g. a <see cref="DomainAdaptationTransformer"/>'s output.</param>
        /// <param name="embeddingColumnName">A known-size vector of Single: the embedding to measure. Default: "Embedding".</param>
        /// <param name="domainColumnName">The Boolean domain column (false: source, true: target). Default: "IsTarget".</param>
        /// <param name="maxRowsPerDomain">Most rows of each domain used. Default: 1000.</param>
        /// <param name="seed">Seed of the row samples and of the domain classifier. Default: 0.</param>
        public static DomainGapReport Measure(IDataView data, string embeddingColumnName = "Embedding", string domainColumnName = "IsTarget",
            int maxRowsPerDomain = 1000, int seed = 0)
        {
            var (source, target) = ReadDomains(data, embeddingColumnName, domainColumnName);
            return Measure(source, target, maxRowsPerDomain, seed);
        }

        /// <summary>Measures the gap between two sets of embedding rows (all rows of one size).</summary>
        /// <param name="source">Rows of the source domain.</param>
        /// <param name="target">Rows of the target domain.</param>
        /// <param name="maxRowsPerDomain">Most rows of each domain used. Default: 1000.</param>
        /// <param name="seed">Seed of the row samples and of the domain classifier. Default: 0.</param>
        public static DomainGapReport Measure(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target, int maxRowsPerDomain = 1000, int seed = 0)
        {
            CheckRows(source, target, maxRowsPerDomain);
            var (error, rows) = DomainClassifierError(source, target, maxRowsPerDomain, seed);
            var (mmd, bandwidth) = MedianHeuristicMmd(Sample(source, maxRowsPerDomain, seed), Sample(target, maxRowsPerDomain, seed + 1));
            return new DomainGapReport(2 * (1 - 2 * error), error, mmd, bandwidth, Math.Min(source.Count, maxRowsPerDomain), Math.Min(target.Count, maxRowsPerDomain));
        }

        /// <summary>Proxy A-distance 2 (1 − 2ε) between two sets of rows, in [0, 2].</summary>
        /// <param name="source">Rows of the source domain.</param>
        /// <param name="target">Rows of the target domain.</param>
        /// <param name="maxRowsPerDomain">Most rows of each domain used. Default: 1000.</param>
        /// <param name="seed">Seed of the row samples and of the classifier. Default: 0.</param>
        public static double ProxyADistance(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target, int maxRowsPerDomain = 1000, int seed = 0)
        {
            CheckRows(source, target, maxRowsPerDomain);
            return 2 * (1 - 2 * DomainClassifierError(source, target, maxRowsPerDomain, seed).Error);
        }

        /// <summary>Unbiased MMD² between two sets of rows with a Gaussian kernel at the median heuristic bandwidth.</summary>
        /// <param name="source">Rows of the source domain (at least 2).</param>
        /// <param name="target">Rows of the target domain (at least 2).</param>
        /// <param name="maxRowsPerDomain">Most rows of each domain used. Default: 1000.</param>
        /// <param name="seed">Seed of the row samples. Default: 0.</param>
        public static double Mmd(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target, int maxRowsPerDomain = 1000, int seed = 0)
        {
            CheckRows(source, target, maxRowsPerDomain);
            return MedianHeuristicMmd(Sample(source, maxRowsPerDomain, seed), Sample(target, maxRowsPerDomain, seed + 1)).Mmd;
        }

        private static (double Error, int Rows) DomainClassifierError(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target, int maxRowsPerDomain, int seed)
        {
            int n = Math.Min(Math.Min(source.Count, target.Count), maxRowsPerDomain);
            var s = Sample(source, n, seed);
            var t = Sample(target, n, seed + 1);
            var p = Selection.DomainClassifier.CrossFittedTargetProbabilities(s, t, l2: 1, folds: 2, seed);
            int wrong = p[0].Count(v => v >= 0.5) + p[1].Count(v => v < 0.5);
            return (Math.Min((double)wrong / (2 * n), 0.5), n);
        }

        /// <summary>Values of a block of squared distances: 2^20 doubles (8 MiB; a block's temporaries are several times that).</summary>
        private const long BlockValues = 1L << 20;

        /// <returns>Unbiased MMD² and σ² (the median squared distance between distinct pooled rows).</returns>
        /// <remarks>
        /// The N × N distances (N = source + target rows) are never held at once: every pass computes them again, a block
        /// of rows at a time (<paramref name="blockValues"/> values), from the Gram expansion (<see cref="MmdLoss.SquaredDistances"/>).
        /// Memory is O(N·D + block); time is a few passes of O(N²·D). The median (torch.median's: the lower middle value of
        /// the N(N − 1)/2 distances i &lt; j) is found exactly by narrowing a histogram of <paramref name="bins"/> bins until
        /// its bin holds at most <paramref name="collectLimit"/> values, which are then sorted.
        /// </remarks>
        internal static (double Mmd, double Bandwidth) MedianHeuristicMmd(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target,
            long blockValues = BlockValues, int bins = 4096, long collectLimit = 1 << 22)
        {
            using var scope = NewDisposeScope();
            var z = cat(new[] { ToTensor(source), ToTensor(target) }, 0);
            var norms = z.pow(2).sum(1);
            long n = source.Count, m = target.Count, all = n + m;
            long pairs = all * (all - 1) / 2;
            long blockRows = Math.Clamp(blockValues / all, 1, all);
            var columns = arange(all, dtype: ScalarType.Int64);

            // Calls visit(distances of rows [start, start + rows) to every row, mask of the pairs i < j) block by block.
            void ForEachBlock(Action<long, long, Tensor, Tensor> visit)
            {
                for (long start = 0; start < all; start += blockRows)
                {
                    using var blockScope = NewDisposeScope();
                    long rows = Math.Min(blockRows, all - start);
                    var rowIndex = arange(start, start + rows, dtype: ScalarType.Int64).unsqueeze(1);
                    var d = MmdLoss.SquaredDistances(z.narrow(0, start, rows), z, norms)
                        .masked_fill(rowIndex == columns.unsqueeze(0), 0); // exactly 0 from a row to itself
                    visit(start, rows, d, columns.unsqueeze(0) > rowIndex);
                }
            }

            double sum = 0; // of all pairs, for a degenerate median; summed on the first pass
            // The median: the value of rank k among the pairs. The search keeps a range [low, high) holding it, `below` pairs
            // under low; each pass bins the range's values at boundaries between their min and max (comparisons only, so a
            // value falls on the same side of a boundary in every pass) and narrows to the bin holding rank k.
            long k = (pairs - 1) / 2, below = 0;
            double low = 0, high = double.PositiveInfinity, sigma2 = double.NaN;
            bool firstPass = true;
            while (double.IsNaN(sigma2))
            {
                double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                long underLow = 0, inRangeCount = 0;
                ForEachBlock((_, _, d, upper) =>
                {
                    var values = d.masked_select(upper);
                    underLow += (values < low).sum().item<long>();
                    var inRange = values.masked_select((values >= low).logical_and(values < high));
                    inRangeCount += inRange.numel();
                    if (firstPass)
                        sum += values.sum().item<double>();
                    if (inRange.numel() > 0)
                    {
                        lo = Math.Min(lo, inRange.min().item<double>());
                        hi = Math.Max(hi, inRange.max().item<double>());
                    }
                });
                below = underLow;
                firstPass = false;
                if (lo == hi || inRangeCount <= collectLimit)
                {
                    sigma2 = lo == hi ? lo : Collect(low, high)[(int)(k - below)];
                    break;
                }
                // bins − 1 boundaries strictly inside (lo, hi]: bin b holds the values with b boundaries at or below them.
                var boundaries = linspace(lo, hi, bins + 1, dtype: ScalarType.Float64).narrow(0, 1, bins - 1);
                var counts = zeros(bins, dtype: ScalarType.Int64);
                ForEachBlock((_, _, d, upper) =>
                {
                    var values = d.masked_select(upper);
                    var inRange = values.masked_select((values >= low).logical_and(values < high));
                    counts.add_(bucketize(inRange, boundaries, right: true).bincount(null, bins));
                });
                var histogram = counts.data<long>().ToArray();
                var edges = boundaries.data<double>().ToArray();
                int bin = 0;
                long seen = below;
                while (seen + histogram[bin] <= k)
                    seen += histogram[bin++];
                double newLow = bin == 0 ? low : edges[bin - 1], newHigh = bin == bins - 1 ? high : edges[bin];
                if (newLow == low && newHigh == high)
                {
                    // No progress (boundaries collapsed onto neighbouring doubles): take the values as they are.
                    sigma2 = Collect(low, high)[(int)(k - below)];
                    break;
                }
                (low, high) = (newLow, newHigh);
            }

            // The sorted values of the pairs in [from, to).
            List<double> Collect(double from, double to)
            {
                var collected = new List<double>();
                ForEachBlock((_, _, d, upper) =>
                {
                    var values = d.masked_select(upper);
                    collected.AddRange(values.masked_select((values >= from).logical_and(values < to)).data<double>().ToArray());
                });
                collected.Sort();
                return collected;
            }
            if (!(sigma2 > 0))
                sigma2 = Math.Max(sum / pairs, MmdLoss.BandwidthEpsilon);

            // Last pass: kernel sums per domain pair (the diagonal, exp(0) = 1 per row, left out of the within-domain sums).
            double sourceSum = 0, targetSum = 0, crossSum = 0;
            ForEachBlock((start, rows, d, _) =>
            {
                var kernel = (-d / (2 * sigma2)).exp();
                long sourceRows = Math.Clamp(n - start, 0, rows);
                if (sourceRows > 0)
                {
                    var s = kernel.narrow(0, 0, sourceRows);
                    sourceSum += s.narrow(1, 0, n).sum().item<double>() - sourceRows;
                    crossSum += s.narrow(1, n, m).sum().item<double>();
                }
                if (rows > sourceRows)
                    targetSum += kernel.narrow(0, sourceRows, rows - sourceRows).narrow(1, n, m).sum().item<double>() - (rows - sourceRows);
            });
            double mmd = sourceSum / (n * (n - 1.0)) + targetSum / (m * (m - 1.0)) - 2 * crossSum / ((double)n * m);
            return (mmd, sigma2);
        }

        private static Tensor ToTensor(IReadOnlyList<float[]> rows)
        {
            int d = rows[0].Length;
            var flat = new float[rows.Count * d];
            for (int i = 0; i < rows.Count; i++)
                rows[i].CopyTo(flat, i * d);
            // Double precision: the unbiased estimate subtracts near-equal kernel means.
            return tensor(flat, new long[] { rows.Count, d }).to_type(ScalarType.Float64);
        }

        private static IReadOnlyList<float[]> Sample(IReadOnlyList<float[]> rows, int count, int seed)
        {
            if (rows.Count <= count)
                return rows;
            var order = Enumerable.Range(0, rows.Count).ToArray();
            new Random(seed).Shuffle(order);
            return order.Take(count).Select(i => rows[i]).ToArray();
        }

        private static void CheckRows(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target, int maxRowsPerDomain)
        {
            if (source is null)
                throw new ArgumentNullException(nameof(source));
            if (target is null)
                throw new ArgumentNullException(nameof(target));
            if (maxRowsPerDomain < 2)
                throw new ArgumentOutOfRangeException(nameof(maxRowsPerDomain), maxRowsPerDomain, $"maxRowsPerDomain must be at least 2; got {maxRowsPerDomain}.");
            if (source.Count < 2 || target.Count < 2)
                throw new ArgumentException($"Each domain needs at least 2 rows; got {source.Count} source and {target.Count} target rows.");
            int d = source[0]?.Length ?? 0;
            if (d == 0 || source.Concat(target).Any(r => r is null || r.Length != d))
                throw new ArgumentException($"Every row of both domains must have the same, non-zero number of values ({d} in the first source row).");
        }

        private static (float[][] Source, float[][] Target) ReadDomains(IDataView data, string embeddingColumnName, string domainColumnName)
        {
            if (data is null)
                throw new ArgumentNullException(nameof(data));
            var embedding = data.Schema.GetColumnOrNull(embeddingColumnName)
                ?? throw Data.SchemaErrors.MissingColumn(nameof(data), "embedding", embeddingColumnName);
            if (embedding.Type is not VectorDataViewType { IsKnownSize: true, ItemType: var item } || item != NumberDataViewType.Single)
                throw Data.SchemaErrors.Mismatch(nameof(data), "embedding", embeddingColumnName, "known-size vector of Single", embedding.Type.ToString());
            var domain = data.Schema.GetColumnOrNull(domainColumnName)
                ?? throw Data.SchemaErrors.MissingColumn(nameof(data), "domain", domainColumnName);
            if (domain.Type != BooleanDataViewType.Instance)
                throw Data.SchemaErrors.Mismatch(nameof(data), "domain", domainColumnName, "Boolean", domain.Type.ToString());
            var source = new List<float[]>();
            var target = new List<float[]>();
            using var cursor = data.GetRowCursor(new[] { embedding, domain });
            var getEmbedding = cursor.GetGetter<VBuffer<float>>(embedding);
            var getDomain = cursor.GetGetter<bool>(domain);
            VBuffer<float> value = default;
            bool isTarget = false;
            while (cursor.MoveNext())
            {
                getEmbedding(ref value);
                getDomain(ref isTarget);
                (isTarget ? target : source).Add(value.DenseValues().ToArray());
            }
            return (source.ToArray(), target.ToArray());
        }
    }
}
