using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Barnes–Hut t-SNE (van der Maaten, JMLR 2014), in O(n) memory: affinities only between each row and its
    /// ⌊3 · perplexity⌋ nearest neighbours (a sparse P), and the repulsion of far groups of points through a quadtree, each
    /// cell summarised by its centre of mass when its width over its distance is below the angle θ. θ = 0 visits every
    /// point (the exact repulsion). scikit-learn's default method; used by <see cref="EmbeddingProjection.TSne"/> above
    /// <see cref="TSneOptions.ExactMaxRows"/>.
    /// </summary>
    internal static class BarnesHutTSne
    {
        /// <summary>Rows of distances computed at once for the neighbour search (a chunk × n block of doubles).</summary>
        private const int NeighbourChunk = 256;

        /// <summary>Below this many rows a step runs on one thread: waking workers costs more than the work (and much more on a busy machine).</summary>
        private const int ParallelMinRows = 4096;

        private static void ForEachRow(int n, Action<int> body)
        {
            if (n < ParallelMinRows)
            {
                for (int i = 0; i < n; i++)
                    body(i);
            }
            else
                Parallel.For(0, n, body);
        }

        /// <summary>
        /// Symmetric sparse affinities p_ij = (p_j|i + p_i|j) / 2n over the nearest neighbours, as one list of (column, value)
        /// per row.
        /// </summary>
        public static (int[] Columns, double[] Values)[] SparseAffinities(Tensor x, double perplexity)
        {
            int n = (int)x.shape[0];
            int k = Math.Min(n - 1, (int)(3 * perplexity));
            var neighbours = new int[n * k];
            var distances = new double[n * k];
            using (var scope = NewDisposeScope())
            {
                var norms = (x * x).sum(1);
                for (int start = 0; start < n; start += NeighbourChunk)
                {
                    using var chunkScope = NewDisposeScope();
                    int rows = Math.Min(NeighbourChunk, n - start);
                    var block = x.narrow(0, start, rows);
                    var squared = (norms.narrow(0, start, rows).unsqueeze(1) + norms.unsqueeze(0) - 2 * block.matmul(x.t())).clamp_min(0);
                    // The row itself is excluded by an infinite distance to itself (duplicates of it stay neighbours).
                    squared.index_put_(double.PositiveInfinity, arange(rows, dtype: ScalarType.Int64), arange(start, start + rows, dtype: ScalarType.Int64));
                    var (values, indices) = squared.topk(k, dim: 1, largest: false, sorted: true);
                    values.to(ScalarType.Float64).data<double>().CopyTo(distances, start * k);
                    var index = indices.to(ScalarType.Int32).data<int>().ToArray();
                    Array.Copy(index, 0, neighbours, start * k, index.Length);
                }
            }

            var conditional = new double[n * k];
            ForEachRow(n, i => EmbeddingProjection.CalibrateRow(distances.AsSpan(i * k, k), perplexity, conditional.AsSpan(i * k, k), skip: -1));

            // Symmetrise: row i gathers p_j|i of its neighbours and p_i|j of the rows that have i as a neighbour.
            var rowsOf = new List<(int Column, double Value)>[n];
            for (int i = 0; i < n; i++)
                rowsOf[i] = new List<(int, double)>(2 * k);
            for (int i = 0; i < n; i++)
            {
                for (int m = 0; m < k; m++)
                {
                    int j = neighbours[i * k + m];
                    double v = conditional[i * k + m] / (2.0 * n);
                    rowsOf[i].Add((j, v));
                    rowsOf[j].Add((i, v));
                }
            }
            var result = new (int[] Columns, double[] Values)[n];
            for (int i = 0; i < n; i++)
            {
                var list = rowsOf[i];
                list.Sort((a, b) => a.Column.CompareTo(b.Column));
                var columns = new List<int>(list.Count);
                var values = new List<double>(list.Count);
                foreach (var (column, value) in list)
                {
                    if (columns.Count > 0 && columns[^1] == column)
                        values[^1] += value;
                    else
                    {
                        columns.Add(column);
                        values.Add(value);
                    }
                }
                result[i] = (columns.ToArray(), values.ToArray());
                rowsOf[i] = null;
            }
            return result;
        }

        /// <summary>
        /// The gradient of KL(P ‖ Q) at the layout <paramref name="y"/> (x, y interleaved) with P multiplied by
        /// <paramref name="exaggeration"/>: 4 (Σ_j p_ij (1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j) − Σ_j (1 + ‖y_i − y_j‖²)⁻² (y_i − y_j) / Z),
        /// the second sum and Z = Σ_{i≠j} (1 + ‖y_i − y_j‖²)⁻¹ estimated on the quadtree at angle <paramref name="angle"/>.
        /// </summary>
        public static void Gradient((int[] Columns, double[] Values)[] p, double[] y, double exaggeration, double angle, double[] gradient)
        {
            int n = p.Length;
            var tree = new QuadTree(y);
            var repulsion = new double[2 * n];
            var z = new double[n];
            ForEachRow(n, i =>
            {
                double fx = 0, fy = 0, zi = 0;
                tree.Repulsion(i, y[2 * i], y[2 * i + 1], angle * angle, ref fx, ref fy, ref zi);
                repulsion[2 * i] = fx;
                repulsion[2 * i + 1] = fy;
                z[i] = zi;
            });
            double zSum = 0;
            for (int i = 0; i < n; i++)
                zSum += z[i]; // in row order: the same sum on every run
            zSum = Math.Max(zSum, 1e-12);
            ForEachRow(n, i =>
            {
                double ax = 0, ay = 0, xi = y[2 * i], yi = y[2 * i + 1];
                var (columns, values) = p[i];
                for (int m = 0; m < columns.Length; m++)
                {
                    int j = columns[m];
                    double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
                    double w = values[m] * exaggeration / (1 + dx * dx + dy * dy);
                    ax += w * dx;
                    ay += w * dy;
                }
                gradient[2 * i] = 4 * (ax - repulsion[2 * i] / zSum);
                gradient[2 * i + 1] = 4 * (ay - repulsion[2 * i + 1] / zSum);
            });
        }

        /// <summary>A point quadtree over a 2-D layout, in flat arrays; each cell holds its points' count and centre of mass.</summary>
        private sealed class QuadTree
        {
            // Coincident points stop subdividing at this depth and share a leaf.
            private const int MaxDepth = 48;
            private readonly List<double> _centreX = new(), _centreY = new(), _halfWidth = new(), _massX = new(), _massY = new();
            private readonly List<int> _count = new(), _firstChild = new(), _point = new();
            private readonly double[] _y;

            public QuadTree(double[] y)
            {
                _y = y;
                int n = y.Length / 2;
                double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
                for (int i = 0; i < n; i++)
                {
                    minX = Math.Min(minX, y[2 * i]); maxX = Math.Max(maxX, y[2 * i]);
                    minY = Math.Min(minY, y[2 * i + 1]); maxY = Math.Max(maxY, y[2 * i + 1]);
                }
                double half = Math.Max(Math.Max(maxX - minX, maxY - minY) / 2, 1e-9) * (1 + 1e-9);
                AddNode((minX + maxX) / 2, (minY + maxY) / 2, half);
                for (int i = 0; i < n; i++)
                    Insert(0, i, 0);
            }

            private int AddNode(double cx, double cy, double half)
            {
                _centreX.Add(cx); _centreY.Add(cy); _halfWidth.Add(half);
                _massX.Add(0); _massY.Add(0); _count.Add(0); _firstChild.Add(-1); _point.Add(-1);
                return _count.Count - 1;
            }

            private void Insert(int node, int i, int depth)
            {
                double px = _y[2 * i], py = _y[2 * i + 1];
                while (true)
                {
                    // Running centre of mass of the cell.
                    int count = _count[node] + 1;
                    _massX[node] += (px - _massX[node]) / count;
                    _massY[node] += (py - _massY[node]) / count;
                    _count[node] = count;
                    if (_firstChild[node] < 0)
                    {
                        if (count == 1)
                        {
                            _point[node] = i;
                            return;
                        }
                        int resident = _point[node];
                        if (depth >= MaxDepth || (_y[2 * resident] == px && _y[2 * resident + 1] == py))
                            return; // coincident points share the leaf (its point stays the first)
                        Subdivide(node);
                        // The resident point moves down into its child (the cell's own mass already counts it).
                        int child = ChildFor(node, _y[2 * resident], _y[2 * resident + 1]);
                        _massX[child] = _y[2 * resident]; _massY[child] = _y[2 * resident + 1];
                        _count[child] = 1; _point[child] = resident;
                        _point[node] = -1;
                    }
                    node = ChildFor(node, px, py);
                    depth++;
                }
            }

            private void Subdivide(int node)
            {
                double cx = _centreX[node], cy = _centreY[node], h = _halfWidth[node] / 2;
                int first = AddNode(cx - h, cy - h, h);
                AddNode(cx + h, cy - h, h);
                AddNode(cx - h, cy + h, h);
                AddNode(cx + h, cy + h, h);
                _firstChild[node] = first;
            }

            private int ChildFor(int node, double px, double py) =>
                _firstChild[node] + (px >= _centreX[node] ? 1 : 0) + (py >= _centreY[node] ? 2 : 0);

            /// <summary>Adds to (fx, fy) Σ_j q̃_ij² (y_i − y_j) and to z Σ_{j≠i} q̃_ij, q̃ = (1 + d²)⁻¹, over the tree.</summary>
            public void Repulsion(int i, double px, double py, double angleSquared, ref double fx, ref double fy, ref double z)
            {
                // Depth-first; at most 3 siblings wait per level of at most MaxDepth + 1 levels.
                Span<int> stack = stackalloc int[4 * (MaxDepth + 2)];
                int top = 0;
                stack[top++] = 0;
                while (top > 0)
                {
                    int node = stack[--top];
                    int count = _count[node];
                    if (count == 0)
                        continue;
                    double dx = px - _massX[node], dy = py - _massY[node];
                    double d2 = dx * dx + dy * dy;
                    bool leaf = _firstChild[node] < 0;
                    if (leaf && _point[node] == i)
                    {
                        // The point itself (and any point coincident with it: distance 0, no force).
                        z += count - 1;
                        continue;
                    }
                    double width = 2 * _halfWidth[node];
                    if (leaf || width * width < angleSquared * d2)
                    {
                        double q = 1 / (1 + d2);
                        z += count * q;
                        double w = count * q * q;
                        fx += w * dx;
                        fy += w * dy;
                        continue;
                    }
                    int first = _firstChild[node];
                    for (int c = 3; c >= 0; c--)
                        stack[top++] = first + c;
                }
            }
        }
    }
}
