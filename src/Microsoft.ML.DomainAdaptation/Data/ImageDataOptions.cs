using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Settings shared by the image data sources (<see cref="SyntheticDigitsOptions"/> and the benchmark loaders):
    /// output column names and how 8-bit pixel values become features.
    /// </summary>
    /// <remarks>
    /// A pixel value p in 0–255 becomes <c>(p + OffsetImage) × ScaleImage</c>, as ML.NET's ExtractPixels does. The
    /// defaults give [−1, 1], the scale of the digits sample (<c>p / 127.5 − 1</c>), so synthetic and real domains
    /// compare directly; <c>OffsetImage = 0, ScaleImage = 1</c> gives ExtractPixels' default 0–255.
    /// Features are planar C×H×W with channels in R, G, B order (ExtractPixels' default layout).
    /// </remarks>
    public abstract class ImageDataOptions
    {
        /// <summary>Output column of pixels: a vector of Single of dimensions channels × height × width. Default: "Features".</summary>
        public string FeatureColumnName = "Features";

        /// <summary>Output column of labels: a key (1..K) whose key values are the class names. Default: "Label".</summary>
        public string LabelColumnName = "Label";

        /// <summary>Added to each 0–255 pixel value before scaling. Default: −127.5.</summary>
        public float OffsetImage = -127.5f;

        /// <summary>Multiplies each offset pixel value. Default: 1/127.5 (features in [−1, 1]). Must be finite and non-zero.</summary>
        public float ScaleImage = 1f / 127.5f;

        internal virtual void Validate()
        {
            CheckName(FeatureColumnName, nameof(FeatureColumnName));
            CheckName(LabelColumnName, nameof(LabelColumnName));
            Check(FeatureColumnName != LabelColumnName, nameof(LabelColumnName), LabelColumnName, "must differ from FeatureColumnName");
            Check(float.IsFinite(OffsetImage), nameof(OffsetImage), OffsetImage, "must be finite");
            Check(float.IsFinite(ScaleImage) && ScaleImage != 0, nameof(ScaleImage), ScaleImage, "must be finite and non-zero");
        }

        internal float ToFeature(float pixel) => (pixel + OffsetImage) * ScaleImage;

        /// <summary>A shallow copy, so a view keeps the settings it was made with.</summary>
        internal ImageDataOptions MemberwiseCloneOptions() => (ImageDataOptions)MemberwiseClone();

        internal static void CheckName(string value, string name)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be a non-empty column name.");
        }

        /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the option when <paramref name="condition"/> is false.</summary>
        internal static void Check(bool condition, string name, object value, string requirement)
        {
            if (!condition)
                throw new ArgumentOutOfRangeException(name, value, $"{name} {requirement}; got {value}.");
        }
    }

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
