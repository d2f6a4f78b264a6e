using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// How many threads libtorch trains with when <see cref="DomainAdaptationOptions.NumberOfThreads"/> is not set, and how
    /// its OpenMP threads wait.
    /// </summary>
    /// <remarks>
    /// <para><b>Thread count.</b> A small network's step is made of many short operations; splitting each over threads costs
    /// more in fork/join than it saves, and on a shared machine a descheduled partner thread stalls every operation. A network
    /// without convolutions whose forward pass over one batch costs fewer than <see cref="SmallNetworkMultiplyAdds"/>
    /// multiply-adds (the 512-d MLP of the benchmark at batch 64: 11 M) trains on one thread; so does a convolutional network whose
    /// backbone says its convolutions cost fewer than <see cref="SmallConvolutionalMultiplyAdds"/> per batch (LeNet at 28 × 28, batch
    /// 64: 190 M). Measured for LeNet (session 9, README "Benchmark"): a second thread gained 8–20 % on a quiet 2-core machine
    /// but was 1.39–1.43× slower than one thread with one other busy process beside it. Others train on libtorch's default (one per
    /// core). The count is set for the training and put back afterwards (libtorch's setting is process-wide).</para>
    /// <para><b>Wait policy.</b> libtorch's OpenMP runtime (GNU libgomp) lets a thread that reaches a barrier spin for a while
    /// before it sleeps. With one other busy process on a 2-core machine the spinning thread holds a core its partner needs, and
    /// two threads ran 4× slower than one (issue 18). Before libtorch is first loaded, the library sets
    /// <c>OMP_WAIT_POLICY=PASSIVE</c> (waiting threads sleep at once), unless the process already set <c>OMP_WAIT_POLICY</c> or
    /// <c>GOMP_SPINCOUNT</c>, or <c>MLNET_DA_OMP_PASSIVE=0</c> switches it off. Once libgomp is loaded (the application used
    /// TorchSharp before its first training) the variable has no effect and is left alone. Linux with glibc only.</para>
    /// </remarks>
    internal static class ThreadPolicy
    {
        /// <summary>Below this many multiply-adds per batch forward pass, a network without convolutions trains on one thread.</summary>
        public const long SmallNetworkMultiplyAdds = 32_000_000;

        /// <summary>The environment variable that switches the passive wait policy off with "0" or "false".</summary>
        public const string PassiveEnvironmentVariable = "MLNET_DA_OMP_PASSIVE";

        private static readonly object Gate = new();
        private static bool _waitPolicyDone;

        /// <summary>What the wait policy step found or did (for the log).</summary>
        public static string WaitPolicyStatus { get; private set; } = "not applied yet";

        /// <summary>Below this many multiply-adds per batch forward pass (convolutions and linear layers), a convolutional network
        /// whose backbone states its convolutions' cost trains on one thread.</summary>
        public const long SmallConvolutionalMultiplyAdds = 512_000_000;

        /// <summary>
        /// The threads to train <paramref name="network"/> with when the option is unset: 1 for a small network, else null
        /// (libtorch's default). A network with convolutions counts as small only when <paramref name="convolutionMultiplyAddsPerRow"/>
        /// (the backbone's <see cref="Networks.BackboneSpec.ConvolutionMultiplyAddsPerRow"/>) is given and the batch stays under
        /// <see cref="SmallConvolutionalMultiplyAdds"/>.
        /// </summary>
        public static int? DefaultThreads(nn.Module network, int batchRows, long? convolutionMultiplyAddsPerRow = null)
        {
            long multiplyAdds = 0;
            bool convolutions = false;
            foreach (var (_, module) in network.named_modules())
            {
                if (module is TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Conv3d)
                    convolutions = true;
                if (module is TorchSharp.Modules.Linear linear)
                    multiplyAdds += linear.weight.numel() * batchRows;
            }
            if (!convolutions)
                return multiplyAdds < SmallNetworkMultiplyAdds ? 1 : null;
            if (convolutionMultiplyAddsPerRow is not long perRow)
                return null;
            return multiplyAdds + perRow * batchRows < SmallConvolutionalMultiplyAdds ? 1 : null;
        }

        /// <summary>Sets the passive wait policy once per process, when it is safe (see the remarks).</summary>
        public static void EnsureWaitPolicy()
        {
            lock (Gate)
            {
                if (_waitPolicyDone)
                    return;
                _waitPolicyDone = true;
                WaitPolicyStatus = ApplyWaitPolicy(Environment.GetEnvironmentVariable, MallocTuning.IsGlibc(), OpenMpLoaded, SetEnvironment);
            }
        }

        internal static string ApplyWaitPolicy(Func<string, string> environment, bool glibc, Func<bool> openMpLoaded, Action<string, string> setEnvironment)
        {
            string switched = environment(PassiveEnvironmentVariable)?.Trim();
            if (switched is "0" || string.Equals(switched, "false", StringComparison.OrdinalIgnoreCase))
                return "off (switched off)";
            if (environment("OMP_WAIT_POLICY") is not null || environment("GOMP_SPINCOUNT") is not null)
                return "left to the process's OMP_WAIT_POLICY / GOMP_SPINCOUNT";
            if (!glibc)
                return "not applied (not glibc)";
            if (openMpLoaded())
                return "not applied (libtorch's OpenMP runtime was loaded before the first training)";
            setEnvironment("OMP_WAIT_POLICY", "PASSIVE");
            return "passive";
        }

        /// <summary>
        /// Whether libgomp's idle threads spin without end under <paramref name="environment"/>: <c>GOMP_SPINCOUNT=INFINITE</c>
        /// (or <c>INFINITY</c>), or <c>OMP_WAIT_POLICY=ACTIVE</c> with no spin count set (libgomp then spins 30 billion times).
        /// Once libtorch has run a parallel operation such a thread holds a core for the life of the process: OnnxRuntime scoring
        /// in that process ran at half its rows/s (README, benchmark section, session 17).
        /// </summary>
        internal static bool IdleThreadsSpinForever(Func<string, string> environment)
        {
            string spinCount = environment("GOMP_SPINCOUNT")?.Trim();
            if (!string.IsNullOrEmpty(spinCount))
                return spinCount.Equals("INFINITE", StringComparison.OrdinalIgnoreCase) || spinCount.Equals("INFINITY", StringComparison.OrdinalIgnoreCase);
            return string.Equals(environment("OMP_WAIT_POLICY")?.Trim(), "ACTIVE", StringComparison.OrdinalIgnoreCase);
        }

        private static bool OpenMpLoaded()
        {
            try
            {
                return File.ReadLines("/proc/self/maps").Any(l => l.Contains("libgomp", StringComparison.Ordinal) || l.Contains("libiomp", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                return true; // cannot tell: leave it alone
            }
        }

        private static void SetEnvironment(string name, string value)
        {
            // The native environment, which libgomp reads when it loads (.NET's Environment.SetEnvironmentVariable does not change it on Unix).
            setenv(name, value, 0);
            Environment.SetEnvironmentVariable(name, value);
        }

        [DllImport("libc.so.6", ExactSpelling = true)]
        private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
    }
}
