using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// Model Builder-style code to use a model zip from an application: <c>ModelInput</c> (the chain's raw input columns),
    /// <c>ModelOutput</c> (the class name and the probabilities), <c>ConsumeModel.Predict</c> (one shared prediction engine)
    /// and a console <c>Program</c> that scores image files, an IDX file or a table, in a small project referencing
    /// Microsoft.ML, Microsoft.ML.DomainAdaptation, the libtorch of this platform and, for image folders,
    /// Microsoft.ML.ImageAnalytics. Written by <c>mlnet-da train</c> to <c>&lt;model&gt;.consumption/</c>.
    /// </summary>
    internal static class ConsumptionCode
    {
        public const string ProjectName = "ModelConsumer";

        /// <summary>model.zip → model.consumption, in the model's folder.</summary>
        public static string FolderOf(string modelPath) =>
            Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)), Path.GetFileNameWithoutExtension(modelPath) + ".consumption");

        /// <summary>Writes the project into <paramref name="folder"/> whole: built in a temporary folder beside it, then moved in place.</summary>
        public static void Write(string folder, string modelPath, DataDescription description)
        {
            string temporary = folder + ".tmp-" + Guid.NewGuid().ToString("N");
            Directory.CreateDirectory(temporary);
            try
            {
                foreach (var (name, text) in Files(modelPath, description))
                    File.WriteAllText(Path.Combine(temporary, name), text);
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
                Directory.Move(temporary, folder);
            }
            finally
            {
                if (Directory.Exists(temporary))
                    Directory.Delete(temporary, recursive: true);
            }
        }

        private static string Version(string key) => typeof(ConsumptionCode).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value;

        private static IEnumerable<(string Name, string Text)> Files(string modelPath, DataDescription description)
        {
            string input = description.Input;
            yield return (ProjectName + ".csproj", Project(input == "folder"));
            yield return ("ModelInput.cs", ModelInput(description));
            yield return ("ModelOutput.cs", ModelOutput(description));
            yield return ("ConsumeModel.cs", ConsumeModel(Path.GetFullPath(modelPath)));
            yield return ("Program.cs", Program(description));
        }

        private static string Project(bool images) => $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <!-- Written by mlnet-da train: scores rows with the model zip (dotnet run, then the inputs after a double dash). -->
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>disable</Nullable>
    <ImplicitUsings>disable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include=""Microsoft.ML"" Version=""{Version("MicrosoftMLVersion")}"" />
    <PackageReference Include=""Microsoft.ML.DomainAdaptation"" Version=""{Version("DomainAdaptationVersion")}"" />
{(images ? $"    <!-- LoadImages, ResizeImages, ExtractPixels at the head of the model. -->\n    <PackageReference Include=\"Microsoft.ML.ImageAnalytics\" Version=\"{Version("MicrosoftMLVersion")}\" />\n" : "")}    <!-- libtorch for this platform: libtorch-cpu-linux-x64, libtorch-cpu-win-x64 or libtorch-cpu-osx-arm64. -->
    <PackageReference Include=""libtorch-cpu-linux-x64"" Version=""{Version("LibTorchVersion")}"" />
  </ItemGroup>
</Project>
";

        private static string ModelInput(DataDescription description)
        {
            var text = new StringBuilder(Header).Append(@"
/// <summary>One row as the model reads it (its raw input columns).</summary>
public sealed class ModelInput
{
");
            switch (description.Input)
            {
                case "folder":
                    text.Append($@"    /// <summary>Path of an image file (any size; the model resizes it to {description.Shape[2]} × {description.Shape[1]}).</summary>
    [ColumnName(""{Preprocessing.ImagePathColumn}"")]
    public string ImagePath {{ get; set; }}
");
                    break;
                case "idx":
                    text.Append($@"    /// <summary>Pixels 0–255 of a {description.InputShape[0]} × {description.InputShape[1]} grey image, row by row (an IDX file's item).</summary>
    [ColumnName(""{Preprocessing.ImageColumn}""), VectorType({description.InputShape[0]}, {description.InputShape[1]})]
    public float[] Image {{ get; set; }}
");
                    break;
                default:
                    foreach (var (column, property) in TableProperties(description))
                        text.Append($"    [ColumnName({Literal(column)})]\n    public float {property} {{ get; set; }}\n\n");
                    text.Length -= 1;
                    break;
            }
            return text.Append("}\n").ToString();
        }

        private static string ModelOutput(DataDescription description) => new StringBuilder(Header).Append($@"
/// <summary>The model's answer for one row.</summary>
public sealed class ModelOutput
{{
    /// <summary>The predicted class.</summary>
    [ColumnName(""PredictedLabel"")]
    public string PredictedLabel {{ get; set; }}

    /// <summary>The probability of each class, in the order of <see cref=""ClassNames""/>.</summary>
    [ColumnName(""Score"")]
    public float[] Score {{ get; set; }}

    /// <summary>The classes, in the order of <see cref=""Score""/>.</summary>
    public static readonly string[] ClassNames = {{ {string.Join(", ", description.ClassNames.Select(Literal))} }};
}}
").ToString();

        private static string ConsumeModel(string modelPath) => new StringBuilder(Header).Append($@"
/// <summary>Predictions with the model zip written by mlnet-da train.</summary>
public static class ConsumeModel
{{
    /// <summary>The model zip; change it when you move the model.</summary>
    public static string ModelPath = {Literal(modelPath)};

    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> Engine = new Lazy<PredictionEngine<ModelInput, ModelOutput>>(() =>
    {{
        var mlContext = new MLContext();
        ITransformer model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }});

    /// <summary>The predicted class and probabilities of one row (one engine, not thread-safe: use a PredictionEnginePool in a service).</summary>
    public static ModelOutput Predict(ModelInput input) => Engine.Value.Predict(input);
}}
").ToString();

        private static string Program(DataDescription description)
        {
            string usage, read, fields = "";
            switch (description.Input)
            {
                case "folder":
                    usage = "image files or folders of them";
                    read = @"        foreach (var argument in args)
        {
            var files = Directory.Exists(argument)
                ? Directory.EnumerateFiles(argument, ""*"", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToArray()
                : new[] { argument };
            foreach (var file in files)
                yield return (file, new ModelInput { ImagePath = Path.GetFullPath(file) });
        }";
                    break;
                case "idx":
                    usage = $"IDX image files ({description.InputShape[0]} × {description.InputShape[1]} pixels)";
                    read = @"        foreach (var argument in args)
        {
            var images = IdxFile.Read(argument);
            for (int i = 0; i < images.Count; i++)
                yield return ((i + 1).ToString(CultureInfo.InvariantCulture), new ModelInput { Image = images.Values.AsSpan(i * images.ItemSize, images.ItemSize).ToArray() });
        }";
                    break;
                default:
                    usage = "CSV or TSV tables with a header naming the columns";
                    fields = $"    /// <summary>The columns the model reads (ModelInput's).</summary>\n    private static readonly string[] ModelColumns = {{ {string.Join(", ", description.FeatureColumns.Select(Literal))} }};\n\n";
                    read = @"        var mlContext = new MLContext();
        foreach (var argument in args)
        {
            // The model's columns by name, wherever they are in the table.
            char separator = argument.EndsWith("".tsv"", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
            var header = File.ReadLines(argument).First().Split(separator).Select(h => h.Trim().Trim('""')).ToList();
            var columns = ModelColumns.Select(name => new TextLoader.Column(name, DataKind.Single, header.IndexOf(name) >= 0 ? header.IndexOf(name)
                    : throw new InvalidDataException($""'{argument}' has no column '{name}'."")))
                .ToArray();
            var rows = mlContext.Data.LoadFromTextFile(argument, columns, separator, hasHeader: true, allowQuoting: true);
            int row = 0;
            foreach (var input in mlContext.Data.CreateEnumerable<ModelInput>(rows, reuseRowObject: false))
                yield return ((++row).ToString(CultureInfo.InvariantCulture), input);
        }";
                    break;
            }
            return new StringBuilder(Header).Append($@"
/// <summary>Scores {usage} and prints one CSV line per row: the row, the predicted class, each class's probability.</summary>
public static class Program
{{
{fields}    public static int Main(string[] args)
    {{
        if (args.Length == 0)
        {{
            Console.Error.WriteLine(""usage: dotnet run -- <{usage}>"");
            return 1;
        }}
        Console.WriteLine(""Row,PredictedLabel,"" + string.Join("","", ModelOutput.ClassNames.Select(c => ""P("" + c + "")"")));
        foreach (var (row, input) in Rows(args))
        {{
            var output = ConsumeModel.Predict(input);
            Console.WriteLine(row + "","" + output.PredictedLabel + "","" + string.Join("","", output.Score.Select(p => p.ToString(""R"", CultureInfo.InvariantCulture))));
        }}
        return 0;
    }}

    private static IEnumerable<(string Row, ModelInput Input)> Rows(string[] args)
    {{
{read}
    }}
}}
").ToString();
        }

        private const string Header = @"// Written by mlnet-da train (Microsoft.ML.DomainAdaptation).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
";

        /// <summary>Each table feature column and a C# property name for it (letters, digits, underscores; unique).</summary>
        private static IEnumerable<(string Column, string Property)> TableProperties(DataDescription description)
        {
            var used = new HashSet<string>(StringComparer.Ordinal) { "ModelInput" };
            foreach (var column in description.FeatureColumns)
            {
                var name = new string(column.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
                name = name.Length == 0 || !char.IsLetter(name[0]) ? "C" + name : char.ToUpperInvariant(name[0]) + name.Substring(1);
                string unique = name;
                for (int k = 2; !used.Add(unique); k++)
                    unique = name + "_" + k.ToString(CultureInfo.InvariantCulture);
                yield return (column, unique);
            }
        }

        /// <summary>A C# string literal.</summary>
        private static string Literal(string value) =>
            "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t") + "\"";
    }
}
