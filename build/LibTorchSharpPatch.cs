// The one implementation of the libLibTorchSharp.so patch (see TorchSharpNativeFix.targets for why it is needed).
// Compiled twice: by MSBuild's RoslynCodeTaskFactory for build/TorchSharpNativeFix.targets (netstandard2.0, the task class
// below), and into the library with DOMAIN_ADAPTATION_LIBRARY defined (the ELF helper only), where
// Native/LibTorchSharpPreload.cs patches a copy in a cache folder at run time for hosts such as F# Interactive.
// So the code avoids APIs newer than netstandard2.0 (EnumerationOptions, File.Move(overwrite)), and with
// RoslynCodeTaskFactory's Type="Class" the using directives must be written here.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;

#if DOMAIN_ADAPTATION_LIBRARY
namespace Microsoft.ML.DomainAdaptation.Native
{
#else
public class DomainAdaptationPatchLibTorchSharpTask : Microsoft.Build.Utilities.Task
{
    // libLibTorchSharp.so files to check and patch (found by MSBuild globs in the targets).
    [Microsoft.Build.Framework.Required]
    public string[] Files { get; set; }

    // Patch even if the host libstdc++ already provides GLIBCXX_3.4.32.
    public bool Force { get; set; }

    public override bool Execute()
    {
        var targets = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Files ?? new string[0])
        {
            if (string.IsNullOrEmpty(f) || !File.Exists(f)) continue;
            var full = Path.GetFullPath(f);
            if (seen.Add(full)) targets.Add(full);
        }

        // First read the ELF headers only. Files that are already weak or not applicable need no further work,
        // and the libstdc++ probe is skipped when nothing is left to patch.
        var pending = new List<KeyValuePair<string, long>>();
        var pendingFlags = new List<ushort>();
        foreach (var t in targets)
        {
            try
            {
                ushort flags; string why; long offset;
                using (var fs = new FileStream(t, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                    offset = LibTorchSharpElf.LocateFlags(fs, out flags, out why);
                if (offset < 0) Skip(t, why);
                else if ((flags & LibTorchSharpElf.VER_FLG_WEAK) != 0)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                        "TorchSharpNativeFix: " + t + " already has " + LibTorchSharpElf.Needed + " marked weak.");
                else { pending.Add(new KeyValuePair<string, long>(t, offset)); pendingFlags.Add(flags); }
            }
            catch (Exception ex) { Log.LogWarning("TorchSharpNativeFix: could not read " + t + ": " + ex.Message); }
        }
        if (pending.Count == 0) return true;

        if (!Force)
        {
            string libstdcxx = FindSystemLibStdCxx();
            if (libstdcxx == null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                    "TorchSharpNativeFix: could not locate the system libstdc++.so.6; not patching " + LibTorchSharpElf.LibName + ".");
                return true;
            }
            if (FileContainsAscii(libstdcxx, LibTorchSharpElf.Needed))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                    "TorchSharpNativeFix: " + libstdcxx + " provides " + LibTorchSharpElf.Needed + "; " + LibTorchSharpElf.LibName + " needs no patch.");
                return true;
            }
        }

        for (int i = 0; i < pending.Count; i++)
        {
            try
            {
                // The target may be a hard link or symlink into the NuGet cache (CreateHardLinksForCopyLocalIfPossible etc.):
                // the patched copy replaces the directory entry, never the file it points to.
                LibTorchSharpElf.WritePatchedCopy(pending[i].Key, pending[i].Key, pending[i].Value, pendingFlags[i]);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    "TorchSharpNativeFix: patched " + pending[i].Key + " (marked " + LibTorchSharpElf.Needed + " as VER_FLG_WEAK; it is only the unused std::ios_base_library_init marker).");
            }
            catch (Exception ex) { Log.LogWarning("TorchSharpNativeFix: failed to patch " + pending[i].Key + ": " + ex.Message); }
        }
        return !Log.HasLoggedErrors;
    }

    // Find the x86-64 libstdc++.so.6 that the dynamic loader would pick, using the ldconfig cache.
    static string FindSystemLibStdCxx()
    {
        foreach (var exe in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig" })
        {
            if (exe[0] == '/' && !File.Exists(exe)) continue;
            string output;
            try
            {
                var psi = new ProcessStartInfo(exe, "-p")
                {
                    UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, CreateNoWindow = true,
                };
                psi.EnvironmentVariables["LC_ALL"] = "C";
                using (var p = Process.Start(psi))
                {
                    p.ErrorDataReceived += (s, e) => { };
                    p.BeginErrorReadLine();
                    output = p.StandardOutput.ReadToEnd();
                    if (!p.WaitForExit(10000)) { try { p.Kill(); } catch { } continue; }
                }
            }
            catch { continue; }

            // Lines look like: "\tlibstdc++.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libstdc++.so.6"
            foreach (var raw in output.Split('\n'))
            {
                var line = raw.Trim();
                if (!line.StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) || line.IndexOf("x86-64", StringComparison.Ordinal) < 0) continue;
                int arrow = line.IndexOf("=>", StringComparison.Ordinal);
                if (arrow < 0) continue;
                var path = line.Substring(arrow + 2).Trim();
                if (File.Exists(path)) return path;
            }
            break;   // ldconfig ran but listed no x86-64 libstdc++, so try the well-known folders.
        }
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64" })
        {
            var path = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    static bool FileContainsAscii(string path, string text)
    {
        byte[] data = File.ReadAllBytes(path);   // about 2 MB, read at most once per build.
        byte[] pat = Encoding.ASCII.GetBytes(text);
        for (int i = 0; i <= data.Length - pat.Length; i++)
        {
            if (data[i] != pat[0]) continue;
            int j = 1;
            while (j < pat.Length && data[i + j] == pat[j]) j++;
            if (j == pat.Length) return true;
        }
        return false;
    }

    void Skip(string path, string why)
    {
        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
            "TorchSharpNativeFix: left " + path + " unchanged: " + why + ".");
    }
}
#endif

/// <summary>Finds and flips the weak flag of libLibTorchSharp.so's GLIBCXX_3.4.32 version need (ELF64, little-endian).</summary>
internal static class LibTorchSharpElf
{
    public const string LibName = "libLibTorchSharp.so";
    public const string Needed = "GLIBCXX_3.4.32";
    const uint SHT_GNU_verneed = 0x6ffffffe;
    public const ushort VER_FLG_WEAK = 0x2;

    static byte[] ReadAt(FileStream fs, long offset, long count)
    {
        if (offset < 0 || count < 0 || offset + count > fs.Length || count > int.MaxValue) return null;
        var buf = new byte[count];
        fs.Position = offset;
        int read = 0;
        while (read < count)
        {
            int n = fs.Read(buf, read, (int)count - read);
            if (n <= 0) return null;
            read += n;
        }
        return buf;
    }

    static ushort U16(byte[] b, long o) { return (ushort)(b[o] | b[o + 1] << 8); }
    static uint U32(byte[] b, long o) { return (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24); }
    static ulong U64(byte[] b, long o) { return U32(b, o) | (ulong)U32(b, o + 4) << 32; }

    /// <summary>The file offset of vna_flags for the GLIBCXX_3.4.32 Vernaux entry, or −1 with a reason for skipping the file.</summary>
    public static long LocateFlags(FileStream fs, out ushort flags, out string why)
    {
        flags = 0; why = null;
        var eh = ReadAt(fs, 0, 64);
        if (eh == null || eh[0] != 0x7f || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F') { why = "not an ELF file"; return -1; }
        if (eh[4] != 2 || eh[5] != 1) { why = "not ELF64 little-endian"; return -1; }

        long shoff = (long)U64(eh, 0x28);
        int shentsize = U16(eh, 0x3A);
        long shnum = U16(eh, 0x3C);
        if (shoff <= 0 || shentsize < 64) { why = "no section headers"; return -1; }
        if (shnum == 0)   // Extended numbering: the real count is in section 0's sh_size.
        {
            var sh0 = ReadAt(fs, shoff, 64);
            if (sh0 == null) { why = "bad section header table"; return -1; }
            shnum = (long)U64(sh0, 32);
        }
        if (shnum <= 0 || shnum > 65536) { why = "bad section count"; return -1; }
        var sht = ReadAt(fs, shoff, shnum * shentsize);
        if (sht == null) { why = "truncated section header table"; return -1; }

        for (long i = 0; i < shnum; i++)
        {
            long h = i * shentsize;
            if (U32(sht, h + 4) != SHT_GNU_verneed) continue;

            long vnOff = (long)U64(sht, h + 24), vnSize = (long)U64(sht, h + 32);
            uint link = U32(sht, h + 40), vnNum = U32(sht, h + 44);
            if (link >= shnum) { why = "verneed sh_link out of range"; return -1; }
            long sh = link * (long)shentsize;
            var vn = ReadAt(fs, vnOff, vnSize);
            var str = ReadAt(fs, (long)U64(sht, sh + 24), (long)U64(sht, sh + 32));
            if (vn == null || str == null) { why = "truncated .gnu.version_r or .dynstr"; return -1; }

            // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 (16 bytes).
            // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32 (16 bytes).
            long pos = 0;
            for (uint n = 0; n < Math.Max(vnNum, 1u) && n < 4096; n++)
            {
                if (pos < 0 || pos + 16 > vn.Length) break;
                int cnt = U16(vn, pos + 2);
                long aux = pos + U32(vn, pos + 8);
                for (int k = 0; k < cnt; k++)
                {
                    if (aux < 0 || aux + 16 > vn.Length) break;
                    long name = U32(vn, aux + 8);
                    if (name < str.Length)
                    {
                        int end = (int)name;
                        while (end < str.Length && str[end] != 0) end++;
                        if (Encoding.ASCII.GetString(str, (int)name, end - (int)name) == Needed)
                        {
                            flags = U16(vn, aux + 4);
                            return vnOff + aux + 4;
                        }
                    }
                    uint next = U32(vn, aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = U32(vn, pos + 12);
                if (vnNext == 0) break;
                pos += vnNext;
            }
            why = "no " + Needed + " version requirement";
            return -1;
        }
        why = "no .gnu.version_r (SHT_GNU_verneed) section";
        return -1;
    }

    // The write time of the file the path points to. GetLastWriteTimeUtc returns the time of a symlink itself,
    // so follow it with File.ResolveLinkTarget. That method exists at run time (.NET 6+), but not in netstandard2.0,
    // so it is called through reflection.
    static DateTime TargetWriteTimeUtc(string path)
    {
        try
        {
            var m = typeof(File).GetMethod("ResolveLinkTarget", new[] { typeof(string), typeof(bool) });
            var target = m == null ? null : m.Invoke(null, new object[] { path, true }) as FileSystemInfo;
            if (target != null && target.Exists) return target.LastWriteTimeUtc;
        }
        catch { }
        return File.GetLastWriteTimeUtc(path);
    }

    /// <summary>
    /// Writes <paramref name="source"/> with the version need at <paramref name="flagsOffset"/> marked weak to
    /// <paramref name="destination"/> (which may be <paramref name="source"/> itself): a temporary copy in the destination's
    /// folder is patched and renamed over it, so a reader never sees half a file and a hard link or symlink at the
    /// destination (into the NuGet cache) is replaced, not written through. The original timestamp is kept, so MSBuild's
    /// incremental copy (SkipUnchangedFiles) treats a patched output as up to date and does not copy the original back.
    /// </summary>
    public static void WritePatchedCopy(string source, string destination, long flagsOffset, ushort flags)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(destination));
        var tmp = Path.Combine(dir, "." + LibName + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            var mtime = TargetWriteTimeUtc(source);
            File.Copy(source, tmp, true);
            using (var fs = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                ushort nf = (ushort)(flags | VER_FLG_WEAK);
                fs.Position = flagsOffset;
                fs.WriteByte((byte)(nf & 0xff));
                fs.WriteByte((byte)(nf >> 8));
            }
            File.SetLastWriteTimeUtc(tmp, mtime);
            if (File.Exists(destination))
                File.Replace(tmp, destination, null);   // rename(2) on Unix
            else
                File.Move(tmp, destination);
        }
        finally
        {
            if (File.Exists(tmp)) { try { File.Delete(tmp); } catch { } }
        }
    }
}
#if DOMAIN_ADAPTATION_LIBRARY
}
#endif
