using System;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>Managed buffers → tensors in libtorch's own memory.</summary>
    internal static class TensorCopy
    {
        /// <summary>
        /// A float tensor holding a copy of <paramref name="values"/>. torch.tensor(array) would wrap the pinned managed
        /// array instead, whose memory alignment changes from run to run, and with it which kernels run and the last bits
        /// of their results: copying keeps training and scoring bit-reproducible.
        /// </summary>
        public static Tensor FromSpan(ReadOnlySpan<float> values, long rows, long columns)
        {
            var result = empty(rows, columns);
            result.data<float>().CopyFrom(values, 0, 0);
            return result;
        }

        /// <summary>A byte (uint8) tensor holding a copy of <paramref name="values"/>, for the same reason.</summary>
        public static Tensor FromSpan(ReadOnlySpan<byte> values, long rows, long columns)
        {
            var result = empty(rows, columns, dtype: ScalarType.Byte);
            result.data<byte>().CopyFrom(values, 0, 0);
            return result;
        }

        /// <summary>A long tensor holding a copy of <paramref name="values"/>.</summary>
        public static Tensor FromSpan(ReadOnlySpan<long> values)
        {
            var result = empty(values.Length, dtype: ScalarType.Int64);
            result.data<long>().CopyFrom(values, 0, 0);
            return result;
        }
    }
}
