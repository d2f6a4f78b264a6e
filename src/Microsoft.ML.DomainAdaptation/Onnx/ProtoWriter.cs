using System;
using System.IO;
using System.Text;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// The few protobuf encodings an ONNX model needs (varint, 32-bit and length-delimited fields, nested messages),
    /// written field by field. onnx.proto is proto2: repeated scalars are written unpacked, which every parser accepts.
    /// </summary>
    internal sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public byte[] ToArray() => _buffer.ToArray();

        public ProtoWriter Varint(int field, long value)
        {
            Tag(field, 0);
            Raw((ulong)value);
            return this;
        }

        public ProtoWriter Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BitConverter.TryWriteBytes(bytes, value);
            if (!BitConverter.IsLittleEndian)
                bytes.Reverse();
            _buffer.Write(bytes);
            return this;
        }

        public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            _buffer.Write(value);
            return this;
        }

        public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter Message(int field, Action<ProtoWriter> write)
        {
            var nested = new ProtoWriter();
            write(nested);
            return Bytes(field, nested.ToArray());
        }

        private void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _buffer.WriteByte((byte)value);
        }
    }
}
