using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation;
using Microsoft.ML.Runtime;

namespace Microsoft.ML
{
    /// <summary>
    /// Domain adaptation as multiclass trainers: <c>mlContext.MulticlassClassification.Trainers.DomainAdaptation(options)</c>
    /// for any method's options, and one entry per method with the common settings as arguments
    /// (<c>Trainers.Dann(labelColumnName: "Label", featureColumnName: "Features", domainColumnName: "IsTarget", iterations: 2000)</c>).
    /// Each returns the same <see cref="DomainAdaptationEstimator"/> as <c>mlContext.Transforms.DomainAdapt(options)</c>; its
    /// transformer adds <c>Score</c> and <c>PredictedLabel</c> as ML.NET's multiclass trainers do, plus the <c>Embedding</c>.
    /// </summary>
    /// <remarks>
    /// The training view holds both domains, told apart by a Boolean column (false: labeled source row, true: target row,
    /// whose label is ignored); <c>mlContext.Data.CombineDomains(source, target)</c> builds it. The label must be a key
    /// (<c>MapValueToKey</c>). Training runs for a fixed number of steps of 64 source + 64 target rows (defaults of
    /// <see cref="DomainAdaptationOptions"/>); the seed comes from the <see cref="MLContext"/> unless the options set one.
    /// </remarks>
    public static class DomainAdaptationTrainersCatalog
    {
        /// <summary>
        /// Trains a domain-adaptation network with the method the options name (<see cref="DannOptions"/>,
        /// <see cref="MmdOptions"/>, …, or <see cref="DomainAdaptationMethods.Create(string)"/> by name).
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="options">The method and every setting: columns, backbone, steps, learning rate, seed.</param>
        /// <returns>The estimator; <c>Fit</c> trains and returns a <see cref="DomainAdaptationTransformer"/>.</returns>
        /// <example><code>
        /// var data = mlContext.Data.CombineDomains(source, target);                 // adds the Boolean "IsTarget" column
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.DomainAdaptation(new DannOptions
        ///     {
        ///         Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 },
        ///         Iterations = 2000,
        ///     }));
        /// var model = pipeline.Fit(data);
        /// var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(targetTest));
        /// </code></example>
        public static DomainAdaptationEstimator DomainAdaptation(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            DomainAdaptationOptions options)
        {
            Contracts.CheckValue(catalog, nameof(catalog));
            return new DomainAdaptationEstimator(((IInternalCatalog)catalog).Environment, options);
        }

        /// <summary>
        /// Trains the source-only baseline: the same network and loop as every method, trained on the labeled source rows only. The short form of <see cref="DomainAdaptation"/> with <see cref="SourceOnlyOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.SourceOnly(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator SourceOnly(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new SourceOnlyOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains DANN (Ganin &amp; Lempitsky 2015): a domain discriminator behind a gradient reversal layer. The short form of <see cref="DomainAdaptation"/> with <see cref="DannOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Dann(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Dann(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new DannOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains Deep CORAL (Sun &amp; Saenko 2016): aligns the covariances of the source and target embeddings. The short form of <see cref="DomainAdaptation"/> with <see cref="DeepCoralOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.DeepCoral(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator DeepCoral(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new DeepCoralOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains DAN / DDC (Long et al. 2015; Tzeng et al. 2014): minimises the MMD² between the source and target embeddings. The short form of <see cref="DomainAdaptation"/> with <see cref="MmdOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Mmd(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Mmd(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new MmdOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains class-weighted MMD (Yan et al. 2017): MMD² with the source rows re-weighted by the target's estimated class proportions. The short form of <see cref="DomainAdaptation"/> with <see cref="WeightedMmdOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.WeightedMmd(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator WeightedMmd(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new WeightedMmdOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains CMD (Zellinger et al. 2017): the central moment discrepancy of the source and target embeddings. The short form of <see cref="DomainAdaptation"/> with <see cref="CmdOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Cmd(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Cmd(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new CmdOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains MCD (Saito et al. 2018): two classifiers maximise, and the backbone minimises, their discrepancy on the target. The short form of <see cref="DomainAdaptation"/> with <see cref="McdOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Mcd(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Mcd(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new McdOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains ADDA (Tzeng et al. 2017): a source encoder, then a target encoder trained against a domain discriminator. The short form of <see cref="DomainAdaptation"/> with <see cref="AddaOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Adda(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Adda(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new AddaOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains M-ADDA (Laradji &amp; Babanezhad 2018): ADDA with a triplet-loss source stage and nearest-class-centre prediction. The short form of <see cref="DomainAdaptation"/> with <see cref="MAddaOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.MAdda(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator MAdda(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new MAddaOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains AdaBN (Li et al. 2016): batch normalisation trained on source, its statistics re-estimated on the target rows. The short form of <see cref="DomainAdaptation"/> with <see cref="AdaBnOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.AdaBn(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator AdaBn(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new AdaBnOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains CDAN (Long et al. 2018): DANN's discriminator on the multilinear map of the embedding and the class probabilities. The short form of <see cref="DomainAdaptation"/> with <see cref="CdanOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <param name="entropyConditioning">CDAN+E: weight each row's discriminator loss by 1 + exp(−H) of its predicted distribution. Default: false.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Cdan(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Cdan(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations,
            bool entropyConditioning = false)
            => catalog.DomainAdaptation(WithColumns(new CdanOptions{ EntropyConditioning = entropyConditioning }, labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains JAN (Long et al. 2017): the joint MMD of the embedding and the class probabilities. The short form of <see cref="DomainAdaptation"/> with <see cref="JanOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Jan(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Jan(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new JanOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains MDD (Zhang et al. 2019): an auxiliary classifier behind gradient reversal measures the margin disparity the backbone shrinks. The short form of <see cref="DomainAdaptation"/> with <see cref="MddOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Mdd(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Mdd(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new MddOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains MCC (Jin et al. 2020): minimum class confusion of the target predictions. The short form of <see cref="DomainAdaptation"/> with <see cref="MccOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.Mcc(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator Mcc(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new MccOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains FixMatch-style self-training (Sohn et al. 2020): confident pseudo-labels of weakly augmented target rows, learned by strongly augmented views. The short form of <see cref="DomainAdaptation"/> with <see cref="SelfTrainingOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.SelfTraining(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator SelfTraining(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new SelfTrainingOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        /// <summary>
        /// Trains class-criterion adaptation (DTML-style, Hu et al. 2015): within-class compactness, between-class separation and MMD. The short form of <see cref="DomainAdaptation"/> with <see cref="ClassCriterionOptions"/>; the options class has
        /// every other setting.
        /// </summary>
        /// <param name="catalog">The multiclass classification trainers catalog.</param>
        /// <param name="labelColumnName">The label column, a key; read on source rows only. Default: "Label".</param>
        /// <param name="featureColumnName">The features column, a known-size vector of Single. Default: "Features".</param>
        /// <param name="domainColumnName">The Boolean column: false for a source row, true for a target row. Default: "IsTarget".</param>
        /// <param name="backbone">The feature extractor: <see cref="LeNetBackboneOptions"/> for C × H × W pixels, <see cref="MlpBackboneOptions"/>
        /// for plain vectors. Default: null, an MLP (one hidden layer of 256, embedding of 100).</param>
        /// <param name="iterations">Training steps, each of one source and one target batch of 64 rows. Default: 2000.</param>
        /// <example><code>
        /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(mlContext.MulticlassClassification.Trainers.ClassCriterion(labelColumnName: "Label", featureColumnName: "Features",
        ///         domainColumnName: "IsTarget", backbone: new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 }, iterations: 2000));
        /// var model = pipeline.Fit(mlContext.Data.CombineDomains(source, target));
        /// </code></example>
        public static DomainAdaptationEstimator ClassCriterion(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = "Label", string featureColumnName = "Features",
            string domainColumnName = DefaultDomainColumnName, BackboneOptions backbone = null, int iterations = DefaultIterations)
            => catalog.DomainAdaptation(WithColumns(new ClassCriterionOptions(), labelColumnName, featureColumnName, domainColumnName, backbone, iterations));

        private const string DefaultDomainColumnName = "IsTarget";
        private const int DefaultIterations = 2000;

        private static DomainAdaptationOptions WithColumns(DomainAdaptationOptions options, string labelColumnName, string featureColumnName,
            string domainColumnName, BackboneOptions backbone, int iterations)
        {
            options.LabelColumnName = labelColumnName;
            options.FeatureColumnName = featureColumnName;
            options.DomainColumnName = domainColumnName;
            if (backbone != null)
                options.Backbone = backbone;
            options.Iterations = iterations;
            return options;
        }
    }
}
