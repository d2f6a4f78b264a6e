using System.Collections.Generic;
using System.Diagnostics;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// Where a training step's time goes, phase by phase, for the benchmark's <c>--profile-step</c> (issue 18). Off unless
    /// <see cref="Current"/> is set (a static read per mark when off). libtorch runs CPU operations synchronously, so the time
    /// between two marks is the time of the operations between them. One training at a time (the loop is serialised).
    /// </summary>
    internal sealed class StepPhases
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _last;

        /// <summary>The recorder the training loop and the methods report to, or null (off).</summary>
        public static StepPhases Current { get; set; }

        /// <summary>Ticks per phase, summed over the recorded steps, in the order the phases first appeared.</summary>
        public Dictionary<string, long> Ticks { get; } = new();

        /// <summary>Calls per phase (a phase may run several times per step, e.g. MCD's generator updates).</summary>
        public Dictionary<string, int> Calls { get; } = new();

        /// <summary>True while steps count (the benchmark skips warm-up steps).</summary>
        public bool Recording { get; set; }

        /// <summary>Steps recorded.</summary>
        public int Steps { get; set; }

        /// <summary>Charges the time since the previous mark to <paramref name="phase"/> (nothing when profiling is off).</summary>
        public static void Mark(string phase) => Current?.Charge(phase);

        /// <summary>Starts a step's timing: the time since the previous mark (outside any step) is not charged.</summary>
        public static void Start() => Current?.Restart();

        private void Restart() => _last = _clock.ElapsedTicks;

        private void Charge(string phase)
        {
            long now = _clock.ElapsedTicks;
            if (Recording)
            {
                Ticks[phase] = Ticks.GetValueOrDefault(phase) + now - _last;
                Calls[phase] = Calls.GetValueOrDefault(phase) + 1;
            }
            _last = now;
        }

        /// <summary>Milliseconds per step of a phase.</summary>
        public double MsPerStep(string phase) => Steps == 0 ? 0 : Ticks[phase] * 1000.0 / Stopwatch.Frequency / Steps;
    }
}
