using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>A report of the training loop, given to <see cref="DomainAdaptationOptions.ProgressCallback"/>.</summary>
    public sealed class TrainingProgress
    {
        internal TrainingProgress(string method, int iteration, int totalIterations, IReadOnlyDictionary<string, float> losses,
            double learningRate, TimeSpan elapsed)
        {
            Method = method;
            Iteration = iteration;
            TotalIterations = totalIterations;
            Losses = losses;
            LearningRate = learningRate;
            Elapsed = elapsed;
        }

        /// <summary>The method being trained, e.g. "DANN".</summary>
        public string Method { get; }

        /// <summary>Steps done so far (1-based: the step just finished).</summary>
        public int Iteration { get; }

        /// <summary>Steps the training will take in all.</summary>
        public int TotalIterations { get; }

        /// <summary>The losses of the step just finished, by name (e.g. "classification", "domain").</summary>
        public IReadOnlyDictionary<string, float> Losses { get; }

        /// <summary>The learning rate of the step just finished.</summary>
        public double LearningRate { get; }

        /// <summary>Time since training started (data reading excluded).</summary>
        public TimeSpan Elapsed { get; }

        /// <inheritdoc />
        public override string ToString()
        {
            var parts = new List<string>();
            foreach (var (name, value) in Losses)
                parts.Add($"{name} {value:F4}");
            return $"{Method} step {Iteration}/{TotalIterations}: {string.Join(", ", parts)}, lr {LearningRate:G4}, {Elapsed.TotalSeconds:F1} s";
        }
    }
}
