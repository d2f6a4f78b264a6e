using System;
using System.Globalization;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>An interval [Min, Max] from which a value is drawn uniformly for each sample; Min = Max fixes it.</summary>
    public readonly struct ValueRange : IEquatable<ValueRange>
    {
        /// <summary>Creates the interval [<paramref name="min"/>, <paramref name="max"/>].</summary>
        public ValueRange(float min, float max)
        {
            Min = min;
            Max = max;
        }

        /// <summary>The smallest value drawn.</summary>
        public float Min { get; }

        /// <summary>The largest value drawn.</summary>
        public float Max { get; }

        /// <summary>Whether the interval is well formed and inside [<paramref name="lowest"/>, <paramref name="highest"/>].</summary>
        internal bool IsWithin(float lowest, float highest) =>
            float.IsFinite(Min) && float.IsFinite(Max) && Min <= Max && Min >= lowest && Max <= highest;

        /// <inheritdoc/>
        public bool Equals(ValueRange other) => Min.Equals(other.Min) && Max.Equals(other.Max);

        /// <inheritdoc/>
        public override bool Equals(object obj) => obj is ValueRange other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Min, Max);

        /// <summary>"[Min, Max]".</summary>
        public override string ToString() => string.Format(CultureInfo.InvariantCulture, "[{0}, {1}]", Min, Max);
    }

    /// <summary>
    /// Settings of the synthetic digit source (<c>mlContext.Data.LoadSyntheticDigits</c>,
    /// <see cref="SyntheticDigits.WriteImages"/>): image size, fonts, and the range each random factor of a rendered
    /// digit is drawn from.
    /// </summary>
    /// <remarks>
    /// Row i is rendered from (<see cref="Seed"/>, i) alone: the same options give the same images in any order, on
    /// any cursor, with the same fonts and SkiaSharp version. Rows come in blocks of ten holding each digit once, in
    /// a random order, so any ten consecutive rows from a multiple of ten are balanced.
    /// Sizes and offsets are fractions of the image, so the defaults suit any resolution. Intensities are in [0, 1]
    /// (0 black, 1 white) before <see cref="ImageDataOptions.OffsetImage"/>/<see cref="ImageDataOptions.ScaleImage"/>.
    /// The defaults (1 × 28 × 28, bright digit on a dark background) resemble MNIST; <see cref="HouseNumbers"/> gives
    /// colour 32 × 32 digits with neighbours at the sides, like SVHN.
    /// </remarks>
    public sealed class SyntheticDigitsOptions : ImageDataOptions
    {
        /// <summary>Number of rows. Default: 10,000. Must be positive.</summary>
        public long Rows = 10_000;

        /// <summary>Seed of every random draw. Default: 0.</summary>
        public int Seed;

        /// <summary>1 (grey) or 3 (RGB). Default: 1.</summary>
        public int Channels = 1;

        /// <summary>Image height in pixels, in [8, 512]. Default: 28.</summary>
        public int Height = 28;

        /// <summary>Image width in pixels, in [8, 512]. Default: 28.</summary>
        public int Width = 28;

        /// <summary>
        /// TrueType/OpenType font files (.ttf, .otf, .ttc) or folders searched recursively for them. Each sample uses
        /// one font face drawn uniformly among those that have the ten digits. Default: null, which searches the
        /// system's font folders (/usr/share/fonts, /usr/local/share/fonts, ~/.fonts, ~/.local/share/fonts,
        /// /Library/Fonts, /System/Library/Fonts, the Windows fonts folder). Fonts are read, never shipped.
        /// </summary>
        public string[] FontPaths;

        /// <summary>Probability of a bold weight: the family's bold face when it has one, synthetic emboldening
        /// otherwise. In [0, 1]. Default: 0.3.</summary>
        public float BoldProbability = 0.3f;

        /// <summary>Height of the digit's ink as a fraction of the image height, in [0.1, 1.5]. Default: [0.55, 0.85].</summary>
        public ValueRange DigitHeight = new ValueRange(0.55f, 0.85f);

        /// <summary>Horizontal stretch of the glyph (1 = the font's own aspect), in [0.3, 3]. Default: [0.8, 1.25].</summary>
        public ValueRange AspectRatio = new ValueRange(0.8f, 1.25f);

        /// <summary>Extra uniform scale applied after rotation and shear, in [0.3, 3]. Default: [0.9, 1.1].</summary>
        public ValueRange Scale = new ValueRange(0.9f, 1.1f);

        /// <summary>Offset of the digit's centre from the image centre, as a fraction of the width (x) and height (y),
        /// each drawn from this range, in [−0.5, 0.5]. Default: [−0.08, 0.08].</summary>
        public ValueRange Offset = new ValueRange(-0.08f, 0.08f);

        /// <summary>Rotation in degrees (positive: clockwise), in [−180, 180]. Default: [−12, 12].</summary>
        public ValueRange Rotation = new ValueRange(-12f, 12f);

        /// <summary>Horizontal shear (x += shear × y, italic-like for negative values), in [−1, 1]. Default: [−0.3, 0.3].</summary>
        public ValueRange Shear = new ValueRange(-0.3f, 0.3f);

        /// <summary>Outline stroke added around the glyph, as a fraction of the font size (thicker strokes), in [0, 0.3].
        /// Default: [0, 0.06].</summary>
        public ValueRange StrokeWidth = new ValueRange(0f, 0.06f);

        /// <summary>Gaussian blur sigma in pixels, in [0, 10]. Default: [0, 0.8].</summary>
        public ValueRange Blur = new ValueRange(0f, 0.8f);

        /// <summary>Standard deviation of per-pixel Gaussian noise, as a fraction of full intensity, in [0, 1].
        /// Default: [0, 0.06].</summary>
        public ValueRange Noise = new ValueRange(0f, 0.06f);

        /// <summary>Digit intensity for grey output, in [0, 1]. Default: [0.75, 1] (bright ink, as MNIST).</summary>
        public ValueRange ForegroundIntensity = new ValueRange(0.75f, 1f);

        /// <summary>Background intensity for grey output, in [0, 1]. Default: [0, 0.2].</summary>
        public ValueRange BackgroundIntensity = new ValueRange(0f, 0.2f);

        /// <summary>Probability of swapping the grey foreground and background intensities (dark ink on a light
        /// background), in [0, 1]. Default: 0.</summary>
        public float InvertProbability;

        /// <summary>Colour output (<see cref="Channels"/> = 3): smallest difference of luminance between the digit's and
        /// the background's random colours, in [0, 1]; colours are redrawn until it holds. Default: 0.3.</summary>
        public float MinimumContrast = 0.3f;

        /// <summary>Colour output: probability of a textured background (fractal noise and a gradient over the
        /// background colour) instead of a flat one, in [0, 1]. Default: 0.5.</summary>
        public float TextureProbability = 0.5f;

        /// <summary>Probability of distractor digits, random digits partly visible at the left and right (as in house
        /// numbers), in [0, 1]. Default: 0.</summary>
        public float DistractorProbability;

        /// <summary>Gap between the digit and a distractor, as a fraction of the digit's advance width, in [−0.5, 2].
        /// Default: [0, 0.3].</summary>
        public ValueRange DistractorGap = new ValueRange(0f, 0.3f);

        /// <summary>
        /// Options resembling SVHN's cropped digits: 3 × 32 × 32 colour, random foreground and background colours,
        /// textured backgrounds, distractor digits at the sides with probability 0.7, more blur and noise.
        /// </summary>
        public static SyntheticDigitsOptions HouseNumbers() => new SyntheticDigitsOptions
        {
            Channels = 3,
            Height = 32,
            Width = 32,
            DigitHeight = new ValueRange(0.5f, 0.8f),
            Offset = new ValueRange(-0.05f, 0.05f),
            Rotation = new ValueRange(-8f, 8f),
            Blur = new ValueRange(0f, 1.2f),
            Noise = new ValueRange(0f, 0.08f),
            DistractorProbability = 0.7f,
        };

        internal override void Validate()
        {
            base.Validate();
            Check(Rows > 0, nameof(Rows), Rows, "must be positive");
            Check(Channels == 1 || Channels == 3, nameof(Channels), Channels, "must be 1 (grey) or 3 (RGB)");
            Check(Height >= 8 && Height <= 512, nameof(Height), Height, "must be in [8, 512]");
            Check(Width >= 8 && Width <= 512, nameof(Width), Width, "must be in [8, 512]");
            CheckProbability(BoldProbability, nameof(BoldProbability));
            CheckProbability(InvertProbability, nameof(InvertProbability));
            CheckProbability(MinimumContrast, nameof(MinimumContrast));
            CheckProbability(TextureProbability, nameof(TextureProbability));
            CheckProbability(DistractorProbability, nameof(DistractorProbability));
            CheckRange(DigitHeight, nameof(DigitHeight), 0.1f, 1.5f);
            CheckRange(AspectRatio, nameof(AspectRatio), 0.3f, 3f);
            CheckRange(Scale, nameof(Scale), 0.3f, 3f);
            CheckRange(Offset, nameof(Offset), -0.5f, 0.5f);
            CheckRange(Rotation, nameof(Rotation), -180f, 180f);
            CheckRange(Shear, nameof(Shear), -1f, 1f);
            CheckRange(StrokeWidth, nameof(StrokeWidth), 0f, 0.3f);
            CheckRange(Blur, nameof(Blur), 0f, 10f);
            CheckRange(Noise, nameof(Noise), 0f, 1f);
            CheckRange(ForegroundIntensity, nameof(ForegroundIntensity), 0f, 1f);
            CheckRange(BackgroundIntensity, nameof(BackgroundIntensity), 0f, 1f);
            CheckRange(DistractorGap, nameof(DistractorGap), -0.5f, 2f);
            if (FontPaths != null)
            {
                Check(FontPaths.Length > 0, nameof(FontPaths), "[]", "must list at least one font file or folder when set (null searches the system folders)");
                foreach (var path in FontPaths)
                    Check(!string.IsNullOrWhiteSpace(path), nameof(FontPaths), path, "must not contain empty paths");
            }
        }

        private static void CheckProbability(float value, string name) =>
            Check(value >= 0 && value <= 1, name, value, "must be in [0, 1]");

        private static void CheckRange(ValueRange range, string name, float lowest, float highest) =>
            Check(range.IsWithin(lowest, highest), name, range,
                string.Format(CultureInfo.InvariantCulture, "must be a range with Min ≤ Max inside [{0}, {1}]", lowest, highest));
    }
}
