using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML.DomainAdaptation.Samples;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>mlnet-da: the library's training, evaluation, scoring, ONNX export and report as commands.</summary>
    internal static class Program
    {
        public static int Main(string[] args)
        {
            var root = new RootCommand(
                "mlnet-da: deep domain adaptation for ML.NET. Train on labeled source data and unlabeled target data " +
                "(IDX files, image folders or CSV/TSV tables), then evaluate, predict, export to ONNX or write a report.")
            {
                Commands.Train(),
                Commands.Evaluate(),
                Commands.Predict(),
                Commands.ExportOnnx(),
                Commands.Report(),
            };
            return root.Parse(args).Invoke();
        }

        /// <summary>Runs a command body, turning the errors a user can fix into one line on stderr and an exit code.</summary>
        public static int Run(Func<int> body)
        {
            try
            {
                return body();
            }
            catch (CliException e)
            {
                return Fail(e.ExitCode, e.Message);
            }
            catch (Exception e)
            {
                var inner = Innermost(e);
                return inner switch
                {
                    CliException cli => Fail(cli.ExitCode, cli.Message),
                    // Options validation (ML.NET-style messages naming the option), unreadable files and paths the tool may
                    // not use (permissions, a file where a folder is needed, a full disk) are the user's to fix.
                    // (ArgumentOutOfRangeException's second line, "Actual value was …", repeats what the message says.)
                    ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException => Fail(ExitCodes.BadInput, inner.Message.Split('\n')[0]),
                    _ => Fail(ExitCodes.Failed, $"{inner.GetType().Name}: {inner.Message}"),
                };
            }
        }

        private static Exception Innermost(Exception e)
        {
            while (e is TargetInvocationException or AggregateException && e.InnerException != null)
                e = e.InnerException;
            while (e.InnerException != null && e is not CliException && e.Message.Contains(e.InnerException.Message))
                e = e.InnerException;
            return e;
        }

        private static int Fail(int code, string message)
        {
            Console.Error.WriteLine($"mlnet-da: error: {message}");
            return code;
        }

        /// <summary>The method's name as the table spells it (names are case-insensitive on the command line).</summary>
        public static string MethodName(string name)
        {
            if (!DigitsMethods.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.BadInput, $"Unknown method '{name}'; known methods: auto, {string.Join(", ", DigitsMethods.Names)}.");
            return DigitsMethods.Names.First(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>What <c>--method auto</c> tries (besides source-only, always a candidate) and ranks without target labels.</summary>
        public static readonly string[] AutoCandidates = { "DANN", "MMD", "DeepCORAL", "MCC", "MMD+MCC" };

        public static bool IsAuto(string name) => string.Equals(name, "auto", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// Checks, before any work, that the output file of <paramref name="option"/> can be written: not a folder, its
        /// folder created and writable. Returns the full path. The file itself is written later through
        /// <see cref="AtomicFile"/>, so a failure then leaves any previous file as it was.
        /// </summary>
        public static string CheckOutputFile(string path, string option)
        {
            string full = FullPath(path, option);
            if (Directory.Exists(full))
                throw new CliException(ExitCodes.BadInput, $"{option}: '{path}' is a folder; give the path of the file to write.");
            CheckWritableFolder(Path.GetDirectoryName(full), option, path);
            return full;
        }

        /// <summary>Checks, before any work, that the output folder of <paramref name="option"/> can be created and written into.</summary>
        public static string CheckOutputFolder(string path, string option)
        {
            string full = FullPath(path, option);
            if (File.Exists(full))
                throw new CliException(ExitCodes.BadInput, $"{option}: '{path}' is a file; give a folder to write into.");
            CheckWritableFolder(full, option, path);
            return full;
        }

        private static string FullPath(string path, string option)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new CliException(ExitCodes.BadInput, $"{option}: a path is required.");
            try
            {
                return Path.GetFullPath(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new CliException(ExitCodes.BadInput, $"{option}: '{path}' is not a valid path ({e.Message}).", e);
            }
        }

        /// <summary>Creates the folder and a (deleted) probe file in it: the only sure test of write access.</summary>
        private static void CheckWritableFolder(string folder, string option, string path)
        {
            try
            {
                Directory.CreateDirectory(folder);
                using (new FileStream(AtomicFile.TemporaryPathOf(Path.Combine(folder, "probe")), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                {
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.BadInput, $"{option}: cannot write '{path}': folder '{folder}' cannot be created or written into ({e.Message}).", e);
            }
        }
    }
}
