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
    /// </summary>
    internal sealed class MaxPool2x2 : Module<Tensor, Tensor>
    {
        public MaxPool2x2() : base(nameof(MaxPool2x2))
        {
        }

        public override Tensor forward(Tensor input)
        {
            if (is_grad_enabled())
                return functional.max_pool2d(input, 2);
            using var scope = NewDisposeScope();
            long height = input.shape[2] / 2 * 2, width = input.shape[3] / 2 * 2;
            // Rows first: the maxima of vertical pairs, then of horizontal pairs (NaN propagates as in max_pool2d).
            var rows = maximum(input.slice(2, 0, height, 2), input.slice(2, 1, height, 2));
            return maximum(rows.slice(3, 0, width, 2), rows.slice(3, 1, width, 2)).MoveToOuterDisposeScope();
        }
    }
}
