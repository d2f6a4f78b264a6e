using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace Microsoft.ML.DomainAdaptation.Tests
{
    public class TrainingHistoryTests
    {
        private static IDataView Data(MLContext ml) => TestData.KeyLabel(ml).Fit(TestData.BlobsView(ml)).Transform(TestData.BlobsView(ml));

        [Fact]
        public void HistoryHoldsEveryStepWithTheScheduledLearningRateAndReversalCoefficient()
        {
            var ml = new MLContext(seed: 1);
            var options = (DannOptions)TestData.Tiny(new DannOptions());
            options.Iterations = 50;
            options.ProgressInterval = 10;
            var reported = new Dictionary<int, IReadOnlyDictionary<string, float>>();
            options.ProgressCallback = p => reported[p.Iteration] = p.Losses;
            using var model = ml.Transforms.DomainAdapt(options).Fit(Data(ml));

            var history = model.TrainingHistory;
            Assert.NotNull(history);
            Assert.Equal("DANN", history.Method);
            Assert.Equal(Enumerable.Range(1, 50), history.Steps.Select(s => s.Iteration));
            Assert.Equal(new[] { "classification", "domain" }, history.LossNames);
            Assert.Equal(new[] { ScheduleName.GradientReversal }, history.ScheduleNames);
            foreach (var step in history.Steps)
            {
                // Ganin et al.'s schedules at p = (step − 1) / iterations, computed here by hand.
                double p = (step.Iteration - 1) / 50.0;
                Assert.Equal(options.LearningRate / Math.Pow(1 + 10 * p, 0.75), step.LearningRate, 12);
                Assert.Equal(2 / (1 + Math.Exp(-10 * p)) - 1, step.Schedules[ScheduleName.GradientReversal], 12);
                Assert.True(float.IsFinite(step.Losses["classification"]) && step.Losses["classification"] > 0);
            }
            Assert.Equal(0, history.Steps[0].Schedules[ScheduleName.GradientReversal]);
            Assert.True(history.Steps.Zip(history.Steps.Skip(1)).All(pair => pair.Second.ElapsedSeconds >= pair.First.ElapsedSeconds));

            // The progress reports are the same steps' losses.
            Assert.Equal(new[] { 10, 20, 30, 40, 50 }, reported.Keys.OrderBy(k => k));
            foreach (var (iteration, losses) in reported)
                Assert.Equal(losses, history.Steps[iteration - 1].Losses);

            // The losses are not constant: the history records each step, not one value repeated.
            Assert.True(history.Steps.Select(s => s.Losses["domain"]).Distinct().Count() > 40);
            // A curve: every step's value of one loss or one schedule, in order.
            Assert.Equal(history.Steps.Select(s => (s.Iteration, (double)s.Losses["domain"])), history.Series("domain"));
            Assert.Equal(history.Steps.Select(s => (s.Iteration, s.Schedules[ScheduleName.GradientReversal])), history.Series(ScheduleName.GradientReversal));
            Assert.Empty(history.Series("no such loss"));
        }

        [Fact]
        public void CsvWrittenByTheOptionReadsBackToTheSameHistory()
        {
            var ml = new MLContext(seed: 1);
            string folder = Path.Combine(Path.GetTempPath(), "da-history-" + Guid.NewGuid().ToString("N"));
            try
            {
                var options = (MmdOptions)TestData.Tiny(new MmdOptions());
                options.Iterations = 30;
                options.TrainingHistoryPath = Path.Combine(folder, "sub", "history.csv");
                using var model = ml.Transforms.DomainAdapt(options).Fit(Data(ml));

                var lines = File.ReadAllLines(options.TrainingHistoryPath);
                Assert.Equal(31, lines.Length);
                Assert.Equal("step,learning_rate,elapsed_seconds,classification,mmd,alignment weight", lines[0]);

                var read = TrainingHistory.ReadCsv(options.TrainingHistoryPath, "MMD");
                Assert.Equal(model.TrainingHistory.LossNames, read.LossNames);
                Assert.Equal(model.TrainingHistory.ScheduleNames, read.ScheduleNames);
                for (int i = 0; i < 30; i++)
                {
                    var (written, back) = (model.TrainingHistory.Steps[i], read.Steps[i]);
                    Assert.Equal(written.Iteration, back.Iteration);
                    Assert.Equal(written.LearningRate, back.LearningRate); // "R" round-trips exactly
                    Assert.Equal(written.Losses, back.Losses);
                    Assert.Equal(written.Schedules, back.Schedules);
                }
            }
            finally
            {
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
            }
        }

        [Fact]
        public void TwoPhaseMethodLeavesCellsEmptyWhereAPhaseDidNotLogALoss()
        {
            var ml = new MLContext(seed: 1);
            var options = (AddaOptions)TestData.Tiny(new AddaOptions());
            options.Iterations = 40;
            using var model = ml.Transforms.DomainAdapt(options).Fit(Data(ml));
            var history = model.TrainingHistory;
            Assert.Equal(40, history.Steps.Count);
            Assert.Contains("adversarial", history.LossNames);
            // The source stage logs no adversarial loss, the adaptation stage does: both kinds of step are present.
            Assert.Contains(history.Steps, s => !s.Losses.ContainsKey("adversarial"));
            Assert.Contains(history.Steps, s => s.Losses.ContainsKey("adversarial"));

            using var writer = new StringWriter();
            history.WriteCsv(writer);
            var rows = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            int column = Array.IndexOf(rows[0].TrimEnd('\r').Split(','), "adversarial");
            Assert.Equal("", rows[1].TrimEnd('\r').Split(',')[column]);
        }

        [Fact]
        public void LoadedModelHasNoHistoryAndBadCsvIsRejected()
        {
            var ml = new MLContext(seed: 1);
            var data = Data(ml);
            using var model = ml.Transforms.DomainAdapt(TestData.Tiny(new SourceOnlyOptions())).Fit(data);
            Assert.Equal(new[] { "classification" }, model.TrainingHistory.LossNames);
            Assert.Empty(model.TrainingHistory.ScheduleNames);

            string path = Path.GetTempFileName();
            try
            {
                ml.Model.Save(model, data.Schema, path);
                using var loaded = (DomainAdaptationTransformer)ml.Model.Load(path, out _);
                Assert.Null(loaded.TrainingHistory);

                File.WriteAllText(path, "iteration,loss\n1,0.5\n");
                var error = Assert.Throws<InvalidDataException>(() => TrainingHistory.ReadCsv(path));
                Assert.Contains("step, learning_rate, elapsed_seconds", error.Message);
                File.WriteAllText(path, "step,learning_rate,elapsed_seconds,classification\n1,0.01,0.5,abc\n");
                error = Assert.Throws<InvalidDataException>(() => TrainingHistory.ReadCsv(path));
                Assert.Contains("line 2", error.Message);
            }
            finally
            {
                File.Delete(path);
            }
            var bad = TestData.Tiny(new SourceOnlyOptions());
            bad.TrainingHistoryPath = " ";
            var argument = Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.DomainAdapt(bad).Fit(data));
            Assert.Contains(nameof(DomainAdaptationOptions.TrainingHistoryPath), argument.Message);
        }
    }
}
