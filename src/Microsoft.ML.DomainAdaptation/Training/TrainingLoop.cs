using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML.DomainAdaptation.Data;
using Microsoft.ML.DomainAdaptation.Methods;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// The one training loop every method runs on: batches of both domains each step, learning-rate annealing,
    /// seeding, progress reports, cancellation and the divergence check. Each step's tensors live in a dispose scope
    /// so native memory stays flat across steps.
    /// </summary>
    internal static class TrainingLoop
    {
        // libtorch's default generator is process-wide: trainings are serialised so a seed gives the same model.
        private static readonly object TorchGate = new();

        /// <summary>
        /// Trains and returns the network the model keeps, its history and, when <see cref="TrainingValidation.LastStepCallback"/>
        /// is set and the best step's weights are kept, a copy of the network as it was after the last step (else null).
        /// When validation is on, <c>onScored</c> is called after each scored step with the step, a CPU copy of the network as
        /// scored (the callee's) and the history so far.
        /// </summary>
        public static (Networks.ScoringNetwork Network, TrainingHistory History, Networks.ScoringNetwork LastStep) Train(IHost host, DomainAdaptationOptions options, Networks.NetworkSpec spec, DomainData data, int seed,
            Action<int, Networks.ScoringNetwork, TrainingHistory> onScored = null)
        {
            MallocTuning.EnsureConfigured(); // before libtorch's first large buffers: see MallocTuning
            ThreadPolicy.EnsureWaitPolicy(); // before libtorch's OpenMP runtime loads, if it has not yet
            var device = TrainingDevice.Resolve(options.Device);
            bool onCpu = device.type == DeviceType.CPU;
            lock (TorchGate)
            {
                if (!onCpu)
                    torch.set_default_device(device); // tensors the methods create each step (labels, masks) follow
                try
                {
                    return Train(host, options, spec, data, seed, device, onScored);
                }
                finally
                {
                    if (!onCpu)
                        torch.set_default_device(torch.CPU);
                }
            }
        }

        private static (Networks.ScoringNetwork, TrainingHistory, Networks.ScoringNetwork) Train(IHost host, DomainAdaptationOptions options, Networks.NetworkSpec spec, DomainData data, int seed, Device device,
            Action<int, Networks.ScoringNetwork, TrainingHistory> onScored)
        {
            {
                torch.manual_seed(seed);
                var random = new Random(seed);
                DomainData heldOut = null;
                if (options.Validation is not null)
                    (data, heldOut) = data.HoldOut(options.Validation.HeldOutFraction, options.Validation.MaxHeldOutRows, options.BatchSize, unchecked(seed * 31 + 11));
                using var validation = heldOut is null ? null : new ValidationMonitor(options.Validation, heldOut, options.Iterations);

                using var method = options.CreateMethod(new MethodContext(options, spec, seed));
                int restoreThreads = 0; // libtorch's count, put back after a training on the policy's count
                if (options.NumberOfThreads is int threads)
                    torch.set_num_threads(threads);
                else if (device.type == DeviceType.CPU && ThreadPolicy.DefaultThreads(method.Network, options.BatchSize, spec.Backbone.ConvolutionMultiplyAddsPerRow) is int chosen && chosen != torch.get_num_threads())
                {
                    restoreThreads = torch.get_num_threads();
                    torch.set_num_threads(chosen);
                }
                using var restore = new ThreadRestore(restoreThreads);
                method.MoveTo(device);
                method.CreateOptimizers();
                // Features stay where DomainData holds them (bytes when they are 0–255); each batch goes to the device as floats.
                using var source = new BatchSampler(data.SourceFeatures.On(device),
                    On(device, TensorCopy.FromSpan(data.SourceLabels)), options.BatchSize, new Random(random.Next()));
                using var target = new BatchSampler(data.TargetFeatures.On(device),
                    On(device, TensorCopy.FromSpan(data.TargetLabels)), options.BatchSize, new Random(random.Next()));

                // Its own generator (seeded apart from the add-ons' and self-ensembling's), so libtorch's default stream is as without it.
                using var sourceViews = options.SourceAugmentation == AugmentationKind.None ? null : new Augmentations.Augmentation(spec, unchecked(seed * 31L + 13));
                using var labeledTarget = options.UseTargetLabels ? LabeledTargetSampler(data, options.BatchSize, new Random(random.Next()), device) : null;
                int start = 0;
                System.Collections.Generic.List<TrainingStep> restored = null;
                if ((options.ResumeFrom ?? options.CheckpointPath) is not null && !method.ResumesExactly)
                    throw new ArgumentOutOfRangeException(options.ResumeFrom is not null ? nameof(options.ResumeFrom) : nameof(options.CheckpointPath),
                        $"{options.MethodName}{(options.AddOns.Count > 0 ? " with its add-ons" : "")} keeps training state that checkpoints do not store " +
                        "(running statistics, its own random generators or a frozen stage copy), so it cannot be resumed exactly; train it without checkpoints.");
                if (options.ResumeFrom is not null)
                {
                    (start, restored) = Checkpoint.Read(options.ResumeFrom, options, seed, method);
                    // The samplers are seeded: replaying their draws puts them where the checkpointed run was.
                    for (int i = 0; i < start; i++)
                    {
                        source.Skip();
                        if (method.UsesTarget)
                            target.Skip();
                        labeledTarget?.Skip();
                    }
                }
                TrainingHistory history;
                Networks.ScoringNetwork lastStep = null;
                try
                {
                    history = Run(host, options, method, source, sourceViews, target, labeledTarget, validation, seed, start, restored, onScored, out lastStep);
                    using (no_grad())
                        method.CompleteTraining(source.Features, target.Features);
                }
                catch
                {
                    lastStep?.Dispose();
                    method.Network.Dispose();
                    throw;
                }
                method.SetTrainingMode(false);
                if (device.type != DeviceType.CPU)
                {
                    method.Network.to(torch.CPU); // the transformer scores on the CPU
                    lastStep?.to(torch.CPU);
                }
                // The method's optimizers and auxiliary modules are disposed with it; the network lives on in the transformer.
                return (method.Network, history, lastStep);
            }
        }

        /// <summary>
        /// A CPU copy of <paramref name="network"/> in evaluation mode (the transformer scores on the CPU), made without
        /// moving libtorch's default generator, so the training goes on as without the copy.
        /// </summary>
        private static Networks.ScoringNetwork CopyOnCpu(Networks.ScoringNetwork network)
        {
            var copy = Networks.TeacherWeights.CloneKeepingGenerator(network);
            if (copy.parameters().First().device.type != DeviceType.CPU)
                copy.to(torch.CPU);
            return copy;
        }

        /// <summary>Puts libtorch's thread count back when disposed (nothing for 0).</summary>
        private readonly struct ThreadRestore(int threads) : IDisposable
        {
            public void Dispose()
            {
                if (threads > 0)
                    torch.set_num_threads(threads);
            }
        }

        /// <summary>The tensor on <paramref name="device"/> (itself on the CPU).</summary>
        private static Tensor On(Device device, Tensor tensor)
        {
            if (device.type == DeviceType.CPU)
                return tensor;
            var moved = tensor.to(device);
            tensor.Dispose();
            return moved;
        }

        /// <summary>Batches of the target rows that carry a label (all of them when fewer than a batch).</summary>
        private static BatchSampler LabeledTargetSampler(DomainData data, int batchSize, Random random, Device device)
        {
            var rows = Enumerable.Range(0, data.TargetCount).Where(i => data.TargetLabels[i] >= 0).ToArray();
            return new BatchSampler(data.TargetFeatures.Select(rows).On(device),
                On(device, TensorCopy.FromSpan(rows.Select(i => data.TargetLabels[i]).ToArray())), Math.Min(batchSize, rows.Length), random);
        }

        private static TrainingHistory Run(IHost host, DomainAdaptationOptions options, AdaptationMethod method, BatchSampler source, Augmentations.Augmentation sourceViews, BatchSampler target,
            BatchSampler labeledTarget, ValidationMonitor validation, int seed, int start, System.Collections.Generic.List<TrainingStep> restored,
            Action<int, Networks.ScoringNetwork, TrainingHistory> onScored, out Networks.ScoringNetwork lastStep)
        {
            lastStep = null;
            using var channel = host.Start("Training");
            using var progressChannel = host.StartProgressChannel($"{options.MethodName} training");
            int iterations = options.Iterations;
            int done = start;
            progressChannel.SetHeader(new ProgressHeader(null, new[] { "iterations" }), e => e.SetProgress(0, done, iterations));
            channel.Info($"{options.MethodName}: training {iterations} steps, batch {options.BatchSize} per domain, {torch.get_num_threads()} threads (OpenMP wait: {ThreadPolicy.WaitPolicyStatus}), malloc tuning {MallocTuning.Status}.");

            var clock = Stopwatch.StartNew();
            var losses = new LossLog();
            var lastFinite = losses.Snapshot();
            var steps = restored ?? new System.Collections.Generic.List<TrainingStep>(iterations);
            double elapsedBefore = steps.Count > 0 ? steps[^1].ElapsedSeconds : 0;
            if (start > 0)
                channel.Info($"{options.MethodName}: resuming at step {start + 1} from checkpoint '{options.ResumeFrom}'.");
            method.SetTrainingMode(true);
            for (int step = start; step < iterations; step++)
            {
                StepPhases.Start();
                host.CheckAlive();
                options.CancellationToken.ThrowIfCancellationRequested();
                double progress = (double)step / iterations;
                double learningRate = options.AnnealLearningRate
                    ? Schedules.AnnealedLearningRate(options.LearningRate, progress)
                    : options.LearningRate;
                foreach (var optimizer in method.Optimizers)
                {
                    foreach (var group in optimizer.ParamGroups)
                        group.LearningRate = learningRate * Backbones.FineTuning.Scale(group);
                }
                StepPhases.Mark("learning-rate schedule");

                using (var scope = NewDisposeScope())
                {
                    var (sourceFeatures, sourceLabels) = source.Next();
                    if (sourceViews is not null)
                        sourceFeatures = sourceViews.View(sourceFeatures, options.SourceAugmentation);
                    var targetFeatures = method.UsesTarget ? target.Next().Features : null;
                    var (labeledFeatures, labeledLabels) = labeledTarget?.Next() ?? default;
                    losses.Clear();
                    StepPhases.Mark("batch gather (+ views)");
                    var batch = new StepBatch(sourceFeatures, sourceLabels, targetFeatures, labeledFeatures, labeledLabels);
                    var total = method.Step(batch, new StepState(step, progress, learningRate), losses);
                    float totalValue = total.detach().item<float>();
                    if (!float.IsFinite(totalValue) || losses.Values.Values.Any(v => !float.IsFinite(v)))
                    {
                        throw new InvalidOperationException(
                            $"{options.MethodName} diverged at step {step + 1} of {iterations}: losses {Format(losses)}; last finite losses {Format(lastFinite)}. " +
                            $"Lower {nameof(options.LearningRate)} (now {options.LearningRate}) or the method's loss weights, or scale the features.");
                    }
                    lastFinite = losses.Snapshot();
                    StepPhases.Mark("total .item() + divergence check");
                }
                StepPhases.Mark("dispose scope");

                done = step + 1;
                var logged = lastFinite;
                bool stop = false, scored = validation is not null && validation.IsDue(done, iterations);
                if (scored)
                {
                    double score;
                    (score, stop) = validation.Score(method.PredictingNetwork, done);
                    logged = new System.Collections.Generic.Dictionary<string, float>(lastFinite) { [validation.LossName] = (float)score };
                    channel.Info($"{options.MethodName}: step {done}, {validation.LossName} {score:G5} (kept: step {validation.KeptStep}).");
                }
                steps.Add(new TrainingStep(done, learningRate, elapsedBefore + clock.Elapsed.TotalSeconds, logged, losses.SchedulesSnapshot()));
                if (scored && onScored is not null)
                    onScored(done, CopyOnCpu(method.PredictingNetwork), new TrainingHistory(options.MethodName, steps.ToList()) { SelectedStep = done });
                if (options.CheckpointPath is not null && done % options.CheckpointInterval == 0 && done < iterations)
                    Checkpoint.Write(options.CheckpointPath, options, seed, done, method, steps);
                if (done % options.ProgressInterval == 0 || done == iterations)
                {
                    var report = new TrainingProgress(options.MethodName, done, iterations, lastFinite, learningRate, clock.Elapsed);
                    channel.Info(report.ToString());
                    options.ProgressCallback?.Invoke(report);
                }
                StepPhases.Mark("history, checkpoints, progress");
                if (stop)
                {
                    channel.Info($"{options.MethodName}: stopped early at step {done}: {options.Validation.Patience} scores without improvement since step {validation.KeptStep}.");
                    break;
                }
            }
            if (validation is not null && options.Validation.KeepBest)
            {
                if (options.Validation.LastStepCallback is not null)
                {
                    // The last step's model as the caller would get it without KeepBest: completed (AdaBN's statistics,
                    // self-ensembling's teacher), then copied; completing again after the restore gives the kept model.
                    using (no_grad())
                        method.CompleteTraining(source.Features, target.Features);
                    lastStep = Networks.TeacherWeights.Clone(method.Network);
                }
                validation.RestoreBest(method.PredictingNetwork);
                channel.Info($"{options.MethodName}: keeping the weights of step {validation.KeptStep}, chosen by {validation.LossName}.");
            }
            channel.Info($"{options.MethodName}: {done} steps in {clock.Elapsed.TotalSeconds:F1} s ({clock.Elapsed.TotalSeconds / done * 1000:F1} s per 1,000 steps).");
            var history = new TrainingHistory(options.MethodName, steps)
            {
                SelectedStep = validation is not null && options.Validation.KeepBest ? validation.KeptStep : done,
            };
            if (options.TrainingHistoryPath is not null)
            {
                try
                {
                    history.WriteCsv(options.TrainingHistoryPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Checked writable before the first step; this is a failure since (disk full, folder removed).
                    throw new IOException($"{nameof(options.TrainingHistoryPath)}: the training history could not be written to '{options.TrainingHistoryPath}' after training: {e.Message}", e);
                }
                channel.Info($"{options.MethodName}: training history written to {options.TrainingHistoryPath}.");
            }
            return history;
        }

        private static string Format(System.Collections.Generic.IReadOnlyDictionary<string, float> losses) =>
            losses.Count == 0 ? "(none)" : string.Join(", ", losses.Select(kv => $"{kv.Key} {kv.Value}"));

        private static string Format(LossLog losses) => Format(losses.Values);
    }
}
