using System;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>Exceptions worded like ML.NET's own schema checks, so users meet familiar messages.</summary>
    internal static class SchemaErrors
    {
        public static Exception MissingColumn(string paramName, string role, string columnName) =>
            new ArgumentOutOfRangeException(paramName, $"Could not find {role} column '{columnName}'");

        public static Exception Mismatch(string paramName, string role, string columnName, string expected, string actual) =>
            new ArgumentOutOfRangeException(paramName, $"Schema mismatch for {role} column '{columnName}': expected {expected}, got {actual}");
    }
}
