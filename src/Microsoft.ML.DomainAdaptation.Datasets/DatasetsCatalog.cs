using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.DomainAdaptation.Data.Benchmarks;

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

        /// <summary>
        /// USPS handwritten digits from <c>usps.h5</c> (HDF5 as on Kaggle: groups train/test with datasets data, N × 256
        /// in [0, 1], and target) or <c>zip.train</c>/<c>zip.test</c> (text, optionally gzipped: the digit then 256
        /// values in [−1, 1]). Features: 1 × 16 × 16 (or Height × Width, bilinear), bright ink on a dark background,
        /// scaled like <see cref="ImageDataOptions"/> says; label: a key of 10 values "0" … "9". Nothing is downloaded.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="path">The usps.h5 or zip.train / zip.test file.</param>
        /// <param name="options">Split (HDF5), size, columns, scaling, checksums. Default: train split, 16 × 16, [−1, 1].</param>
        /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="System.IO.InvalidDataException">The file is not in either format, or a checksum differs.</exception>
        public static IDataView LoadUsps(this DataOperationsCatalog catalog, string path, UspsOptions options = null)
            => Usps.Load(path, options);

        /// <summary>
        /// SVHN cropped digits from <c>train_32x32.mat</c> / <c>test_32x32.mat</c> / <c>extra_32x32.mat</c> (MATLAB
        /// level-5, plain or compressed). Features: 3 × 32 × 32 RGB (or grey, or Height × Width, bilinear); label: a
        /// key of 10 values "0" … "9" (SVHN's label 10 is the digit 0). Nothing is downloaded.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="path">The .mat file.</param>
        /// <param name="options">Grey or RGB, size, columns, scaling, checksums.</param>
        /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="System.IO.InvalidDataException">The file is not a level-5 MAT-file with X (32×32×3×N uint8) and y.</exception>
        public static IDataView LoadSvhn(this DataOperationsCatalog catalog, string path, SvhnOptions options = null)
            => Svhn.Load(path, options);

        /// <summary>
        /// GTSRB traffic signs from a folder of <c>000NN/</c> class folders (each with its <c>.ppm</c> images and
        /// <c>GT-000NN.csv</c>) or a test folder with a <c>GT-*.csv</c>. Each image is cropped to its annotated region
        /// and resized (32 × 32 by default); label: a key of 43 values "0" … "42" (missing without ClassId).
        /// Images are decoded when read. Nothing is downloaded.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="folder">The folder holding the class folders or the test images.</param>
        /// <param name="options">Size, cropping, grey or RGB, columns, scaling, checksums.</param>
        /// <exception cref="System.IO.DirectoryNotFoundException">The folder does not exist.</exception>
        /// <exception cref="System.IO.FileNotFoundException">An annotation file or a listed image is missing.</exception>
        /// <exception cref="System.IO.InvalidDataException">An annotation is malformed.</exception>
        public static IDataView LoadGtsrb(this DataOperationsCatalog catalog, string folder, GtsrbOptions options = null)
            => Gtsrb.Load(folder, options);

        /// <summary>
        /// Images of a <c>root/class/image</c> tree (a domain of Office-31 such as <c>amazon/images</c>, of
        /// Office-Home such as <c>Art</c>, of VisDA such as <c>train</c>, or <see cref="SyntheticDigits.WriteImages"/>'
        /// output): one row per image, with its full path (<see cref="ImageFolderOptions.ImagePathColumnName"/>) and
        /// its class folder as a key label whose key values are the folder names. Chain ML.NET's
        /// <c>LoadImages(imageFolder: null)</c>, <c>ResizeImages</c> and <c>ExtractPixels</c>, or set
        /// <see cref="ImageFolderOptions.LoadPixels"/> for a features column directly.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="folder">The root: one sub-folder per class.</param>
        /// <param name="options">Columns, class list, extensions, optional pixels. Default: path and label only.</param>
        /// <exception cref="System.IO.DirectoryNotFoundException">The folder does not exist.</exception>
        /// <exception cref="System.IO.InvalidDataException">No class folders or no images, or a folder not in ClassNames.</exception>
        public static IDataView LoadImageFolder(this DataOperationsCatalog catalog, string folder, ImageFolderOptions options = null)
            => ImageFolder.Load(folder, options);

        /// <summary>
        /// Writes the rows of <paramref name="data"/> as PNG files <c>folder/&lt;class&gt;/&lt;row&gt;.png</c> (row
        /// index on five or more digits), the layout <c>LoadImageFolder</c> reads: a way to hand any image data view
        /// (the real digits, a benchmark) to a pipeline that starts from image files, such as a pretrained featurizer.
        /// Pixels: <see cref="ImageDataOptions.FeatureColumnName"/>, a known-size vector of Single of dimensions
        /// C × H × W (C = 1 grey, 3 RGB in planar R, G, B order) or H × W, turned back into 0–255 as
        /// <c>value / ScaleImage − OffsetImage</c>, rounded and clamped. Class folder: the label's key value (or the
        /// key's number − 1 without key values, or a Single label's value); rows whose label is missing are skipped.
        /// Existing files are overwritten.
        /// </summary>
        /// <param name="catalog">The data operations catalog.</param>
        /// <param name="data">The rows to write.</param>
        /// <param name="folder">Output root; created if missing.</param>
        /// <param name="options">Columns and pixel scaling. Default: "Features" in [−1, 1] and "Label".</param>
        /// <returns>The paths written, in row order.</returns>
        /// <exception cref="System.ArgumentOutOfRangeException">A column is missing or of the wrong type (the message names it).</exception>
        /// <example><code>
        /// var target = mlContext.Data.LoadUsps("usps.h5");
        /// mlContext.Data.SaveAsImageFolder(target, "usps-images");
        /// var images = mlContext.Data.LoadImageFolder("usps-images");   // ImagePath + Label, for LoadImages
        /// </code></example>
        public static string[] SaveAsImageFolder(this DataOperationsCatalog catalog, IDataView data, string folder, ImageFolderWriteOptions options = null)
            => ImageFolderWriter.Write(data, folder, options);
    }
}
