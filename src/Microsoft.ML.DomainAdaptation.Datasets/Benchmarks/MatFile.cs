using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace Microsoft.ML.DomainAdaptation.Data.Benchmarks
{
    /// <summary>
    /// A numeric array of a MATLAB MAT-file: its dimensions (column-major, as MATLAB stores them), its MATLAB class
    /// and its values as stored (MATLAB may store a double array of small integers as bytes).
    /// </summary>
    internal sealed class MatArray
    {
        public string Name { get; init; }
        public int[] Dimensions { get; init; }
        /// <summary>The MATLAB class (mxDOUBLE_CLASS = 6, mxUINT8_CLASS = 9, …).</summary>
        public int Class { get; init; }
        /// <summary>The storage type of <see cref="Data"/> (miUINT8 = 2, miDOUBLE = 9, …).</summary>
        public int DataType { get; init; }
        public byte[] Data { get; init; }

        public long Count
        {
            get
            {
                long n = 1;
                foreach (int d in Dimensions)
                    n *= d;
                return n;
            }
        }

        /// <summary>Value <paramref name="index"/> (column-major) as a double, whatever its storage type.</summary>
        public double this[long index] => DataType switch
        {
            MatFile.MiInt8 => (sbyte)Data[index],
            MatFile.MiUInt8 => Data[index],
            MatFile.MiInt16 => BinaryPrimitives.ReadInt16LittleEndian(Data.AsSpan((int)(index * 2))),
            MatFile.MiUInt16 => BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan((int)(index * 2))),
            MatFile.MiInt32 => BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan((int)(index * 4))),
            MatFile.MiUInt32 => BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan((int)(index * 4))),
            MatFile.MiSingle => BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan((int)(index * 4))),
            MatFile.MiDouble => BinaryPrimitives.ReadDoubleLittleEndian(Data.AsSpan((int)(index * 8))),
            MatFile.MiInt64 => BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan((int)(index * 8))),
            MatFile.MiUInt64 => BinaryPrimitives.ReadUInt64LittleEndian(Data.AsSpan((int)(index * 8))),
            _ => throw new InvalidDataException($"MAT array '{Name}' has unsupported storage type {DataType}."),
        };
    }

    /// <summary>
    /// Reads the numeric arrays of a MATLAB level-5 MAT-file (MATLAB's default before v7.3, and the format of SVHN's
    /// <c>*_32x32.mat</c>): plain and zlib-compressed (miCOMPRESSED) elements, little-endian, real numeric and logical
    /// arrays. Cells, structs, sparse and complex arrays are skipped; v7.3 files (HDF5) are refused with a message.
    /// Elements are read from the stream into their final array, so a 225 MB image array is held once.
    /// </summary>
    internal static class MatFile
    {
        public const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7,
            MiDouble = 9, MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15;

        private const int ComplexFlag = 0x0800;

        public static Dictionary<string, MatArray> Read(string path)
        {
            using var file = File.OpenRead(path);
            var header = new byte[128];
            if (file.Read(header, 0, 128) != 128)
                throw new InvalidDataException($"'{path}' is too short for a MAT-file (128-byte header).");
            string text = Encoding.ASCII.GetString(header, 0, 116);
            if (text.StartsWith("MATLAB 7.3", StringComparison.Ordinal))
                throw new InvalidDataException($"'{path}' is a MATLAB v7.3 (HDF5) MAT-file; only level-5 MAT-files are read (save with -v7).");
            if (!text.StartsWith("MATLAB 5.0 MAT-file", StringComparison.Ordinal))
                throw new InvalidDataException($"'{path}' is not a MATLAB level-5 MAT-file (its header does not start with 'MATLAB 5.0 MAT-file').");
            if (header[126] != (byte)'I' || header[127] != (byte)'M')
                throw new InvalidDataException($"'{path}' is a big-endian MAT-file; only little-endian files are read.");

            var arrays = new Dictionary<string, MatArray>(StringComparer.Ordinal);
            while (file.Position < file.Length)
            {
                var (type, size, _) = ReadTag(file, path);
                if (type == MiCompressed)
                {
                    // The zlib stream holds one complete element (a matrix); compressed elements are not padded.
                    long end = file.Position + size;
                    using (var inflated = new ZLibStream(new SubStream(file, size), CompressionMode.Decompress, leaveOpen: true))
                    {
                        var (innerType, innerSize, _) = ReadTag(inflated, path);
                        AddMatrix(arrays, inflated, innerType, innerSize, path);
                    }
                    file.Position = end;
                }
                else
                {
                    AddMatrix(arrays, file, type, size, path);
                    Skip(file, Padding(size), path);
                }
            }
            return arrays;
        }

        private static void AddMatrix(Dictionary<string, MatArray> arrays, Stream stream, int type, int size, string path)
        {
            if (type != MiMatrix)
            {
                Skip(stream, size, path);
                return;
            }
            var array = ReadMatrix(stream, size, path);
            if (array != null)
                arrays[array.Name] = array;
        }

        private static MatArray ReadMatrix(Stream stream, int size, string path)
        {
            long consumed = 0;
            byte[] Next(out int elementType)
            {
                var (t, n, small) = ReadTag(stream, path);
                var data = ReadExactly(stream, n, path);
                int pad = small ? 4 - n : Padding(n);
                Skip(stream, pad, path);
                consumed += (small ? 4 : 8) + n + pad;
                elementType = t;
                return data;
            }

            var flags = Next(out _);
            int matlabClass = flags[0];
            bool complex = (BinaryPrimitives.ReadUInt32LittleEndian(flags) & ComplexFlag) != 0;
            if (matlabClass < 6 || matlabClass > 15 || complex)
            {
                // Not a real numeric array (cell, struct, char, sparse, object) or complex: skip the rest of it.
                Skip(stream, size - consumed, path);
                return null;
            }
            var dimBytes = Next(out _);
            var dims = new int[dimBytes.Length / 4];
            for (int i = 0; i < dims.Length; i++)
                dims[i] = BinaryPrimitives.ReadInt32LittleEndian(dimBytes.AsSpan(4 * i));
            string name = Encoding.ASCII.GetString(Next(out _));
            var data = Next(out int dataType);
            if (consumed < size)
                Skip(stream, size - consumed, path);
            var array = new MatArray { Name = name, Dimensions = dims, Class = matlabClass, DataType = dataType, Data = data };
            int elementSize = dataType switch
            {
                MiInt8 or MiUInt8 => 1,
                MiInt16 or MiUInt16 => 2,
                MiInt32 or MiUInt32 or MiSingle => 4,
                MiDouble or MiInt64 or MiUInt64 => 8,
                _ => throw new InvalidDataException($"'{path}': array '{name}' has unsupported storage type {dataType}."),
            };
            if ((long)data.Length != array.Count * elementSize)
                throw new InvalidDataException($"'{path}': array '{name}' of dimensions [{string.Join(", ", dims)}] holds {data.Length} bytes, expected {array.Count * elementSize}.");
            return array;
        }

        /// <summary>Reads a data element tag: the long form (type, byte count) or the small form (both in 4 bytes, data in the next 4).</summary>
        private static (int Type, int Size, bool Small) ReadTag(Stream stream, string path)
        {
            var tag = ReadExactly(stream, 4, path);
            uint first = BinaryPrimitives.ReadUInt32LittleEndian(tag);
            if ((first >> 16) != 0)
                return ((int)(first & 0xFFFF), (int)(first >> 16), true);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(ReadExactly(stream, 4, path));
            if (size > int.MaxValue)
                throw new InvalidDataException($"'{path}' has an element of {size} bytes, more than one array can hold.");
            return ((int)first, (int)size, false);
        }

        private static int Padding(int size) => (8 - size % 8) % 8;

        private static byte[] ReadExactly(Stream stream, int count, string path)
        {
            var buffer = new byte[count];
            int read = 0;
            while (read < count)
            {
                int n = stream.Read(buffer, read, count - read);
                if (n == 0)
                    throw new InvalidDataException($"'{path}' is truncated: expected {count - read} more bytes.");
                read += n;
            }
            return buffer;
        }

        private static void Skip(Stream stream, long count, string path)
        {
            var buffer = new byte[Math.Min(count, 81920)];
            while (count > 0)
            {
                int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
                if (n == 0)
                    throw new InvalidDataException($"'{path}' is truncated.");
                count -= n;
            }
        }

        /// <summary>A read-only window of a given number of bytes from a stream's current position, so the
        /// inflater cannot read past the compressed element.</summary>
        private sealed class SubStream : Stream
        {
            private readonly Stream _inner;
            private long _remaining;

            public SubStream(Stream inner, long length) => (_inner, _remaining) = (inner, length);

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_remaining <= 0)
                    return 0;
                int n = _inner.Read(buffer, offset, (int)Math.Min(count, _remaining));
                _remaining -= n;
                return n;
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
