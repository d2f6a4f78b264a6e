using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;

namespace Microsoft.ML.DomainAdaptation
{
    /// <summary>
    /// Sets option fields from text, "Name=value;Name.Nested=value", for the tools that take options on a command line
    /// (<see cref="DomainAdaptationMethods.ApplySettings"/> is the public entry).
    /// </summary>
    internal static class OptionSettings
    {
        public static void Apply(object options, string settings)
        {
            if (options is null)
                throw new ArgumentNullException(nameof(options));
            if (settings is null)
                return;
            foreach (var entry in settings.Split(';'))
            {
                string setting = entry.Trim();
                if (setting.Length == 0)
                    continue;
                int equals = setting.IndexOf('=');
                if (equals <= 0)
                    throw new ArgumentException($"Setting '{setting}': expected Option=value (e.g. Iterations=500 or Backbone.EmbeddingSize=64).", nameof(settings));
                string path = setting.Substring(0, equals).Trim();
                string value = setting.Substring(equals + 1).Trim();
                Set(options, path, value, setting);
            }
        }

        private static void Set(object options, string path, string value, string setting)
        {
            var names = path.Split('.');
            object owner = options;
            string ownerName = options.GetType().Name;
            for (int i = 0; i < names.Length; i++)
            {
                // "SelfTrainingAddOn.Threshold=0.9": a field of the options' add-on of that type (added in code or by a method name's suffix).
                if (i == 0 && names.Length > 1 && owner is DomainAdaptationOptions { AddOns: { } addOns }
                    && addOns.FirstOrDefault(a => string.Equals(a?.GetType().Name, names[0].Trim(), StringComparison.OrdinalIgnoreCase)) is { } addOn)
                {
                    owner = addOn;
                    ownerName = addOn.GetType().Name;
                    continue;
                }
                var member = Find(owner.GetType(), names[i].Trim())
                    ?? throw new ArgumentException($"Setting '{setting}': {ownerName} has no option '{names[i].Trim()}'; its options: " +
                        $"{string.Join(", ", Settable(owner.GetType()).Select(m => m.Name))}.", "settings");
                string name = ownerName + "." + member.Name;
                if (i == names.Length - 1)
                {
                    member.SetValue(owner, Parse(member.Type, value, name, setting));
                    return;
                }
                if (!OptionsCopy.IsOptionObject(member.Type))
                    throw new ArgumentException($"Setting '{setting}': option {name} ({TypeName(member.Type)}) has no nested options.", "settings");
                object nested = member.GetValue(owner);
                if (nested is null)
                {
                    // An option object left null by default (e.g. Validation) is created with its own defaults.
                    if (member.Type.IsAbstract || member.Type.GetConstructor(Type.EmptyTypes) is null)
                        throw new ArgumentException($"Setting '{setting}': option {name} is not set, and its type {member.Type.Name} cannot be created " +
                            "with defaults; set it in code first.", "settings");
                    nested = Activator.CreateInstance(member.Type);
                    member.SetValue(owner, nested);
                }
                owner = nested;
                ownerName = name;
            }
        }

        /// <summary>A public instance field or writable property: the exact name first, else the one name that matches ignoring case.</summary>
        private static Member Find(Type type, string name)
        {
            var members = Settable(type).ToArray();
            return members.FirstOrDefault(m => m.Name == name)
                ?? (members.Count(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) == 1
                    ? members.Single(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) : null);
        }

        // Values that text can give (numbers, booleans, names, enums, number lists) and option objects to descend into;
        // delegates, lists of add-ons, cancellation tokens and fitted models are set in code.
        private static IEnumerable<Member> Settable(Type type) =>
            type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => !f.IsInitOnly).Select(f => new Member(f))
                .Concat(type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod.IsPublic && p.GetIndexParameters().Length == 0)
                    .Select(p => new Member(p)))
                .Where(m => IsText(m.Type) || OptionsCopy.IsOptionObject(m.Type));

        private static bool IsText(Type type)
        {
            var t = Nullable.GetUnderlyingType(type) ?? type;
            if (t.IsArray)
                t = t.GetElementType();
            return t == typeof(string) || t == typeof(bool) || t.IsEnum || IsNumber(t);
        }

        private static bool IsNumber(Type t) =>
            t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(uint) || t == typeof(ulong)
            || t == typeof(float) || t == typeof(double);

        private static object Parse(Type type, string text, string name, string setting)
        {
            if (type == typeof(string))
                return text;
            var underlying = Nullable.GetUnderlyingType(type);
            if (underlying != null)
                return text.Length == 0 || string.Equals(text, "null", StringComparison.OrdinalIgnoreCase) ? null : Parse(underlying, text, name, setting);
            if (type.IsArray)
            {
                var items = text.Length == 0 ? Array.Empty<string>() : text.Split(',');
                var array = Array.CreateInstance(type.GetElementType(), items.Length);
                for (int i = 0; i < items.Length; i++)
                    array.SetValue(Parse(type.GetElementType(), items[i].Trim(), name, setting), i);
                return array;
            }
            if (type == typeof(bool))
                return bool.TryParse(text, out bool flag) ? flag : throw Bad(name, setting, text, "true or false");
            if (type.IsEnum)
            {
                // Names only: Enum.TryParse would also take any number, even one that is no member.
                var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
                return match != null ? Enum.Parse(type, match) : throw Bad(name, setting, text, $"one of {string.Join(", ", Enum.GetNames(type))}");
            }
            if (type == typeof(float) || type == typeof(double))
            {
                bool parsed = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number);
                object result = type == typeof(float) ? (object)(float)number : number;
                bool finite = type == typeof(float) ? float.IsFinite((float)number) : double.IsFinite(number);
                return parsed && finite ? result : throw Bad(name, setting, text, $"a finite {type.Name} number (e.g. 0.5 or 1e-3)");
            }
            try
            {
                if (text.Length > 0 && !char.IsWhiteSpace(text[0]))
                    return Convert.ChangeType(decimal.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture), type, CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
            }
            throw Bad(name, setting, text, $"a whole number in the range of {type.Name}");
        }

        private static ArgumentException Bad(string name, string setting, string text, string expected) =>
            new ArgumentException($"Setting '{setting}': option {name} expects {expected}; got '{text}'.", "settings");

        private static string TypeName(Type type) => (Nullable.GetUnderlyingType(type) ?? type).Name + (Nullable.GetUnderlyingType(type) != null ? "?" : "");

        /// <summary>A field or a property, read and written alike.</summary>
        private sealed class Member
        {
            private readonly FieldInfo _field;
            private readonly PropertyInfo _property;

            public Member(FieldInfo field) => _field = field;

            public Member(PropertyInfo property) => _property = property;

            public string Name => _field?.Name ?? _property.Name;

            public Type Type => _field?.FieldType ?? _property.PropertyType;

            public object GetValue(object owner) => _field != null ? _field.GetValue(owner) : _property.GetValue(owner);

            public void SetValue(object owner, object value)
            {
                if (_field != null)
                    _field.SetValue(owner, value);
                else
                    _property.SetValue(owner, value);
            }
        }
    }
}
