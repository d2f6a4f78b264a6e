using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Backbones
{
    /// <summary>
    /// Learning rates of fine-tuning: the parameters of a pretrained backbone's trunk learn at the rate times the
    /// backbone's scale (0.1 by default, the field's choice), the new layers at the full rate. The one place where
    /// optimizers split parameters into groups; the training loop's schedule multiplies each group's rate by
    /// <see cref="Scale"/>.
    /// </summary>
    internal static class FineTuning
    {
        private static readonly ConditionalWeakTable<object, StrongBox<double>> Scales = new();

        /// <summary>
        /// SGD over <paramref name="parameters"/>: one group when <paramref name="backbone"/> is not pretrained (or its
        /// scale is 1), else the trunk's parameters at <paramref name="learningRate"/> × its <see cref="PretrainedBackbone.LearningRateScale"/>.
        /// </summary>
        public static optim.Optimizer Sgd(IEnumerable<Parameter> parameters, nn.Module backbone, double learningRate, double momentum, double weightDecay)
        {
            if (backbone is Networks.InputNormalizedBackbone normalized)
                backbone = normalized.Inner;
            double scale = (backbone as PretrainedBackbone)?.LearningRateScale ?? 1;
            if (backbone is not PretrainedBackbone pretrained || scale == 1)
                return optim.SGD(parameters, learningRate, momentum, weight_decay: weightDecay);
            var trunk = new HashSet<Parameter>(pretrained.PretrainedParameters, ReferenceEqualityComparer.Instance);
            var all = parameters.ToArray();
            var groups = new[] { (Parameters: all.Where(p => !trunk.Contains(p)).ToArray(), Scale: 1.0), (Parameters: all.Where(trunk.Contains).ToArray(), Scale: scale) }
                .Where(g => g.Parameters.Length > 0)
                .Select(g => (Group: new SGD.ParamGroup(g.Parameters, new SGD.Options { LearningRate = learningRate * g.Scale, momentum = momentum, weight_decay = weightDecay }), g.Scale))
                .ToArray();
            var optimizer = optim.SGD(groups.Select(g => g.Group), learningRate, momentum, weight_decay: weightDecay);
            foreach (var (group, groupScale) in groups)
                Scales.AddOrUpdate(group, new StrongBox<double>(groupScale));
            return optimizer;
        }

        /// <summary>The factor on the scheduled learning rate for <paramref name="group"/>: 1 unless made by <see cref="Sgd"/> for a trunk.</summary>
        public static double Scale(optim.ILearningRateController group) => Scales.TryGetValue(group, out var scale) ? scale.Value : 1;

        private sealed class ReferenceEqualityComparer : IEqualityComparer<Parameter>
        {
            public static readonly ReferenceEqualityComparer Instance = new();
            public bool Equals(Parameter x, Parameter y) => ReferenceEquals(x, y);
            public int GetHashCode(Parameter p) => RuntimeHelpers.GetHashCode(p);
        }
    }
}
