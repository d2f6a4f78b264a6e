using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// The library's methods by name, as the samples, the benchmark and the <c>mlnet-da</c> tool spell them: "SourceOnly",
    /// "DANN", "CDAN+E", "MMD+MCC", … Each name gives a new options object with the method's defaults, ready to adjust
    /// (backbone, steps, seed) and to pass to <c>DomainAdapt</c> or <c>MulticlassClassification.Trainers.DomainAdaptation</c>.
    /// </summary>
    /// <remarks>
    /// Names are case-insensitive. A name "Method+X" is the method with an add-on loss in its
    /// <see cref="DomainAdaptationOptions.AddOns"/>: "+MCC" a default <see cref="MccAddOn"/> (minimum class confusion),
    /// "+ST" a default <see cref="SelfTrainingAddOn"/> (FixMatch-style self-training), "+ENT" a default <see cref="EntropyAddOn"/>;
    /// the suffixes stack on any name (e.g. "AdaBN+MCC+ST", appended in that order), beyond the combinations
    /// <see cref="Names"/> lists. "SourceOnly+BN" and "AdaBN" train with batch
    /// normalisation in the backbone: their <see cref="DomainAdaptationOptions.Backbone"/> is the default MLP with
    /// <see cref="BackboneOptions.Normalization"/> = <see cref="NormalizationKind.BatchNorm"/>; keep that normalisation
    /// when you replace the backbone (e.g. by a <see cref="LeNetBackboneOptions"/>).
    /// </remarks>
    /// <example><code>
    /// var options = DomainAdaptationMethods.Create("MMD+MCC");
    /// options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28, Normalization = options.Backbone.Normalization };
    /// var estimator = mlContext.MulticlassClassification.Trainers.DomainAdaptation(options);
    /// </code></example>
    public static class DomainAdaptationMethods
    {
        // The add-on losses of the combined names, by the suffix those names use.
        private static readonly (string Suffix, Func<AddOnLoss> Create)[] AddOns =
        {
            ("MCC", () => new MccAddOn()),
            ("ST", () => new SelfTrainingAddOn()),
            ("ENT", () => new EntropyAddOn()),
        };

        // In the order the samples' tables print them.
        private static readonly (string Name, Func<DomainAdaptationOptions> Create)[] All =
        {
            ("SourceOnly", () => new SourceOnlyOptions()),
            ("DANN", () => new DannOptions()),
            ("DeepCORAL", () => new DeepCoralOptions()),
            ("SourceOnly+BN", () => new SourceOnlyOptions { Backbone = new MlpBackboneOptions { Normalization = NormalizationKind.BatchNorm } }),
            ("AdaBN", () => new AdaBnOptions { Backbone = new MlpBackboneOptions { Normalization = NormalizationKind.BatchNorm } }),
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
            Combined("DANN", "MCC"),
            Combined("MMD", "MCC"),
            Combined("AdaBN", "MCC"),
            ("SelfTraining", () => new SelfTrainingOptions()),
            Combined("DANN", "ST"),
            Combined("MMD", "ST"),
            ("VADA", () => new VadaOptions()),
            ("SelfEnsembling", () => new SelfEnsemblingOptions()),
        };

        /// <summary>Every name <see cref="Create(string)"/> knows, in the order the samples print them.</summary>
        public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(All.Select(m => m.Name).ToArray());

        /// <summary>
        /// New options of the method called <paramref name="name"/> (case-insensitive; see <see cref="Names"/>), with the
        /// method's defaults.
        /// </summary>
        /// <exception cref="ArgumentException">No method has that name; the message lists the known ones.</exception>
        public static DomainAdaptationOptions Create(string name) => Find(name).Create();

        /// <summary>
        /// New options of the method called <paramref name="name"/>, with <paramref name="settings"/> applied
        /// (see <see cref="ApplySettings"/>): <c>Create("DANN", "Iterations=500;Backbone.EmbeddingSize=64")</c>.
        /// </summary>
        /// <exception cref="ArgumentException">No method has that name, or a setting names no option of it or has a value
        /// of the wrong type; the message names the setting and what was expected.</exception>
        public static DomainAdaptationOptions Create(string name, string settings)
        {
            var options = Create(name);
            ApplySettings(options, settings);
            return options;
        }

        /// <summary>
        /// Sets fields of <paramref name="options"/> from text, as the samples' and the tool's <c>--set</c> take them:
        /// <c>"Option=value;Option=value"</c>, e.g. <c>"DiscrepancyWeight=0.5;AdversarialOptimizer=Adam"</c>.
        /// </summary>
        /// <remarks>
        /// An option is a public field of the options object's own class (e.g. <see cref="McdOptions"/>), matched exactly or,
        /// failing that, ignoring case. A dotted name sets a field of a nested option object: <c>Backbone.EmbeddingSize=64</c>
        /// (of the backbone the options hold, so set <see cref="DomainAdaptationOptions.Backbone"/> first),
        /// <c>Validation.Interval=100</c> (an option object left null, as <see cref="DomainAdaptationOptions.Validation"/>,
        /// is created with its defaults first), <c>SelfTrainingAddOn.Threshold=0.9</c> (a field of the add-on of that type the
        /// options hold, e.g. from the name "AdaBN+MCC+ST"). Values: numbers in the invariant culture (<c>0.5</c>, <c>1e-3</c>; finite),
        /// <c>true</c>/<c>false</c>, enum member names (any case), text as it is, <c>null</c> or nothing for a nullable
        /// number, comma-separated lists for arrays (<c>Backbone.HiddenLayerSizes=256,128</c>). Spaces around names and
        /// values are ignored; settings apply in order, so a later one wins. Delegates, add-ons and models are set in code.
        /// </remarks>
        /// <exception cref="ArgumentException">A setting is not <c>Option=value</c>, names no option (the message lists
        /// the class's options), or its value is not of the option's type (the message says which type it expects).
        /// Settings before it are applied.</exception>
        public static void ApplySettings(DomainAdaptationOptions options, string settings) => OptionSettings.Apply(options, settings);

        /// <summary>The name as <see cref="Names"/> spells it, for a name given in any case (e.g. "dann+mcc" → "DANN+MCC").</summary>
        /// <exception cref="ArgumentException">No method has that name; the message lists the known ones.</exception>
        public static string CanonicalName(string name) => Find(name).Name;

        /// <summary>True when <paramref name="name"/> is one of <see cref="Names"/> (case-insensitive).</summary>
        public static bool Contains(string name) => All.Any(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

        private static (string Name, Func<DomainAdaptationOptions> Create) Find(string name) =>
            TryFind(name) ?? throw new ArgumentException(
                $"Unknown domain adaptation method '{name}'; known methods: {string.Join(", ", All.Select(m => m.Name))} (each may take add-on suffixes {string.Join(", ", AddOns.Select(a => "+" + a.Suffix))}).", nameof(name));

        // A listed name, or a name followed by an add-on suffix (recursively: "AdaBN+MCC+ST" is "AdaBN+MCC" with a self-training add-on).
        private static (string Name, Func<DomainAdaptationOptions> Create)? TryFind(string name)
        {
            foreach (var method in All)
            {
                if (string.Equals(method.Name, name, StringComparison.OrdinalIgnoreCase))
                    return method;
            }
            int plus = name.LastIndexOf('+');
            if (plus <= 0)
                return null;
            var addOn = AddOns.FirstOrDefault(a => string.Equals(a.Suffix, name[(plus + 1)..], StringComparison.OrdinalIgnoreCase));
            if (addOn.Create is null || TryFind(name[..plus]) is not { } baseMethod)
                return null;
            return ($"{baseMethod.Name}+{addOn.Suffix}", () =>
            {
                var options = baseMethod.Create();
                options.AddOns.Add(addOn.Create());
                return options;
            });
        }

        private static (string, Func<DomainAdaptationOptions>) Combined(string method, string addOn)
        {
            var create = AddOns.Single(a => a.Suffix == addOn).Create;
            return ($"{method}+{addOn}", () =>
            {
                var options = All.Single(m => m.Name == method).Create();
                options.AddOns.Add(create());
                return options;
            });
        }
    }
}
