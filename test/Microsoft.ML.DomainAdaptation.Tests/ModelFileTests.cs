using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>Damaged, truncated and newer model files fail <c>Model.Load</c> with a message that says so.</summary>
    public sealed class ModelFileTests : IDisposable
    {
        private readonly TempFolder _folder = new();
        private readonly MLContext _ml = new(seed: 1);
        private readonly IDataView _data;
        private readonly string _path;

        public ModelFileTests()
        {
            _data = TestData.BlobsView(_ml);
            var model = TestData.KeyLabel(_ml).Append(_ml.Transforms.DomainAdapt(TestData.Tiny(new DannOptions()))).Fit(_data);
            _path = _folder.File("model.zip");
            _ml.Model.Save(model, _data.Schema, _path);
        }

        public void Dispose() => _folder.Dispose();

        [Fact]
        public void TruncatedFileFailsToLoad()
        {
            byte[] bytes = File.ReadAllBytes(_path);
            string truncated = _folder.File("truncated.zip");
            File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
            var error = Innermost(Assert.ThrowsAny<Exception>(() => _ml.Model.Load(truncated, out _)));
            Assert.IsType<InvalidDataException>(error);
        }

        [Fact]
        public void DamagedWeightsFailToLoadNamingTheEntry()
        {
            RewriteEntry("TorchNetwork.bin", bytes => bytes[bytes.Length / 2] ^= 0x5A);
            var error = Innermost(Assert.ThrowsAny<Exception>(() => _ml.Model.Load(_path, out _)));
            Assert.IsType<InvalidDataException>(error);
            Assert.Contains("TorchNetwork.bin", error.Message);
            Assert.Contains("damaged", error.Message);
        }

        [Fact]
        public void MissingWeightsFailToLoad()
        {
            using (var zip = ZipFile.Open(_path, ZipArchiveMode.Update))
                zip.Entries.Single(e => e.FullName.EndsWith("TorchNetwork.bin")).Delete();
            var error = Innermost(Assert.ThrowsAny<Exception>(() => _ml.Model.Load(_path, out _)));
            Assert.IsType<InvalidDataException>(error);
            Assert.Contains("TorchNetwork.bin", error.Message);
        }

        [Fact]
        public void ModelFromANewerFormatFailsToLoadSayingSo()
        {
            // ML.NET's model header: the 8-byte model signature, then the written and the readable-from versions (32 bits each).
            RewriteEntry("Model.key", bytes =>
            {
                int at = SignatureOffset(bytes);
                Assert.Equal(DomainAdaptationTransformer.FormatVersion, BitConverter.ToUInt32(bytes, at + 8));
                Assert.Equal(DomainAdaptationTransformer.FormatVersion, BitConverter.ToUInt32(bytes, at + 12));
                BitConverter.TryWriteBytes(bytes.AsSpan(at + 8, 4), DomainAdaptationTransformer.FormatVersion + 1);
                BitConverter.TryWriteBytes(bytes.AsSpan(at + 12, 4), DomainAdaptationTransformer.FormatVersion + 1);
            }, IsOurs);
            var error = Innermost(Assert.ThrowsAny<Exception>(() => _ml.Model.Load(_path, out _)));
            Assert.IsType<InvalidDataException>(error);
            Assert.Contains("newer version", error.Message);
        }

        [Fact]
        public void ScoringDataWithAnotherLabelCountIsRejectedNamingTheColumn()
        {
            // The whole chain maps the strings to its own 2-value key; the adaptation transformer alone meets the 4-value key.
            var model = ((TransformerChain<ITransformer>)_ml.Model.Load(_path, out _)).LastTransformer;
            var fourClasses = _ml.Data.LoadFromEnumerable(new[] { "a", "b", "c", "d" }.Select((l, i) =>
                new TestData.Row { Features = new float[] { i, i, i, i }, Label = l }));
            var keyed = _ml.Transforms.Conversion.MapValueToKey("Label").Fit(fourClasses).Transform(fourClasses);
            var error = Assert.ThrowsAny<ArgumentException>(() => model.Transform(keyed));
            Assert.Contains("'Label'", error.Message);
            Assert.Contains("2 values", error.Message);
            Assert.Contains("4 values", error.Message);
        }

        /// <summary>ML.NET wraps a loader's exception in reflection's TargetInvocationException (twice): the cause is innermost.</summary>
        private static Exception Innermost(Exception error)
        {
            while (error.InnerException != null)
                error = error.InnerException;
            return error;
        }

        private static int SignatureOffset(byte[] bytes) =>
            bytes.AsSpan(0, Math.Min(bytes.Length, 256)).IndexOf(System.Text.Encoding.ASCII.GetBytes("DOMADAPT"));

        private static bool IsOurs(ZipArchiveEntry entry)
        {
            using var stream = entry.Open();
            var header = new byte[256];
            int read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            return SignatureOffset(header.AsSpan(0, read).ToArray()) >= 0;
        }

        private void RewriteEntry(string suffix, Action<byte[]> change, Func<ZipArchiveEntry, bool> filter = null)
        {
            using var zip = ZipFile.Open(_path, ZipArchiveMode.Update);
            var entry = zip.Entries.Single(e => e.FullName.EndsWith(suffix) && (filter == null || filter(e)));
            byte[] bytes;
            using (var stream = entry.Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            change(bytes);
            string name = entry.FullName;
            entry.Delete();
            using var rewritten = zip.CreateEntry(name).Open();
            rewritten.Write(bytes);
        }
    }
}
