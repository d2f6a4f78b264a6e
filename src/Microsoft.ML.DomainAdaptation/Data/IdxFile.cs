using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// An array in the IDX format of the MNIST files: magic <c>00 00 &lt;type&gt; &lt;ndim&gt;</c>, ndim big-endian
    /// uint32 sizes, then the values in row-major order. Gzip-compressed files are read transparently.
    /// </summary>
    public sealed class IdxFile
    {
        private IdxFile(int[] dimensions, float[] values)
        {
            Dimensions = dimensions;
            Values = values;
        }

        /// <summary>The sizes of the array; the first is the number of items.</summary>
        public int[] Dimensions { get; }

        /// <summary>All values as <see cref="float"/>, row-major.</summary>
        public float[] Values { get; }

        /// <summary>The number of items (the first dimension).</summary>
        public int Count => Dimensions[0];

        /// <summary>The number of values of one item (the product of the other dimensions; 1 for a 1-D file).</summary>
        public int ItemSize
        {
            get
            {
                int size = 1;
                for (int i = 1; i < Dimensions.Length; i++)
                    size *= Dimensions[i];
                return size;
            }
        }

        /// <summary>Reads an IDX file (raw or gzip-compressed) of unsigned or signed bytes, shorts, ints, floats or doubles.</summary>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="InvalidDataException">The file is not a well-formed IDX file.</exception>
        public static IdxFile Read(string path)
        {
            if (string.IsNullOrEmpty(path))
                throw new ArgumentException("An IDX file path is required.", nameof(path));
            if (!File.Exists(path))
                throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
            using var file = File.OpenRead(path);
            bool gzip = IsGzip(file);
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            try
            {
                return Read(stream, path);
            }
            catch (InvalidDataException e) when (gzip && !e.Message.Contains(path))
            {
                // The decompressor's own message does not name the file.
                throw new InvalidDataException($"'{path}' is not a readable gzip file: {e.Message}", e);
            }
        }

        private static bool IsGzip(FileStream file)
        {
            int b0 = file.ReadByte(), b1 = file.ReadByte();
            file.Position = 0;
            return b0 == 0x1f && b1 == 0x8b;
        }

        private static IdxFile Read(Stream reader, string path)
        {
            var magic = ReadExactly(reader, 4, path, "header");
            if (magic[0] != 0 || magic[1] != 0)
                throw new InvalidDataException($"'{path}' is not an IDX file: its first two bytes must be zero.");
            int typeCode = magic[2];
            int rank = magic[3];
            if (rank < 1)
                throw new InvalidDataException($"'{path}' declares {rank} dimensions; an IDX file has at least one.");
            int elementSize = typeCode switch
            {
                0x08 or 0x09 => 1,
                0x0B => 2,
                0x0C or 0x0D => 4,
                0x0E => 8,
                _ => throw new InvalidDataException($"'{path}' has unknown IDX data type 0x{typeCode:X2}."),
            };
            var dims = new int[rank];
            long count = 1;
            var dimBytes = ReadExactly(reader, 4 * rank, path, "dimensions");
            for (int i = 0; i < rank; i++)
            {
                uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * i));
                if (d == 0 || d > int.MaxValue)
                    throw new InvalidDataException($"'{path}' has an invalid size {d} for dimension {i}.");
                dims[i] = (int)d;
                // Checked before multiplying: a corrupt header's sizes must not wrap around.
                if (count > Array.MaxLength / elementSize / d)
                    throw new InvalidDataException($"'{path}' declares {string.Join(" × ", dims[..(i + 1)])}… values, more than one array can hold.");
                count *= d;
            }
            var body = ReadExactly(reader, (int)(count * elementSize), path, "values");
            var values = new float[count];
            for (int i = 0; i < values.Length; i++)
            {
                var span = body.AsSpan(i * elementSize);
                values[i] = typeCode switch
                {
                    0x08 => body[i],
                    0x09 => (sbyte)body[i],
                    0x0B => BinaryPrimitives.ReadInt16BigEndian(span),
                    0x0C => BinaryPrimitives.ReadInt32BigEndian(span),
                    0x0D => BinaryPrimitives.ReadSingleBigEndian(span),
                    _ => (float)BinaryPrimitives.ReadDoubleBigEndian(span),
                };
            }
            return new IdxFile(dims, values);
        }

        /// <summary>Reads <paramref name="count"/> bytes. A raw file's length is checked first and a compressed stream is read
        /// in pieces, so that a corrupt header declaring gigabytes fails as truncated instead of allocating them.</summary>
        private static byte[] ReadExactly(Stream stream, int count, string path, string what)
        {
            if (stream.CanSeek && stream.Length - stream.Position < count)
                throw Truncated(path, count, what, stream.Length - stream.Position);
            const int Piece = 1 << 20;
            var bytes = new byte[Math.Min(count, stream.CanSeek ? count : Piece)];
            int read = 0;
            while (read < count)
            {
                if (read == bytes.Length)
                    Array.Resize(ref bytes, (int)Math.Min(count, 2L * bytes.Length));
                int n = stream.Read(bytes, read, bytes.Length - read);
                if (n == 0)
                    throw Truncated(path, count, what, read);
                read += n;
            }
            return bytes;
        }

        private static InvalidDataException Truncated(string path, int count, string what, long found) =>
            new InvalidDataException($"'{path}' is truncated: expected {count} bytes of {what}, found {found}.");
    }
}
