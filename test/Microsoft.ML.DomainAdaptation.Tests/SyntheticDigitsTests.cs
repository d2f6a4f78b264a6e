using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The synthetic digit source: schema, determinism, seeds, labels, option checks, fonts, PNG output.</summary>
    public class SyntheticDigitsTests
    {
        private static readonly MLContext Ml = new MLContext(seed: 1);

        private static SyntheticDigitsOptions Small(int seed = 3, long rows = 40) => new SyntheticDigitsOptions { Rows = rows, Seed = seed };

        /// <summary>Row id → (features, key) of every row a cursor gives.</summary>
        private static Dictionary<ulong, (float[] Features, uint Label)> Rows(IDataView view, Random shuffle = null)
        {
            var result = new Dictionary<ulong, (float[], uint)>();
            using var cursor = view.GetRowCursor(view.Schema, shuffle);
            var features = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
            var label = cursor.GetGetter<uint>(view.Schema["Label"]);
            var id = cursor.GetIdGetter();
            VBuffer<float> value = default;
            uint key = 0;
            DataViewRowId rowId = default;
            while (cursor.MoveNext())
            {
                features(ref value);
                label(ref key);
                id(ref rowId);
                result.Add(rowId.Low, (value.DenseValues().ToArray(), key));
            }
            return result;
        }

        [Fact]
        public void SchemaIsPixelsAndDigitKeyWithKeyValues()
        {
            var view = Ml.Data.LoadSyntheticDigits(Small());
            Assert.Equal(40, view.GetRowCount());
            var features = (VectorDataViewType)view.Schema["Features"].Type;
            Assert.Equal(NumberDataViewType.Single, features.ItemType);
            Assert.Equal(new[] { 1, 28, 28 }, features.Dimensions.ToArray());
            var label = Assert.IsType<KeyDataViewType>(view.Schema["Label"].Type);
            Assert.Equal(10ul, label.Count);
            VBuffer<ReadOnlyMemory<char>> keyValues = default;
            view.Schema["Label"].GetKeyValues(ref keyValues);
            Assert.Equal(Enumerable.Range(0, 10).Select(d => d.ToString()), keyValues.DenseValues().Select(v => v.ToString()));

            var colour = Ml.Data.LoadSyntheticDigits(new SyntheticDigitsOptions { Rows = 3, Channels = 3, Height = 32, Width = 24 });
            Assert.Equal(new[] { 3, 32, 24 }, ((VectorDataViewType)colour.Schema["Features"].Type).Dimensions.ToArray());
        }

        [Fact]
        public void SameSeedGivesSameRowsInAnyOrderAndDifferentSeedsDiffer()
        {
            var first = Rows(Ml.Data.LoadSyntheticDigits(Small(seed: 3)));
            var again = Rows(Ml.Data.LoadSyntheticDigits(Small(seed: 3)));
            var shuffled = Rows(Ml.Data.LoadSyntheticDigits(Small(seed: 3)), new Random(5));
            var other = Rows(Ml.Data.LoadSyntheticDigits(Small(seed: 4)));
            // Row i of a longer view is row i of a shorter one: a row depends on (seed, i) only.
            var longer = Rows(Ml.Data.LoadSyntheticDigits(Small(seed: 3, rows: 60)));

            Assert.Equal(40, first.Count);
            foreach (var (id, row) in first)
            {
                Assert.Equal(row.Features, again[id].Features);
                Assert.Equal(row.Features, shuffled[id].Features);
                Assert.Equal(row.Features, longer[id].Features);
                Assert.Equal(row.Label, shuffled[id].Label);
            }
            int differing = first.Count(r => !r.Value.Features.SequenceEqual(other[r.Key].Features));
            Assert.Equal(40, differing);
            // A shuffled cursor does visit the rows in another order.
            using var cursor = Ml.Data.LoadSyntheticDigits(Small()).GetRowCursor(Array.Empty<DataViewSchema.Column>(), new Random(5));
            var ids = new List<ulong>();
            var getId = cursor.GetIdGetter();
            DataViewRowId rowId = default;
            while (cursor.MoveNext())
            {
                getId(ref rowId);
                ids.Add(rowId.Low);
            }
            Assert.NotEqual(Enumerable.Range(0, 40).Select(i => (ulong)i), ids);
        }

        [Fact]
        public void CursorsOnSeveralThreadsSeeTheSameRows()
        {
            var view = Ml.Data.LoadSyntheticDigits(Small());
            var results = new Dictionary<ulong, (float[] Features, uint Label)>[4];
            System.Threading.Tasks.Parallel.For(0, results.Length, t => results[t] = Rows(view, t == 0 ? null : new Random(t)));
            foreach (var other in results.Skip(1))
            {
                foreach (var (id, row) in results[0])
                    Assert.Equal(row.Features, other[id].Features);
            }
        }

        [Fact]
        public void EveryBlockOfTenRowsHoldsEachDigitOnce()
        {
            var rows = Rows(Ml.Data.LoadSyntheticDigits(Small(rows: 100)));
            for (ulong block = 0; block < 10; block++)
            {
                var labels = Enumerable.Range(0, 10).Select(i => rows[block * 10 + (ulong)i].Label).OrderBy(k => k);
                Assert.Equal(Enumerable.Range(1, 10).Select(k => (uint)k), labels);
            }
            // Not simply in digit order.
            Assert.NotEqual(Enumerable.Range(1, 10).Select(k => (uint)k), Enumerable.Range(0, 10).Select(i => rows[(ulong)i].Label));
        }

        [Fact]
        public void PixelsAreScaledToMinusOneOneByDefaultAndRawWithUnitScale()
        {
            var scaled = Rows(Ml.Data.LoadSyntheticDigits(Small()));
            var raw = Rows(Ml.Data.LoadSyntheticDigits(new SyntheticDigitsOptions { Rows = 40, Seed = 3, OffsetImage = 0, ScaleImage = 1 }));
            foreach (var (id, row) in raw)
            {
                Assert.All(row.Features, v => Assert.True(v >= 0 && v <= 255 && v == MathF.Round(v)));
                for (int i = 0; i < row.Features.Length; i++)
                    Assert.Equal(row.Features[i] / 127.5f - 1f, scaled[id].Features[i], 5);
                // Bright digit on a dark background (the default, as MNIST): the brightest pixels are ink, most are background.
                Assert.True(row.Features.Max() >= 150, $"row {id}: no bright ink");
                Assert.True(row.Features.Count(v => v < 100) > row.Features.Length / 2, $"row {id}: background not dark");
            }
        }

        [Fact]
        public void OptionsOutOfRangeAreRejectedByName()
        {
            void Rejects(string name, Action<SyntheticDigitsOptions> change)
            {
                var options = Small();
                change(options);
                var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Data.LoadSyntheticDigits(options));
                Assert.Equal(name, ex.ParamName);
                Assert.Contains(name, ex.Message);
            }

            Rejects(nameof(SyntheticDigitsOptions.Rows), o => o.Rows = 0);
            Rejects(nameof(SyntheticDigitsOptions.Channels), o => o.Channels = 2);
            Rejects(nameof(SyntheticDigitsOptions.Height), o => o.Height = 4);
            Rejects(nameof(SyntheticDigitsOptions.Width), o => o.Width = 1000);
            Rejects(nameof(SyntheticDigitsOptions.BoldProbability), o => o.BoldProbability = 1.5f);
            Rejects(nameof(SyntheticDigitsOptions.Rotation), o => o.Rotation = new ValueRange(10, -10));
            Rejects(nameof(SyntheticDigitsOptions.Noise), o => o.Noise = new ValueRange(0, float.NaN));
            Rejects(nameof(SyntheticDigitsOptions.DigitHeight), o => o.DigitHeight = new ValueRange(0.01f, 0.5f));
            Rejects(nameof(SyntheticDigitsOptions.ScaleImage), o => o.ScaleImage = 0);
            Rejects(nameof(SyntheticDigitsOptions.FontPaths), o => o.FontPaths = Array.Empty<string>());
            Assert.Throws<ArgumentNullException>(() => Ml.Data.LoadSyntheticDigits(null));
        }

        [Fact]
        public void MissingFontsGiveAClearErrorNamingFontPaths()
        {
            string empty = Directory.CreateTempSubdirectory("da-fonts-").FullName;
            try
            {
                var options = Small();
                options.FontPaths = new[] { empty };
                var ex = Assert.Throws<FileNotFoundException>(() => Ml.Data.LoadSyntheticDigits(options));
                Assert.Contains("FontPaths", ex.Message);
                Assert.Contains(empty, ex.Message);

                options.FontPaths = new[] { Path.Combine(empty, "nope.ttf") };
                ex = Assert.Throws<FileNotFoundException>(() => Ml.Data.LoadSyntheticDigits(options));
                Assert.Contains("FontPaths", ex.Message);
            }
            finally
            {
                Directory.Delete(empty, true);
            }
        }

        [Fact]
        public void OneFontFileGivesOtherImagesThanTheSystemFonts()
        {
            // This machine's fonts: DejaVu (Debian's fonts-dejavu-core).
            string font = Directory.EnumerateFiles("/usr/share/fonts", "DejaVuSans.ttf", SearchOption.AllDirectories).FirstOrDefault();
            Assert.True(font != null, "DejaVuSans.ttf not found under /usr/share/fonts (apt-get install fonts-dejavu-core)");
            var options = Small();
            options.FontPaths = new[] { font };
            var single = Rows(Ml.Data.LoadSyntheticDigits(options));
            var system = Rows(Ml.Data.LoadSyntheticDigits(Small()));
            Assert.Contains(single, r => !r.Value.Features.SequenceEqual(system[r.Key].Features));
            Assert.All(single, r => Assert.Equal(system[r.Key].Label, r.Value.Label));
        }

        [Fact]
        public void WriteImagesWritesTheViewsPixelsAsClassFolderPngs()
        {
            string folder = Directory.CreateTempSubdirectory("da-synthetic-").FullName;
            try
            {
                foreach (var options in new[] { Small(), SyntheticDigitsOptions.HouseNumbers() })
                {
                    options.Rows = 20;
                    options.OffsetImage = 0;
                    options.ScaleImage = 1;
                    string output = Path.Combine(folder, options.Channels.ToString());
                    var paths = SyntheticDigits.WriteImages(options, output, 20);
                    var rows = Rows(Ml.Data.LoadSyntheticDigits(options));
                    Assert.Equal(20, paths.Length);
                    for (int i = 0; i < 20; i++)
                    {
                        // class/xxxxx.png, the class being the row's digit.
                        Assert.Equal(Path.Combine(output, (rows[(ulong)i].Label - 1).ToString(), $"{i:D5}.png"), paths[i]);
                        using var image = SKBitmap.Decode(paths[i]);
                        Assert.Equal(options.Width, image.Width);
                        Assert.Equal(options.Height, image.Height);
                        int plane = options.Width * options.Height;
                        var features = rows[(ulong)i].Features;
                        for (int p = 0; p < plane; p++)
                        {
                            var colour = image.GetPixel(p % options.Width, p / options.Width);
                            Assert.Equal(features[p], colour.Red);
                            if (options.Channels == 3)
                            {
                                Assert.Equal(features[plane + p], colour.Green);
                                Assert.Equal(features[2 * plane + p], colour.Blue);
                            }
                        }
                    }
                    // The image-folder loader reads the written tree back with the same labels.
                    var loaded = Ml.Data.LoadImageFolder(output);
                    var labels = loaded.GetColumn<uint>("Label").ToArray();
                    var loadedPaths = loaded.GetColumn<ReadOnlyMemory<char>>("ImagePath").Select(p => p.ToString()).ToArray();
                    Assert.Equal(20, labels.Length);
                    for (int r = 0; r < 20; r++)
                        Assert.Equal(rows[(ulong)int.Parse(Path.GetFileNameWithoutExtension(loadedPaths[r]))].Label, labels[r]);
                }
            }
            finally
            {
                Directory.Delete(folder, true);
            }
        }

        [Fact]
        public void HouseNumbersAreColouredAndVaried()
        {
            var options = SyntheticDigitsOptions.HouseNumbers();
            options.Rows = 30;
            var rows = Rows(Ml.Data.LoadSyntheticDigits(options));
            int plane = 32 * 32;
            // Colour: the channels differ on most images.
            int coloured = rows.Count(r => Enumerable.Range(0, plane).Any(p => Math.Abs(r.Value.Features[p] - r.Value.Features[plane + p]) > 0.2f));
            Assert.True(coloured >= 25, $"only {coloured} of 30 images have colour");
            // Backgrounds vary: the mean of the corner pixel's red channel spreads widely over rows.
            var corners = rows.Values.Select(r => r.Features[0]).ToArray();
            Assert.True(corners.Max() - corners.Min() > 1f, "background colours do not vary");
        }
    }
}
