using System;
using System.Reflection;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Deep copies of option objects (fields of values, strings, arrays and nested option objects), so that an estimator
    /// keeps the settings it was made with whatever the caller changes later.
    /// </summary>
    internal static class OptionsCopy
    {
        private static readonly MethodInfo MemberwiseCloneMethod =
            typeof(object).GetMethod(nameof(MemberwiseClone), BindingFlags.Instance | BindingFlags.NonPublic)!;

        /// <summary>
        /// A copy of <paramref name="value"/> with its arrays copied and its nested option objects (a class of this library,
        /// e.g. <see cref="BackboneOptions"/>) copied the same way. Delegates, fitted models and other objects are shared.
        /// </summary>
        public static T Deep<T>(T value) where T : class
        {
            if (value is null)
                return null;
            var copy = (T)MemberwiseCloneMethod.Invoke(value, null);
            for (var type = value.GetType(); type != null && type != typeof(object); type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    object fieldValue = field.GetValue(copy);
                    if (fieldValue is Array array)
                        field.SetValue(copy, array.Clone()); // option arrays hold values (widths, sizes)
                    else if (fieldValue != null && IsOptionObject(fieldValue.GetType()))
                        field.SetValue(copy, Deep(fieldValue));
                }
            }
            return copy;
        }

        // A fitted model given as an option (DIRT-T's InitialModel) is shared, not copied: it owns native memory.
        internal static bool IsOptionObject(Type type) =>
            type.IsClass && !typeof(Delegate).IsAssignableFrom(type) && !typeof(IDisposable).IsAssignableFrom(type)
            && !typeof(ITransformer).IsAssignableFrom(type) && type.Assembly == typeof(OptionsCopy).Assembly;
    }
}
