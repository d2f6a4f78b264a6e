using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.DomainAdaptation.Methods
{
    /// <summary>What a method is built from: its options, the architecture of the network to train, and the training seed.</summary>
    internal sealed record MethodContext(DomainAdaptationOptions Options, NetworkSpec Spec, int Seed = 0);

    /// <summary>
    /// One training step's batches: labeled source rows; target rows (null when the method uses none); and, with
    /// <see cref="DomainAdaptationOptions.UseTargetLabels"/>, a batch of labeled target rows (else null).
    /// </summary>
    internal readonly record struct StepBatch(Tensor SourceFeatures, Tensor SourceLabels, Tensor TargetFeatures,
        Tensor LabeledTargetFeatures = null, Tensor LabeledTargetLabels = null);

    /// <summary>Where the training is: the step (0-based), the progress p = step / iterations, the learning rate.</summary>
    internal readonly record struct StepState(int Iteration, double Progress, double LearningRate);

    /// <summary>The outputs of the shared forward pass over the concatenated source and target batch.</summary>
    internal readonly record struct AlignmentInputs(Tensor SourceEmbedding, Tensor TargetEmbedding, Tensor SourceLogits, Tensor TargetLogits);

    /// <summary>Named scalar losses of one step, for progress reports and the divergence check.</summary>
    internal sealed class LossLog
    {
        private readonly Dictionary<string, float> _values = new();
        private readonly Dictionary<string, double> _schedules = new();

        public IReadOnlyDictionary<string, float> Values => _values;

        /// <summary>Scheduled coefficients of the step (see <see cref="ScheduleName"/>), for the training history.</summary>
        public IReadOnlyDictionary<string, double> Schedules => _schedules;

        public void Add(string name, Tensor loss)
        {
            StepPhases.Mark("losses");
            _values[name] = loss.detach().item<float>();
            StepPhases.Mark("loss log .item()");
        }

        public void AddSchedule(string name, double value) => _schedules[name] = value;

        public void Clear()
        {
            _values.Clear();
            _schedules.Clear();
        }

        public Dictionary<string, double> SchedulesSnapshot() => new(_schedules);

        public Dictionary<string, float> Snapshot() => new(_values);
    }

    /// <summary>
    /// A domain adaptation method as a small module on the shared <see cref="TrainingLoop"/>. The default step is
    /// the common pattern (one forward pass over source and target, classification loss on source plus the
    /// method's <see cref="AlignmentLoss"/>, one SGD step); methods with several optimisation phases override
    /// <see cref="Step"/>.
    /// </summary>
    internal abstract class AdaptationMethod : IDisposable
    {
        private readonly List<Module> _auxiliary = new();
        private readonly List<AddOnTerm> _addOns;

        protected AdaptationMethod(MethodContext context)
        {
            Options = context.Options;
            Network = new ScoringNetwork(context.Spec);
            _addOns = Options.AddOns.Select(addOn => addOn.CreateTerm(context)).ToList();
        }

        public DomainAdaptationOptions Options { get; }

        /// <summary>The network that scores after training (backbone + classifier).</summary>
        public ScoringNetwork Network { get; }

        /// <summary>False for methods that never look at target rows: the loop then draws no target batch.</summary>
        public virtual bool UsesTarget => true;

        /// <summary>
        /// True when the trained modules, the optimizers and libtorch's generator are the whole state of a training, so a
        /// checkpoint resumes it exactly. Methods and add-ons with state of their own (running class proportions or centres,
        /// their own random generators, a frozen stage copy) say false, and <see cref="DomainAdaptationOptions.ResumeFrom"/> refuses them.
        /// </summary>
        public virtual bool ResumesExactly => _addOns.All(a => a.ResumesExactly);

        /// <summary>The network, then every auxiliary module, in a fixed order (what a checkpoint stores).</summary>
        public IEnumerable<Module> TrainedModules => new Module[] { Network }.Concat(_auxiliary);

        /// <summary>The optimizers the loop anneals; built by <see cref="CreateOptimizers"/>.</summary>
        public IReadOnlyList<optim.Optimizer> Optimizers { get; private set; }

        protected optim.Optimizer Optimizer => Optimizers[0];

        /// <summary>Registers a module trained beside the network (a discriminator, a second head).</summary>
        protected T AddAuxiliary<T>(T module) where T : Module
        {
            _auxiliary.Add(module);
            return module;
        }

        public void CreateOptimizers() => Optimizers = BuildOptimizers();

        /// <summary>Moves the network and every auxiliary module to <paramref name="device"/> (before the optimizers are made).</summary>
        public void MoveTo(Device device)
        {
            if (device.type == DeviceType.CPU)
                return;
            Network.to(device);
            foreach (var module in _auxiliary)
                module.to(device);
        }

        /// <summary>Default: one SGD optimizer over the network and every auxiliary module.</summary>
        protected virtual IReadOnlyList<optim.Optimizer> BuildOptimizers() =>
            new[] { Sgd(Network.parameters().Concat(_auxiliary.SelectMany(m => m.parameters()))) };

        protected optim.Optimizer Sgd(IEnumerable<Parameter> parameters) =>
            Backbones.FineTuning.Sgd(parameters, Network.backbone, Options.LearningRate, Options.Momentum, Options.WeightDecay);

        public void SetTrainingMode(bool training)
        {
            Network.train(training);
            foreach (var module in _auxiliary)
                module.train(training);
        }

        /// <summary>One training step. Returns the total loss it minimised (checked for divergence by the loop).</summary>
        public virtual Tensor Step(StepBatch batch, StepState state, LossLog losses)
        {
            Tensor total;
            if (!UsesTarget)
            {
                var logits = Network.forward(batch.SourceFeatures);
                StepPhases.Mark("forward");
                total = functional.cross_entropy(logits, batch.SourceLabels);
                losses.Add("classification", total);
            }
            else
            {
                var inputs = ForwardBothDomains(batch);
                StepPhases.Mark("forward");
                var classification = functional.cross_entropy(inputs.SourceLogits, batch.SourceLabels);
                losses.Add("classification", classification);
                var alignment = AlignmentLoss(inputs, state, losses);
                total = alignment is null ? classification : classification + alignment;
                total = AddOnLosses(total, batch, state, inputs, losses);
            }
            return MinimiseWithTargetLabels(total, batch, losses);
        }

        /// <summary>
        /// The shared step's forward pass: source and target rows concatenated through the network (one batch-norm batch of
        /// both domains). <see cref="AdaBnOptions.SeparateDomainBatches"/> overrides it.
        /// </summary>
        protected virtual AlignmentInputs ForwardBothDomains(StepBatch batch)
        {
            int sourceRows = (int)batch.SourceFeatures.shape[0];
            var embedding = Network.backbone.forward(cat(new[] { batch.SourceFeatures, batch.TargetFeatures }, 0));
            var logits = Network.classifier.forward(embedding);
            return new AlignmentInputs(embedding[..sourceRows], embedding[sourceRows..], logits[..sourceRows], logits[sourceRows..]);
        }

        /// <summary>
        /// Adds <see cref="TargetLabelLoss"/> to <paramref name="total"/>, takes one step of <see cref="Optimizer"/> on the sum
        /// and returns it: the end of every step that trains the scoring network with one optimiser.
        /// </summary>
        protected Tensor MinimiseWithTargetLabels(Tensor total, StepBatch batch, LossLog losses)
        {
            var supervised = TargetLabelLoss(batch, losses);
            if (supervised is not null)
                total = total + supervised;
            StepPhases.Mark("losses");
            Optimizer.zero_grad();
            StepPhases.Mark("zero_grad");
            total.backward();
            StepPhases.Mark("backward");
            Optimizer.step();
            StepPhases.Mark("optimizer step");
            return total;
        }

        /// <summary>
        /// The class criterion on labeled target rows (weighted cross-entropy through the scoring network), or null
        /// when <see cref="DomainAdaptationOptions.UseTargetLabels"/> is off. Methods overriding <see cref="Step"/> add it themselves.
        /// </summary>
        protected Tensor TargetLabelLoss(StepBatch batch, LossLog losses)
        {
            if (batch.LabeledTargetFeatures is null)
                return null;
            var loss = functional.cross_entropy(Network.forward(batch.LabeledTargetFeatures), batch.LabeledTargetLabels);
            losses.Add("target classification", loss);
            return loss * Options.TargetLabelWeight;
        }

        /// <summary>
        /// <paramref name="total"/> plus the weighted losses of the <see cref="DomainAdaptationOptions.AddOns"/>, in their order, on
        /// the shared forward pass's outputs. Methods overriding <see cref="Step"/> with the shared pass add them themselves.
        /// </summary>
        protected Tensor AddOnLosses(Tensor total, StepBatch batch, StepState state, AlignmentInputs inputs, LossLog losses)
        {
            foreach (var addOn in _addOns)
            {
                var loss = addOn.Loss(Network, batch, state, inputs, losses);
                if (loss is not null)
                    total = total + loss;
            }
            return total;
        }

        /// <summary>
        /// The network whose weights the model keeps once <see cref="CompleteTraining"/> has run: <see cref="Network"/>, or a
        /// method's own predictor (self-ensembling's teacher). Validation during training scores it and keeps its best weights.
        /// </summary>
        public virtual ScoringNetwork PredictingNetwork => Network;

        /// <summary>
        /// Called once after the last step with every training row of each domain (e.g. AdaBN re-estimates the
        /// normalisation statistics on the target). Default: nothing.
        /// </summary>
        public virtual void CompleteTraining(Data.FeatureRows sourceFeatures, Data.FeatureRows targetFeatures)
        {
        }

        /// <summary>The method's loss added to the source classification loss (weighted), or null for none.</summary>
        protected virtual Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses) => null;

        public virtual void Dispose()
        {
            if (Optimizers != null)
            {
                foreach (var optimizer in Optimizers)
                    optimizer.Dispose();
            }
            foreach (var module in _auxiliary)
                module.Dispose();
            foreach (var addOn in _addOns)
                addOn.Dispose();
        }
    }
}
