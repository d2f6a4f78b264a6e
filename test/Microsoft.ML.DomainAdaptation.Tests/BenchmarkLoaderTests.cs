using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using PureHDF;
using SkiaSharp;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// The benchmark loaders on tiny files of the real formats written here (HDF5 with PureHDF, MAT level 5 with the
    /// writer below, GTSRB's .ppm + CSV tree, PNG folders): exact pixels and labels back, and clear errors.
    /// </summary>
    public sealed class BenchmarkLoaderTests : IDisposable
    {
        private static readonly MLContext Ml = new MLContext(seed: 1);
        private readonly string _folder = Directory.CreateTempSubdirectory("da-benchmarks-").FullName;

        public void Dispose() => Directory.Delete(_folder, true);

        private static float Scaled(float pixel) => (pixel - 127.5f) / 127.5f;

        private static float[][] Features(IDataView view) => TestData.Column(view, "Features");

        private static uint[] Labels(IDataView view) => view.GetColumn<uint>("Label").ToArray();

        // ---------------------------------------------------------------- USPS

        /// <summary>Pixel j of image i of the tiny USPS files, 0–255.</summary>
        private static int UspsPixel(int i, int j) => (i * 37 + j * 3) % 256;

        private string WriteUspsH5(int trainRows = 3, int testRows = 2)
        {
            H5Group Split(int rows, int offset)
            {
                var data = new double[rows, 256];
                var target = new long[rows];
                for (int i = 0; i < rows; i++)
                {
                    target[i] = (i + offset) % 10;
                    for (int j = 0; j < 256; j++)
                        data[i, j] = UspsPixel(i + offset, j) / 255.0;
                }
                return new H5Group { ["data"] = data, ["target"] = target };
            }
            string path = Path.Combine(_folder, "usps.h5");
            var file = new H5File { ["train"] = Split(trainRows, 0), ["test"] = Split(testRows, 7) };
            file.Write(path);
            return path;
        }

        [Fact]
        public void UspsHdf5ReadsBothSplitsWithExactPixelsAndLabels()
        {
            string path = WriteUspsH5();
            var train = Ml.Data.LoadUsps(path);
            Assert.Equal(new[] { 1, 16, 16 }, ((VectorDataViewType)train.Schema["Features"].Type).Dimensions.ToArray());
            Assert.Equal(new uint[] { 1, 2, 3 }, Labels(train)); // digits 0, 1, 2
            var features = Features(train);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 256; j++)
                    Assert.Equal(Scaled(UspsPixel(i, j)), features[i][j], 4);

            var test = Ml.Data.LoadUsps(path, new UspsOptions { Split = "test" });
            Assert.Equal(new uint[] { 8, 9 }, Labels(test)); // digits 7, 8
            Assert.Equal(Scaled(UspsPixel(8, 5)), Features(test)[1][5], 4);

            var resized = Ml.Data.LoadUsps(path, new UspsOptions { Width = 28, Height = 28 });
            Assert.Equal(784, Features(resized)[0].Length);

            var ex = Assert.Throws<InvalidDataException>(() => Ml.Data.LoadUsps(path, new UspsOptions { Split = "valid" }));
            Assert.Contains("'valid'", ex.Message);
            Assert.Contains("train", ex.Message);
        }

        [Fact]
        public void UspsHdf5WithWrongShapeIsRejected()
        {
            string path = Path.Combine(_folder, "usps.h5");
            new H5File { ["train"] = new H5Group { ["data"] = new double[2, 100], ["target"] = new long[2] } }.Write(path);
            var ex = Assert.Throws<InvalidDataException>(() => Ml.Data.LoadUsps(path));
            Assert.Contains("[2, 100]", ex.Message);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void UspsTextReadsDigitAndValuesInMinusOneOne(bool gzip)
        {
            var text = new StringBuilder();
            for (int i = 0; i < 2; i++)
            {
                text.Append(i == 0 ? "6.0000" : "0.0000");
                for (int j = 0; j < 256; j++)
                    text.Append(' ').Append((UspsPixel(i, j) / 127.5 - 1).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                text.Append('\n');
            }
            string path = Path.Combine(_folder, gzip ? "zip.train.gz" : "zip.train");
            using (var file = File.Create(path))
            using (var stream = gzip ? (Stream)new GZipStream(file, CompressionLevel.Fastest) : file)
                stream.Write(Encoding.ASCII.GetBytes(text.ToString()));

            var view = Ml.Data.LoadUsps(path);
            Assert.Equal(new uint[] { 7, 1 }, Labels(view));
            var features = Features(view);
            for (int j = 0; j < 256; j++)
                Assert.Equal(Scaled(UspsPixel(1, j)), features[1][j], 4);
        }

        [Fact]
        public void UspsErrorsNameTheFileAndTheProblem()
        {
            var missing = Assert.Throws<FileNotFoundException>(() => Ml.Data.LoadUsps(Path.Combine(_folder, "usps.h5")));
            Assert.Contains("usps.h5", missing.Message);
            string bad = Path.Combine(_folder, "zip.test");
            File.WriteAllText(bad, "3 0.5 0.5\n");
            var malformed = Assert.Throws<InvalidDataException>(() => Ml.Data.LoadUsps(bad));
            Assert.Contains("line 1", malformed.Message);
            File.WriteAllText(bad, "12 " + string.Join(" ", Enumerable.Repeat("0", 256)) + "\n");
            Assert.Contains("not a digit", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadUsps(bad)).Message);
        }

        // ---------------------------------------------------------------- SVHN

        /// <summary>Value of (row r, column c, channel ch) of image n in the tiny SVHN files.</summary>
        private static byte SvhnPixel(int r, int c, int ch, int n) => (byte)((r * 7 + c * 13 + ch * 50 + n * 91) % 256);

        private static byte[] Element(int type, byte[] data)
        {
            var output = new MemoryStream();
            var writer = new BinaryWriter(output);
            if (data.Length <= 4 && type != 14)
            {
                // The small data element format: size and type in one word, data padded to four bytes.
                writer.Write((uint)(data.Length << 16 | type));
                writer.Write(data);
                writer.Write(new byte[4 - data.Length]);
            }
            else
            {
                writer.Write(type);
                writer.Write(data.Length);
                writer.Write(data);
                writer.Write(new byte[(8 - data.Length % 8) % 8]);
            }
            return output.ToArray();
        }

        /// <summary>A MAT level-5 numeric matrix element (miMATRIX) of MATLAB class <paramref name="matlabClass"/>.</summary>
        private static byte[] Matrix(string name, int matlabClass, int[] dims, int dataType, byte[] data)
        {
            var flags = new byte[8];
            flags[0] = (byte)matlabClass;
            var body = Element(6, flags)
                .Concat(Element(5, dims.SelectMany(BitConverter.GetBytes).ToArray()))
                .Concat(Element(1, Encoding.ASCII.GetBytes(name)))
                .Concat(Element(dataType, data)).ToArray();
            return Element(14, body);
        }

        private static byte[] Compressed(byte[] element)
        {
            var output = new MemoryStream();
            using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
                zlib.Write(element);
            var compressed = output.ToArray();
            var result = new MemoryStream();
            var writer = new BinaryWriter(result);
            writer.Write(15);
            writer.Write(compressed.Length);
            writer.Write(compressed);
            return result.ToArray();
        }

        private string WriteSvhnMat(int count, bool compress, bool withY = true, string name = "train_32x32.mat")
        {
            var x = new byte[32 * 32 * 3 * count];
            for (int n = 0; n < count; n++)
                for (int ch = 0; ch < 3; ch++)
                    for (int c = 0; c < 32; c++)
                        for (int r = 0; r < 32; r++)
                            x[r + 32 * c + 1024 * ch + 3072 * n] = SvhnPixel(r, c, ch, n);
            // y is a double array that MATLAB stores as bytes (miUINT8) when its values fit: labels 1..10.
            var y = Enumerable.Range(0, count).Select(n => (byte)(n % 10 + 1)).ToArray();
            var header = new byte[128];
            Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by the tests".PadRight(116)).CopyTo(header, 0);
            header[124] = 0x00;
            header[125] = 0x01;
            header[126] = (byte)'I';
            header[127] = (byte)'M';
            var elements = new List<byte[]> { Matrix("X", 9, new[] { 32, 32, 3, count }, 2, x) };
            if (withY)
                elements.Add(Matrix("y", 6, new[] { count, 1 }, 2, y));
            string path = Path.Combine(_folder, name);
            File.WriteAllBytes(path, header.Concat(elements.SelectMany(e => compress ? Compressed(e) : e)).ToArray());
            return path;
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void SvhnMatReadsPlanarRgbAndMapsLabelTenToDigitZero(bool compress)
        {
            string path = WriteSvhnMat(11, compress);
            var view = Ml.Data.LoadSvhn(path);
            Assert.Equal(new[] { 3, 32, 32 }, ((VectorDataViewType)view.Schema["Features"].Type).Dimensions.ToArray());
            // Stored labels 1..10, 1: digits 1..9, 0 (label 10), 1 → keys 2..10, 1, 2.
            Assert.Equal(new uint[] { 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2 }, Labels(view));
            var features = Features(view);
            foreach (var (n, ch, r, c) in new[] { (0, 0, 0, 0), (3, 1, 5, 17), (10, 2, 31, 30), (9, 0, 31, 0) })
                Assert.Equal(Scaled(SvhnPixel(r, c, ch, n)), features[n][ch * 1024 + r * 32 + c], 5);

            var grey = Features(Ml.Data.LoadSvhn(path, new SvhnOptions { Grayscale = true, OffsetImage = 0, ScaleImage = 1 }));
            Assert.Equal(1024, grey[0].Length);
            Assert.Equal(0.299f * SvhnPixel(4, 6, 0, 2) + 0.587f * SvhnPixel(4, 6, 1, 2) + 0.114f * SvhnPixel(4, 6, 2, 2), grey[2][4 * 32 + 6], 3);
        }

        [Fact]
        public void SvhnErrorsNameWhatIsMissingOrMalformed()
        {
            var missing = Assert.Throws<FileNotFoundException>(() => Ml.Data.LoadSvhn(Path.Combine(_folder, "test_32x32.mat")));
            Assert.Contains("test_32x32.mat", missing.Message);
            string noY = WriteSvhnMat(2, compress: true, withY: false);
            Assert.Contains("'y'", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadSvhn(noY)).Message);
            string notMat = Path.Combine(_folder, "x.mat");
            File.WriteAllBytes(notMat, new byte[200]);
            Assert.Contains("MAT-file", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadSvhn(notMat)).Message);
            // Truncated: the last bytes of the image array are cut off.
            string whole = WriteSvhnMat(2, compress: false, name: "cut.mat");
            var bytes = File.ReadAllBytes(whole);
            File.WriteAllBytes(whole, bytes.AsSpan(0, 3000).ToArray());
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadSvhn(whole)).Message);
        }

        // ---------------------------------------------------------------- GTSRB

        private static byte GtsrbPixel(int x, int y, int c, int image) => (byte)((x * 11 + y * 5 + c * 80 + image * 33) % 256);

        private static void WritePpm(string path, int width, int height, int image)
        {
            var bytes = new List<byte>(Encoding.ASCII.GetBytes($"P6\n# GTSRB-like\n{width} {height}\n255\n"));
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    for (int c = 0; c < 3; c++)
                        bytes.Add(GtsrbPixel(x, y, c, image));
            File.WriteAllBytes(path, bytes.ToArray());
        }

        /// <summary>Classes 0 and 2, two images each; every region of interest is 4 × 4 at (1 + image, 2).</summary>
        private string WriteGtsrb()
        {
            string root = Path.Combine(_folder, "GTSRB");
            int image = 0;
            foreach (int classId in new[] { 0, 2 })
            {
                string folder = Path.Combine(root, $"{classId:D5}");
                Directory.CreateDirectory(folder);
                var csv = new StringBuilder("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n");
                for (int k = 0; k < 2; k++, image++)
                {
                    string name = $"{k:D5}_00000.ppm";
                    WritePpm(Path.Combine(folder, name), 9, 8, image);
                    csv.Append($"{name};9;8;{1 + image};2;{4 + image};5;{classId}\n");
                }
                File.WriteAllText(Path.Combine(folder, $"GT-{classId:D5}.csv"), csv.ToString());
            }
            return root;
        }

        [Fact]
        public void GtsrbCropsToTheRegionOfInterestWithExactPixels()
        {
            string root = WriteGtsrb();
            var view = Ml.Data.LoadGtsrb(root, new GtsrbOptions { Width = 4, Height = 4 });
            Assert.Equal(new[] { 3, 4, 4 }, ((VectorDataViewType)view.Schema["Features"].Type).Dimensions.ToArray());
            Assert.Equal(43ul, ((KeyDataViewType)view.Schema["Label"].Type).Count);
            Assert.Equal(new uint[] { 1, 1, 3, 3 }, Labels(view));
            var features = Features(view);
            for (int image = 0; image < 4; image++)
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < 4; y++)
                        for (int x = 0; x < 4; x++)
                            Assert.Equal(Scaled(GtsrbPixel(x + 1 + image, y + 2, c, image)), features[image][c * 16 + y * 4 + x], 5);

            // Default: 32 × 32, resized; uncropped: the whole 9 × 8 image.
            Assert.Equal(3 * 32 * 32, Features(Ml.Data.LoadGtsrb(root))[0].Length);
            var whole = Features(Ml.Data.LoadGtsrb(root, new GtsrbOptions { Width = 9, Height = 8, CropToRoi = false }));
            Assert.Equal(Scaled(GtsrbPixel(0, 0, 1, 3)), whole[3][72], 5);
        }

        [Fact]
        public void GtsrbMissingFilesAndBadAnnotationsAreReported()
        {
            Assert.Throws<DirectoryNotFoundException>(() => Ml.Data.LoadGtsrb(Path.Combine(_folder, "none")));
            string root = WriteGtsrb();
            File.Delete(Path.Combine(root, "00002", "00001_00000.ppm"));
            var ex = Assert.Throws<FileNotFoundException>(() => Ml.Data.LoadGtsrb(root));
            Assert.Contains("00001_00000.ppm", ex.Message);
            File.Delete(Path.Combine(root, "00002", "GT-00002.csv"));
            Assert.Contains("GT-00002.csv", Assert.Throws<FileNotFoundException>(() => Ml.Data.LoadGtsrb(root)).Message);
            File.WriteAllText(Path.Combine(root, "00002", "GT-00002.csv"), "Filename;Width;Height;ClassId\n");
            Assert.Contains("Roi.X1", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadGtsrb(root)).Message);
            File.WriteAllText(Path.Combine(root, "00002", "GT-00002.csv"), "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n00000_00000.ppm;9;8;1;2;4;5;43\n");
            Assert.Contains("ClassId 43", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadGtsrb(root)).Message);
        }

        // ---------------------------------------------------------------- Image folders and checksums

        private static SKColor FolderColour(int image) => new SKColor((byte)(image * 40), (byte)(255 - image * 30), (byte)(image * 17 + 3));

        /// <summary>amazon-like domain: classes back_pack (2 images, one in a sub-folder) and bike (1), 6 × 5 PNGs of one colour each.</summary>
        private string WriteImageFolder()
        {
            string root = Path.Combine(_folder, "amazon", "images");
            var files = new[] { "back_pack/frame_0001.png", "back_pack/more/frame_0002.png", "bike/frame_0001.png" };
            for (int i = 0; i < files.Length; i++)
            {
                string path = Path.Combine(root, files[i]);
                Directory.CreateDirectory(Path.GetDirectoryName(path));
                using var bitmap = new SKBitmap(6, 5);
                bitmap.Erase(FolderColour(i));
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(path, data.ToArray());
            }
            File.WriteAllText(Path.Combine(root, "bike", "notes.txt"), "not an image");
            return root;
        }

        [Fact]
        public void ImageFolderGivesPathsAndFolderLabelsForMlNetImageTransforms()
        {
            string root = WriteImageFolder();
            var view = Ml.Data.LoadImageFolder(root);
            Assert.Equal(new[] { "ImagePath", "Label" }, view.Schema.Select(c => c.Name));
            var paths = view.GetColumn<ReadOnlyMemory<char>>("ImagePath").Select(p => p.ToString()).ToArray();
            Assert.Equal(new[] { "back_pack/frame_0001.png", "back_pack/more/frame_0002.png", "bike/frame_0001.png" }.Select(f => Path.GetFullPath(Path.Combine(root, f))), paths);
            Assert.Equal(new uint[] { 1, 1, 2 }, Labels(view));
            VBuffer<ReadOnlyMemory<char>> names = default;
            view.Schema["Label"].GetKeyValues(ref names);
            Assert.Equal(new[] { "back_pack", "bike" }, names.DenseValues().Select(n => n.ToString()));

            // ML.NET's image transforms take the path column as it is.
            var pixels = Ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath")
                .Append(Ml.Transforms.ResizeImages("Image", 6, 5))
                .Append(Ml.Transforms.ExtractPixels("Pixels", "Image"))
                .Fit(view).Transform(view);
            var extracted = TestData.Column(pixels, "Pixels");
            Assert.Equal(FolderColour(2).Red, extracted[2][0]);
            Assert.Equal(FolderColour(2).Green, extracted[2][30]);
        }

        [Fact]
        public void ImageFolderCanDecodePixelsAndKeepAGivenClassList()
        {
            string root = WriteImageFolder();
            var view = Ml.Data.LoadImageFolder(root, new ImageFolderOptions { LoadPixels = true, Width = 6, Height = 5, ClassNames = new[] { "bike", "back_pack", "calculator" } });
            Assert.Equal(new uint[] { 1, 2, 2 }, Labels(view)); // bike first: the given order
            Assert.Equal(3ul, ((KeyDataViewType)view.Schema["Label"].Type).Count);
            var features = Features(view);
            Assert.Equal(90, features[0].Length);
            Assert.Equal(Scaled(FolderColour(2).Red), features[0][0], 5);
            Assert.Equal(Scaled(FolderColour(0).Green), features[1][30 + 7], 5);
            Assert.Equal(Scaled(FolderColour(1).Blue), features[2][60 + 29], 5);

            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Data.LoadImageFolder(root, new ImageFolderOptions { LoadPixels = true }));
            Assert.Equal("Width", ex.ParamName);
            Assert.Contains("bike", Assert.Throws<InvalidDataException>(() => Ml.Data.LoadImageFolder(root, new ImageFolderOptions { ClassNames = new[] { "back_pack" } })).Message);
            Assert.Throws<DirectoryNotFoundException>(() => Ml.Data.LoadImageFolder(Path.Combine(_folder, "webcam")));
        }

        [Fact]
        public void SaveAsImageFolderWritesRowsThatLoadImageFolderReadsBack()
        {
            // RGB rows with key labels (class names as key values) → the same pixels and classes back.
            string root = WriteImageFolder();
            var rgb = Ml.Data.LoadImageFolder(root, new ImageFolderOptions { LoadPixels = true, Width = 6, Height = 5 });
            string copy = Path.Combine(_folder, "copy");
            var written = Ml.Data.SaveAsImageFolder(rgb, copy);
            Assert.Equal(new[] { "back_pack/00000.png", "back_pack/00001.png", "bike/00002.png" }.Select(f => Path.Combine(copy, f)), written);
            var back = Ml.Data.LoadImageFolder(copy, new ImageFolderOptions { LoadPixels = true, Width = 6, Height = 5 });
            Assert.Equal(Labels(rgb), Labels(back));
            Assert.Equal(Features(rgb), Features(back));
            Assert.Equal(Scaled(FolderColour(2).Blue), Features(back)[2][60 + 29], 5);

            // Grey 1 × 2 × 3 rows with a Single label: folders named by the value, a missing label skipped, pixels unscaled.
            var grey = Ml.Data.LoadFromEnumerable(new[]
            {
                new GreyRow { Features = new[] { 0, 10, 20, 30, 40, 255f }.Select(Scaled).ToArray(), Label = 7 },
                new GreyRow { Features = new float[6], Label = float.NaN },
                new GreyRow { Features = new[] { 200, 0, 0, 0, 0, 1f }.Select(Scaled).ToArray(), Label = 3 },
            }, GreyRow.Schema());
            string greyRoot = Path.Combine(_folder, "grey");
            Assert.Equal(new[] { Path.Combine(greyRoot, "7", "00000.png"), Path.Combine(greyRoot, "3", "00002.png") }, Ml.Data.SaveAsImageFolder(grey, greyRoot));
            var greyBack = Ml.Data.LoadImageFolder(greyRoot, new ImageFolderOptions { LoadPixels = true, Channels = 1, Width = 3, Height = 2 });
            var pixels = Features(greyBack).Select(f => f.Select(v => MathF.Round(v * 127.5f + 127.5f)).ToArray()).ToArray();
            Assert.Equal(new[] { 200, 0, 0, 0, 0, 1f }, pixels[0]); // folder "3" sorts first
            Assert.Equal(new[] { 0, 10, 20, 30, 40, 255f }, pixels[1]);

            // A flat vector has no image shape: the error names the column.
            var flat = Ml.Data.LoadFromEnumerable(new[] { new GreyRow { Features = new float[6], Label = 1 } });
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Data.SaveAsImageFolder(flat, Path.Combine(_folder, "flat")));
            Assert.Equal("FeatureColumnName", ex.ParamName);
            Assert.Contains("C × H × W", ex.Message);
        }

        private sealed class GreyRow
        {
            [VectorType(6)]
            public float[] Features;
            public float Label;

            public static SchemaDefinition Schema()
            {
                var definition = SchemaDefinition.Create(typeof(GreyRow));
                definition[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, 2, 3);
                return definition;
            }
        }

        [Fact]
        public void Sha256ListIsVerified()
        {
            string path = WriteUspsH5();
            string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
            Assert.Equal(3, Labels(Ml.Data.LoadUsps(path, new UspsOptions { Sha256 = new Dictionary<string, string> { ["usps.h5"] = hash.ToLowerInvariant() } })).Length);
            var wrong = Assert.Throws<InvalidDataException>(() =>
                Ml.Data.LoadUsps(path, new UspsOptions { Sha256 = new Dictionary<string, string> { ["usps.h5"] = new string('0', 64) } }));
            Assert.Contains("SHA-256", wrong.Message);
            string root = WriteImageFolder();
            var absent = Assert.Throws<FileNotFoundException>(() =>
                Ml.Data.LoadImageFolder(root, new ImageFolderOptions { Sha256 = new Dictionary<string, string> { ["bike/frame_0002.png"] = hash } }));
            Assert.Contains("bike/frame_0002.png", absent.Message);
        }
    }
}
