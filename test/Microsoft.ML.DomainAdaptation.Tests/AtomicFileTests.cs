using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Files written through <see cref="AtomicFile"/>: complete or untouched, never half-written, no temporary left.</summary>
    public sealed class AtomicFileTests : IDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "atomic-file-tests-" + Guid.NewGuid().ToString("N"));

        public AtomicFileTests() => Directory.CreateDirectory(_folder);

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private string[] Leftovers() => Directory.GetFiles(_folder).Select(Path.GetFileName).Where(n => n.EndsWith(".tmp", StringComparison.Ordinal)).ToArray();

        /// <summary>The tool's model save (a zip written by path, then reopened in update mode) failing midway: the previous
        /// good model is intact, byte for byte, and readable; no temporary file remains.</summary>
        [Fact]
        public void APreviousModelSurvivesASaveThatFailsMidway()
        {
            string model = Path.Combine(_folder, "model.zip");
            AtomicFile.Write(model, (string temporary) => WriteZip(temporary, "good"));
            var good = File.ReadAllBytes(model);

            var failure = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(model, (string temporary) =>
            {
                WriteZip(temporary, "new");
                using (var stream = File.OpenWrite(temporary))
                    stream.SetLength(stream.Length / 2); // half of it on disk, as a kill would leave it
                throw new InvalidOperationException("disk gone");
            }));
            Assert.Equal("disk gone", failure.Message);
            Assert.Equal(good, File.ReadAllBytes(model));
            using (var zip = ZipFile.OpenRead(model))
                Assert.Equal("good", new StreamReader(zip.GetEntry("content").Open()).ReadToEnd());
            Assert.Empty(Leftovers());
        }

        /// <summary>Success replaces the previous file whole; the stream and text overloads go the same way, and a failing
        /// text writer leaves the previous text.</summary>
        [Fact]
        public void ASuccessfulWriteReplacesTheFileAndAFailedOneLeavesIt()
        {
            string path = Path.Combine(_folder, "history.csv");
            AtomicFile.WriteText(path, w => w.Write("step\n1\n"));
            Assert.Equal("step\n1\n", File.ReadAllText(path));
            AtomicFile.WriteText(path, w => w.Write("step\n1\n2\n"));
            Assert.Equal("step\n1\n2\n", File.ReadAllText(path));
            Assert.Throws<IOException>(() => AtomicFile.WriteText(path, w =>
            {
                w.Write("step\n");
                w.Flush();
                throw new IOException("no space left");
            }));
            Assert.Equal("step\n1\n2\n", File.ReadAllText(path));

            string bytes = Path.Combine(_folder, "model.onnx");
            AtomicFile.Write(bytes, (Stream s) => s.Write(new byte[] { 1, 2, 3 }));
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(bytes));
            Assert.Empty(Leftovers());
        }

        /// <summary>A folder where the file should go is refused before anything is written.</summary>
        [Fact]
        public void AFolderIsNotOverwritten()
        {
            string folder = Path.Combine(_folder, "out.onnx");
            Directory.CreateDirectory(folder);
            var e = Assert.Throws<IOException>(() => AtomicFile.Write(folder, (Stream s) => s.WriteByte(1)));
            Assert.Contains("is a folder", e.Message);
            Assert.True(Directory.Exists(folder));
            Assert.Empty(Leftovers());
        }

        private static void WriteZip(string path, string content)
        {
            // As the tool does: create the zip by path, then reopen it in update mode to add an entry.
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                using var writer = new StreamWriter(zip.CreateEntry("content").Open());
                writer.Write(content);
            }
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            {
                using var writer = new StreamWriter(zip.CreateEntry("extra").Open());
                writer.Write(new string('x', 4096));
            }
        }
    }
}
