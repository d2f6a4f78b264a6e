using System;
using Microsoft.ML.DomainAdaptation.Methods;
using Microsoft.ML.DomainAdaptation.Networks;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// A loss added to a method's own losses at each training step, on the outputs of its shared forward pass: put it in
    /// <see cref="DomainAdaptationOptions.AddOns"/> (e.g. <c>new DannOptions { AddOns = { new MccAddOn() } }</c>). Methods
    /// with their own optimisation phases (MCD, ADDA, M-ADDA, class criterion) take none and reject them before any data is read.
    /// </summary>
    /// <remarks>Add-ons: <see cref="MccAddOn"/>, <see cref="SelfTrainingAddOn"/>, <see cref="EntropyAddOn"/>, <see cref="VatAddOn"/>.
    /// Each step adds <c>Weight · loss</c> and logs the unweighted loss under the add-on's name.</remarks>
    public abstract class AddOnLoss
    {
        /// <summary>Weight of the add-on's loss in the step's total. Default: 1. Must be non-negative.</summary>
        public float Weight = 1f;

        /// <summary>The add-on's name in messages.</summary>
        internal abstract string Name { get; }

        /// <summary>Checks the add-on's settings, throwing an <see cref="ArgumentOutOfRangeException"/> naming the first invalid one.</summary>
        internal virtual void Validate()
        {
            DomainAdaptationOptions.Check(Weight >= 0 && float.IsFinite(Weight), $"{Name}.{nameof(Weight)}", Weight, "must be non-negative");
        }

        /// <summary>Makes the per-training term (which may hold state: augmentations, running means); disposed with the method.</summary>
        internal abstract AddOnTerm CreateTerm(MethodContext context);
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>One training's instance of an <see cref="AddOnLoss"/>.</summary>
    internal abstract class AddOnTerm : IDisposable
    {
        /// <summary>
        /// The add-on's weighted loss for the step, or null when it adds nothing this step (weight 0, warm-up); logs its values
        /// in <paramref name="losses"/>. <paramref name="inputs"/> are the shared forward pass's outputs over
        /// <paramref name="batch"/>'s source and target rows, through <paramref name="network"/>.
        /// </summary>
        public abstract Tensor Loss(ScoringNetwork network, StepBatch batch, StepState state, AlignmentInputs inputs, LossLog losses);

        /// <summary>False when the term holds state a checkpoint does not store (its own generator, running means).</summary>
        public virtual bool ResumesExactly => true;

        public virtual void Dispose()
        {
        }
    }
}
