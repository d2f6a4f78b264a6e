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
                    // Options validation (ML.NET-style messages naming the option) and unreadable files are the user's to fix.
                    ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException => Fail(ExitCodes.BadInput, inner.Message),
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
            if (!DomainAdaptationMethods.Contains(name))
                throw new CliException(ExitCodes.BadInput, $"Unknown method '{name}'; known methods: auto, {string.Join(", ", DomainAdaptationMethods.Names)}.");
            return DomainAdaptationMethods.CanonicalName(name);
        }

        /// <summary>What <c>--method auto</c> tries (besides source-only, always a candidate) and ranks without target labels.</summary>
        public static readonly string[] AutoCandidates = { "DANN", "MMD", "DeepCORAL", "MCC", "MMD+MCC" };

        public static bool IsAuto(string name) => string.Equals(name, "auto", StringComparison.OrdinalIgnoreCase);

        /// <summary>Creates the folder of an output file.</summary>
        public static string PrepareOutput(string path)
        {
            string full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full));
            return full;
        }
    }
}
