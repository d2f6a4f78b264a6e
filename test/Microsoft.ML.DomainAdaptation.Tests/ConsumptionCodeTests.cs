using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// Issue 16: the code <c>mlnet-da train</c> writes beside the zip builds as a new console app (against this repository's
    /// library instead of the package) and predicts from raw image files as <c>mlnet-da predict</c> does.
    /// </summary>
    public sealed class ConsumptionCodeTests : IClassFixture<CliData>
    {
        private static readonly string LibraryProject = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(ConsumptionCodeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "MlnetDaPath").Value), "../../../../Microsoft.ML.DomainAdaptation/Microsoft.ML.DomainAdaptation.csproj"));

        private readonly CliData _data;

        public ConsumptionCodeTests(CliData data) => _data = data;

        private static string Dotnet(string folder, params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
            foreach (var argument in arguments)
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start);
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(300_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"dotnet {string.Join(" ", arguments)} did not finish in 300 s.");
            }
            Assert.True(process.ExitCode == 0, $"dotnet {string.Join(" ", arguments)}: exit code {process.ExitCode}\n{output.Result}\n{error.Result}");
            return output.Result;
        }

        [Fact]
        public void GeneratedConsoleAppPredictsFromImageFilesAsPredict()
        {
            string model = _data["consume.zip"], predictions = _data["consume.csv"];
            var train = CliTests.Succeed("train", "--method", "SourceOnly", "--source", _data["images"], "--target", _data["images"],
                "--channels", "1", "--image-size", "24", "--iterations", "40", "--batch", "16", "--output", model);
            string folder = _data["consume.consumption"];
            Assert.Contains(folder, train.Output);
            Assert.Equal(new[] { "ConsumeModel.cs", "ModelConsumer.csproj", "ModelInput.cs", "ModelOutput.cs", "Program.cs" },
                Directory.GetFiles(folder).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal));
            CliTests.Succeed("predict", "--model", model, "--data", _data["images"], "--output", predictions);

            // The package the project names is this repository's library: referenced as the project instead.
            string project = Path.Combine(folder, "ModelConsumer.csproj");
            string text = File.ReadAllText(project);
            Assert.Contains("<PackageReference Include=\"Microsoft.ML.ImageAnalytics\"", text);
            Assert.Contains("<PackageReference Include=\"libtorch-cpu-linux-x64\"", text);
            text = Regex.Replace(text, "<PackageReference Include=\"Microsoft.ML.DomainAdaptation\" Version=\"[^\"]*\" />", $"<ProjectReference Include=\"{LibraryProject}\" />");
            Assert.Contains("<ProjectReference", text);
            File.WriteAllText(project, text);
            // The library is built already (this test project references it): only the console app is built.
            Dotnet(folder, "build", "-c", "Release", "-nodeReuse:false", "-p:BuildProjectReferences=false");
            var lines = Dotnet(folder, "run", "-c", "Release", "--no-build", "--", _data["images"]).Split('\n', StringSplitOptions.RemoveEmptyEntries);

            var expected = File.ReadAllLines(predictions).Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0]);
            Assert.StartsWith("Row,PredictedLabel,P(eight),P(five)", lines[0]);
            Assert.Equal(expected.Count, lines.Length - 1);
            foreach (var cells in lines.Skip(1).Select(l => l.Trim().Split(',')))
            {
                var want = expected[cells[0]]; // Row, Label, PredictedLabel, probabilities
                Assert.Equal(want[2], cells[1]);
                for (int k = 3; k < want.Length; k++)
                    Assert.True(Math.Abs(double.Parse(want[k], System.Globalization.CultureInfo.InvariantCulture) - double.Parse(cells[k - 1], System.Globalization.CultureInfo.InvariantCulture)) <= 1e-5,
                        $"{cells[0]}, class {k - 3}: predict {want[k]}, console app {cells[k - 1]}");
            }
        }
    }
}
