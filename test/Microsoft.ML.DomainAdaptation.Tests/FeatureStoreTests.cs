using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DomainAdaptation.Data;
using Xunit;
using static Microsoft.ML.DomainAdaptation.Tests.ByteStorageTests;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// <see cref="FeatureStore"/> and <see cref="FeatureRows"/> from the inside: byte and float storage, one chunk or many,
    /// give the same trainings bit for bit; one value that is not a byte turns its domain to floats and loses nothing;
    /// gathers and ranges cross chunk boundaries.
    /// </summary>
    public class FeatureStoreTests
    {
        [Theory]
        [InlineData("DANN")]
        [InlineData("AdaBN")]
        public void ByteFloatAndChunkedStoragesTrainIdentically(string method)
        {
            var ml = new MLContext(seed: 0);
            var rows = Images(fractional: false);
            var view = Keyed(ml, rows);

            float[] Train(int chunkElements, bool allowBytes, int expectedChunks)
            {
                using var data = DomainData.Read(view, "Features", "Label", "IsTarget", ImageSize, 2, chunkElements, allowBytes);
                Assert.Equal(allowBytes, data.SourceFeatures.Store.IsBytes);
                Assert.Equal(allowBytes, data.TargetFeatures.Store.IsBytes);
                Assert.Equal(expectedChunks, data.TargetFeatures.Store.ChunkCount);
                using var model = ml.Transforms.DomainAdapt(Options(method)).Train(data, ClassNames.FromLabel(view.Schema["Label"], 2));
                return Scores(ml, model, rows);
            }

            var bytes = Train(FeatureStore.DefaultChunkElements, true, 1);
            Assert.Equal(12, bytes.Length);
            Assert.Equal(bytes, Train(FeatureStore.DefaultChunkElements, false, 1));
            // 5 rows per chunk: batches, the hold-out, the labeled target rows and AdaBN's passes of 20 rows all span chunks.
            Assert.Equal(bytes, Train(5 * ImageSize, true, (PerDomain + 4) / 5));
            Assert.Equal(bytes, Train(5 * ImageSize, false, (PerDomain + 4) / 5));
        }

        [Theory]
        [InlineData(17.25f)]
        [InlineData(256f)]
        [InlineData(-1f)]
        [InlineData(-0f)] // an integer in 0–255 by value, but a byte would drop its sign
        public void OneValueThatIsNotAByteTurnsItsDomainToFloatsLosingNothing(float value)
        {
            var ml = new MLContext(seed: 0);
            var rows = Images(fractional: false);
            var changed = rows.Where(r => r.IsTarget).ElementAt(63); // after 12 chunks of 5 rows and 3 rows staged
            changed.Features[100] = value;
            var view = Keyed(ml, rows);

            using var data = DomainData.Read(view, "Features", "Label", "IsTarget", ImageSize, 2, chunkElements: 5 * ImageSize);
            Assert.True(data.SourceFeatures.Store.IsBytes);
            Assert.False(data.TargetFeatures.Store.IsBytes);
            Assert.Equal(Bits(rows.Where(r => !r.IsTarget)), Bits(data.SourceFeatures.ToArray()));
            Assert.Equal(Bits(rows.Where(r => r.IsTarget)), Bits(data.TargetFeatures.ToArray()));
            using (NewDisposeScope())
            {
                var row = data.TargetFeatures.Rows(63, 1).data<float>().ToArray();
                Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(row[100]));
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void GathersAndRangesCrossChunkBoundaries(bool allowBytes)
        {
            // 11 rows of 3 values (row r: 3r, 3r + 1, 3r + 2), 2 rows per chunk: 6 chunks, the last of one row. Made inside a
            // dispose scope that ends before reading: the chunks must not belong to it.
            FeatureStore store;
            using (NewDisposeScope())
            {
                store = new FeatureStore(3, chunkElements: 7, allowBytes);
                for (int r = 0; r < 11; r++)
                    store.Append(new float[] { 3 * r, 3 * r + 1, 3 * r + 2 });
                store.Complete();
            }
            using (store)
            {
                Assert.Equal(allowBytes, store.IsBytes);
                Assert.Equal(2, store.ChunkRows);
                Assert.Equal(6, store.ChunkCount);
                var all = new FeatureRows(store);
                Assert.Equal(Enumerable.Range(0, 33).Select(i => (float)i), all.ToArray());
                using var scope = NewDisposeScope();
                Assert.Equal(new float[] { 30, 31, 32, 0, 1, 2, 9, 10, 11, 12, 13, 14, 9, 10, 11, 27, 28, 29 },
                    Values(all.Gather(new long[] { 10, 0, 3, 4, 3, 9 })));
                Assert.Equal(ScalarType.Float32, all.Gather(new long[] { 1 }).dtype);
                Assert.Equal(new long[] { 4, 3 }, all.Rows(1, 4).shape);
                Assert.Equal(Enumerable.Range(3, 12).Select(i => (float)i), Values(all.Rows(1, 4)));
                var selected = all.Select(new[] { 5, 2, 8 });
                Assert.Equal(3, selected.Count);
                Assert.Equal(new float[] { 24, 25, 26, 15, 16, 17 }, Values(selected.Gather(new long[] { 2, 0 })));
                Assert.Equal(new float[] { 15, 16, 17, 6, 7, 8, 24, 25, 26 }, selected.ToArray());
                Assert.Throws<ArgumentOutOfRangeException>(() => all.Gather(new long[] { 11 }));
            }
        }

        [Fact]
        public void RowsGrowingTheStagingBlockAreAllKept()
        {
            // 1,000 values a row: the staging block starts at 65 rows and doubles; 300 rows fill one chunk (33,554 rows).
            using var store = new FeatureStore(1000);
            for (int r = 0; r < 300; r++)
                store.Append(Enumerable.Range(0, 1000).Select(i => (float)((r + i) % 256)).ToArray());
            store.Complete();
            Assert.True(store.IsBytes);
            Assert.Equal(1, store.ChunkCount);
            var expected = Enumerable.Range(0, 300).SelectMany(r => Enumerable.Range(0, 1000).Select(i => (float)((r + i) % 256)));
            Assert.Equal(expected, new FeatureRows(store).ToArray());
        }

        private static float[] Values(Tensor t) => t.data<float>().ToArray();

        private static int[] Bits(System.Collections.Generic.IEnumerable<ImageRow> rows) => Bits(rows.SelectMany(r => r.Features).ToArray());

        private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
    }
}
