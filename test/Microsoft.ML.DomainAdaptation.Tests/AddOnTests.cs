using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DomainAdaptation.Samples;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    /// <summary>The add-on losses: known answers of conditional entropy and VAT, their logging, and which methods take them.</summary>
    public class AddOnTests
    {
        private readonly ITestOutputHelper _output;

        public AddOnTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void ConditionalEntropyMatchesHandComputedValue()
        {
            using var scope = NewDisposeScope();
            // Rows p = (1/2, 1/2) and p = (3/4, 1/4): H = ln 2 and −(3/4 ln 3/4 + 1/4 ln 1/4); the loss is their mean.
            var logits = tensor(new float[] { 0, 0, MathF.Log(3), 0 }, new long[] { 2, 2 });
            double expected = (Math.Log(2) - (0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25))) / 2;
            Assert.Equal(0.6277411626, expected, 9);
            Assert.Equal(expected, EntropyAddOn.Compute(logits).item<float>(), 5);
            // A one-hot prediction has no entropy.
            Assert.Equal(0, EntropyAddOn.Compute(tensor(new float[] { 30, 0 }, new long[] { 1, 2 })).item<float>(), 5);
        }

        [Fact]
        public void VatKlMatchesHandComputedValueAndIsZeroForTheSamePrediction()
        {
            using var scope = NewDisposeScope();
            // KL((1/2, 1/2) ‖ (3/4, 1/4)) = 1/2 ln(2/3) + 1/2 ln 2.
            var clean = tensor(new float[] { 0, 0 }, new long[] { 1, 2 });
            var perturbed = tensor(new float[] { MathF.Log(3), 0 }, new long[] { 1, 2 });
            Assert.Equal(0.5 * Math.Log(2.0 / 3) + 0.5 * Math.Log(2), VatAddOn.Kl(clean, perturbed).item<float>(), 5);
            Assert.Equal(0, VatAddOn.Kl(perturbed, perturbed).item<float>(), 6);
        }

        [Fact]
        public void VatAdversarialDirectionRaisesTheKlMoreThanRandomDirectionsOfTheSameNormOnAverage()
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(11, CPU);
            // A toy network: 6 inputs → tanh(16) → 3 classes, fixed random weights.
            var w1 = randn(new long[] { 6, 16 }, generator: generator);
            var w2 = randn(new long[] { 16, 3 }, generator: generator);
            Func<Tensor, Tensor> logitsOf = x => x.matmul(w1).tanh().matmul(w2);
            var rows = randn(new long[] { 8, 6 }, generator: generator);
            var clean = logitsOf(rows).detach();
            const double epsilon = 0.05;

            var direction = VatAddOn.AdversarialDirection(logitsOf, rows, clean, new VatAddOn().Xi, generator);
            // Unit rows, and no gradient left on them.
            Assert.All(direction.norm(1).data<float>().ToArray(), n => Assert.Equal(1, n, 4));
            Assert.False(direction.requires_grad);

            // One power iteration from a random start need not reach the top eigenvector of the KL's Hessian (rank 2 with three
            // classes), so a lucky random direction can beat it; on average over random directions it must win, by a margin overall.
            double adversarialSum = 0, randomSum = 0;
            for (int i = 0; i < 8; i++)
            {
                var row = rows[i..(i + 1)];
                double adversarial = VatAddOn.Kl(clean[i..(i + 1)], logitsOf(row + direction[i..(i + 1)] * epsilon)).item<float>();
                double randomMean = 0;
                for (int trial = 0; trial < 20; trial++)
                {
                    var random = VatAddOn.Normalize(randn(new long[] { 1, 6 }, generator: generator));
                    randomMean += VatAddOn.Kl(clean[i..(i + 1)], logitsOf(row + random * epsilon)).item<float>() / 20;
                }
                Assert.True(adversarial > randomMean, $"row {i}: adversarial KL {adversarial:G4} <= mean of 20 random directions {randomMean:G4}");
                adversarialSum += adversarial;
                randomSum += randomMean;
            }
            Assert.True(adversarialSum > 2 * randomSum, $"adversarial KL {adversarialSum:G4} <= twice the random directions' {randomSum:G4}");
        }

        [Fact]
        public void EveryAddOnLogsItsLossAndMcdRejectsThemNamingTheAddOn()
        {
            var ml = new MLContext(seed: 1);
            var reports = new List<TrainingProgress>();
            var options = TestData.Tiny(new DannOptions
            {
                AddOns = { new MccAddOn(), new SelfTrainingAddOn { Threshold = 0.5f }, new EntropyAddOn(), new VatAddOn { Epsilon = 0.5f } },
            });
            options.Iterations = 20;
            options.ProgressInterval = 20;
            options.ProgressCallback = reports.Add;
            TestData.KeyLabel(ml).Append(ml.Transforms.DomainAdapt(options)).Fit(TestData.BlobsView(ml));
            var losses = reports.Single().Losses;
            foreach (var name in new[] { "classification", "domain", "mcc", "self-training", "entropy", "vat source", "vat target" })
            {
                Assert.Contains(name, losses.Keys);
                Assert.True(float.IsFinite(losses[name]) && losses[name] >= 0, $"{name} = {losses[name]}");
            }
            // Two classes: the entropy is at most ln 2.
            Assert.InRange(losses["entropy"], 0, MathF.Log(2) + 1e-5f);

            foreach (AddOnLoss addOn in new AddOnLoss[] { new EntropyAddOn(), new VatAddOn() })
            {
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(new McdOptions { AddOns = { addOn } }));
                Assert.Equal("AddOns", error.ParamName);
                Assert.Contains(addOn.GetType().Name, error.Message);
                Assert.Contains("MCD", error.Message);
            }
            Assert.Equal("VatAddOn.Epsilon", Assert.Throws<ArgumentOutOfRangeException>(
                () => ml.Transforms.DomainAdapt(new DannOptions { AddOns = { new VatAddOn { Epsilon = 0 } } })).ParamName);
            Assert.Equal("EntropyAddOn.Weight", Assert.Throws<ArgumentOutOfRangeException>(
                () => ml.Transforms.DomainAdapt(new DannOptions { AddOns = { new EntropyAddOn { Weight = -1 } } })).ParamName);
            Assert.Equal("AddOns", Assert.Throws<ArgumentNullException>(() => ml.Transforms.DomainAdapt(new DannOptions { AddOns = { null } })).ParamName);
        }

        [Fact]
        public void VadaIsDannWithThePapersWeightsAndNeedsItsAddOns()
        {
            var vada = new VadaOptions();
            // DANN's domain weight, not the paper's 0.01 (which here also slows the discriminator: VadaOptions' remarks).
            Assert.Equal(new DannOptions().DomainLossWeight, vada.DomainLossWeight);
            Assert.Equal(0.01f, Assert.Single(vada.AddOns.OfType<EntropyAddOn>()).Weight);
            var vat = Assert.Single(vada.AddOns.OfType<VatAddOn>());
            Assert.Equal((0.01f, 1f, 3.5f, 0.01f), (vat.Weight, vat.SourceWeight, vat.Epsilon, vat.Xi));
            Assert.Empty(new DannOptions().AddOns);
            var ml = new MLContext(seed: 1);
            vada.AddOns.RemoveAt(1);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DomainAdapt(vada));
            Assert.Equal("AddOns", error.ParamName);
            Assert.Contains("VatAddOn", error.Message);
        }

        [Fact]
        public void VadaTrainsOnRealDigits()
        {
            var ml = new MLContext(seed: 0);
            var source = DigitsDomains.Load(ml, DigitsDomains.OptDigits, "train");
            var target = DigitsDomains.Load(ml, DigitsDomains.MnistOpenCv, "train");
            var training = TestData.UnlabeledTargetTraining(ml, source, target);
            var reports = new List<TrainingProgress>();
            var options = new VadaOptions
            {
                Backbone = new LeNetBackboneOptions { Channels = 1, Height = 28, Width = 28 },
                Iterations = 20,
                BatchSize = 32,
                Seed = 0,
                ProgressInterval = 10,
                ProgressCallback = reports.Add,
            };
            var watch = System.Diagnostics.Stopwatch.StartNew();
            ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.DomainAdapt(options)).Fit(training);
            _output.WriteLine($"VADA, 20 steps of 32 + 32 on optdigits -> mnist-opencv: {watch.Elapsed.TotalSeconds:F1} s; " +
                string.Join("; ", reports.Select(r => string.Join(", ", r.Losses.Select(l => $"{l.Key} {l.Value:G3}")))));
            Assert.Equal("VADA", reports[0].Method);
            foreach (var name in new[] { "domain", "entropy", "vat source", "vat target" })
                Assert.All(reports, r => Assert.True(float.IsFinite(r.Losses[name]), $"{name} at step {r.Iteration}: {r.Losses[name]}"));
            Assert.All(reports, r => Assert.True(r.Losses["vat source"] >= 0 && r.Losses["entropy"] <= MathF.Log(10) + 1e-4f));
        }
    }
}
