using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// One domain's feature rows, read once from the <see cref="IDataView"/> and held in libtorch memory in chunks of fixed
    /// row count: as bytes while every value read is an integer in 0–255, else as floats. Training converts only the rows of
    /// a batch to float.
    /// </summary>
    /// <remarks>
    /// <para>Why bytes, and why not a stream from the view: image pipelines give pixels as floats that are integers in 0–255
    /// (ML.NET's <c>ExtractPixels</c> with its default offset 0 and scale 1, IDX and image-folder readers), and held as floats
    /// they take four times the memory they need (50,000 images of 224 × 224 × 3 are 30 GB of floats, 7.5 GB of bytes).
    /// Keeping them as bytes is lossless and changes nothing downstream: a byte converts back to exactly the float that was
    /// read, so batches, statistics and trainings are bit for bit those of float storage. Streaming batches from the view
    /// through a shuffle buffer would bound memory further but would change which rows a batch holds (no more uniform
    /// epochs over all rows), make a seeded training depend on the view's cursor, and re-run the whole upstream pipeline
    /// (image decoding, resizing) every epoch; reading once keeps training exactly as it was.</para>
    /// <para>The choice is automatic and per domain: the first row with a value that is not an integer in 0–255 (a fraction,
    /// a negative number or −0, above 255) switches the domain to floats, converting the rows read so far; nothing is rounded.</para>
    /// <para>Chunks: rows are gathered in a managed staging block of one chunk (grown as rows come, so small data take little)
    /// and copied into a libtorch tensor of their own when it is full. The element count is then bounded by memory, not by a
    /// .NET array's 2^31 elements, and each value is held once (no whole managed copy beside the tensors).</para>
    /// </remarks>
    internal sealed class FeatureStore : IDisposable
    {
        /// <summary>Elements per chunk (32 Mi: 32 MiB of bytes or 128 MiB of floats).</summary>
        public const int DefaultChunkElements = 1 << 25;

        // First staging block, in elements (grown by doubling up to a chunk).
        private const int InitialStagingElements = 1 << 16;

        private readonly List<Tensor> _chunks = new();
        private readonly int _chunkRows;
        private byte[] _stagedBytes;
        private float[] _stagedFloats;
        private int _staged; // rows in the staging block
        private bool _complete;

        /// <param name="width">Values per row.</param>
        /// <param name="chunkElements">Values per chunk (at least one row); tests use small ones to cross chunk boundaries.</param>
        /// <param name="allowBytes">False stores floats from the start (tests compare both storages).</param>
        public FeatureStore(int width, int chunkElements = DefaultChunkElements, bool allowBytes = true)
        {
            if (width <= 0)
                throw new ArgumentOutOfRangeException(nameof(width), width, "A row needs at least one value.");
            Width = width;
            _chunkRows = Math.Max(1, chunkElements / width);
            IsBytes = allowBytes;
        }

        /// <summary>Values per row.</summary>
        public int Width { get; }

        /// <summary>Rows appended.</summary>
        public long Count { get; private set; }

        /// <summary>True while the rows are held as bytes (every value an integer in 0–255).</summary>
        public bool IsBytes { get; private set; }

        /// <summary>Rows per chunk (the last chunk may hold fewer).</summary>
        public int ChunkRows => _chunkRows;

        /// <summary>Number of chunks (after <see cref="Complete"/>).</summary>
        public int ChunkCount => _chunks.Count;

        /// <summary>Appends one dense row of <see cref="Width"/> values.</summary>
        public void Append(ReadOnlySpan<float> row)
        {
            if (_complete)
                throw new InvalidOperationException("The store is complete; no row can be appended.");
            if (row.Length != Width)
                throw new ArgumentException($"Expected {Width} values, got {row.Length}.", nameof(row));
            if (IsBytes && !AreBytes(row))
                SwitchToFloats();
            EnsureStagingRoom();
            int offset = _staged * Width;
            if (IsBytes)
            {
                var destination = _stagedBytes.AsSpan(offset, Width);
                for (int i = 0; i < row.Length; i++)
                    destination[i] = (byte)row[i];
            }
            else
            {
                row.CopyTo(_stagedFloats.AsSpan(offset, Width));
            }
            _staged++;
            Count++;
            if (_staged == _chunkRows)
                Flush();
        }

        /// <summary>Ends reading: the last rows go into a chunk of their own size and the staging block is released.</summary>
        public void Complete()
        {
            if (_complete)
                return;
            if (_staged > 0)
                Flush();
            _stagedBytes = null;
            _stagedFloats = null;
            _complete = true;
        }

        /// <summary>
        /// The float rows at <paramref name="rows"/> (indices into this store, any order, repeats allowed) as a new tensor
        /// [rows, <see cref="Width"/>] on the CPU, created in the caller's dispose scope.
        /// </summary>
        public Tensor Gather(ReadOnlySpan<long> rows)
        {
            if (!_complete)
                throw new InvalidOperationException("The store is read only once complete.");
            if (rows.Length == 0)
                return empty(0, Width);
            using var scope = NewDisposeScope();
            Tensor gathered;
            int first = Chunk(rows, 0);
            bool oneChunk = true;
            for (int i = 1; i < rows.Length && oneChunk; i++)
                oneChunk = Chunk(rows, i) == first;
            if (oneChunk)
            {
                gathered = _chunks[first].index_select(0, Index(rows, first));
            }
            else
            {
                // Rows of each chunk gathered together, then put at their places in the batch: copies only, values unchanged.
                gathered = empty(rows.Length, Width, dtype: _chunks[0].dtype);
                var byChunk = new SortedDictionary<int, (List<long> Positions, List<long> Rows)>();
                for (int i = 0; i < rows.Length; i++)
                {
                    int chunk = Chunk(rows, i);
                    if (!byChunk.TryGetValue(chunk, out var lists))
                        byChunk[chunk] = lists = (new List<long>(), new List<long>());
                    lists.Positions.Add(i);
                    lists.Rows.Add(rows[i] - (long)chunk * _chunkRows);
                }
                foreach (var (chunk, lists) in byChunk)
                    gathered.index_copy_(0, tensor(lists.Positions.ToArray()), _chunks[chunk].index_select(0, tensor(lists.Rows.ToArray())));
            }
            var result = IsBytes ? gathered.to_type(ScalarType.Float32) : gathered;
            return result.MoveToOuterDisposeScope();
        }

        public void Dispose()
        {
            foreach (var chunk in _chunks)
                chunk.Dispose();
            _chunks.Clear();
        }

        /// <summary>Integers in 0–255 and not −0 (whose sign a byte would lose): what a byte holds exactly.</summary>
        internal static bool AreBytes(ReadOnlySpan<float> row)
        {
            foreach (float v in row)
            {
                if (float.IsNegative(v) || !(v <= 255f) || v != MathF.Truncate(v))
                    return false;
            }
            return true;
        }

        private int Chunk(ReadOnlySpan<long> rows, int i)
        {
            long row = rows[i];
            if (row < 0 || row >= Count)
                throw new ArgumentOutOfRangeException(nameof(rows), row, $"Row index outside the {Count} rows.");
            return (int)(row / _chunkRows);
        }

        private Tensor Index(ReadOnlySpan<long> rows, int chunk)
        {
            var local = new long[rows.Length];
            long start = (long)chunk * _chunkRows;
            for (int i = 0; i < local.Length; i++)
                local[i] = rows[i] - start;
            return tensor(local);
        }

        private void EnsureStagingRoom()
        {
            int capacity = IsBytes ? _stagedBytes?.Length ?? 0 : _stagedFloats?.Length ?? 0;
            if ((_staged + 1) * Width <= capacity)
                return;
            int rows = capacity == 0
                ? Math.Clamp(InitialStagingElements / Width, 1, _chunkRows)
                : (int)Math.Min(_chunkRows, 2L * capacity / Width);
            if (IsBytes)
                Array.Resize(ref _stagedBytes, rows * Width);
            else
                Array.Resize(ref _stagedFloats, rows * Width);
        }

        private void Flush()
        {
            int length = _staged * Width;
            var chunk = IsBytes
                ? TensorCopy.FromSpan(_stagedBytes.AsSpan(0, length), _staged, Width)
                : TensorCopy.FromSpan(_stagedFloats.AsSpan(0, length), _staged, Width);
            _chunks.Add(chunk.DetachFromDisposeScope());
            _staged = 0;
        }

        private void SwitchToFloats()
        {
            for (int i = 0; i < _chunks.Count; i++)
            {
                var floats = _chunks[i].to_type(ScalarType.Float32).DetachFromDisposeScope();
                _chunks[i].Dispose();
                _chunks[i] = floats;
            }
            if (_stagedBytes is not null)
            {
                _stagedFloats = new float[_stagedBytes.Length];
                for (int i = 0; i < _staged * Width; i++)
                    _stagedFloats[i] = _stagedBytes[i];
                _stagedBytes = null;
            }
            IsBytes = false;
        }
    }

    /// <summary>
    /// Rows of a <see cref="FeatureStore"/> as <see cref="DomainData"/> and training read them: all of them or a selection
    /// (a hold-out split, the labeled target rows) without copying, numbered 0..<see cref="Count"/> − 1. Tensors come as
    /// float rows [n, width] on <see cref="Device"/>.
    /// </summary>
    internal sealed class FeatureRows
    {
        private readonly long[] _rows; // store row of each position; null: position = store row

        public FeatureRows(FeatureStore store)
            : this(store, null, null)
        {
        }

        private FeatureRows(FeatureStore store, long[] rows, Device device)
        {
            Store = store;
            _rows = rows;
            Device = device;
        }

        public FeatureStore Store { get; }

        public int Count => _rows?.Length ?? checked((int)Store.Count);

        public int Width => Store.Width;

        /// <summary>Where the tensors go (null: the CPU).</summary>
        public Device Device { get; }

        /// <summary>The rows at <paramref name="positions"/> (of this selection), in that order.</summary>
        public FeatureRows Select(IReadOnlyList<int> positions)
        {
            var rows = new long[positions.Count];
            for (int i = 0; i < rows.Length; i++)
                rows[i] = StoreRow(positions[i]);
            return new FeatureRows(Store, rows, Device);
        }

        /// <summary>The same rows, their tensors on <paramref name="device"/>.</summary>
        public FeatureRows On(Device device) => new(Store, _rows, device);

        /// <summary>The float rows at <paramref name="positions"/> as a new tensor [n, width] on <see cref="Device"/> (caller's dispose scope).</summary>
        public Tensor Gather(ReadOnlySpan<long> positions)
        {
            Tensor gathered;
            if (_rows is null)
            {
                gathered = Store.Gather(positions);
            }
            else
            {
                var rows = new long[positions.Length];
                for (int i = 0; i < rows.Length; i++)
                    rows[i] = _rows[positions[i]];
                gathered = Store.Gather(rows);
            }
            if (Device is null || Device.type == TorchSharp.DeviceType.CPU)
                return gathered;
            using var scope = NewDisposeScope();
            return gathered.to(Device).MoveToOuterDisposeScope();
        }

        /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/> − 1 as a new float tensor.</summary>
        public Tensor Rows(long start, long length)
        {
            var positions = new long[length];
            for (long i = 0; i < length; i++)
                positions[i] = start + i;
            return Gather(positions);
        }

        /// <summary>
        /// Every value in row order, as float blocks of whole rows (about 1 Mi values each, the last shorter), for statistics
        /// that would otherwise need the rows as one float array.
        /// </summary>
        public IEnumerable<float[]> Blocks()
        {
            int blockRows = Math.Max(1, (1 << 20) / Width);
            var cpu = new FeatureRows(Store, _rows, null); // statistics are read on the CPU
            for (int start = 0; start < Count; start += blockRows)
            {
                float[] block;
                using (NewDisposeScope()) // closed before yielding: the caller's tensors never land in it
                    block = cpu.Rows(start, Math.Min(blockRows, Count - start)).data<float>().ToArray();
                yield return block;
            }
        }

        /// <summary>Every value in row order (tests and small data).</summary>
        public float[] ToArray()
        {
            var values = new float[(long)Count * Width];
            long offset = 0;
            foreach (var block in Blocks())
            {
                block.CopyTo(values, offset);
                offset += block.Length;
            }
            return values;
        }

        private long StoreRow(int position)
        {
            if (position < 0 || position >= Count)
                throw new ArgumentOutOfRangeException(nameof(position), position, $"Row outside the {Count} rows.");
            return _rows is null ? position : _rows[position];
        }
    }
}
