using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>VADA's pieces against the reference implementation (Shu et al.'s dirt-t code): the VAT perturbation's norm.</summary>
    public sealed class VadaTests
    {
        [Fact]
        public void VatPerturbationIsAUnitL2VectorOverEachWholeRow()
        {
            // The reference normalises the perturbation by the L2 norm over every non-batch axis (tf.nn.l2_normalize over
            // axes 1..3): rows (3, 4) and (0, 0, 2, 0) as 2 × 2 images → (0.6, 0.8) and (0, 0, 1, 0). An L1 norm would give
            // (3/7, 4/7) and a per-channel or per-pixel norm other shapes, each with the radius ε meaning something else.
            using var scope = NewDisposeScope();
            var rows = tensor(new float[] { 3, 4, 0, 0, 0, 0, 2, 0 }, new long[] { 2, 1, 2, 2 });
            var unit = VatAddOn.Normalize(rows).reshape(-1).data<float>().ToArray();
            Assert.Equal(new[] { 0.6f, 0.8f, 0f, 0f, 0f, 0f, 1f, 0f }, unit.Select(v => (float)System.Math.Round(v, 6)).ToArray());
        }
    }
}
