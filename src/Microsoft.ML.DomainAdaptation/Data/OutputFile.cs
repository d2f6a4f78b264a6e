using System;
using System.IO;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>Files the library writes: checked before long work, written whole or not at all.</summary>
    internal static class OutputFile
    {
        /// <summary>
        /// Writes through <paramref name="write"/> into a temporary file in the folder of <paramref name="path"/> (created if needed),
        /// then moves it over <paramref name="path"/>: a crash or a failed write never leaves a half-written file there.
        /// </summary>
        public static void Write(string path, Action<Stream> write)
        {
            string full = Path.GetFullPath(path);
            string temporary = TemporaryBeside(full);
            try
            {
                using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                    write(file);
                File.Move(temporary, full, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }
        }

        /// <summary>A new name in the folder of <paramref name="full"/> (created if needed), so that the final move is a rename.</summary>
        private static string TemporaryBeside(string full)
        {
            string folder = Path.GetDirectoryName(full)!;
            Directory.CreateDirectory(folder);
            return Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        }

        /// <summary>
        /// Checks, before any training, that a file can be written at <paramref name="path"/> (the value of the option
        /// <paramref name="optionName"/>): its folder exists or can be made, it accepts a new file, and the path is not a folder.
        /// Throws an <see cref="ArgumentException"/> naming the option; the folder is created, no file is left behind.
        /// </summary>
        public static void CheckWritable(string path, string optionName)
        {
            string full;
            try
            {
                full = Path.GetFullPath(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new ArgumentException($"{optionName} '{path}' is not a valid file path: {e.Message}", optionName, e);
            }
            if (Directory.Exists(full))
                throw new ArgumentException($"{optionName} '{path}' is a folder; give a file path.", optionName);
            try
            {
                // The real write's first steps (folder, a new file beside the target), on a probe deleted when closed.
                using (new FileStream(TemporaryBeside(full), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                {
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"{optionName} '{path}' cannot be written: {e.Message}", optionName, e);
            }
        }
    }
}
