using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Settings shared by the image data sources (the synthetic digits and benchmark loaders of Microsoft.ML.DomainAdaptation.Datasets):
    /// output column names and how 8-bit pixel values become features.
    /// </summary>
    /// <remarks>
    /// A pixel value p in 0–255 becomes <c>(p + OffsetImage) × ScaleImage</c>. The defaults give [−1, 1], the scale of the
    /// digits sample (<c>p / 127.5 − 1</c>), so synthetic and real domains compare directly; <c>OffsetImage = 0,
    /// ScaleImage = 1</c> gives ExtractPixels' default 0–255. ML.NET's ExtractPixels subtracts its offset,
    /// <c>(p − offsetImage) × scaleImage</c>: the same features come from it with <c>offsetImage: 127.5f, scaleImage: 1 / 127.5f</c>.
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
}
