using System;

namespace Microsoft.ML.DomainAdaptation.Data.Synthetic
{
    /// <summary>
    /// SplitMix64 (Steele, Lea and Flood 2014) keyed by (seed, stream, index): a sample's draws depend on nothing but
    /// its key, whatever the order rows are read in. Our own generator rather than <see cref="Random"/>, whose
    /// sequences are not promised to stay the same across .NET versions.
    /// </summary>
    internal struct SampleRandom
    {
        private ulong _state;

        public SampleRandom(int seed, ulong stream, long index)
        {
            _state = Mix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ Mix(stream + 0x632BE59BD9B4E019UL) ^ Mix((ulong)index * 0xBF58476D1CE4E5B9UL + 1));
        }

        private static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public ulong NextULong()
        {
            _state += 0x9E3779B97F4A7C15UL;
            return Mix(_state);
        }

        /// <summary>Uniform in [0, 1).</summary>
        public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

        /// <summary>Uniform in [0, <paramref name="count"/>).</summary>
        public int Next(int count) => (int)(NextDouble() * count);

        public float Uniform(ValueRange range) => range.Min + (float)NextDouble() * (range.Max - range.Min);

        public float Uniform(float min, float max) => min + (float)NextDouble() * (max - min);

        public bool Chance(float probability) => NextDouble() < probability;

        /// <summary>Standard normal (Box–Muller).</summary>
        public double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - NextDouble())) * Math.Cos(2 * Math.PI * NextDouble());
    }
}
