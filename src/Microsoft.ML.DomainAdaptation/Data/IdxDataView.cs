using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>Builds the <see cref="IDataView"/> of an IDX image file and its optional IDX label file.</summary>
    internal static class IdxDataView
    {
        private sealed class Row
        {
            public float[] Features;
            public float Label;
        }

        public static IDataView Load(DataOperationsCatalog catalog, string imagesPath, string labelsPath, IEnumerable<int> rowIndices,
            string featureColumnName, string labelColumnName)
        {
            var images = IdxFile.Read(imagesPath);
            if (images.Dimensions.Length < 2)
                throw new InvalidDataException($"'{imagesPath}' is a 1-D IDX file; an image file has at least two dimensions (items × values).");
            IdxFile labels = null;
            if (labelsPath != null)
            {
                labels = IdxFile.Read(labelsPath);
                if (labels.Dimensions.Length != 1 || labels.Count != images.Count)
                    throw new InvalidDataException(
                        $"Label file '{labelsPath}' must be 1-D with {images.Count} values (one per image of '{imagesPath}'), found shape [{string.Join(", ", labels.Dimensions)}].");
            }

            int[] rows = rowIndices?.ToArray() ?? Enumerable.Range(0, images.Count).ToArray();
            foreach (int r in rows)
            {
                if (r < 0 || r >= images.Count)
                    throw new ArgumentOutOfRangeException(nameof(rowIndices), $"Row index {r} is outside [0, {images.Count}) of '{imagesPath}'.");
            }

            int itemSize = images.ItemSize;
            IEnumerable<Row> Enumerate()
            {
                foreach (int r in rows)
                {
                    var features = new float[itemSize];
                    Array.Copy(images.Values, (long)r * itemSize, features, 0, itemSize);
                    yield return new Row { Features = features, Label = labels?.Values[r] ?? float.NaN };
                }
            }

            var definition = SchemaDefinition.Create(typeof(Row));
            definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, images.Dimensions.Skip(1).ToArray());
            definition[nameof(Row.Features)].ColumnName = featureColumnName;
            if (labels is null)
                definition.Remove(definition[nameof(Row.Label)]);
            else
                definition[nameof(Row.Label)].ColumnName = labelColumnName;
            return catalog.LoadFromEnumerable(Enumerate(), definition);
        }
    }
}
