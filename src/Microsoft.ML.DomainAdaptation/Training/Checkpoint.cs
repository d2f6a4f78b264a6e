using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// A training's state at a step, so that a killed run continues where it was and ends with the same weights as an
    /// uninterrupted one: the trained modules (network and auxiliary modules), the optimizers' state, libtorch's generator
    /// and the history so far. Batch samplers are not stored: they are seeded, and a resumed run replays their draws.
    /// Written to a temporary file in the same folder and renamed, so a crash never leaves a half-written checkpoint.
    /// </summary>
    internal static class Checkpoint
    {
        private const string Magic = "Microsoft.ML.DomainAdaptation checkpoint 1";

        public static void Write(string path, DomainAdaptationOptions options, int seed, int done, AdaptationMethod method, IReadOnlyList<TrainingStep> steps)
        {
            string full = Path.GetFullPath(path);
            string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var file = File.Create(temporary))
                using (var writer = new BinaryWriter(file))
                {
                    writer.Write(Magic);
                    writer.Write(options.MethodName);
                    writer.Write(options.Iterations);
                    writer.Write(options.BatchSize);
                    writer.Write(seed);
                    writer.Write(done);
                    foreach (var module in method.TrainedModules)
                        module.save(writer);
                    writer.Write(method.Optimizers.Count);
                    foreach (var optimizer in method.Optimizers)
                        ((OptimizerHelper)optimizer).save_state_dict(writer);
                    using (var state = torch.get_rng_state())
                    {
                        var bytes = state.data<byte>().ToArray();
                        writer.Write(bytes.Length);
                        writer.Write(bytes);
                    }
                    WriteSteps(writer, steps);
                }
                File.Move(temporary, full, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }
        }

        /// <summary>Restores the state saved at a step into <paramref name="method"/> and libtorch's generator; returns the step and the history so far.</summary>
        public static (int Done, List<TrainingStep> Steps) Read(string path, DomainAdaptationOptions options, int seed, AdaptationMethod method)
        {
            string option = nameof(DomainAdaptationOptions.ResumeFrom);
            if (!File.Exists(path))
                throw new FileNotFoundException($"{option}: no checkpoint at '{path}'.", path);
            try
            {
                using var reader = new BinaryReader(File.OpenRead(path));
                if (reader.ReadString() != Magic)
                    throw new InvalidDataException($"{option}: '{path}' is not a domain adaptation checkpoint.");
                string methodName = reader.ReadString();
                int iterations = reader.ReadInt32(), batchSize = reader.ReadInt32(), savedSeed = reader.ReadInt32(), done = reader.ReadInt32();
                if (methodName != options.MethodName || iterations != options.Iterations || batchSize != options.BatchSize || savedSeed != seed)
                    throw new ArgumentException($"{option}: the checkpoint '{path}' is of {methodName}, {iterations} steps, batch {batchSize}, seed {savedSeed}; " +
                        $"this training is {options.MethodName}, {options.Iterations} steps, batch {options.BatchSize}, seed {seed}. Resume with the options that wrote it.", option);
                if (done < 1 || done > iterations)
                    throw new InvalidDataException($"{option}: the checkpoint '{path}' is corrupt (step {done} of {iterations}).");
                foreach (var module in method.TrainedModules)
                    module.load(reader);
                int optimizers = reader.ReadInt32();
                if (optimizers != method.Optimizers.Count)
                    throw new InvalidDataException($"{option}: the checkpoint '{path}' has {optimizers} optimizers; the method has {method.Optimizers.Count}.");
                foreach (var optimizer in method.Optimizers)
                    ((OptimizerHelper)optimizer).load_state_dict(reader);
                var state = reader.ReadBytes(reader.ReadInt32());
                using (var tensor = torch.tensor(state, dtype: ScalarType.Byte))
                    torch.set_rng_state(tensor);
                return (done, ReadSteps(reader));
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException($"{option}: the checkpoint '{path}' is truncated.", e);
            }
        }

        private static void WriteSteps(BinaryWriter writer, IReadOnlyList<TrainingStep> steps)
        {
            writer.Write(steps.Count);
            foreach (var step in steps)
            {
                writer.Write(step.Iteration);
                writer.Write(step.LearningRate);
                writer.Write(step.ElapsedSeconds);
                writer.Write(step.Losses.Count);
                foreach (var (name, value) in step.Losses)
                {
                    writer.Write(name);
                    writer.Write(value);
                }
                writer.Write(step.Schedules.Count);
                foreach (var (name, value) in step.Schedules)
                {
                    writer.Write(name);
                    writer.Write(value);
                }
            }
        }

        private static List<TrainingStep> ReadSteps(BinaryReader reader)
        {
            int count = reader.ReadInt32();
            var steps = new List<TrainingStep>(count);
            for (int i = 0; i < count; i++)
            {
                int iteration = reader.ReadInt32();
                double learningRate = reader.ReadDouble(), elapsed = reader.ReadDouble();
                var losses = new Dictionary<string, float>();
                for (int n = reader.ReadInt32(); n > 0; n--)
                    losses[reader.ReadString()] = reader.ReadSingle();
                var schedules = new Dictionary<string, double>();
                for (int n = reader.ReadInt32(); n > 0; n--)
                    schedules[reader.ReadString()] = reader.ReadDouble();
                steps.Add(new TrainingStep(iteration, learningRate, elapsed, losses, schedules));
            }
            return steps;
        }
    }
}
