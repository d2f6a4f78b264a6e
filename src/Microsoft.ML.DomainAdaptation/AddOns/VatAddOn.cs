using System;
using System.Linq;
using Microsoft.ML.DomainAdaptation.Methods;
using Microsoft.ML.DomainAdaptation.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Virtual adversarial training (VAT; Miyato, Maeda, Koyama &amp; Ishii, TPAMI 2018) on both domains, as VADA uses it
    /// (Shu, Bui, Narui &amp; Ermon, ICLR 2018): <c>w_s · L_v(x_s) + w · L_v(x_t)</c> with
    /// <c>L_v(x) = (1/n) Σ_i KL(p(x_i) ‖ p(x_i + r_i))</c>, <c>r_i = ε · g_i / ‖g_i‖₂</c>,
    /// <c>g_i = ∇_d KL(p(x_i) ‖ p(x_i + d_i))</c> at <c>d_i = ξ · u_i / ‖u_i‖₂</c>, u_i ~ N(0, I) (one power iteration), p the
    /// network's softmax and p(x_i) held constant. It makes the classifier locally Lipschitz in the input around every row, so
    /// its boundary avoids the data. Logged as "vat source" and "vat target" (only the latter when w_s = 0, which skips the source rows).
    /// </summary>
    /// <remarks>
    /// Defaults: ξ = 0.01 instead of Miyato et al.'s 1e-6: in float32, logits moved by 1e-6 are below their rounding (about
    /// 3e-7 at magnitude 5), and at 1e-6 the power iteration's direction was noise on a toy network (a random direction raised
    /// the KL more, AddOnTests); ξ only has to stay small next to ε. ε = 3.5, the radius of Shu et al.'s implementation for digits (Miyato et al. used 8 on
    /// SVHN and CIFAR-10). ε is an L2 radius over the whole input row, so it depends on the input's scale: 3.5 suits standardised
    /// pixels (about 0.125 per pixel at 28 × 28). The perturbed forward passes run in training mode (batch normalisation sees
    /// them, as in the reference implementations); with batch normalisation the clean predictions p(x) are recomputed on each
    /// domain's batch alone (without gradient), so p(x) and p(x + r) see the same batch statistics and differ only by r. The random start u is drawn from the add-on's own generator, seeded with the
    /// training seed.
    /// </remarks>
    /// <example><code>
    /// var options = new DannOptions { AddOns = { new VatAddOn { Weight = 0.01f, SourceWeight = 1 } } };
    /// </code></example>
    public sealed class VatAddOn : AddOnLoss
    {
        /// <summary>Weight w_s of the source rows' VAT loss (<see cref="AddOnLoss.Weight"/> weighs the target rows'). Default: 1. Must be non-negative.</summary>
        public float SourceWeight = 1f;

        /// <summary>Radius ε of the adversarial perturbation (L2 over a row's features). Default: 3.5. Must be positive.</summary>
        public float Epsilon = 3.5f;

        /// <summary>Radius ξ of the finite-difference step of the power iteration. Default: 0.01 (see the remarks for why not the paper's 1e-6). Must be positive.</summary>
        public float Xi = 0.01f;

        internal override string Name => nameof(VatAddOn);

        internal override void Validate()
        {
            base.Validate();
            DomainAdaptationOptions.Check(SourceWeight >= 0 && float.IsFinite(SourceWeight), $"{Name}.{nameof(SourceWeight)}", SourceWeight, "must be non-negative");
            DomainAdaptationOptions.Check(Epsilon > 0 && float.IsFinite(Epsilon), $"{Name}.{nameof(Epsilon)}", Epsilon, "must be positive");
            DomainAdaptationOptions.Check(Xi > 0 && float.IsFinite(Xi), $"{Name}.{nameof(Xi)}", Xi, "must be positive");
        }

        internal override AddOnTerm CreateTerm(MethodContext context) => new Term(this, context);

        /// <summary>Mean over rows of KL(softmax(<paramref name="cleanLogits"/>) ‖ softmax(<paramref name="logits"/>)); the clean side is held constant.</summary>
        internal static Tensor Kl(Tensor cleanLogits, Tensor logits) => KlRows(cleanLogits, logits).mean();

        /// <summary>KL(softmax(<paramref name="cleanLogits"/>) ‖ softmax(<paramref name="logits"/>)) of each row; the clean side is held constant.</summary>
        internal static Tensor KlRows(Tensor cleanLogits, Tensor logits)
        {
            var logP = nn.functional.log_softmax(cleanLogits.detach(), 1);
            return (logP.exp() * (logP - nn.functional.log_softmax(logits, 1))).sum(1);
        }

        /// <summary>Each row of <paramref name="d"/> divided by its L2 norm (over every non-batch dimension).</summary>
        internal static Tensor Normalize(Tensor d)
        {
            var rows = d.reshape(d.shape[0], -1);
            // No additive ε: with a small ξ the power iteration's gradient can have norms near 1e-11, which an ε would shorten.
            return (rows / rows.norm(1, keepdim: true).clamp_min(1e-30)).reshape(d.shape);
        }

        /// <summary>
        /// The unit adversarial direction g / ‖g‖ per row (one power iteration from a random start of radius
        /// <paramref name="xi"/>), without gradient.
        /// </summary>
        internal static Tensor AdversarialDirection(Func<Tensor, Tensor> logitsOf, Tensor x, Tensor cleanLogits, double xi, Generator generator)
        {
            using var scope = NewDisposeScope();
            var start = randn(x.shape, generator: generator).to(x.device);
            var d = (Normalize(start) * xi).requires_grad_(true);
            var kl = Kl(cleanLogits, logitsOf(x + d));
            var gradient = autograd.grad(new[] { kl }, new[] { d })[0];
            return Normalize(gradient.detach()).MoveToOuterDisposeScope();
        }

        /// <summary>The VAT loss L_v of the rows <paramref name="x"/> whose clean logits are <paramref name="cleanLogits"/>.</summary>
        internal static Tensor Compute(Func<Tensor, Tensor> logitsOf, Tensor x, Tensor cleanLogits, double epsilon, double xi, Generator generator)
        {
            var direction = AdversarialDirection(logitsOf, x, cleanLogits, xi, generator);
            return Kl(cleanLogits, logitsOf(x + direction * epsilon));
        }

        private sealed class Term : AddOnTerm
        {
            // Its own generator is not in checkpoints.
            public override bool ResumesExactly => false;

            private readonly VatAddOn _options;
            private readonly Generator _generator;
            private bool? _recomputeClean;

            public Term(VatAddOn options, MethodContext context)
            {
                _options = options;
                // Its own generator, apart from libtorch's default stream (weights, sampling) and the augmentations'.
                _generator = new Generator(unchecked((ulong)context.Seed * 2654435761UL + 1), CPU);
            }

            public override Tensor Loss(ScoringNetwork network, StepBatch batch, StepState state, AlignmentInputs inputs, LossLog losses)
            {
                Func<Tensor, Tensor> logitsOf = network.forward;
                // Batch normalisation couples a batch's rows (instance normalisation does not): asked of the modules, so any backbone answers.
                bool recomputeClean = _recomputeClean ??= network.modules().OfType<TorchSharp.Modules.BatchNorm>().Any();
                // A source weight of 0 (DIRT-T, VADA's MNIST → SVHN setting) skips the source rows' passes altogether.
                bool withSource = _options.SourceWeight > 0;
                Tensor source = null, target;
                if (recomputeClean || !withSource)
                {
                    // Batch normalisation: each domain's perturbed rows go through the network alone, like its clean rows.
                    if (withSource)
                        source = Compute(logitsOf, batch.SourceFeatures, Clean(network, batch.SourceFeatures), _options.Epsilon, _options.Xi, _generator);
                    var targetClean = recomputeClean ? Clean(network, batch.TargetFeatures) : inputs.TargetLogits;
                    target = Compute(logitsOf, batch.TargetFeatures, targetClean, _options.Epsilon, _options.Xi, _generator);
                }
                else
                {
                    // Rows are independent without batch normalisation: one power iteration and one perturbed pass over both
                    // domains together instead of one per domain (half the network calls; the same per-row directions).
                    int sourceRows = (int)batch.SourceFeatures.shape[0];
                    var x = cat(new[] { batch.SourceFeatures, batch.TargetFeatures }, 0);
                    var clean = cat(new[] { inputs.SourceLogits, inputs.TargetLogits }, 0).detach();
                    var direction = AdversarialDirection(logitsOf, x, clean, _options.Xi, _generator);
                    var rows = KlRows(clean, logitsOf(x + direction * _options.Epsilon));
                    source = rows[..sourceRows].mean();
                    target = rows[sourceRows..].mean();
                }
                losses.Add("vat target", target);
                if (source is null)
                    return target * _options.Weight;
                losses.Add("vat source", source);
                return source * _options.SourceWeight + target * _options.Weight;
            }

            /// <summary>The clean logits of <paramref name="x"/> from a pass over <paramref name="x"/> alone, without gradient.</summary>
            private static Tensor Clean(ScoringNetwork network, Tensor x)
            {
                using var noGrad = no_grad();
                return network.forward(x);
            }

            public override void Dispose() => _generator.Dispose();
        }
    }
}
