using System;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// What a scorer that retrains (<see cref="ReverseValidationScorer"/>) needs besides a model's outputs on the held-out rows:
    /// the candidate's options, the rows it was trained on and the held-out rows themselves. <see cref="DomainAdaptationExperiment"/>
    /// passes one to every scorer through <see cref="ValidationScorer.Score(ValidationSet, ValidationContext)"/>.
    /// </summary>
    public sealed class ValidationContext
    {
        /// <summary>Makes a context for scoring <paramref name="model"/>.</summary>
        /// <param name="mlContext">The ML.NET context (logging, cancellation) any retraining runs in.</param>
        /// <param name="model">The fitted candidate.</param>
        /// <param name="options">The options it was trained with.</param>
        /// <param name="training">The rows it was trained on (both domains; target labels are never read).</param>
        /// <param name="heldOut">The held-out rows of both domains (labeled source rows are the ones scored).</param>
        public ValidationContext(MLContext mlContext, DomainAdaptationTransformer model, DomainAdaptationOptions options, IDataView training, IDataView heldOut)
            : this((IHostEnvironment)mlContext ?? throw new ArgumentNullException(nameof(mlContext)), model, options, training, heldOut)
        {
        }

        internal ValidationContext(IHostEnvironment environment, DomainAdaptationTransformer model, DomainAdaptationOptions options, IDataView training, IDataView heldOut)
        {
            Environment = environment ?? throw new ArgumentNullException(nameof(environment));
            Model = model ?? throw new ArgumentNullException(nameof(model));
            Options = options ?? throw new ArgumentNullException(nameof(options));
            Training = training ?? throw new ArgumentNullException(nameof(training));
            HeldOut = heldOut ?? throw new ArgumentNullException(nameof(heldOut));
        }

        /// <summary>The fitted candidate.</summary>
        public DomainAdaptationTransformer Model { get; }

        /// <summary>The options the candidate was trained with.</summary>
        public DomainAdaptationOptions Options { get; }

        /// <summary>The candidate's training rows, both domains.</summary>
        public IDataView Training { get; }

        /// <summary>The held-out rows, both domains.</summary>
        public IDataView HeldOut { get; }

        internal IHostEnvironment Environment { get; }
    }
}
