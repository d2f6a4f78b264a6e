using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DomainAdaptation.Data
{
    /// <summary>
    /// The label's key values, kept with the model: as text for the Score column's slot names, and in their own type
    /// for the PredictedLabel column's key values (so MapKeyToValue on the prediction gives back the original labels).
    /// </summary>
    internal sealed class ClassNames
    {
        private static readonly Dictionary<string, PrimitiveDataViewType> SupportedTypes = new PrimitiveDataViewType[]
        {
            TextDataViewType.Instance, BooleanDataViewType.Instance,
            NumberDataViewType.Single, NumberDataViewType.Double,
            NumberDataViewType.SByte, NumberDataViewType.Byte, NumberDataViewType.Int16, NumberDataViewType.UInt16,
            NumberDataViewType.Int32, NumberDataViewType.UInt32, NumberDataViewType.Int64, NumberDataViewType.UInt64,
        }.ToDictionary(t => t.RawType.FullName);

        private ClassNames(PrimitiveDataViewType itemType, string[] names)
        {
            ItemType = itemType;
            Names = names;
        }

        public PrimitiveDataViewType ItemType { get; }

        public string[] Names { get; }

        /// <summary>The label's key values, or null when it has none of a supported type and count.</summary>
        public static ClassNames FromLabel(DataViewSchema.Column label, int classCount)
        {
            var annotation = label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
            if (annotation?.Type is not VectorDataViewType { ItemType: PrimitiveDataViewType item } type || type.Size != classCount
                || !SupportedTypes.ContainsKey(item.RawType.FullName))
                return null;
            var read = typeof(ClassNames).GetMethod(nameof(ReadNames), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
                .MakeGenericMethod(item.RawType);
            return new ClassNames(SupportedTypes[item.RawType.FullName], (string[])read.Invoke(null, new object[] { label }));
        }

        private static string[] ReadNames<T>(DataViewSchema.Column label)
        {
            VBuffer<T> values = default;
            label.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref values);
            return values.DenseValues().Select(v => v switch
            {
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString(),
            }).ToArray();
        }

        /// <summary>Adds the names as slot names (text) to the Score column's annotations.</summary>
        public void AddSlotNames(DataViewSchema.Annotations.Builder builder)
        {
            var names = Names.Select(n => n.AsMemory()).ToArray();
            builder.Add(AnnotationUtils.Kinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, names.Length),
                (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(names.Length, names));
        }

        /// <summary>Adds the key values, in the label's own type, to the PredictedLabel column's annotations.</summary>
        public void AddKeyValues(DataViewSchema.Annotations.Builder builder)
        {
            var add = typeof(ClassNames).GetMethod(nameof(AddTypedKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
                .MakeGenericMethod(ItemType.RawType);
            add.Invoke(this, new object[] { builder });
        }

        private void AddTypedKeyValues<T>(DataViewSchema.Annotations.Builder builder)
        {
            var values = Names.Select(n => (T)Parse(n)).ToArray();
            builder.Add(AnnotationUtils.Kinds.KeyValues, new VectorDataViewType(ItemType, values.Length),
                (ref VBuffer<T> v) => v = new VBuffer<T>(values.Length, values.ToArray()));
        }

        private object Parse(string name) => ItemType is TextDataViewType
            ? name.AsMemory()
            : Convert.ChangeType(name, ItemType.RawType, CultureInfo.InvariantCulture);

        public void Write(BinaryWriter writer)
        {
            writer.Write(ItemType.RawType.FullName);
            writer.Write(Names.Length);
            foreach (var name in Names)
                writer.Write(name);
        }

        public static ClassNames Read(BinaryReader reader, int classCount)
        {
            string typeName = reader.ReadString();
            if (!SupportedTypes.TryGetValue(typeName, out var type))
                throw new InvalidDataException($"The model's class names have unsupported type '{typeName}'.");
            int count = reader.ReadInt32();
            if (count != classCount)
                throw new InvalidDataException($"The model has {count} class names for {classCount} classes.");
            var names = new string[count];
            for (int i = 0; i < count; i++)
                names[i] = reader.ReadString();
            return new ClassNames(type, names);
        }
    }
}
