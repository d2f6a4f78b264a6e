using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Networks
{
    /// <summary>
    /// Weights moved between a trained network and a copy of it that teaches it (DIRT-T's previous model, self-ensembling's mean
    /// teacher, a warm start): a plain copy, and the exponential moving average of the parameters.
    /// </summary>
    internal static class TeacherWeights
    {
        /// <summary>A new network of <paramref name="network"/>'s architecture, on its device, with its weights and buffers, in evaluation mode.</summary>
        public static ScoringNetwork Clone(ScoringNetwork network)
        {
            var copy = new ScoringNetwork(network.Spec);
            var device = network.parameters().First().device;
            if (device.type != DeviceType.CPU)
                copy.to(device);
            Copy(network, copy);
            copy.eval();
            return copy;
        }

        /// <summary>
        /// As <see cref="Clone"/>, with libtorch's default generator put back afterwards: building the copy draws initial weights
        /// from it, which the training draws from too, so the copy changes nothing else in the training.
        /// </summary>
        public static ScoringNetwork CloneKeepingGenerator(ScoringNetwork network)
        {
            using var state = get_rng_state();
            var copy = Clone(network);
            set_rng_state(state);
            return copy;
        }

        /// <summary>Copies every parameter and buffer of <paramref name="from"/> into <paramref name="to"/> (same architecture).</summary>
        public static void Copy(ScoringNetwork from, ScoringNetwork to)
        {
            using var noGrad = no_grad();
            var source = from.state_dict();
            foreach (var (name, tensor) in to.state_dict())
                tensor.copy_(source[name]);
        }

        /// <summary>
        /// The mean teacher's update (Tarvainen &amp; Valpola, NeurIPS 2017): every parameter θ′ ← α θ′ + (1 − α) θ of the
        /// student; buffers (batch-normalisation running statistics) are copied from the student, so the teacher normalises with
        /// statistics of the data it scores rather than an average of past students' statistics.
        /// </summary>
        public static void ExponentialMovingAverage(ScoringNetwork teacher, ScoringNetwork student, double decay)
        {
            using var noGrad = no_grad();
            var studentParameters = student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, parameter) in teacher.named_parameters())
                parameter.mul_(decay).add_(studentParameters[name], alpha: 1 - decay);
            var studentBuffers = student.named_buffers().ToDictionary(b => b.name, b => b.buffer);
            foreach (var (name, buffer) in teacher.named_buffers())
                buffer.copy_(studentBuffers[name]);
        }
    }
}
