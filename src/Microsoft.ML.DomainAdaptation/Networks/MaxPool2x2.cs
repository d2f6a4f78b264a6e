using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// 2 × 2 max pooling with stride 2 (as <c>MaxPool2d(2)</c>: odd trailing rows and columns dropped). With gradients on it
    /// is libtorch's <c>max_pool2d</c>, whose backward sends a window's gradient to its first maximum. Without (scoring,
    /// evaluation) it takes the element-wise maximum of the four strided views of the windows' corners: the same values
    /// (a maximum is exact), but libtorch's CPU <c>max_pool2d</c> always computes the argmax indices too and cost LeNet's
    /// first pooling ≈ 70 µs per 28 × 28 image against ≈ 10 µs this way (issue 18: scoring at OnnxRuntime's speed).
    /// <para>
    /// When training, the input is first given channels-last strides (the same logical N × C × H × W tensor, stored pixel by
    /// pixel; LeNet gives them to its input images, so that its first convolution writes channels-last and no pooling copies): libtorch's CPU <c>max_pool2d</c> is vectorised over channels only in that layout (LeNet's first pooling at
    /// batch 64: 3.4 ms forward in the planar layout against ≈ 0.5 ms, `--profile-lenet` of the benchmark), and the layout
    /// carries on through the next convolution (oneDNN's NHWC kernels), activation and pooling; the final flatten copies back
    /// to the logical order. Values are the same up to the convolution's summation order.
    /// </para>
    /// </summary>
    internal sealed class MaxPool2x2 : Module<Tensor, Tensor>
    {
        public MaxPool2x2() : base(nameof(MaxPool2x2))
        {
        }

        /// <summary>
        /// The same logical tensor with channels-last strides (TorchSharp has no <c>memory_format</c> argument); a tensor that
        /// has them already is returned as a view, without a copy.
        /// </summary>
        internal static Tensor ChannelsLast(Tensor input)
        {
            if (input.shape[1] != 1)
                return input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            // One channel: planar and channels-last are the same bytes, but libtorch reads a tensor as channels-last only from
            // its strides (N × 1 × H × W with strides H·W, 1, W, 1), which a permutation cannot give a size-1 dimension.
            var planar = input.contiguous();
            long height = input.shape[2], width = input.shape[3];
            return planar.as_strided(input.shape, new[] { height * width, 1, width, 1 }, planar.storage_offset());
        }

        public override Tensor forward(Tensor input)
        {
            if (is_grad_enabled())
                return functional.max_pool2d(ChannelsLast(input), 2);
            using var scope = NewDisposeScope();
            long height = input.shape[2] / 2 * 2, width = input.shape[3] / 2 * 2;
            // Rows first: the maxima of vertical pairs, then of horizontal pairs (NaN propagates as in max_pool2d).
            var rows = maximum(input.slice(2, 0, height, 2), input.slice(2, 1, height, 2));
            return maximum(rows.slice(3, 0, width, 2), rows.slice(3, 1, width, 2)).MoveToOuterDisposeScope();
        }
    }
}
