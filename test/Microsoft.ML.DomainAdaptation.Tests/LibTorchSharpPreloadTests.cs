using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Microsoft.ML.DomainAdaptation.Native;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class LibTorchSharpPreloadTests
    {
        /// <summary>TorchSharp's original native library, as restored in the NuGet packages folder (never modified).</summary>
        private static string Original()
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            if (string.IsNullOrEmpty(root))
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string version = typeof(TorchSharp.torch).Assembly.GetName().Version.ToString(3);
            string path = Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", LibTorchSharpElf.LibName);
            Assert.True(File.Exists(path), $"{path} is not restored");
            return path;
        }

        private static long Flags(string path, out ushort flags)
        {
            using var stream = File.OpenRead(path);
            return LibTorchSharpElf.LocateFlags(stream, out flags, out _);
        }

        [Fact]
        public void PatchedCopyDiffersOnlyInTheWeakFlagAndLeavesTheOriginal()
        {
            string original = Original();
            byte[] originalBytes = File.ReadAllBytes(original);
            long offset = Flags(original, out ushort flags);
            Assert.True(offset > 0);
            Assert.Equal(0, flags & LibTorchSharpElf.VER_FLG_WEAK);

            string cache = Path.Combine(Path.GetTempPath(), "da-preload-" + Guid.NewGuid().ToString("N"));
            try
            {
                string patched = LibTorchSharpPreload.PatchedCopy(original, cache, offset, flags);
                string hash = Convert.ToHexString(SHA256.HashData(originalBytes)).ToLowerInvariant();
                Assert.Equal(Path.Combine(cache, hash, LibTorchSharpElf.LibName), patched);
                Assert.Equal(originalBytes, File.ReadAllBytes(original));

                byte[] copy = File.ReadAllBytes(patched);
                Assert.Equal(originalBytes.Length, copy.Length);
                var differing = Enumerable.Range(0, copy.Length).Where(i => copy[i] != originalBytes[i]).ToArray();
                Assert.Equal(new[] { (int)offset }, differing);                  // the low byte of vna_flags only
                Assert.Equal(originalBytes[offset] | LibTorchSharpElf.VER_FLG_WEAK, copy[offset]);
                Assert.True(Flags(patched, out ushort patchedFlags) == offset && (patchedFlags & LibTorchSharpElf.VER_FLG_WEAK) != 0);

                // A damaged cached copy (truncated) is written again.
                File.WriteAllBytes(patched, copy.Take(1000).ToArray());
                Assert.Equal(patched, LibTorchSharpPreload.PatchedCopy(original, cache, offset, flags));
                Assert.Equal(copy, File.ReadAllBytes(patched));
                Assert.Single(Directory.GetFiles(Path.GetDirectoryName(patched)));   // no temporary file left behind
            }
            finally
            {
                Directory.Delete(cache, recursive: true);
            }
        }

        [Fact]
        public void InATestProcessTheBuildOutputIsAlreadyLoadable()
        {
            // The test output's copy was patched at build time (or the system libstdc++ is new enough): nothing to do.
            LibTorchSharpPreload.EnsureLoadable();
            Assert.StartsWith("not needed", LibTorchSharpPreload.Outcome);
        }
    }
}
