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
        /// The N(N − 1)/2 distances between distinct rows (N = source + target rows) are never held at once: every pass
        /// computes them again, a block of rows at a time (about <paramref name="blockValues"/> values: the rows i of the
        /// block against the rows j ≥ the block's first, of which the pairs i &lt; j count), from the Gram expansion
        /// (<see cref="MmdLoss.SquaredDistances"/>). The same blocks every pass give every pair the same value every pass.
        /// Memory is O(N·D + block); time is a few passes of O(N²·D / 2). The median (torch.median's: the lower middle value
        /// of the pairs) is found exactly by narrowing a histogram of <paramref name="bins"/> bins until its bin holds at
        /// most <paramref name="collectLimit"/> values, which are then sorted. Block temporaries have nearly one size and
        /// scalars are released at once: glibc's heap otherwise fragmented and kept freed blocks (RSS grew with every pass).
        /// </remarks>
        internal static (double Mmd, double Bandwidth) MedianHeuristicMmd(IReadOnlyList<float[]> source, IReadOnlyList<float[]> target,
            long blockValues = BlockValues, int bins = 4096, long collectLimit = 1 << 22)
        {
            using var scope = NewDisposeScope();
            var z = cat(new[] { ToTensor(source), ToTensor(target) }, 0);
            var norms = z.pow(2).sum(1);
            long n = source.Count, m = target.Count, all = n + m;
            long pairs = all * (all - 1) / 2;

            // Calls visit(first row, rows, distances of the rows to the rows from the first on: rows × (all − first), whose
            // pairs i < j are the block's last (all − first − rows) columns and the upper triangle of its first rows × rows).
            void ForEachBlock(Action<long, long, Tensor, Tensor> visit)
            {
                for (long start = 0; start < all - 1;)
                {
                    using var blockScope = NewDisposeScope();
                    long columns = all - start;
                    long rows = Math.Clamp(blockValues / columns, 1, columns - 1);
                    var others = z.narrow(0, start, columns);
                    var d = MmdLoss.SquaredDistances(z.narrow(0, start, rows), others, norms.narrow(0, start, columns));
                    var upper = ones(rows, rows, dtype: ScalarType.Bool).triu(1);
                    visit(start, rows, d, upper);
                    start += rows;
                }
            }

            // The pairs of a block as two parts: the triangle's values (1-D) and the rectangle right of it (a view).
            (Tensor Triangle, Tensor Right) Parts(Tensor d, long rows, Tensor upper) =>
                (d.narrow(1, 0, rows).masked_select(upper), d.narrow(1, rows, d.shape[1] - rows));

            // First pass: the smallest and largest value and the sum (for a degenerate median).
            double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
            ForEachBlock((_, rows, d, upper) =>
            {
                var (triangle, right) = Parts(d, rows, upper);
                foreach (var part in new[] { triangle, right })
                {
                    if (part.numel() == 0)
                        continue;
                    min = Math.Min(min, part.min().item<double>());
                    max = Math.Max(max, part.max().item<double>());
                    sum += part.sum().item<double>();
                }
            });

            // The median: the value of rank k among the pairs. The search keeps a range [low, high) holding it (values within
            // [lowBound, highBound]), `below` pairs under low and `inRange` in it; each pass bins the range's values at
            // boundaries between the bounds (comparisons only, so a value falls on the same side of a boundary in every pass)
            // and narrows to the bin holding rank k.
            long k = (pairs - 1) / 2, below = 0, inRange = pairs;
            double low = double.NegativeInfinity, high = double.PositiveInfinity, lowBound = min, highBound = max, sigma2 = double.NaN;
            while (double.IsNaN(sigma2))
            {
                if (lowBound == highBound)
                {
                    sigma2 = lowBound;
                    break;
                }
                if (inRange <= collectLimit)
                {
                    sigma2 = Collect(low, high)[(int)(k - below)];
                    break;
                }
                // bins − 1 boundaries strictly inside (lowBound, highBound]: bin b holds the values with b boundaries at or below them.
                var boundaries = linspace(lowBound, highBound, bins + 1, dtype: ScalarType.Float64).narrow(0, 1, bins - 1);
                var counts = zeros(bins + 1, dtype: ScalarType.Int64);
                ForEachBlock((_, rows, d, upper) =>
                {
                    var (triangle, right) = Parts(d, rows, upper);
                    foreach (var part in new[] { triangle, right })
                    {
                        var index = bucketize(part.contiguous(), boundaries, right: true); // a view would be copied anyway, with a warning
                        if (inRange < pairs)
                            index.masked_fill_(InRange(part, low, high).logical_not_(), bins); // out of the range: the extra bin
                        counts.add_(index.flatten().bincount(null, bins + 1));
                    }
                });
                var histogram = counts.data<long>().ToArray();
                var edges = boundaries.data<double>().ToArray();
                int bin = 0;
                long seen = below;
                while (seen + histogram[bin] <= k)
                    seen += histogram[bin++];
                if (histogram[bin] == inRange)
                {
                    // Every value of the range in one bin (ties, or bounds far wider than the values): bound the range by its
                    // own smallest and largest value. Equal: that is the median; already the bounds: take the values as they are.
                    var (rangeMin, rangeMax) = RangeExtremes(low, high);
                    if (rangeMin == rangeMax)
                        sigma2 = rangeMin;
                    else if (rangeMin == lowBound && rangeMax == highBound)
                        sigma2 = Collect(low, high)[(int)(k - below)];
                    (lowBound, highBound) = (rangeMin, rangeMax);
                    continue;
                }
                (low, high, below, inRange) = (bin == 0 ? low : edges[bin - 1], bin == bins - 1 ? high : edges[bin], seen, histogram[bin]);
                lowBound = bin == 0 ? lowBound : edges[bin - 1];
                highBound = bin == bins - 1 ? highBound : edges[bin];
            }

            // Values in [from, to) (comparisons with disposed scalars: undisposed ones are freed late and fragment the heap).
            static Tensor InRange(Tensor values, double from, double to)
            {
                using TorchSharp.Scalar fromScalar = from, toScalar = to;
                return values.ge(fromScalar).logical_and_(values.lt(toScalar));
            }

            // The sorted values of the pairs in [from, to).
            List<double> Collect(double from, double to)
            {
                var collected = new List<double>();
                ForEachBlock((_, rows, d, upper) =>
                {
                    var (triangle, right) = Parts(d, rows, upper);
                    foreach (var part in new[] { triangle, right })
                        collected.AddRange(part.masked_select(InRange(part, from, to)).data<double>().ToArray());
                });
                collected.Sort();
                return collected;
            }

            // The smallest and largest value of the pairs in [from, to).
            (double Min, double Max) RangeExtremes(double from, double to)
            {
                double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                ForEachBlock((_, rows, d, upper) =>
                {
                    var (triangle, right) = Parts(d, rows, upper);
                    foreach (var part in new[] { triangle, right })
                    {
                        if (part.numel() == 0)
                            continue;
                        var mask = InRange(part, from, to);
                        using TorchSharp.Scalar positive = double.PositiveInfinity, negative = double.NegativeInfinity;
                        lo = Math.Min(lo, part.masked_fill(mask.logical_not(), positive).min().item<double>());
                        hi = Math.Max(hi, part.masked_fill(mask.logical_not(), negative).max().item<double>());
                    }
                });
                return (lo, hi);
            }
            if (!(sigma2 > 0))
                sigma2 = Math.Max(sum / pairs, MmdLoss.BandwidthEpsilon);

            // Last pass: kernel sums of the pairs i < j per domain pair; a within-domain sum over i ≠ j is twice that.
            double sourceSum = 0, targetSum = 0, crossSum = 0;
            using TorchSharp.Scalar factor = -1 / (2 * sigma2), zero = 0.0;
            ForEachBlock((start, rows, d, upper) =>
            {
                var kernel = d.mul_(factor).exp_();
                kernel.narrow(1, 0, rows).masked_fill_(upper.logical_not_(), zero); // the diagonal and i > j
                long sourceRows = Math.Clamp(n - start, 0, rows), sourceColumns = Math.Clamp(n - start, 0, kernel.shape[1]);
                long targetColumns = kernel.shape[1] - sourceColumns;
                if (sourceRows > 0)
                {
                    var s = kernel.narrow(0, 0, sourceRows);
                    if (sourceColumns > 0)
                        sourceSum += 2 * s.narrow(1, 0, sourceColumns).sum().item<double>();
                    if (targetColumns > 0)
                        crossSum += s.narrow(1, sourceColumns, targetColumns).sum().item<double>();
                }
                if (rows > sourceRows && targetColumns > 0)
                    targetSum += 2 * kernel.narrow(0, sourceRows, rows - sourceRows).narrow(1, sourceColumns, targetColumns).sum().item<double>();
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
