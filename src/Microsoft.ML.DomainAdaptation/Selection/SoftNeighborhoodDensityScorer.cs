using System;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Soft neighbourhood density (SND; Saito, Kim, Teterwak, Sclaroff, Darrell &amp; Saenko, "Tune it the right way:
    /// unsupervised validation of domain adaptation via soft neighborhood density", ICCV 2021). Higher is better.
    /// </summary>
    /// <remarks>
    /// <para>On the target rows' class probabilities p_i, L2-normalised to f_i: similarities s_ij = f_i·f_j / τ, the diagonal
    /// set to −1/τ so a row is not its own neighbour; each row's neighbour distribution q_i = softmax_j(s_ij); SND =
    /// (1/n) Σ_i H(q_i) (nats). A model whose target predictions form dense, well-separated clusters spreads each row's
    /// neighbour mass over many close rows (high entropy); scattered predictions concentrate it on a few (low entropy).
    /// As in the authors' code the features are the softmax outputs and τ = 0.05.</para>
    /// <para>Beware: near-uniform predictions (a model that has not learned) are all alike, so they also spread the neighbour
    /// mass and score high; compare SND between models of similar source accuracy, or guard with source accuracy.</para>
    /// <para>Cost grows with the square of the target rows: above <see cref="MaxRows"/> a seeded sample of rows is used.</para>
    /// </remarks>
    public sealed class SoftNeighborhoodDensityScorer : ValidationScorer
    {
        /// <summary>Temperature τ of the neighbour softmax. Default: 0.05 (the paper's). Must be positive.</summary>
        public double Temperature = 0.05;

        /// <summary>Most target rows used (a seeded sample above it). Default: 2000. Must be at least 2.</summary>
        public int MaxRows = 2000;

        /// <summary>Seed of the row sample when there are more than <see cref="MaxRows"/> target rows. Default: 0.</summary>
        public int Seed;

        /// <inheritdoc />
        public override string Name => "SND";

        /// <inheritdoc />
        public override double Score(ValidationSet set)
        {
            if (set is null)
                throw new ArgumentNullException(nameof(set));
            DomainAdaptationOptions.Check(Temperature > 0 && double.IsFinite(Temperature), nameof(Temperature), Temperature, "must be a positive number");
            DomainAdaptationOptions.Check(MaxRows >= 2, nameof(MaxRows), MaxRows, "must be at least 2");
            var rows = Enumerable.Range(0, set.TargetProbabilities.Count).ToArray();
            if (rows.Length > MaxRows)
            {
                new Random(Seed).Shuffle(rows);
                rows = rows.Take(MaxRows).ToArray();
            }
            if (rows.Length < 2)
                return double.NaN;
            return Compute(rows.Select(i => set.TargetProbabilities[i]).ToArray(), Temperature);
        }

        internal static double Compute(float[][] probabilities, double temperature)
        {
            int n = probabilities.Length, k = probabilities[0].Length;
            var f = new double[n][];
            for (int i = 0; i < n; i++)
            {
                double norm = Math.Sqrt(probabilities[i].Sum(v => (double)v * v));
                f[i] = probabilities[i].Select(v => norm > 0 ? v / norm : 0).ToArray();
            }
            double total = 0;
            var s = new double[n];
            for (int i = 0; i < n; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < n; j++)
                {
                    double dot = 0;
                    if (i != j)
                    {
                        for (int c = 0; c < k; c++)
                            dot += f[i][c] * f[j][c];
                    }
                    s[j] = i == j ? -1 / temperature : dot / temperature;
                    max = Math.Max(max, s[j]);
                }
                // Entropy of softmax(s) = log Z − Σ q_j s_j, with the maximum subtracted for stability.
                double z = 0, weighted = 0;
                for (int j = 0; j < n; j++)
                {
                    double e = Math.Exp(s[j] - max);
                    z += e;
                    weighted += e * (s[j] - max);
                }
                total += Math.Log(z) - weighted / z;
            }
            return total / n;
        }
    }
}
