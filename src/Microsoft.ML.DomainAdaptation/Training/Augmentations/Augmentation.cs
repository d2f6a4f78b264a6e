using System;
using Microsoft.ML.DomainAdaptation.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Which random view of the labeled source rows the supervised loss learns from
    /// (<see cref="DomainAdaptationOptions.SourceAugmentation"/>). The views are the library's one set of augmentations, listed
    /// on <see cref="SelfTrainingOptions"/>; plain vectors (MLP backbone) get the noise and dropout views there.
    /// </summary>
    public enum AugmentationKind
    {
        /// <summary>The rows as they are.</summary>
        None = 0,

        /// <summary>A random translation of up to ⌊size / 8⌋ pixels per axis, edges replicated (vectors: Gaussian noise of 0.1 σ).</summary>
        Weak = 1,

        /// <summary>The weak translation plus a rotation of up to ±20°, contrast × [0.6, 1.4], brightness ± 0.3 σ and Gaussian
        /// noise of 0.15 σ, σ each image's own (vectors: 20 % feature dropout and noise of 0.3 σ).</summary>
        Strong = 2,

        /// <summary>
        /// The weak translation plus a random loss of resolution, as a coarser scanner or camera gives: each image is
        /// averaged down to its side divided by f, f drawn from {1, 1.5, 2, 2.5, 3, 3.5} (28 px: 28, 19, 14, 11, 9 or 8 px), and
        /// resized back bilinearly, which also thickens and blurs thin strokes (vectors: as <see cref="Weak"/>).
        /// </summary>
        Resolution = 3,

        /// <summary>
        /// The weak translation, then the image re-coloured as if blended into a random smooth coloured background, the way
        /// MNIST-M-style colour domains are built from grey digits: with g ∈ [0, 1] the image's channel mean rescaled by its own
        /// minimum m and maximum M, and b_c a background per channel (uniform values on a 4 × 4 grid, resized bilinearly),
        /// x'_c = m + (M − m) · |b_c − g|. Where b_c is dark the strokes stay bright, where it is bright they turn dark, and in
        /// between they become outlines, independently per channel: a grey source then covers the stroke polarities and
        /// colours of a photo-blended target. The backgrounds are synthetic, never target rows (vectors: as <see cref="Weak"/>).
        /// </summary>
        Colour = 4,
    }
}

namespace Microsoft.ML.DomainAdaptation.Training.Augmentations
{
    /// <summary>
    /// Random views of a batch for consistency training, drawn from one seeded generator so a run repeats exactly.
    /// Images (image backbones, rows of C × H × W planar pixels):
    /// <list type="bullet">
    /// <item><b>weak</b>: a random integer translation of up to ⌊size / 8⌋ pixels per axis (3 at 28 × 28), edges replicated
    /// (pad + crop); no flip (digits and text are not mirror-invariant).</item>
    /// <item><b>strong</b>: the same translation range plus a rotation of up to ±20° (bilinear, edges replicated), contrast
    /// scaled by c ∈ [0.6, 1.4] around the image mean, brightness shifted by b ∈ [−0.3, 0.3] image standard deviations, and
    /// Gaussian noise of 0.15 image standard deviations.</item>
    /// </list>
    /// Intensities are changed relative to each image's own mean and standard deviation, so the views do not depend on
    /// whether pixels are 0–255, 0–1 or −1–1. Plain vectors (e.g. the MLP backbone) have no geometry: weak adds Gaussian noise of 0.1
    /// per-feature batch standard deviations; strong zeroes 20 % of the features (feature dropout, the features' mean for
    /// standardised inputs) and adds noise of 0.3 standard deviations.
    /// </summary>
    internal sealed class Augmentation : IDisposable
    {
        internal const double StrongMaxDegrees = 20, StrongContrast = 0.4, StrongBrightness = 0.3, StrongNoise = 0.15;
        internal const double VectorWeakNoise = 0.1, VectorStrongNoise = 0.3, VectorDropout = 0.2;

        private readonly bool _images;
        private readonly long[] _imageShape;
        private readonly Generator _generator;

        /// <param name="spec">The network the views feed: its backbone tells images (C, H, W) from plain vectors.</param>
        /// <param name="seed">Seed of the augmentations' own generator (separate from libtorch's default one).</param>
        public Augmentation(NetworkSpec spec, long seed)
        {
            _images = spec.Backbone.Image is not null;
            if (spec.Backbone.Image is ImageShape image)
                _imageShape = new long[] { image.Channels, image.Height, image.Width };
            _generator = new Generator(unchecked((ulong)seed), CPU);
        }

        /// <summary>The weak view of rows of flattened features (n × d), on their device.</summary>
        public Tensor Weak(Tensor features) => Apply(features, ImageAugmentation.Weak, VectorAugmentation.Weak);

        /// <summary>The strong view of rows of flattened features (n × d), on their device.</summary>
        public Tensor Strong(Tensor features) => Apply(features, ImageAugmentation.Strong, VectorAugmentation.Strong);

        /// <summary>The view <paramref name="kind"/> of rows of flattened features (n × d); the rows themselves for None.</summary>
        public Tensor View(Tensor features, AugmentationKind kind) => kind switch
        {
            AugmentationKind.None => features,
            AugmentationKind.Weak => Weak(features),
            AugmentationKind.Strong => Strong(features),
            AugmentationKind.Resolution => Apply(features, ImageAugmentation.Resolution, VectorAugmentation.Weak), // vectors have no resolution
            AugmentationKind.Colour => Apply(features, ImageAugmentation.Colour, VectorAugmentation.Weak),         // nor colour
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown augmentation."),
        };

        // One view: images as N × C × H × W and back to rows, plain vectors as they are; temporaries freed, the result in the caller's scope.
        private Tensor Apply(Tensor features, Func<Tensor, Generator, Tensor> imageView, Func<Tensor, Generator, Tensor> vectorView)
        {
            using var scope = NewDisposeScope();
            var result = _images ? imageView(AsImages(features), _generator).reshape(features.shape) : vectorView(features, _generator);
            return result.MoveToOuterDisposeScope();
        }

        private Tensor AsImages(Tensor features) => features.reshape(features.shape[0], _imageShape[0], _imageShape[1], _imageShape[2]);

        public void Dispose() => _generator.Dispose();
    }

    /// <summary>
    /// Augmentations of batched images [N, C, H, W]: each image draws its own parameters from <c>generator</c> (a CPU
    /// generator; the parameters then move to the images' device). The deterministic cores take the parameters, for tests.
    /// </summary>
    internal static class ImageAugmentation
    {
        /// <summary>Largest weak (and strong) translation in pixels along an axis of <paramref name="size"/> pixels: ⌊size / 8⌋, at least 1.</summary>
        public static int MaxShift(long size) => (int)Math.Max(1, size / 8);

        public static Tensor Weak(Tensor images, Generator generator) =>
            Translate(images, RandomShifts(images, generator));

        public static Tensor Strong(Tensor images, Generator generator)
        {
            long n = images.shape[0];
            var shifts = RandomShifts(images, generator);
            var degrees = Uniform(n, Augmentation.StrongMaxDegrees, generator);
            var warped = RotateAndTranslate(images, degrees.to(images.device), shifts);
            var contrast = 1 + Uniform(n, Augmentation.StrongContrast, generator);
            var brightness = Uniform(n, Augmentation.StrongBrightness, generator);
            var adjusted = ContrastAndBrightness(warped, contrast.to(images.device), brightness.to(images.device));
            var noise = randn(images.shape, generator: generator).to(images.device);
            return AddNoise(adjusted, noise, Augmentation.StrongNoise);
        }

        /// <summary>Divisors of the side that <see cref="Resolution"/> draws from, uniformly per image.</summary>
        internal static readonly double[] ResolutionFactors = { 1, 1.5, 2, 2.5, 3, 3.5 };

        /// <summary>The weak translation, then each image reduced to 1 / f of its resolution (<see cref="ReduceResolution"/>), f drawn per image.</summary>
        public static Tensor Resolution(Tensor images, Generator generator)
        {
            var shifted = Weak(images, generator);
            var choice = randint(0, ResolutionFactors.Length, new long[] { images.shape[0] }, generator: generator).to(images.device);
            return ReduceResolution(shifted, choice);
        }

        /// <summary>Side of the grid of random values that <see cref="Colour"/>'s backgrounds are resized from.</summary>
        internal const int ColourBackgroundGrid = 4;

        /// <summary>The weak translation, then <see cref="BlendIntoBackground"/> with a random smooth background per image and channel.</summary>
        public static Tensor Colour(Tensor images, Generator generator)
        {
            var shifted = Weak(images, generator);
            var grid = rand(new[] { images.shape[0], images.shape[1], ColourBackgroundGrid, ColourBackgroundGrid }, generator: generator).to(images.device);
            var background = nn.functional.interpolate(grid, new[] { images.shape[2], images.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
            return BlendIntoBackground(shifted, background);
        }

        /// <summary>
        /// x'_c = m + (M − m) · |b_c − g| per image: g = (mean over channels of x − m) / (M − m), m and M the image's minimum and
        /// maximum (over C, H, W), b the background (N × C × H × W, values in [0, 1]); a constant image stays as it is.
        /// </summary>
        public static Tensor BlendIntoBackground(Tensor images, Tensor background)
        {
            var flat = images.reshape(images.shape[0], -1);
            var low = flat.amin(new long[] { 1 }).view(-1, 1, 1, 1);
            var span = flat.amax(new long[] { 1 }).view(-1, 1, 1, 1) - low;
            var grey = (images.mean(new long[] { 1 }, keepdim: true) - low) / span.clamp_min(1e-12);
            return low + span * (background - grey).abs();
        }

        /// <summary>
        /// Image i averaged down (adaptive average pooling: area interpolation) to max(4, round(side / f)) pixels per axis,
        /// f = <see cref="ResolutionFactors"/>[factorIndex[i]], then resized back bilinearly (half-pixel centres); f = 1 leaves it as it is.
        /// </summary>
        public static Tensor ReduceResolution(Tensor images, Tensor factorIndex)
        {
            long height = images.shape[2], width = images.shape[3];
            var result = images;
            for (int f = 1; f < ResolutionFactors.Length; f++)
            {
                var mask = factorIndex.eq(f);
                if (!mask.any().item<bool>())
                    continue;
                long h = Math.Max(4, (long)Math.Round(height / ResolutionFactors[f])), w = Math.Max(4, (long)Math.Round(width / ResolutionFactors[f]));
                var coarse = nn.functional.adaptive_avg_pool2d(images, new[] { h, w });
                var back = nn.functional.interpolate(coarse, new[] { height, width }, mode: InterpolationMode.Bilinear, align_corners: false);
                result = where(mask.view(-1, 1, 1, 1), back, result);
            }
            return result;
        }

        /// <summary>Shifts (n × 2: dx, dy) uniform in [−MaxShift, MaxShift] pixels, per image.</summary>
        public static Tensor RandomShifts(Tensor images, Generator generator)
        {
            long n = images.shape[0];
            var dx = randint(-MaxShift(images.shape[3]), MaxShift(images.shape[3]) + 1, new long[] { n, 1 }, generator: generator);
            var dy = randint(-MaxShift(images.shape[2]), MaxShift(images.shape[2]) + 1, new long[] { n, 1 }, generator: generator);
            return cat(new[] { dx, dy }, 1).to(images.device);
        }

        /// <summary>
        /// Moves each image by whole pixels (shifts n × 2: dx right, dy down), replicating the edge pixels into the uncovered
        /// border: the same as padding by the edge values and cropping, and exact (nearest sampling at pixel centres).
        /// </summary>
        public static Tensor Translate(Tensor images, Tensor shifts) =>
            Warp(images, zeros(images.shape[0], device: images.device), shifts, GridSampleMode.Nearest);

        /// <summary>Rotates each image about its centre by its angle (n, degrees) and moves it by its shift (n × 2 pixels); bilinear, edges replicated.</summary>
        public static Tensor RotateAndTranslate(Tensor images, Tensor degrees, Tensor shifts) =>
            Warp(images, degrees, shifts, GridSampleMode.Bilinear);

        /// <summary>x' = m + c (x − m) + b s per image, with m and s the image's mean and standard deviation (over C, H, W).</summary>
        public static Tensor ContrastAndBrightness(Tensor images, Tensor contrast, Tensor brightness)
        {
            var (mean, std) = Statistics(images);
            return mean + contrast.view(-1, 1, 1, 1) * (images - mean) + brightness.view(-1, 1, 1, 1) * std;
        }

        /// <summary>x' = x + σ s ε per image (ε the given standard normal noise, s the image's standard deviation).</summary>
        public static Tensor AddNoise(Tensor images, Tensor noise, double sigma)
        {
            var (_, std) = Statistics(images);
            return images + noise * (std * sigma);
        }

        private static (Tensor Mean, Tensor Std) Statistics(Tensor images)
        {
            var flat = images.reshape(images.shape[0], -1);
            return (flat.mean(new long[] { 1 }).view(-1, 1, 1, 1), flat.std(1, unbiased: false).view(-1, 1, 1, 1));
        }

        private static Tensor Uniform(long n, double half, Generator generator) => (rand(new long[] { n }, generator: generator) * 2 - 1) * half;

        private static Tensor Warp(Tensor images, Tensor degrees, Tensor shifts, GridSampleMode mode)
        {
            long n = images.shape[0], height = images.shape[2], width = images.shape[3];
            // affine_grid maps output to input coordinates in [−1, 1]: output pixel p samples the input at R p − t, so the
            // content moves by +t. One pixel is 2 / size in these units (align_corners = false: pixel centres at odd multiples of 1 / size).
            var radians = degrees.to(ScalarType.Float32) * (Math.PI / 180);
            var cos = radians.cos();
            var sin = radians.sin();
            var tx = -shifts[.., 0].to(ScalarType.Float32) * (2.0 / width);
            var ty = -shifts[.., 1].to(ScalarType.Float32) * (2.0 / height);
            var theta = stack(new[] { cos, -sin, tx, sin, cos, ty }, 1).view(n, 2, 3);
            var grid = nn.functional.affine_grid(theta, new[] { n, images.shape[1], height, width }, align_corners: false);
            return nn.functional.grid_sample(images, grid, mode, GridSamplePaddingMode.Border, align_corners: false);
        }
    }

    /// <summary>The fallback for plain feature vectors [N, D]: Gaussian noise and feature dropout, scaled per feature by the batch's standard deviation.</summary>
    internal static class VectorAugmentation
    {
        public static Tensor Weak(Tensor features, Generator generator) =>
            features + Noise(features, generator) * (FeatureStd(features) * Augmentation.VectorWeakNoise);

        public static Tensor Strong(Tensor features, Generator generator)
        {
            var std = FeatureStd(features);
            var keep = rand(features.shape, generator: generator).ge(Augmentation.VectorDropout).to(features.device);
            return features * keep + Noise(features, generator) * (std * Augmentation.VectorStrongNoise);
        }

        private static Tensor Noise(Tensor features, Generator generator) => randn(features.shape, generator: generator).to(features.device);

        private static Tensor FeatureStd(Tensor features) => features.std(0, unbiased: false, keepdim: true);
    }
}
