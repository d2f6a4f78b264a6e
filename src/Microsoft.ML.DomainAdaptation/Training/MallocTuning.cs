using System;
using System.Runtime.InteropServices;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>
    /// Keeps glibc's malloc from returning libtorch's per-step buffers to the kernel after every step.
    /// </summary>
    /// <remarks>
    /// <para>libtorch allocates its activations and gradients (megabytes each) with malloc. glibc serves blocks above
    /// <c>M_MMAP_THRESHOLD</c> (128 KiB at start) with a fresh <c>mmap</c> and unmaps them on free; its adaptive threshold only
    /// rises after such a block is freed, one size at a time, and the heap's top is trimmed back above
    /// <c>M_TRIM_THRESHOLD</c>. A training step then maps, page-faults (zeroes) and unmaps tens of megabytes, and the first
    /// training of a process ran 3–3.5× slower than the same training later in the process (issue 18). Setting the three
    /// thresholds once, before the first training, keeps the freed memory in the heap for the next step: the first training
    /// runs at the speed of later ones. The price is that up to <see cref="TrimThreshold"/> of freed memory stays in the process.</para>
    /// <para>Applied once per process, on Linux with glibc only (musl and other systems are left alone), at the first
    /// training or scoring. Switch it off with the environment variable <c>MLNET_DA_MALLOC_TUNING=0</c> or the AppContext
    /// switch <c>Microsoft.ML.DomainAdaptation.DisableMallocTuning</c> (e.g. <c>&lt;RuntimeHostConfigurationOption&gt;</c>
    /// in the project file); glibc's own <c>MALLOC_MMAP_THRESHOLD_</c>, <c>MALLOC_TRIM_THRESHOLD_</c> or <c>MALLOC_TOP_PAD_</c>
    /// variables, when set, are respected and switch it off too.</para>
    /// </remarks>
    internal static class MallocTuning
    {
        /// <summary>The environment variable that switches the tuning off with "0" or "false".</summary>
        public const string EnvironmentVariable = "MLNET_DA_MALLOC_TUNING";

        /// <summary>The AppContext switch that turns the tuning off when true.</summary>
        public const string DisableSwitch = "Microsoft.ML.DomainAdaptation.DisableMallocTuning";

        // glibc malloc.h
        private const int M_TRIM_THRESHOLD = -1;
        private const int M_TOP_PAD = -2;
        private const int M_MMAP_THRESHOLD = -3;

        /// <summary>Blocks below this are served from the heap: glibc's maximum (32 MiB on 64-bit), above any LeNet or MLP step buffer.</summary>
        public const int MmapThreshold = 32 << 20;

        /// <summary>Free memory at the heap's top kept rather than returned to the kernel.</summary>
        public const int TrimThreshold = 512 << 20;

        /// <summary>Extra memory asked of the kernel each time the heap grows, so growth happens in few large steps.</summary>
        public const int TopPad = 64 << 20;

        private static readonly object Gate = new();
        private static bool _done;

        /// <summary>What the first call found or did (for the log and the tests).</summary>
        public static string Status { get; private set; } = "not applied yet";

        /// <summary>Applies the tuning once per process, when it is enabled and the C library is glibc.</summary>
        public static void EnsureConfigured()
        {
            lock (Gate)
            {
                if (_done)
                    return;
                _done = true;
                Status = Configure(IsEnabled(Environment.GetEnvironmentVariable, AppContext.TryGetSwitch(DisableSwitch, out bool disabled) && disabled),
                    IsGlibc(), Mallopt);
            }
        }

        /// <summary>Whether the tuning is on: not switched off, and none of glibc's own malloc variables set.</summary>
        internal static bool IsEnabled(Func<string, string> environment, bool disabledBySwitch)
        {
            if (disabledBySwitch)
                return false;
            string value = environment(EnvironmentVariable)?.Trim();
            if (value is "0" || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) || string.Equals(value, "off", StringComparison.OrdinalIgnoreCase))
                return false;
            return environment("MALLOC_MMAP_THRESHOLD_") is null && environment("MALLOC_TRIM_THRESHOLD_") is null && environment("MALLOC_TOP_PAD_") is null;
        }

        /// <summary>Sets the three thresholds through <paramref name="mallopt"/> when enabled on glibc; returns what it did.</summary>
        internal static string Configure(bool enabled, bool glibc, Func<int, int, int> mallopt)
        {
            if (!enabled)
                return "off (switched off, or glibc's MALLOC_* variables set)";
            if (!glibc)
                return "not applied (not glibc)";
            // mallopt returns 1 on success; setting M_MMAP_THRESHOLD also stops glibc's adaptive threshold.
            bool ok = mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1
                & mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1
                & mallopt(M_TOP_PAD, TopPad) == 1;
            return ok ? "on" : "partly applied (mallopt refused a value)";
        }

        internal static bool IsGlibc()
        {
            if (!OperatingSystem.IsLinux())
                return false;
            try
            {
                return gnu_get_libc_version() != IntPtr.Zero;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }

        private static int Mallopt(int parameter, int value) => mallopt(parameter, value);

        [DllImport("libc.so.6", ExactSpelling = true)]
        private static extern IntPtr gnu_get_libc_version();

        [DllImport("libc.so.6", ExactSpelling = true)]
        private static extern int mallopt(int param, int value);
    }
}
