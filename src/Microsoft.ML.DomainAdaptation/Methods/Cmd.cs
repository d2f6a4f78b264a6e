using Microsoft.ML.DomainAdaptation.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Central Moment Discrepancy (CMD; Zellinger et al., ICLR 2017): matches the means and the central moments up to order K of
    /// the source and target activations, coordinate by coordinate, with no kernel and no bandwidth to choose:
    /// <c>L = CE(C(G(x_s)), y_s) + w · CMD_K(tanh(G(x_s)), tanh(G(x_t)))</c>,
    /// <c>CMD_K(X, Y) = ‖E X − E Y‖₂ / |b − a| + Σ_{k=2..K} ‖c_k(X) − c_k(Y)‖₂ / |b − a|^k</c>, c_k the k-th central moments.
    /// </summary>
    /// <remarks>
    /// CMD is defined for activations bounded in an interval [a, b] (the paper uses sigmoid units, [0, 1]). The embedding G(x) ends
    /// with a ReLU, so it is non-negative but unbounded; the loss is applied to tanh(G(x)), which lies in [0, 1) (|b − a| = 1).
    /// tanh is one-to-one on [0, ∞), so matching the moments of tanh(G(x)) matches the distributions of the embeddings, while
    /// the classifier still reads G(x) itself. Unlike the paper, the weight is ramped up by default (<see cref="RampWeight"/>): at a
    /// constant weight the moment matching drove the LeNet embedding of the digits to all zeros (dead ReLU units) before the
    /// classifier had learned anything.
    /// </remarks>
    /// <example><code>
    /// var estimator = mlContext.Transforms.DomainAdapt(new CmdOptions { MomentOrder = 5 });
    /// </code></example>
    public sealed class CmdOptions : DomainAdaptationOptions
    {
        /// <summary>Highest central moment K matched. Default: 5 (the paper's choice). Must be at least 1.</summary>
        public int MomentOrder = 5;

        /// <summary>Weight w of the CMD loss. Default: 1 (the paper's). Must be non-negative.</summary>
        public float CmdWeight = 1f;

        /// <summary>
        /// Ramp the weight up with the training progress p as the gradient-reversal coefficient of DANN: w · (2 / (1 + exp(−10 p)) − 1).
        /// Default: true; false keeps w constant, as Zellinger et al.
        /// </summary>
        public bool RampWeight = true;

        internal override string MethodName => "CMD";

        internal override Methods.AdaptationMethod CreateMethod(Methods.MethodContext context) => new Methods.CmdMethod(this, context);

        internal override void ValidateMethodOptions()
        {
            Check(MomentOrder >= 1, nameof(MomentOrder), MomentOrder, "must be at least 1");
            Check(CmdWeight >= 0 && float.IsFinite(CmdWeight), nameof(CmdWeight), CmdWeight, "must be non-negative");
            CheckBatchOfTwo("the CMD loss (central moments of one row are 0)");
        }
    }
}

namespace Microsoft.ML.DomainAdaptation.Methods
{
    internal sealed class CmdMethod : AdaptationMethod
    {
        private readonly CmdOptions _options;

        public CmdMethod(CmdOptions options, MethodContext context) : base(context) => _options = options;

        protected override Tensor AlignmentLoss(AlignmentInputs inputs, StepState state, LossLog losses)
        {
            // tanh maps the non-negative ReLU embedding into [0, 1): a = 0, b = 1.
            var cmd = CmdLoss.Compute(inputs.SourceEmbedding.tanh(), inputs.TargetEmbedding.tanh(), _options.MomentOrder, range: 1);
            losses.Add("cmd", cmd);
            double weight = _options.CmdWeight * (_options.RampWeight ? Training.Schedules.WarmStart(state.Progress) : 1);
            losses.AddSchedule(ScheduleName.AlignmentWeight, weight);
            return cmd * weight;
        }
    }
}
