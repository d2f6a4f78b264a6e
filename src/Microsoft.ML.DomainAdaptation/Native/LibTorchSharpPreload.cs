using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;

namespace Microsoft.ML.DomainAdaptation.Native
{
    /// <summary>
    /// Makes TorchSharp's native library loadable on Linux hosts whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12, GCC 12)
    /// where no build step patched it: F# Interactive and notebooks (<c>#r "nuget: …"</c>) load TorchSharp straight from
    /// the NuGet cache, which must not be modified. Called once before the library's first TorchSharp use.
    /// </summary>
    /// <remarks>
    /// <para>When needed, a copy of the <c>libLibTorchSharp.so</c> TorchSharp would load, with that version need marked
    /// weak (<c>build/LibTorchSharpPatch.cs</c>, the build's own patch), is written once to a cache folder this library owns,
    /// <c>$XDG_CACHE_HOME/Microsoft.ML.DomainAdaptation/libLibTorchSharp/&lt;SHA-256 of the original&gt;/</c>
    /// (<c>~/.cache</c> without XDG_CACHE_HOME). libtorch's libraries are loaded from where they are, then the patched copy:
    /// TorchSharp's own loader asks for "LibTorchSharp" by name first, and the dynamic loader answers with the library
    /// already loaded under that soname, so TorchSharp uses the copy and never reaches its fallback (which copies natives
    /// into the NuGet cache).</para>
    /// <para>Does nothing off Linux x64, when the system libstdc++ has GLIBCXX_3.4.32 (it exports the symbol
    /// <c>std::ios_base_library_init</c>, the only one of that version TorchSharp uses), when the library TorchSharp would
    /// load is already patched (build outputs, see build/TorchSharpNativeFix.targets), or when switched off: the AppContext
    /// switch <see cref="SwitchName"/> set to false (<c>AppContext.SetSwitch</c>, or <c>RuntimeHostConfigurationOption</c>
    /// in a project), or the environment variable <see cref="EnvironmentVariable"/> set to 0 or false.</para>
    /// </remarks>
    internal static class LibTorchSharpPreload
    {
        /// <summary>AppContext switch; false turns the preload off.</summary>
        public const string SwitchName = "Microsoft.ML.DomainAdaptation.PreloadPatchedLibTorchSharp";

        /// <summary>Environment variable; "0" or "false" turns the preload off.</summary>
        public const string EnvironmentVariable = "MLNET_DA_PRELOAD_LIBTORCHSHARP";

        private const string MarkerSymbol = "_ZSt21ios_base_library_initv"; // std::ios_base_library_init(), GLIBCXX_3.4.32
        private static readonly string[] LibTorchLibraries = { "libc10.so", "libtorch_cpu.so", "libtorch.so" };
        private static readonly object Gate = new object();
        private static string _outcome;

        /// <summary>What the first call did (for diagnostics and tests): a sentence, never null after the call.</summary>
        public static string Outcome => _outcome;

        /// <summary>Runs once per process; later calls return at once. Never throws: if it cannot help, TorchSharp reports the load failure itself.</summary>
        public static void EnsureLoadable()
        {
            if (Volatile.Read(ref _outcome) != null)
                return;
            lock (Gate)
            {
                if (_outcome != null)
                    return;
                string outcome;
                try
                {
                    outcome = Run();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or BadImageFormatException or InvalidOperationException)
                {
                    outcome = "failed: " + e.Message;
                }
                Volatile.Write(ref _outcome, outcome);
            }
        }

        private static string Run()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.ProcessArchitecture != Architecture.X64)
                return "not needed: not Linux x64";
            if (!IsEnabled())
                return "switched off";
            if (SystemLibStdCxxHasMarker())
                return "not needed: the system libstdc++ provides " + LibTorchSharpElf.Needed;

            var torchSharpDirectory = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
            string original = FindLibTorchSharp(torchSharpDirectory);
            if (original == null)
                return "not found: no " + LibTorchSharpElf.LibName + " where TorchSharp looks; left to TorchSharp";
            long offset = FlagsOffset(original, out ushort flags, out string why);
            if (offset < 0)
                return $"not applicable: {original}: {why}";
            if ((flags & LibTorchSharpElf.VER_FLG_WEAK) != 0)
                return "not needed: " + original + " is already patched";

            string libTorch = FindLibTorch(Path.GetDirectoryName(original), torchSharpDirectory);
            if (libTorch == null)
                return "not found: libtorch (e.g. the libtorch-cpu-linux-x64 package) beside " + original + " or in the NuGet packages folder; left to TorchSharp";
            string patched = PatchedCopy(original, CacheRoot(), offset, flags);
            foreach (var name in LibTorchLibraries)
                NativeLibrary.Load(Path.Combine(libTorch, name));
            NativeLibrary.Load(patched);
            return $"loaded {patched} (patched copy of {original}) with libtorch from {libTorch}";
        }

        private static bool IsEnabled()
        {
            if (AppContext.TryGetSwitch(SwitchName, out bool enabled) && !enabled)
                return false;
            string value = Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim();
            return !(value == "0" || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase));
        }

        private static bool SystemLibStdCxxHasMarker()
        {
            if (!NativeLibrary.TryLoad("libstdc++.so.6", out IntPtr handle))
                return false;
            try
            {
                return NativeLibrary.TryGetExport(handle, MarkerSymbol, out _);
            }
            finally
            {
                NativeLibrary.Free(handle);
            }
        }

        /// <summary>The libLibTorchSharp.so the runtime would load: the application's native search folders (its deps.json),
        /// then beside TorchSharp.dll, then TorchSharp's package layout (lib/&lt;tfm&gt;/ → runtimes/linux-x64/native/).</summary>
        private static string FindLibTorchSharp(string torchSharpDirectory)
        {
            var folders = ((AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string) ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
            if (!string.IsNullOrEmpty(torchSharpDirectory))
            {
                folders.Add(torchSharpDirectory);
                folders.Add(Path.Combine(torchSharpDirectory, "runtimes", "linux-x64", "native"));
                folders.Add(Path.Combine(torchSharpDirectory, "..", "..", "runtimes", "linux-x64", "native"));
            }
            return folders.Select(f => Path.Combine(f, LibTorchSharpElf.LibName)).Where(File.Exists).Select(Path.GetFullPath).FirstOrDefault();
        }

        /// <summary>libtorch beside LibTorchSharp (an application's output), else the libtorch-cpu-linux-x64 package of the
        /// version TorchSharp was built against in the packages folder TorchSharp was loaded from (&lt;root&gt;/torchsharp/&lt;version&gt;/lib/&lt;tfm&gt;/).</summary>
        private static string FindLibTorch(string libTorchSharpDirectory, string torchSharpDirectory)
        {
            if (File.Exists(Path.Combine(libTorchSharpDirectory, "libtorch_cpu.so")))
                return libTorchSharpDirectory;
            if (string.IsNullOrEmpty(torchSharpDirectory))
                return null;
            var package = new DirectoryInfo(Path.Combine(torchSharpDirectory, "..", "..", "..", "..", "libtorch-cpu-linux-x64"));
            if (!package.Exists)
                return null;
            string version = LibTorchVersion();
            var candidates = package.GetDirectories()
                .Where(d => version == null || d.Name == version)
                .Select(d => Path.Combine(d.FullName, "runtimes", "linux-x64", "native"))
                .Where(d => File.Exists(Path.Combine(d, "libtorch_cpu.so")))
                .ToList();
            return candidates.Count == 1 ? candidates[0] : null;
        }

        /// <summary>The libtorch package version TorchSharp names (its constant "2.10.0.0" → the package folder "2.10.0"),
        /// read without running TorchSharp's static constructor, which would load the natives.</summary>
        private static string LibTorchVersion()
        {
            var field = typeof(TorchSharp.torch).GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static);
            if (field is not { IsLiteral: true } || field.GetRawConstantValue() is not string text || !Version.TryParse(text, out var v))
                return null;
            return v.Revision > 0 ? v.ToString(4) : v.Build >= 0 ? v.ToString(3) : v.ToString();
        }

        private static string CacheRoot()
        {
            string root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(root) || !Path.IsPathRooted(root))
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "Microsoft.ML.DomainAdaptation", "libLibTorchSharp");
        }

        private static long FlagsOffset(string path, out ushort flags, out string why)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return LibTorchSharpElf.LocateFlags(stream, out flags, out why);
        }

        /// <summary>
        /// The patched copy of <paramref name="original"/> under <paramref name="cacheRoot"/>, in a folder named by the
        /// original's SHA-256 (another TorchSharp version gets its own), written once (temporary name + rename, so concurrent
        /// processes never see half a file) and rewritten if it is not a patched copy of the same size.
        /// </summary>
        internal static string PatchedCopy(string original, string cacheRoot, long flagsOffset, ushort flags)
        {
            string hash;
            using (var stream = File.OpenRead(original))
                hash = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
            string folder = Path.Combine(cacheRoot, hash);
            string patched = Path.Combine(folder, LibTorchSharpElf.LibName);
            if (IsPatchedCopy(patched, original))
                return patched;
            Directory.CreateDirectory(folder);
            try
            {
                LibTorchSharpElf.WritePatchedCopy(original, patched, flagsOffset, flags);
            }
            catch (IOException) when (IsPatchedCopy(patched, original))
            {
                // Another process wrote it first.
            }
            if (!IsPatchedCopy(patched, original))
                throw new IOException($"Could not write a patched copy of '{original}' to '{patched}'.");
            return patched;
        }

        private static bool IsPatchedCopy(string path, string original)
        {
            if (!File.Exists(path) || new FileInfo(path).Length != new FileInfo(original).Length)
                return false;
            return FlagsOffset(path, out ushort flags, out _) >= 0 && (flags & LibTorchSharpElf.VER_FLG_WEAK) != 0;
        }
    }
}
