using System;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation.Data.Synthetic
{
    /// <summary>
    /// Renders synthetic digit number i of a <see cref="SyntheticDigitsOptions"/> into 8-bit planar pixels. One
    /// renderer per cursor or thread: it keeps its canvas; the fonts are shared.
    /// </summary>
    internal sealed class DigitRenderer : IDisposable
    {
        // Streams of the keyed generator: one for the labels of a block of ten rows, one for a row's appearance.
        private const ulong LabelStream = 1, AppearanceStream = 2;
        private const string Digits = "0123456789";

        private readonly SyntheticDigitsOptions _options;
        private readonly FontSet _fonts;
        private readonly SKBitmap _bitmap;
        private readonly SKCanvas _canvas;

        public DigitRenderer(SyntheticDigitsOptions options, FontSet fonts)
        {
            _options = options;
            _fonts = fonts;
            _bitmap = new SKBitmap(new SKImageInfo(options.Width, options.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
            _canvas = new SKCanvas(_bitmap);
        }

        public int PixelCount => _options.Channels * _options.Height * _options.Width;

        /// <summary>The digit of row <paramref name="row"/>: rows come in blocks of ten holding each digit once.</summary>
        public static int Label(int seed, long row)
        {
            var random = new SampleRandom(seed, LabelStream, row / 10);
            Span<int> digits = stackalloc int[10];
            for (int i = 0; i < 10; i++)
                digits[i] = i;
            for (int i = 9; i > 0; i--)
            {
                int j = random.Next(i + 1);
                (digits[i], digits[j]) = (digits[j], digits[i]);
            }
            return digits[(int)(row % 10)];
        }

        /// <summary>Renders row <paramref name="row"/> into <paramref name="pixels"/> (planar C×H×W, 0–255) and returns its digit.</summary>
        public int Render(long row, Span<byte> pixels)
        {
            var o = _options;
            int digit = Label(o.Seed, row);
            var random = new SampleRandom(o.Seed, AppearanceStream, row);
            int width = o.Width, height = o.Height;

            // Every draw happens in a fixed order, whether or not its feature is used, so that changing one probability
            // does not reshuffle the other factors of the same row.
            var face = _fonts.Faces[random.Next(_fonts.Faces.Length)];
            bool bold = random.Chance(o.BoldProbability);
            float digitHeight = random.Uniform(o.DigitHeight) * height;
            float aspect = random.Uniform(o.AspectRatio);
            float scale = random.Uniform(o.Scale);
            float offsetX = random.Uniform(o.Offset) * width, offsetY = random.Uniform(o.Offset) * height;
            float rotation = random.Uniform(o.Rotation);
            float shear = random.Uniform(o.Shear);
            float stroke = random.Uniform(o.StrokeWidth);
            float blur = random.Uniform(o.Blur);
            float noise = random.Uniform(o.Noise) * 255f;
            var (foreground, background) = o.Channels == 1 ? GreyColours(ref random) : RandomColours(ref random);
            bool textured = o.Channels == 3 && random.Chance(o.TextureProbability);
            float textureFrequency = random.Uniform(0.05f, 0.4f), textureAlpha = random.Uniform(0.15f, 0.45f);
            float textureSeed = random.Next(10_000), gradientAngle = random.Uniform(0, 2 * MathF.PI);
            var gradientEnd = Jitter(background, ref random);
            bool distractors = random.Chance(o.DistractorProbability);
            int left = random.Next(10), right = random.Next(10);
            float gapLeft = random.Uniform(o.DistractorGap), gapRight = random.Uniform(o.DistractorGap);

            _canvas.ResetMatrix();
            _canvas.Clear(background);
            if (textured)
                DrawTexture(background, gradientEnd, gradientAngle, textureFrequency, textureAlpha, textureSeed);

            using var paint = new SKPaint
            {
                Typeface = bold && face.Bold != null ? face.Bold : face.Regular,
                FakeBoldText = bold && face.Bold == null,
                IsAntialias = true,
                Color = foreground,
                TextSize = 100,
                SubpixelText = true,
            };
            string text = Digits[digit].ToString();
            // Size the font so the digit's ink (not its em box) has the drawn height: fonts differ widely in digit height.
            var bounds = new SKRect();
            paint.MeasureText(text, ref bounds);
            paint.TextSize = 100 * digitHeight / Math.Max(bounds.Height, 1f);
            if (stroke > 0)
            {
                paint.Style = SKPaintStyle.StrokeAndFill;
                paint.StrokeWidth = stroke * paint.TextSize;
                paint.StrokeJoin = SKStrokeJoin.Round;
            }
            if (blur > 0.05f)
                paint.MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, blur);
            float advance = paint.MeasureText(text, ref bounds);

            _canvas.Translate(width / 2f + offsetX, height / 2f + offsetY);
            _canvas.Scale(scale);
            _canvas.RotateDegrees(rotation);
            _canvas.Skew(shear, 0);
            _canvas.Scale(aspect, 1);
            float x = -bounds.MidX, y = -bounds.MidY;
            _canvas.DrawText(text, x, y, paint);
            if (distractors)
            {
                // House-number neighbours: same font and colour, on the digit's baseline, one advance (plus a gap) away.
                string leftText = Digits[left].ToString(), rightText = Digits[right].ToString();
                float leftAdvance = paint.MeasureText(leftText);
                _canvas.DrawText(leftText, x - leftAdvance - gapLeft * advance, y, paint);
                _canvas.DrawText(rightText, x + advance + gapRight * advance, y, paint);
            }
            _canvas.Flush();

            ReadPixels(pixels, noise, ref random);
            return digit;
        }

        private (SKColor Foreground, SKColor Background) GreyColours(ref SampleRandom random)
        {
            byte fg = ToByte(random.Uniform(_options.ForegroundIntensity));
            byte bg = ToByte(random.Uniform(_options.BackgroundIntensity));
            if (random.Chance(_options.InvertProbability))
                (fg, bg) = (bg, fg);
            return (new SKColor(fg, fg, fg), new SKColor(bg, bg, bg));
        }

        private (SKColor Foreground, SKColor Background) RandomColours(ref SampleRandom random)
        {
            // Redraw until the luminances differ enough; a fixed number of tries keeps the row's draws bounded, and
            // the last resort (black or white ink, whichever is further) always meets any contrast up to 0.5.
            SKColor fg = default, bg = default;
            for (int attempt = 0; attempt < 16; attempt++)
            {
                fg = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                bg = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                if (MathF.Abs(Luminance(fg) - Luminance(bg)) >= _options.MinimumContrast)
                    return (fg, bg);
            }
            return (Luminance(bg) > 0.5f ? SKColors.Black : SKColors.White, bg);
        }

        private static SKColor Jitter(SKColor colour, ref SampleRandom random)
        {
            static byte Shift(byte c, float d) => (byte)Math.Clamp(c + d, 0, 255);
            return new SKColor(Shift(colour.Red, random.Uniform(-60, 60)), Shift(colour.Green, random.Uniform(-60, 60)), Shift(colour.Blue, random.Uniform(-60, 60)));
        }

        private static float Luminance(SKColor c) => (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;

        private static byte ToByte(float intensity) => (byte)Math.Clamp(MathF.Round(intensity * 255f), 0, 255);

        private void DrawTexture(SKColor from, SKColor to, float angle, float frequency, float alpha, float seed)
        {
            float w = _options.Width, h = _options.Height;
            var centre = new SKPoint(w / 2, h / 2);
            var direction = new SKPoint(MathF.Cos(angle) * w / 2, MathF.Sin(angle) * h / 2);
            using (var gradient = new SKPaint { Shader = SKShader.CreateLinearGradient(centre - direction, centre + direction, new[] { from, to }, SKShaderTileMode.Clamp) })
                _canvas.DrawRect(0, 0, w, h, gradient);
            using var noise = new SKPaint
            {
                Shader = SKShader.CreatePerlinNoiseFractalNoise(frequency, frequency, 3, seed),
                Color = SKColors.White.WithAlpha(ToByte(alpha)),
            };
            _canvas.DrawRect(0, 0, w, h, noise);
        }

        private void ReadPixels(Span<byte> pixels, float noise, ref SampleRandom random)
        {
            int plane = _options.Width * _options.Height;
            // Not GetPixelSpan: its return type changed in SkiaSharp 3, which the mlnet-da tool runs under (ScottPlot).
            ReadOnlySpan<byte> rgba = SyntheticDigits.Pixels(_bitmap);
            for (int p = 0; p < plane; p++)
            {
                byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
                if (_options.Channels == 1)
                {
                    pixels[p] = AddNoise(0.299f * r + 0.587f * g + 0.114f * b, noise, ref random);
                }
                else
                {
                    pixels[p] = AddNoise(r, noise, ref random);
                    pixels[plane + p] = AddNoise(g, noise, ref random);
                    pixels[2 * plane + p] = AddNoise(b, noise, ref random);
                }
            }
        }

        private static byte AddNoise(float value, float sigma, ref SampleRandom random)
        {
            if (sigma > 0)
                value += (float)random.Gaussian() * sigma;
            return (byte)Math.Clamp(MathF.Round(value), 0, 255);
        }

        public void Dispose()
        {
            _canvas.Dispose();
            _bitmap.Dispose();
        }
    }
}
