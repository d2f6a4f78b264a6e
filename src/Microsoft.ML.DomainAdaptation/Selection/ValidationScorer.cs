using System;
using System.Collections.Generic;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// An unsupervised validation criterion for domain adaptation: a number computed from a fitted model's outputs on held-out
    /// labeled source rows and unlabeled target rows, meant to rank models by their (unknown) target accuracy.
    /// </summary>
    /// <remarks>
    /// <para>Sign convention: every scorer is <b>higher is better</b>. Criteria that are risks or entropies to minimise
    /// (IWV, DEV, target entropy) are returned negated, so a ranking always sorts scores in descending order.</para>
    /// <para>Built-in scorers: <see cref="SourceAccuracy"/>, <see cref="TargetEntropy"/>, <see cref="SoftNeighborhoodDensity"/>,
    /// <see cref="ImportanceWeighted"/> (IWV), <see cref="DeepEmbedded"/> (DEV), and <see cref="ReverseValidation"/>, which retrains
    /// and so needs a <see cref="ValidationContext"/>. None reads a target label.</para>
    /// </remarks>
    public abstract class ValidationScorer
    {
        /// <summary>Short name used in experiment results, e.g. "DEV".</summary>
        public abstract string Name { get; }

        /// <summary>The score of the model whose outputs <paramref name="set"/> holds; higher is better. NaN when undefined.</summary>
        public abstract double Score(ValidationSet set);

        /// <summary>
        /// The score of a candidate whose held-out outputs <paramref name="set"/> holds, for scorers that also need its options and
        /// training rows (<see cref="ReverseValidation"/> retrains). The default ignores <paramref name="context"/> and returns
        /// <see cref="Score(ValidationSet)"/>. <see cref="DomainAdaptationExperiment"/> calls this overload.
        /// </summary>
        public virtual double Score(ValidationSet set, ValidationContext context) => Score(set);

        /// <summary>Scores <paramref name="model"/> on held-out rows of both domains (see <see cref="ValidationSet.Create"/>).</summary>
        /// <param name="model">The fitted network.</param>
        /// <param name="heldOut">Held-out rows: labeled source rows and target rows, told apart by <paramref name="domainColumnName"/>.</param>
        /// <param name="domainColumnName">The Boolean domain column. Default: "IsTarget".</param>
        public double Score(DomainAdaptationTransformer model, IDataView heldOut, string domainColumnName = "IsTarget")
            => Score(ValidationSet.Create(model, heldOut, domainColumnName));

        /// <summary>Source validation accuracy (<see cref="SourceAccuracyScorer"/>).</summary>
        public static ValidationScorer SourceAccuracy => new SourceAccuracyScorer();

        /// <summary>Negated mean target prediction entropy (<see cref="TargetEntropyScorer"/>).</summary>
        public static ValidationScorer TargetEntropy => new TargetEntropyScorer();

        /// <summary>Soft neighbourhood density (<see cref="SoftNeighborhoodDensityScorer"/>).</summary>
        public static ValidationScorer SoftNeighborhoodDensity => new SoftNeighborhoodDensityScorer();

        /// <summary>Negated importance-weighted source risk, IWV (<see cref="ImportanceWeightedScorer"/>).</summary>
        public static ValidationScorer ImportanceWeighted => new ImportanceWeightedScorer();

        /// <summary>Negated deep embedded validation risk, DEV (<see cref="DeepEmbeddedValidationScorer"/>).</summary>
        public static ValidationScorer DeepEmbedded => new DeepEmbeddedValidationScorer();

        /// <summary>
        /// Reverse validation accuracy (<see cref="ReverseValidationScorer"/>), the default ranking scorer of
        /// <see cref="DomainAdaptationExperimentOptions.Scorer"/>. It trains a reverse model per candidate, so it is not in <see cref="All"/>.
        /// </summary>
        public static ValidationScorer ReverseValidation => new ReverseValidationScorer();

        /// <summary>Every built-in scorer that needs no training, with its default settings (all but <see cref="ReverseValidation"/>).</summary>
        public static IReadOnlyList<ValidationScorer> All => new[] { SourceAccuracy, TargetEntropy, SoftNeighborhoodDensity, ImportanceWeighted, DeepEmbedded };

        /// <summary>Per-row loss of a labeled row given its class probabilities.</summary>
        internal static double RowLoss(float[] probabilities, int label, ValidationLoss loss)
        {
            if (loss == ValidationLoss.ZeroOne)
                return ArgMax(probabilities) == label ? 0 : 1;
            return -Math.Log(Math.Max(probabilities[label], 1e-12));
        }

        internal static int ArgMax(float[] values)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++)
            {
                if (values[i] > values[best])
                    best = i;
            }
            return best;
        }
    }

    /// <summary>The per-row loss an importance-weighted risk averages.</summary>
    public enum ValidationLoss
    {
        /// <summary>Cross-entropy −log p_y (p clipped at 1e-12).</summary>
        CrossEntropy,

        /// <summary>0 when the most probable class is the label, else 1 (the risk is then an error rate).</summary>
        ZeroOne,
    }
}
