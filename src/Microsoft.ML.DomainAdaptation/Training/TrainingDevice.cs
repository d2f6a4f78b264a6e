using System;
using TorchSharp;

namespace Microsoft.ML.DomainAdaptation.Training
{
    /// <summary>The <see cref="DomainAdaptationOptions.Device"/> option: parsing, and the check that CUDA is there when asked for.</summary>
    internal static class TrainingDevice
    {
        // Options validation parses the device before anything else of a training touches libtorch: the process-wide native
        // settings that must precede libtorch's loading (OpenMP's wait policy) or its first buffers are applied here.
        static TrainingDevice()
        {
            MallocTuning.EnsureConfigured();
            ThreadPolicy.EnsureWaitPolicy();
        }

        public static bool TryParse(string value, out torch.Device device)
        {
            device = null;
            if (string.IsNullOrWhiteSpace(value))
                return false;
            string text = value.Trim().ToLowerInvariant();
            if (text == "cpu")
            {
                device = torch.CPU;
                return true;
            }
            if (text == "cuda")
            {
                device = new torch.Device(DeviceType.CUDA, 0);
                return true;
            }
            if (text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), out int index) && index >= 0)
            {
                device = new torch.Device(DeviceType.CUDA, index);
                return true;
            }
            return false;
        }

        /// <summary>The device to train on; throws when CUDA is asked for and TorchSharp has none.</summary>
        public static torch.Device Resolve(string value)
        {
            if (!TryParse(value, out var device))
                throw new ArgumentOutOfRangeException(nameof(DomainAdaptationOptions.Device), value, $"Device must be \"cpu\", \"cuda\" or \"cuda:N\"; got {value}.");
            if (device.type == DeviceType.CUDA)
            {
                if (!torch.cuda.is_available())
                    throw new InvalidOperationException($"Device is '{value}' but CUDA is not available to TorchSharp: this build uses the CPU libtorch " +
                        "(or the machine has no usable NVIDIA GPU). Build with -p:DomainAdaptationTorchDevice=cuda on a CUDA machine, or set Device = \"cpu\".");
                if (device.index >= torch.cuda.device_count())
                    throw new InvalidOperationException($"Device is '{value}' but TorchSharp sees {torch.cuda.device_count()} CUDA device(s).");
            }
            return device;
        }
    }
}
