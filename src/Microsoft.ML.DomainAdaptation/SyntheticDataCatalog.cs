using Microsoft.ML.DomainAdaptation;

namespace Microsoft.ML
{
    /// <summary>Catalog extensions that load domain-adaptation data: synthetic digits and the standard benchmarks.</summary>
    public static class SyntheticDataCatalog
    {
        /// <summary>
        /// Synthetic digits rendered with real fonts, lazily: pixels (<see cref="ImageDataOptions.FeatureColumnName"/>,
        /// a vector of Single of dimensions Channels × Height × Width, [−1, 1] by default) and the digit
        /// (<see cref="ImageDataOptions.LabelColumnName"/>, a key of 10 values "0" … "9"). Row i depends only on
        /// (<see cref="SyntheticDigitsOptions.Seed"/>, i), so the view can shuffle and every cursor sees the same rows.
        /// Nothing is written to disk; <see cref="SyntheticDigits.WriteImages"/> writes PNG files of the same rows.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="options">Size, fonts and random factors; the defaults give 10,000 MNIST-like 28 × 28 grey digits.</param>
        /// <exception cref="System.ArgumentOutOfRangeException">An option is out of its range (the message names it).</exception>
        /// <exception cref="System.IO.FileNotFoundException">No usable font was found (see <see cref="SyntheticDigitsOptions.FontPaths"/>).</exception>
        /// <example><code>
        /// var source = mlContext.Data.LoadSyntheticDigits(new SyntheticDigitsOptions { Rows = 20_000, Seed = 1 });
        /// </code></example>
        public static IDataView LoadSyntheticDigits(this DataOperationsCatalog catalog, SyntheticDigitsOptions options)
            => SyntheticDigits.CreateDataView(options);
    }
}
