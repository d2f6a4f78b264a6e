using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SkiaSharp;

namespace Microsoft.ML.DomainAdaptation.Data.Synthetic
{
    /// <summary>
    /// The font faces a synthetic digit is drawn with: every TrueType/OpenType face found under the given paths (or
    /// the system's font folders) that has the ten digits, each with its family's bold face when there is one.
    /// Typefaces are immutable in Skia, so one set serves every cursor.
    /// </summary>
    internal sealed class FontSet
    {
        private static readonly string[] Extensions = { ".ttf", ".otf", ".ttc" };

        private FontSet(Face[] faces, string[] files)
        {
            Faces = faces;
            Files = files;
        }

        /// <summary>A face to draw with, and the bold face of its family and slant (null: embolden synthetically).</summary>
        public sealed record Face(SKTypeface Regular, SKTypeface Bold, string File);

        public Face[] Faces { get; }

        /// <summary>The font files the faces come from, sorted.</summary>
        public string[] Files { get; }

        public static IEnumerable<string> SystemFontFolders()
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var folders = new List<string> { "/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts" };
            if (!string.IsNullOrEmpty(home))
            {
                folders.Add(Path.Combine(home, ".fonts"));
                folders.Add(Path.Combine(home, ".local", "share", "fonts"));
                folders.Add(Path.Combine(home, "Library", "Fonts"));
            }
            string windows = Environment.GetFolderPath(Environment.SpecialFolder.Fonts);
            if (!string.IsNullOrEmpty(windows))
                folders.Add(windows);
            return folders.Where(Directory.Exists);
        }

        /// <summary>Loads the faces of <paramref name="paths"/> (files or folders), or of the system folders when null.</summary>
        /// <exception cref="FileNotFoundException">A given path does not exist, or no usable font was found.</exception>
        public static FontSet Load(string[] paths)
        {
            var files = new SortedSet<string>(StringComparer.Ordinal);
            var searched = paths ?? SystemFontFolders().ToArray();
            foreach (var path in searched)
            {
                if (File.Exists(path))
                    files.Add(Path.GetFullPath(path));
                else if (Directory.Exists(path))
                {
                    foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
                    {
                        if (Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                            files.Add(Path.GetFullPath(file));
                    }
                }
                else if (paths != null)
                {
                    throw new FileNotFoundException(
                        $"{nameof(SyntheticDigitsOptions.FontPaths)} names '{path}', which is neither a font file nor a folder.", path);
                }
            }

            var loaded = new List<(SKTypeface Typeface, string File)>();
            foreach (var file in files)
            {
                var typeface = SKTypeface.FromFile(file);
                if (typeface != null && typeface.ContainsGlyphs("0123456789"))
                    loaded.Add((typeface, file));
                else
                    typeface?.Dispose();
            }
            if (loaded.Count == 0)
            {
                string where = paths != null ? $"the {nameof(SyntheticDigitsOptions.FontPaths)} given ({string.Join(", ", paths)})"
                    : $"the system font folders ({(searched.Length == 0 ? "none exists" : string.Join(", ", searched))})";
                throw new FileNotFoundException(
                    $"No TrueType/OpenType font with the digits 0–9 was found in {where}. Set {nameof(SyntheticDigitsOptions)}.{nameof(SyntheticDigitsOptions.FontPaths)} " +
                    "to font files or folders (on Debian/Ubuntu, 'apt-get install fonts-dejavu-core' puts fonts in /usr/share/fonts).");
            }

            // The faces drawn are the non-bold ones (a bold-only family counts as its own regular face); bold is then
            // a per-sample choice, so bold digits are as frequent as BoldProbability says whatever the fonts installed.
            static bool IsBold(SKTypeface t) => t.FontWeight >= (int)SKFontStyleWeight.SemiBold;
            var faces = new List<Face>();
            foreach (var (typeface, file) in loaded)
            {
                bool familyHasRegular = loaded.Any(o => o.Typeface.FamilyName == typeface.FamilyName && !IsBold(o.Typeface));
                if (IsBold(typeface) && familyHasRegular)
                    continue;
                var bold = IsBold(typeface) ? typeface
                    : loaded.Select(o => o.Typeface).FirstOrDefault(o => o.FamilyName == typeface.FamilyName && IsBold(o)
                        && o.FontSlant == typeface.FontSlant && o.FontWidth == typeface.FontWidth);
                faces.Add(new Face(typeface, bold, file));
            }
            return new FontSet(faces.ToArray(), files.ToArray());
        }
    }
}
