using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Methods;
using Microsoft.ML.DomainAdaptation.Networks;
using Microsoft.ML.DomainAdaptation.Samples;
using Microsoft.ML.Transforms;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>
    /// VADA, DIRT-T and self-ensembling: the teacher's updates and losses by known answers, the warm start and their checks.
    /// DIRT-T has a real-digits margin test from a strong start (DANN with <see cref="InputNormalizationKind.PerImage"/> inputs,
    /// optdigits → mnist-opencv): <see cref="DirtTRefinesAPerImageDannModelOnRealDigits"/>; self-ensembling one since session 9
    /// (<see cref="SelfEnsemblingBeatsTheSameTrainingWithoutItsTargetLossesOnRealDigits"/>). VADA has none (session 10 added one, session 14
    /// removed it: the last item) and self-ensembling had none before: at
    /// affordable budgets neither beat source-only by its target losses (VADA's gain on mnist-opencv → optdigits needs 1,000 steps; session 9 below), nor did DIRT-T from VADA or source-only models (measured
    /// on the loaded 2-core machine, target MicroAccuracy, LeNet, batch 32 + 32; commands below).
    /// <list type="bullet">
    /// <item>VADA, mnist-opencv → optdigits, 300 steps, seeds 0, 1, 2: 47.9 / 46.0 / 51.0 % (mean 48.3 %) against source-only
    /// 46.2 / 44.0 / 45.1 % (45.1 %), but VADA with its target losses removed (domain weight 0, no entropy, target VAT weight 0,
    /// source VAT kept) gets 47.6 / 46.5 / 51.0 % (48.4 %): the gain is the source VAT's, so a margin test would not fail without
    /// the target losses. With <see cref="InputNormalizationKind.PerImage"/>: source-only 53.2 / 54.0 / 48.7 % (52.0 %), VADA
    /// 56.0 / 49.6 / 48.2 % (51.3 %), without target losses 56.5 / 49.6 / 49.3 % (51.8 %). optdigits → mnist-opencv, 500 steps,
    /// seed 0: VADA 25.3 % against source-only 29.5 % (PerImage: 26.5 against 34.9 %).</item>
    /// <item>DIRT-T (its defaults, as many steps as its start), seed 0: from VADA, mnist-opencv → optdigits 300 steps 47.9 → 42.3 %
    /// (PerImage 56.0 → 52.4 %), optdigits → mnist-opencv 500 steps PerImage 26.5 → 22.8 %; from source-only PerImage
    /// 53.2 → 53.2 % (300 steps). Before: refining source-only models (300 steps, seeds 0, 1, 2, no input normalisation) lost
    /// 3.3 points (46.2 / 44.0 / 45.1 → 41.2 / 41.8 / 42.3 %). Entropy minimisation sharpens a weak start's mistakes.</item>
    /// <item>Self-ensembling, seed 0: mnist-opencv → optdigits 300 steps 46.2 % (source-only 46.2 %; PerImage 51.0 against
    /// 53.2 %), optdigits → mnist-opencv 500 steps 31.5 % (source-only 29.5 %; PerImage 33.9 against 34.9 %); at the CI budget
    /// (optdigits → mnist-opencv, 1,000 steps, seeds 0, 1, 2) 22.6 / 15.9 / 17.4 % (18.6 ± 3.5 %) against source-only 27.6 ± 2.2 %
    /// (README): <c>--iterations 1000 --batch 32 --seeds 0,1,2 --direction optdigits:mnist-opencv --methods SelfEnsembling</c>.</item>
    /// <item>Session 7, looking for a configuration where the target losses help (PerImage inputs, seeds 0, 1, 2, batch 32 + 32;
    /// the same pipeline as <see cref="FitOn"/> in a scratch program; figures per seed and mean). VADA, mnist-opencv → optdigits,
    /// 1,000 steps: 59.6 / 62.1 / 57.9 % (59.9 %) against 61.8 / 62.1 / 57.7 % (60.5 %) with its target losses removed as above.
    /// The paper's larger target weight λ_t = 1 (entropy and target VAT), 500 steps: 30.4 / 10.3 / 30.4 % (23.7 %, collapsed)
    /// against 58.8 / 56.8 / 57.1 % (57.6 %) without them. optdigits → mnist-opencv, 500 steps, DANN's domain weight 1 + source
    /// VAT, with entropy and target VAT at λ_t = 0: 47.1 / 42.8 / 39.8 % (43.2 %); 0.1: 47.7 / 39.6 / 46.6 % (44.6 %, within the
    /// seed spread); 0.3: 17.7 / 17.7 / 15.7 % (17.0 %). Self-ensembling, optdigits → mnist-opencv, 500 steps: 33.9 / 26.6 /
    /// 31.8 % (30.8 %) against 34.3 / 26.7 / 32.4 % (31.1 %) with consistency and class-balance weights 0; threshold 0.8 and
    /// decay 0.95: 30.0 %; class balance 0: 30.3 %; mnist-opencv → optdigits with threshold 0.9: 52.1 / 52.1 / 56.0 % (53.4 %)
    /// against source-only 56.3 / 56.0 / 58.5 % (56.9 %). Only 3–6 % of the target rows pass the default threshold 0.968 in the
    /// first quarter of training, so the consistency term is near zero when it could matter. No margin test would fail only
    /// because the target losses were removed, so there is none.</item>
    /// <item>Session 8, with the source rows augmented (<see cref="DomainAdaptationOptions.SourceAugmentation"/> = Resolution,
    /// PerImage, 1,000 steps, seeds 0, 1, 2, last step; README, digits pairs): self-ensembling 63.0 % against source-only 62.8 %
    /// with the same view (mnist-opencv → optdigits) and 37.6 against 35.8 % (optdigits → mnist-opencv); VADA 66.4 against
    /// 62.8 % and 21.3 against 35.8 % (collapsed). Still no configuration where their target losses give a margin a test could demand.</item>
    /// <item>Session 9 (PerImage, Resolution source view, 1,000 steps of 32 + 32, seeds 0, 1, 2, 10 % of the rows held out for
    /// validation, last step; <c>--direction mnist-opencv:optdigits,optdigits:mnist-opencv --methods VADA --iterations 1000 --batch 32
    /// --seeds 0,1,2 --set "InputNormalization=PerImage;SourceAugmentation=Resolution" --validate-every 100</c>, the ablation with
    /// <c>EntropyAddOn.Weight=1e-9;VatAddOn.Weight=1e-9</c> added to <c>--set</c>). VADA's collapse was its λ_d = 0.01, which here also
    /// slows the discriminator (<see cref="VadaOptions"/>' remarks): with λ_d = 1 VADA reaches 76.0 ± 4.4 % (mnist-opencv →
    /// optdigits; 75.2 / 72.1 / 80.8) and 44.7 ± 5.2 % (optdigits → mnist-opencv; 44.6 / 39.6 / 49.9), from 66.4 and 21.3 % (session 8, no hold-out).
    /// Its target losses removed (entropy and target VAT at 1e-9, source VAT and domain loss kept): 72.9 ± 3.4 % (72.1 / 69.9 /
    /// 76.6; 3.1 below VADA, lower for every seed) and 46.6 ± 2.5 % (47.5 / 43.8 / 48.5; 1.9 above VADA). So the target losses help on
    /// mnist-opencv → optdigits by about 3 points for each seed, but only at 1,000 steps (6 VADA trainings, several minutes: no
    /// test within the suite's budget was measured then; session 10's test measured +2.1 points without the hold-out, on an AMD
    /// EPYC; session 14 below), and not on optdigits → mnist-opencv. Seed 0 there, without hold-out:
    /// source-only 37.4, DANN 47.7, VADA (λ_d = 0.01) 28.5, the same without VAT 37.5, without entropy 32.2, without both 39.4;
    /// VADA λ_d = 1 48.1, with ε = 1.75 50.4, without target losses 43.4. Self-ensembling: its class balance is now inside the
    /// consistency weight (French et al.'s code): optdigits → mnist-opencv (the same protocol) 40.9 ± 2.9 % (43.6 / 37.8 / 41.2) against
    /// 35.2 ± 1.8 % (37.0 / 33.5 / 35.0) for the same training with <see cref="SelfEnsemblingOptions.ConsistencyWeight"/> 0 (the
    /// moving-average teacher of a source-only student) and source-only's 36.1 ± 2.4 %: +5.7 points, higher for every seed
    /// (<c>--methods SelfEnsembling --direction optdigits:mnist-opencv ... [--set "...;ConsistencyWeight=0"]</c>). At 500 steps
    /// (a test's budget: 6 trainings, 2 min 14 s on the loaded machine) the margin is gone: 31.3 / 30.8 / 33.6 % (31.9 %) against
    /// 30.9 / 30.8 / 33.3 % (31.7 %), because few target rows pass the 0.968 threshold before the teacher is good; so the
    /// test, <see cref="SelfEnsemblingBeatsTheSameTrainingWithoutItsTargetLossesOnRealDigits"/>, runs 1,000 steps (3 min 39 s
    /// loaded, over the suite's one-minute aim). VADA with λ_t = 0.1 (entropy and target VAT): 48.6 / 47.7
    /// / 30.3 % (42.2 %, seed 2 collapses).</item>
    /// <item>Session 14, an Intel Xeon (AVX-512), mnist-opencv → optdigits, PerImage, Resolution source view, 1,000 steps of 32 + 32,
    /// no hold-out, last step. Session 10's test (VADA against the same training without its target losses, seeds 0, 1, 2, demand
    /// 1 point; it had measured 75.8 / 74.4 / 76.0 % against 74.1 / 74.1 / 71.6 % on the AMD EPYC) failed in CI here: 75.2 / 74.4 /
    /// 70.5 % (73.4 %) against 75.8 / 74.4 / 73.5 % (74.6 %). Seeds 3, 4, 5 (the Digits sample, <c>--direction mnist-opencv:optdigits
    /// --methods VADA --seeds 3,4,5 --set "NumberOfThreads=1;InputNormalization=PerImage;SourceAugmentation=Resolution"</c>, the
    /// ablation with <c>EntropyAddOn.Weight=1e-30;VatAddOn.Weight=1e-30</c> added): 75.2 / 72.1 / 77.4 % against 76.3 / 68.8 / 74.9 %.
    /// Over the six seeds the target losses add 0.2 points (74.1 against 74.0 %; per seed −3.0 to +3.3): nothing a test can demand,
    /// and the AMD's +2.1 was a draw of the same spread, so the test is gone. At λ_t = 0.1 (<c>EntropyAddOn.Weight=0.1;VatAddOn.Weight=0.1</c>):
    /// 79.7 / 74.1 / 78.8 % on seeds 3–5 (+4.2) but 78.0 / 74.1 / 75.5 % on seeds 0–2 (+1.3), and session 7's λ_t = 0.1 collapsed a
    /// seed on optdigits → mnist-opencv, so the default stays the paper's 0.01. The term's direction is still tested in
    /// <see cref="AdaptationTermTests.VadaTargetTermsLowerTheTargetEntropyAndSmoothTheTarget"/>, and entropy with VAT on the
    /// target gains on real digits in DIRT-T (<see cref="DirtTRefinesAPerImageDannModelOnRealDigits"/>).</item>
    /// </list>
    /// Sample runs: <c>dotnet run --project samples/Digits -c Release -- --iterations 300 --batch 32 --seeds 0 --direction
    /// mnist-opencv:optdigits --methods SourceOnly,VADA,SelfEnsembling,VADA+DIRT-T,SourceOnly+DIRT-T [--set InputNormalization=PerImage]</c>
    /// (and <c>--iterations 500 --direction optdigits:mnist-opencv</c>); the three-seed VADA figures and the ablation came from
    /// this class's <see cref="Fit"/> with <see cref="VadaOptions"/> and with <c>new DannOptions { DomainLossWeight = 0, AddOns =
    /// { new VatAddOn { Weight = 0, SourceWeight = 1 } } }</c>.
    /// </summary>
    public class RecipeTests
    {
        private const string Source = DigitsDomains.MnistOpenCv, Target = DigitsDomains.OptDigits;
        private const int Steps = 300, Batch = 32;
        private static readonly int[] Seeds = { 0, 1, 2 };
        private static readonly MLContext Context = new(seed: 0);
        private static readonly Lazy<(IDataView Training, IDataView TargetTest)> Digits = new(LoadDigits);
        private static readonly ConcurrentDictionary<int, (ITransformer Chain, DomainAdaptationTransformer Model)> SourceOnlyModels = new();

        private readonly ITestOutputHelper _output;

        public RecipeTests(ITestOutputHelper output) => _output = output;

        private static NetworkSpec TinySpec(NormalizationKind normalization = NormalizationKind.None) =>
            new(new MlpBackboneSpec(3, new[] { 4 }, 2, normalization), 0, 2);

        [Fact]
        public void TeacherMovingAverageMatchesHandComputedValues()
        {
            using var scope = NewDisposeScope();
            using var teacher = new ScoringNetwork(TinySpec(NormalizationKind.BatchNorm));
            using var student = new ScoringNetwork(TinySpec(NormalizationKind.BatchNorm));
            using (no_grad())
            {
                foreach (var p in teacher.parameters())
                    p.fill_(1f);
                foreach (var p in student.parameters())
                    p.fill_(3f);
                foreach (var b in student.buffers())
                    b.fill_(5);
            }
            TeacherWeights.ExponentialMovingAverage(teacher, student, 0.9);
            // θ′ = 0.9 · 1 + 0.1 · 3 = 1.2 for every parameter; the student is unchanged; buffers are the student's.
            Assert.All(teacher.parameters(), p => Assert.All(p.data<float>().ToArray(), v => Assert.Equal(1.2f, v, 6)));
            Assert.All(student.parameters(), p => Assert.All(p.data<float>().ToArray(), v => Assert.Equal(3f, v)));
            Assert.NotEmpty(teacher.buffers());
            Assert.All(teacher.buffers(), b => Assert.Equal(5.0, b.to_type(ScalarType.Float64).mean().item<double>(), 6));
            // A second update: 0.9 · 1.2 + 0.1 · 3 = 1.38.
            TeacherWeights.ExponentialMovingAverage(teacher, student, 0.9);
            Assert.All(teacher.parameters(), p => Assert.All(p.data<float>().ToArray(), v => Assert.Equal(1.38f, v, 5)));
            // Decay 0 copies the student.
            TeacherWeights.ExponentialMovingAverage(teacher, student, 0);
            Assert.All(teacher.parameters(), p => Assert.All(p.data<float>().ToArray(), v => Assert.Equal(3f, v)));
        }

        [Fact]
        public void ConsistencyAndClassBalanceMatchHandComputedValues()
        {
            using var scope = NewDisposeScope();
            var student = tensor(new float[] { 0.5f, 0.5f, 0.5f, 0.5f }, new long[] { 2, 2 });
            // Row 1: a confident teacher (0.99 > 0.968), squared difference (0.49² + 0.49²) / 2 = 0.2401; row 2: not confident, masked.
            var teacher = tensor(new float[] { 0.99f, 0.01f, 0.6f, 0.4f }, new long[] { 2, 2 });
            var consistency = SelfEnsemblingMethod.Consistency(student, teacher, 0.968, out var confident);
            Assert.Equal(0.2401 / 2, consistency.item<float>(), 5);
            Assert.Equal(0.5f, confident.item<float>());
            // Mean prediction (1/2, 1/2) against 1/2 for K = 2: each class's BCE is ln 2, summed: 2 ln 2 (less the 1e-6 guard).
            Assert.Equal(2 * Math.Log(2), SelfEnsemblingMethod.ClassBalance(student).item<float>(), 4);
            // A collapsed mean (1, 0): −(1/2 ln(1 + 1e-6) + 1/2 ln(1e-6)) − (1/2 ln(1e-6) + 1/2 ln(1 + 1e-6)) = −ln(1e-6).
            var collapsed = tensor(new float[] { 1, 0, 1, 0 }, new long[] { 2, 2 });
            Assert.Equal(-Math.Log(1e-6), SelfEnsemblingMethod.ClassBalance(collapsed).item<float>(), 3);
        }

        [Fact]
        public void DirtTStartsFromTheInitialModelAndChecksIt()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.BlobsView(ml);
            var initial = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new DannOptions()))).Fit(data);
            // Nothing to learn (every weight 0, no weight decay): the refined model scores exactly as the initial one, so the weights were copied.
            var frozen = TestData.Tiny(new DirtTOptions { InitialModel = initial.LastTransformer, TeacherWeight = 0, WeightDecay = 0 });
            foreach (var addOn in frozen.AddOns)
                addOn.Weight = 0;
            frozen.Backbone = new MlpBackboneOptions(); // ignored: the network is the initial model's
            var refined = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(frozen)).Fit(data);
            Assert.Equal("DIRT-T", refined.LastTransformer.MethodName);
            var before = TestData.Column(initial.Transform(data), "Score");
            var after = TestData.Column(refined.Transform(data), "Score");
            Assert.Equal(before.Length, after.Length);
            for (int i = 0; i < before.Length; i++)
                Assert.Equal(before[i], after[i]);
            // With its losses on, the model moves, and the initial model is left as it was.
            var moved = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new DirtTOptions { InitialModel = initial.LastTransformer, LearningRate = 0.05f }))).Fit(data);
            Assert.NotEqual(before.SelectMany(r => r), TestData.Column(moved.Transform(data), "Score").SelectMany(r => r));
            Assert.Equal(before.SelectMany(r => r), TestData.Column(initial.Transform(data), "Score").SelectMany(r => r));

            Assert.Equal("InitialModel", Assert.Throws<ArgumentNullException>(() => ml.Transforms.DomainAdapt(new DirtTOptions())).ParamName);
            var mcd = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(TestData.Tiny(new McdOptions()))).Fit(data).LastTransformer;
            var headError = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new DirtTOptions { InitialModel = mcd }));
            Assert.Equal("InitialModel", headError.ParamName);
            Assert.Contains("MCD", headError.Message);
            var vatError = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(
                new DirtTOptions { InitialModel = initial.LastTransformer, AddOns = { new VatAddOn() } }));
            Assert.Equal("AddOns", vatError.ParamName);
            Assert.Contains("SourceWeight", vatError.Message);
            Assert.Equal("RefinementInterval", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(
                new DirtTOptions { InitialModel = initial.LastTransformer, RefinementInterval = 0 })).ParamName);
            // Digits of 784 values do not fit a model of 2 features: the error names the option before training.
            var digits = Digits.Value.Training;
            var sizeError = Assert.Throws<ArgumentOutOfRangeException>(() => Context.Transforms.Conversion.MapValueToKey("Label")
                .Append(Context.Transforms.DomainAdapt(new DirtTOptions { InitialModel = initial.LastTransformer })).Fit(digits));
            Assert.Equal("InitialModel", sizeError.ParamName);
            Assert.Contains("784", sizeError.Message);
        }

        [Fact]
        public void SelfEnsemblingScalesItsClassBalanceByTheConsistencyWeight()
        {
            // French et al.'s code: loss = CE + w · (consistency + b · c · balance). With w = 0 the class balance must add
            // nothing: the same weights, bit for bit, as with b = 0 too. Threshold 0 makes every row confident (c = 1), so a
            // class balance outside w (the earlier formula) would change the training.
            float[][] Embeddings(float balance)
            {
                var ml = new MLContext(seed: 1);
                var options = TestData.Tiny(new SelfEnsemblingOptions { ConfidenceThreshold = 0, ConsistencyWeight = 0, ClassBalanceWeight = balance });
                options.Iterations = 20;
                var data = TestData.BlobsView(ml);
                var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(data);
                model.LastTransformer.ScoringEngine = ScoringEngine.TorchSharp;
                var embeddings = TestData.Column(model.Transform(data), "Embedding");
                model.LastTransformer.Dispose();
                return embeddings;
            }
            Assert.Equal(Embeddings(0), Embeddings(1));
        }

        [Fact]
        public void SelfEnsemblingChecksItsOptionsAndLogsItsLosses()
        {
            var ml = new MLContext(seed: 1);
            var reports = new List<TrainingProgress>();
            var options = TestData.Tiny(new SelfEnsemblingOptions { ConfidenceThreshold = 0.5f });
            options.ProgressInterval = 60;
            options.ProgressCallback = reports.Add;
            var model = TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(TestData.BlobsView(ml));
            Assert.Equal("SelfEnsembling", model.LastTransformer.MethodName);
            var losses = reports.Single().Losses;
            foreach (var name in new[] { "classification", "consistency", "class balance", "confident target share" })
                Assert.True(losses.ContainsKey(name) && float.IsFinite(losses[name]) && losses[name] >= 0, name);
            Assert.InRange(losses["confident target share"], 0, 1);
            Assert.Equal("TeacherDecay", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new SelfEnsemblingOptions { TeacherDecay = 1 })).ParamName);
            Assert.Equal("ConfidenceThreshold", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new SelfEnsemblingOptions { ConfidenceThreshold = -0.1f })).ParamName);
        }

        [Fact]
        public void DirtTRefinesAPerImageDannModelOnRealDigits()
        {
            // optdigits → mnist-opencv, PerImage inputs: DANN (500 steps of 32), then DIRT-T from it (300 steps), seeds 0, 1, 2.
            // Measured: DANN 47.4 / 47.6 / 48.8 % (47.9 %), DIRT-T 52.3 / 53.5 / 51.3 % (52.4 %), +4.5 points: demand 2. With 150
            // DIRT-T steps it gave +3.3 alone but +1.4 inside the whole suite (DANN start 48.6 %: another trajectory there), so
            // 300. Cheaper starts are too weak: DANN 400 steps 46.5 → 47.6 %, 300 steps 40.6 → 36.1 %. With its losses removed (entropy and VAT weights 0, TeacherWeight 0) DIRT-T left seed 0's model at
            // 47.4 %, so this fails.
            var (training, test) = ReversedDigits.Value;
            var dann = new List<double>();
            var refined = new List<double>();
            foreach (int seed in Seeds)
            {
                var start = FitOn(training, new DannOptions { InputNormalization = InputNormalizationKind.PerImage, Iterations = 500 }, seed);
                dann.Add(Accuracy(start, test));
                refined.Add(Accuracy(FitOn(training, new DirtTOptions { InitialModel = start.LastTransformer, Iterations = DirtTSteps }, seed), test));
            }
            _output.WriteLine($"optdigits -> mnist-opencv, PerImage: DANN {string.Join(" / ", dann.Select(a => a.ToString("P1")))} (mean {dann.Average():P1}); " +
                $"DIRT-T from it {string.Join(" / ", refined.Select(a => a.ToString("P1")))} (mean {refined.Average():P1})");
            Assert.True(refined.Average() >= dann.Average() + DirtTMargin, $"DIRT-T {refined.Average():P1} is not {DirtTMargin:P0} above its DANN start {dann.Average():P1}");
        }

        [Fact]
        public void SelfEnsemblingBeatsTheSameTrainingWithoutItsTargetLossesOnRealDigits()
        {
            // optdigits → mnist-opencv with PerImage inputs and the Resolution source view, 1,000 steps, seeds 0, 1, 2:
            // self-ensembling against the same training with its consistency weight 0 (which also zeroes the class balance
            // inside it: the teacher is then the moving average of a source-only student). At 500 steps there is no margin
            // (31.9 against 31.7 %, the summary above). Measured (loaded 2-core machine, 3 min 39 s for the six trainings):
            // 41.2 / 41.0 / 40.8 % (41.0 %) against 35.7 % (36.8 / 35.5 / 34.9 %), +5.3 points, higher for every seed; demand 2.
            // Session 10 (quiet, 2 min): 38.7 / 40.1 / 41.1 % (40.0 %) against 36.8 / 34.9 / 35.0 % (35.6 %), +4.4.
            // Without its target losses the two arms are the same training, so this fails.
            AssertTargetLossesGain("self-ensembling", ReversedDigits.Value, "optdigits -> mnist-opencv",
                () => new SelfEnsemblingOptions(), () => new SelfEnsemblingOptions { ConsistencyWeight = 0 }, margin: 0.02);
        }

        private const int RecipeSteps = 1000;

        /// <summary>
        /// Trains <paramref name="method"/> and the same training without its target losses (<paramref name="withoutTargetLosses"/>)
        /// on seeds 0, 1, 2 with PerImage inputs, the Resolution source view and <see cref="RecipeSteps"/> steps, and asserts that
        /// the method's mean target accuracy is <paramref name="margin"/> above.
        /// </summary>
        private void AssertTargetLossesGain(string name, (IDataView Training, IDataView Test) data, string pair,
            Func<DomainAdaptationOptions> method, Func<DomainAdaptationOptions> withoutTargetLosses, double margin)
        {
            static DomainAdaptationOptions Recipe(DomainAdaptationOptions options)
            {
                options.InputNormalization = InputNormalizationKind.PerImage;
                options.SourceAugmentation = AugmentationKind.Resolution;
                options.Iterations = RecipeSteps;
                return options;
            }
            var with = new List<double>();
            var without = new List<double>();
            foreach (int seed in Seeds)
            {
                with.Add(Accuracy(FitOn(data.Training, Recipe(method()), seed), data.Test));
                without.Add(Accuracy(FitOn(data.Training, Recipe(withoutTargetLosses()), seed), data.Test));
            }
            _output.WriteLine($"{pair}, {RecipeSteps} steps: {name} {string.Join(" / ", with.Select(a => a.ToString("P1")))} " +
                $"(mean {with.Average():P1}); without its target losses {string.Join(" / ", without.Select(a => a.ToString("P1")))} (mean {without.Average():P1})");
            Assert.True(with.Average() >= without.Average() + margin,
                $"{name} {with.Average():P1} is not {margin:P0} above the same training without its target losses {without.Average():P1}");
        }

        private const int DirtTSteps = 300;
        private const double DirtTMargin = 0.02;

        private static readonly Lazy<(IDataView Training, IDataView TargetTest)> ReversedDigits = new(() => LoadDigits(Target, Source));

        private static TransformerChain<DomainAdaptationTransformer> FitOn(IDataView training, DomainAdaptationOptions options, int seed)
        {
            if (options is not DirtTOptions)
                options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 };
            options.BatchSize = Batch;
            options.Seed = seed;
            // A context of its own per training: the shared one's random state depends on which tests ran before.
            var ml = new MLContext(seed: seed);
            return ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(ml.Transforms.DomainAdapt(options)).Fit(training);
        }

        private static (ITransformer Chain, DomainAdaptationTransformer Model) SourceOnlyModel(int seed) =>
            SourceOnlyModels.GetOrAdd(seed, s =>
            {
                var chain = Fit(new SourceOnlyOptions(), s);
                return (chain, chain.LastTransformer);
            });

        private static TransformerChain<DomainAdaptationTransformer> Fit(DomainAdaptationOptions options, int seed)
        {
            options.Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 };
            options.Iterations = Steps;
            options.BatchSize = Batch;
            options.Seed = seed;
            return Context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(Context.Transforms.DomainAdapt(options)).Fit(Digits.Value.Training);
        }

        private static double Accuracy(ITransformer model, IDataView test) =>
            Context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;

        private static (IDataView, IDataView) LoadDigits() => LoadDigits(Source, Target);

        private static (IDataView, IDataView) LoadDigits(string source, string target)
        {
            var sourceTrain = DigitsDomains.Load(Context, source, "train");
            var targetTrain = DigitsDomains.Load(Context, target, "train");
            var targetRows = Context.Transforms.DropColumns("Label").Fit(targetTrain).Transform(targetTrain);
            return (Context.Data.Cache(Context.Data.CombineDomains(sourceTrain, targetRows)), Context.Data.Cache(DigitsDomains.Load(Context, target, "test")));
        }
    }
}
