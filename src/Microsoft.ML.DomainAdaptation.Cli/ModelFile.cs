using System;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>
    /// Model zips of the tool: ML.NET's model plus the <see cref="DataDescription"/> entry. Since format
    /// <see cref="DataDescription.ChainFormat"/> the model is one chain from the raw input to the class name
    /// (<see cref="Preprocessing"/>); zips of earlier versions hold the adapted network alone and still load.
    /// </summary>
    internal static class ModelFile
    {
        public static (DomainAdaptationTransformer Transformer, DataDescription Description, ITransformer Preprocessing) Load(MLContext mlContext, string path)
        {
            var description = DataDescription.ReadFrom(path);
            ITransformer model;
            try
            {
                model = mlContext.Model.Load(path, out _);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever ML.NET throws on a damaged or foreign zip, the file is what the user has to replace.
                throw new CliException(ExitCodes.BadInput, $"Model file '{path}' cannot be loaded as an ML.NET model: {e.Message}", e);
            }
            var parts = Preprocessing.Flatten(model).ToList();
            int index = parts.FindIndex(t => t is DomainAdaptationTransformer);
            if (index < 0)
                throw new CliException(ExitCodes.BadInput, $"Model file '{path}' holds no domain-adaptation transformer (it holds {string.Join(", ", parts.Select(t => t.GetType().Name))}).");
            if (description.HasChain && index == 0)
                throw new CliException(ExitCodes.BadInput, $"Model file '{path}': its '{DataDescription.EntryName}' entry says the model starts at the raw input, but it has no preprocessing before the network.");
            var preprocessing = description.HasChain ? new TransformerChain<ITransformer>(parts.Take(index).ToArray()) : null;
            return ((DomainAdaptationTransformer)parts[index], description, preprocessing);
        }
    }
}
