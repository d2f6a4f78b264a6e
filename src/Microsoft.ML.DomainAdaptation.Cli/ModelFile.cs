using System;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Cli
{
    /// <summary>Model zips of the tool: ML.NET's model plus the <see cref="DataDescription"/> entry.</summary>
    internal static class ModelFile
    {
        public static (DomainAdaptationTransformer Transformer, DataDescription Description) Load(MLContext mlContext, string path)
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
            var transformer = model as DomainAdaptationTransformer
                ?? (model as TransformerChain<ITransformer>)?.LastTransformer as DomainAdaptationTransformer
                ?? throw new CliException(ExitCodes.BadInput, $"Model file '{path}' does not end with a domain-adaptation transformer (it holds {model.GetType().Name}).");
            return (transformer, description);
        }
    }
}
