using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation.Samples
{
    /// <summary>The methods the digits sample compares, by the name it prints, with the options it trains them with; the
    /// mlnet-da tool (src/Microsoft.ML.DomainAdaptation.Cli) compiles this file too and takes the same names.</summary>
    public static class DigitsMethods
    {
        private static readonly (string Name, Func<DomainAdaptationOptions> Create)[] All =
        {
            ("SourceOnly", () => new SourceOnlyOptions()),
            ("DANN", () => new DannOptions()),
            ("DeepCORAL", () => new DeepCoralOptions()),
            ("SourceOnly+BN", () => new SourceOnlyOptions { Backbone = new LeNetBackboneOptions { Normalization = NormalizationKind.BatchNorm } }),
            ("AdaBN", () => new AdaBnOptions { Backbone = new LeNetBackboneOptions { Normalization = NormalizationKind.BatchNorm } }),
            ("MMD", () => new MmdOptions()),
            ("WeightedMMD", () => new WeightedMmdOptions()),
            ("CMD", () => new CmdOptions()),
            ("MCD", () => new McdOptions()),
            ("ADDA", () => new AddaOptions()),
            ("M-ADDA", () => new MAddaOptions()),
            ("CDAN", () => new CdanOptions()),
            ("CDAN+E", () => new CdanOptions { EntropyConditioning = true }),
            ("JAN", () => new JanOptions()),
            ("MDD", () => new MddOptions()),
            ("MCC", () => new MccOptions()),
            ("DANN+MCC", () => new DannOptions { AddOns = { new MccAddOn() } }),
            ("MMD+MCC", () => new MmdOptions { AddOns = { new MccAddOn() } }),
            ("SelfTraining", () => new SelfTrainingOptions()),
            ("DANN+ST", () => new DannOptions { AddOns = { new SelfTrainingAddOn() } }),
            ("MMD+ST", () => new MmdOptions { AddOns = { new SelfTrainingAddOn() } }),
            ("VADA", () => new VadaOptions()),
            ("VADA+DIRT-T", () => new DirtTOptions()),
            ("SelfEnsembling", () => new SelfEnsemblingOptions()),
        };

        /// <summary>Methods that refine another method's fitted model (<see cref="DirtTOptions.InitialModel"/>): trained first, with the same settings.</summary>
        private static readonly Dictionary<string, string> StartingPoints = new(StringComparer.OrdinalIgnoreCase)
        {
            ["VADA+DIRT-T"] = "VADA",
        };

        public static string[] Names => All.Select(m => m.Name).ToArray();

        /// <summary>What the sample runs without --methods: the methods that gain on these pairs, with their baselines.</summary>
        public static string[] Default => new[] { "SourceOnly", "DANN", "DeepCORAL", "SourceOnly+BN", "AdaBN" };

        /// <summary>The method whose fitted model <paramref name="name"/> starts from, or null when it trains from scratch.</summary>
        public static string StartsFrom(string name) => StartingPoints.TryGetValue(name, out var first) ? first : null;

        public static DomainAdaptationOptions Create(string name) =>
            All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)).Create?.Invoke()
            ?? throw new ArgumentException($"Unknown method '{name}'; known: {string.Join(", ", Names)}.");
    }
}
