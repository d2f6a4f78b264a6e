using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

/// <summary>
/// Where a LeNet training step spends its time (`--profile-lenet [--threads 2] [--batch 64]`): each layer's forward and
/// backward timed alone at the training batch, in the library's layout, then whole steps. The answer to "where do
/// steady-state steps lose half of the peak".
/// </summary>
internal static class LayerProfile
{
    public static void Run(int threads, int batch)
    {
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        Console.WriteLine($"LeNet layers at batch {batch}, {threads} threads: median ms of 50 timed runs after 10 warm-up runs");
        Console.WriteLine("| layer | forward ms | forward + backward ms | forward GFLOP/s |");
        Console.WriteLine("|---|---|---|---|");
        var conv1 = Conv2d(1, 32, 5);
        var conv2 = Conv2d(32, 48, 5);
        var fc = Linear(768, 100);
        Layer("conv1 1→32 5×5, 28×28", () => rand(batch, 1, 28, 28), x => conv1.forward(x), 24 * 24 * 32 * 25, batch, inputGrad: false);
        Layer("relu 32×24×24", () => randn(batch, 32, 24, 24), x => functional.relu(x), 0, batch);
        Layer("max_pool2d 32×24×24", () => randn(batch, 32, 24, 24), x => functional.max_pool2d(x, 2), 0, batch);
        Layer("slice-maximum pool 32×24×24", () => randn(batch, 32, 24, 24), SliceMaxPool, 0, batch);
        Layer("conv2 32→48 5×5, 12×12", () => randn(batch, 32, 12, 12), x => conv2.forward(x), 8 * 8 * 48 * 800, batch);
        Layer("max_pool2d 48×8×8", () => randn(batch, 48, 8, 8), x => functional.max_pool2d(x, 2), 0, batch);
        Layer("max_pool2d 32×24×24 channels-last", () => ChannelsLast(randn(batch, 32, 24, 24)), x => functional.max_pool2d(x, 2), 0, batch);
        Layer("conv1 channels-last input", () => ChannelsLast(rand(batch, 1, 28, 28)), x => conv1.forward(x), 24 * 24 * 32 * 25, batch, inputGrad: false);
        Layer("conv2 channels-last input", () => ChannelsLast(randn(batch, 32, 12, 12)), x => conv2.forward(x), 8 * 8 * 48 * 800, batch);
        Layer("relu+pool+conv2+relu+pool, channels-last", () => ChannelsLast(randn(batch, 32, 24, 24)),
            x => functional.max_pool2d(functional.relu(conv2.forward(functional.max_pool2d(functional.relu(x), 2))), 2), 0, batch);
        Layer("relu+pool+conv2+relu+pool, NCHW", () => randn(batch, 32, 24, 24),
            x => functional.max_pool2d(functional.relu(conv2.forward(functional.max_pool2d(functional.relu(x), 2))), 2), 0, batch);
        for (int repeat = 0; repeat < 3; repeat++)
        {
            Layer("LeNet features, planar layout", () => rand(batch, 1, 28, 28),
                x => functional.max_pool2d(functional.relu(conv2.forward(functional.max_pool2d(functional.relu(conv1.forward(x)), 2))), 2).flatten(1), 0, batch, inputGrad: false);
            Layer("LeNet features, channels-last from the first pooling", () => rand(batch, 1, 28, 28),
                x => functional.max_pool2d(functional.relu(conv2.forward(functional.max_pool2d(ChannelsLast(functional.relu(conv1.forward(x))), 2))), 2).flatten(1), 0, batch, inputGrad: false);
        }
        // Scoring and the forward passes without gradients inside trainings (ADDA's frozen encoder, teachers, pseudo-labels): the
        // library's planar layout with the slice-maximum pooling, against channels-last. Session 16: channels-last ≈ 15 % faster on
        // one thread, not adopted: it changes those passes' summation order, so every seeded training that has them moves.
        for (int repeat = 0; repeat < 2; repeat++)
        {
            Layer("LeNet features scored, planar, slice-maximum pooling", () => rand(batch, 1, 28, 28),
                x => SliceMaxPool(functional.relu(conv2.forward(SliceMaxPool(functional.relu(conv1.forward(x)))))).flatten(1), 0, batch, inputGrad: false);
            Layer("LeNet features scored, channels-last, max_pool2d", () => rand(batch, 1, 28, 28),
                x => functional.max_pool2d(functional.relu(conv2.forward(functional.max_pool2d(functional.relu(conv1.forward(ChannelsLast(x))), 2))), 2).flatten(1), 0, batch, inputGrad: false);
            Layer("LeNet features scored, channels-last, slice-maximum pooling", () => rand(batch, 1, 28, 28),
                x => SliceMaxPool(functional.relu(conv2.forward(SliceMaxPool(functional.relu(conv1.forward(ChannelsLast(x))))))).flatten(1), 0, batch, inputGrad: false);
        }
        Layer("fc 768→100", () => randn(batch, 768), x => fc.forward(x), 768 * 100, batch);
    }

    private static Tensor ChannelsLast(Tensor x) => Microsoft.ML.DomainAdaptation.Networks.MaxPool2x2.ChannelsLast(x);

    private static Tensor SliceMaxPool(Tensor x)
    {
        var rows = maximum(x.slice(2, 0, x.shape[2], 2), x.slice(2, 1, x.shape[2], 2));
        return maximum(rows.slice(3, 0, x.shape[3], 2), rows.slice(3, 1, x.shape[3], 2));
    }

    private static void Layer(string name, Func<Tensor> input, Func<Tensor, Tensor> layer, double macsPerImage, int batch, bool inputGrad = true)
    {
        using var scope = NewDisposeScope();
        var x = input();
        double forward = Median(() =>
        {
            using var inner = NewDisposeScope();
            using var noGrad = torch.no_grad();
            layer(x);
        });
        var xg = x.detach().requires_grad_(inputGrad);
        double both = Median(() =>
        {
            using var inner = NewDisposeScope();
            var y = layer(xg);
            y.backward(new[] { ones_like(y) });
        });
        string gflops = macsPerImage > 0 ? $"{2 * macsPerImage * batch / (forward / 1000) / 1e9:F1}" : "";
        Console.WriteLine($"| {name} | {forward:F3} | {both:F3} | {gflops} |");
    }

    private static double Median(Action action)
    {
        for (int i = 0; i < 10; i++)
            action();
        var times = new List<double>();
        for (int i = 0; i < 50; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
