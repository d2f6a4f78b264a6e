using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>Settings of the standard benchmark loaders (USPS, SVHN, GTSRB, image folders).</summary>
    public abstract class BenchmarkImageOptions : ImageDataOptions
    {
        /// <summary>Output width in pixels; null keeps the data set's own (each loader documents it). Images are resized
        /// bilinearly (the digits sample's choice; ML.NET's ResizeImages picks the nearest pixel). Default: null.</summary>
        public int? Width;

        /// <summary>Output height in pixels; null keeps the data set's own. Default: null.</summary>
        public int? Height;

        /// <summary>
        /// Optional checksums to verify before reading: file path relative to the data set's path (for a single-file
        /// data set, its file name) → SHA-256 in hexadecimal. A mismatch throws an <see cref="System.IO.InvalidDataException"/>.
        /// Default: null (no check). Hashing reads every listed file once more.
        /// </summary>
        public IDictionary<string, string> Sha256;

        internal override void Validate()
        {
            base.Validate();
            Check(Width is null || (Width >= 1 && Width <= 4096), nameof(Width), Width, "must be in [1, 4096] when set");
            Check(Height is null || (Height >= 1 && Height <= 4096), nameof(Height), Height, "must be in [1, 4096] when set");
        }
    }
}
