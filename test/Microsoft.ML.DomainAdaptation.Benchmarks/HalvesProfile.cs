using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

/// <summary>
/// Would the second core serve a LeNet step better as data parallelism than as libtorch's intra-op threads
/// (`--profile-halves [--repeats 200]`)? Times one forward + backward of the cross-entropy on 64 rows with one and with two
/// intra-op threads, against two 32-row halves computed at once on two .NET threads with one intra-op thread each
/// (<c>autograd.grad</c> per half on the same parameters, the two gradients summed in a fixed order: deterministic).
/// Prints the largest difference between the summed halves' gradients and the whole batch's first.
/// An experiment for issue 18 (a second intra-op thread gained 8–20 % on the library's LeNet step in session 9), not a
/// library code path.
/// </summary>
internal static class HalvesProfile
{
    public static void Run(int repeats)
    {
        torch.manual_seed(0);
        var conv1 = Conv2d(1, 32, 5);
        var conv2 = Conv2d(32, 48, 5);
        var fc1 = Linear(768, 100);
        var fc2 = Linear(100, 100);
        var fc3 = Linear(100, 10);
        var parameters = new Module<Tensor, Tensor>[] { conv1, conv2, fc1, fc2, fc3 }.SelectMany(m => m.parameters()).ToArray();
        // The reference's LeNet (conv 32, conv 48, fc 100, classifier 100-10) on 28 × 28 rows.
        Tensor Net(Tensor x) => fc3.forward(functional.relu(fc2.forward(functional.relu(fc1.forward(functional.relu(
            functional.max_pool2d(conv2.forward(functional.relu(functional.max_pool2d(conv1.forward(x), 2))), 2)).flatten(1))))));
        var rows = rand(64, 1, 28, 28);
        var labels = randint(0, 10, new long[] { 64 });
        // The halves once, not per timed step (a slice is a tensor of its own).
        var (firstRows, secondRows, firstLabels, secondLabels) = (rows[..32], rows[32..], labels[..32], labels[32..]);

        // The gradient of the whole batch's mean loss restricted to some of its rows (their sum divided by the batch size).
        Tensor[] Gradients(Tensor x, Tensor y)
        {
            using var scope = NewDisposeScope();
            var loss = functional.cross_entropy(Net(x), y, reduction: Reduction.Sum) / rows.shape[0];
            var gradients = torch.autograd.grad(new[] { loss }, parameters).ToArray();
            foreach (var g in gradients)
                scope.Detach(g);
            return gradients;
        }
        Tensor[] Whole() => Gradients(rows, labels);
        Tensor[] Halves()
        {
            Tensor[] second = null;
            var worker = new Thread(() => second = Gradients(secondRows, secondLabels));
            worker.Start();
            var first = Gradients(firstRows, firstLabels);
            worker.Join();
            var sum = first.Zip(second, (a, b) => a + b).ToArray();
            foreach (var g in first.Concat(second))
                g.Dispose();
            return sum;
        }
        double Median(Func<Tensor[]> step)
        {
            var times = new List<double>();
            for (int i = -20; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                foreach (var g in step())
                    g.Dispose();
                if (i >= 0)
                    times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }

        torch.set_num_threads(1);
        var whole = Whole();
        var halves = Halves();
        double difference = whole.Zip(halves, (a, b) => (a - b).abs().max().item<float>()).Max();
        Console.WriteLine($"LeNet forward + backward on 64 rows, median ms of {repeats} after 20 warm-up; gradients of the two halves summed vs the whole batch: max |Δ| {difference:G3}");
        Console.WriteLine("| repetition | 1 thread | 2 intra-op threads | two 32-row halves on two threads, 1 intra-op thread each | halves / 2 intra-op threads |");
        Console.WriteLine("|---|---|---|---|---|");
        for (int repetition = 1; repetition <= 3; repetition++)
        {
            torch.set_num_threads(1);
            double one = Median(Whole);
            double halvesMs = Median(Halves);
            torch.set_num_threads(2);
            double two = Median(Whole);
            Console.WriteLine($"| {repetition} | {one:F2} | {two:F2} | {halvesMs:F2} | {halvesMs / two:F2} |");
        }
    }
}
