using System;
using System.IO;
using System.Text;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Writes a file through a temporary file in the same folder, renamed over the destination only once it is complete:
    /// a crash, a kill or an exception while writing leaves the previous file (if any) untouched and no temporary file.
    /// </summary>
    /// <remarks>
    /// Same folder, so that the rename stays on one file system and replaces the destination in one step. The
    /// temporary name starts with a dot (hidden on Unix) and ends with <c>.tmp</c>; a killed process may leave one
    /// behind, never a partial destination.
    /// </remarks>
    internal static class AtomicFile
    {
        /// <summary>Writes <paramref name="path"/> by calling <paramref name="write"/> with the temporary file's path,
        /// for writers that take a path (ML.NET's <c>Model.Save</c>, zip archives opened for update).</summary>
        public static void Write(string path, Action<string> write)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new ArgumentException("Must be a file path.", nameof(path));
            if (write is null)
                throw new ArgumentNullException(nameof(write));
            string full = Path.GetFullPath(path);
            if (Directory.Exists(full))
                throw new IOException($"Cannot write file '{full}': it is a folder.");
            string temporary = TemporaryPathOf(full);
            try
            {
                write(temporary);
                // On disk before it takes the destination's name: a power loss after the rename must not leave an empty file.
                using (var written = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                    written.Flush(flushToDisk: true);
                File.Move(temporary, full, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }
        }

        /// <summary>Writes <paramref name="path"/> by calling <paramref name="write"/> with a stream on the temporary file.</summary>
        public static void Write(string path, Action<Stream> write)
        {
            if (write is null)
                throw new ArgumentNullException(nameof(write));
            Write(path, temporary =>
            {
                using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                write(stream);
            });
        }

        /// <summary>Writes <paramref name="path"/> as UTF-8 text (no byte-order mark) through <paramref name="write"/>.</summary>
        public static void WriteText(string path, Action<TextWriter> write)
        {
            if (write is null)
                throw new ArgumentNullException(nameof(write));
            Write(path, (Stream stream) =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                write(writer);
            });
        }

        /// <summary>The temporary file of <paramref name="fullPath"/>: hidden, unique, in the same folder.</summary>
        internal static string TemporaryPathOf(string fullPath) =>
            Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }
}
