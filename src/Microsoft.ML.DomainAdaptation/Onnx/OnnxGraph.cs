using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.DomainAdaptation.Onnx
{
    /// <summary>
    /// An ONNX graph being built: nodes, float initializers, one float input and named outputs, serialised to a
    /// ModelProto (field numbers from onnx.proto; opset <see cref="Opset"/>, IR version <see cref="IrVersion"/>).
    /// </summary>
    internal sealed class OnnxGraph
    {
        public const int Opset = 17;
        public const int IrVersion = 8;
        private const int FloatType = 1, Int64Type = 7;

        private readonly List<Action<ProtoWriter>> _nodes = new();
        private readonly List<Action<ProtoWriter>> _initializers = new();
        private readonly List<Action<ProtoWriter>> _outputs = new();
        private readonly HashSet<string> _names = new();
        private Action<ProtoWriter> _input;
        private int _counter;

        /// <summary>A name not used yet, from <paramref name="hint"/>.</summary>
        public string Fresh(string hint)
        {
            string name = hint;
            while (!_names.Add(name))
                name = $"{hint}_{++_counter}";
            return name;
        }

        /// <summary>The graph's input: float [N, <paramref name="size"/>], N free.</summary>
        public void Input(string name, long size)
        {
            _names.Add(name);
            _input = w => ValueInfo(w, name, FloatType, new object[] { "N", size });
        }

        /// <summary>A graph output: <paramref name="dims"/> are sizes (long) or symbolic names (string).</summary>
        public void Output(string name, bool int64, params object[] dims) =>
            _outputs.Add(w => ValueInfo(w, name, int64 ? Int64Type : FloatType, dims));

        /// <summary>A float constant.</summary>
        public string Initializer(string hint, float[] values, params long[] dims)
        {
            string name = Fresh(hint);
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            _initializers.Add(w => w.Message(5, t =>
            {
                foreach (long d in dims)
                    t.Varint(1, d);
                t.Varint(2, FloatType).String(8, name).Bytes(9, bytes);
            }));
            return name;
        }

        /// <summary>An int64 constant (shapes, axes).</summary>
        public string Int64Initializer(string hint, long[] values)
        {
            string name = Fresh(hint);
            var bytes = new byte[values.Length * 8];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            _initializers.Add(w => w.Message(5, t => t.Varint(1, values.Length).Varint(2, Int64Type).String(8, name).Bytes(9, bytes)));
            return name;
        }

        /// <summary>Adds a node; returns its (single) output's name. Attributes: long, float, long[] or float[] values.</summary>
        public string Node(string opType, string[] inputs, string output = null, params (string Name, object Value)[] attributes)
        {
            output ??= Fresh(opType.ToLowerInvariant());
            _names.Add(output);
            string nodeName = Fresh($"node_{opType}");
            _nodes.Add(w => w.Message(1, n =>
            {
                foreach (var input in inputs)
                    n.String(1, input);
                n.String(2, output).String(3, nodeName).String(4, opType);
                foreach (var (name, value) in attributes)
                    n.Message(5, a => Attribute(a, name, value));
            }));
            return output;
        }

        public byte[] Serialize(string graphName, string producerVersion)
        {
            var model = new ProtoWriter()
                .Varint(1, IrVersion)
                .String(2, "Microsoft.ML.DomainAdaptation")
                .String(3, producerVersion)
                .Message(8, o => o.String(1, "").Varint(2, Opset))
                .Message(7, g =>
                {
                    foreach (var node in _nodes)
                        node(g);
                    g.String(2, graphName);
                    foreach (var initializer in _initializers)
                        initializer(g);
                    g.Message(11, _input);
                    foreach (var output in _outputs)
                        g.Message(12, output);
                });
            return model.ToArray();
        }

        private static void ValueInfo(ProtoWriter w, string name, int elementType, object[] dims)
        {
            w.String(1, name).Message(2, type => type.Message(1, tensor => tensor.Varint(1, elementType).Message(2, shape =>
            {
                foreach (var dim in dims)
                    shape.Message(1, d => { if (dim is string symbol) d.String(2, symbol); else d.Varint(1, Convert.ToInt64(dim)); });
            })));
        }

        // AttributeProto: name 1, f 2, i 3, floats 7, ints 8, type 20 (FLOAT 1, INT 2, FLOATS 6, INTS 7).
        private static void Attribute(ProtoWriter a, string name, object value)
        {
            a.String(1, name);
            switch (value)
            {
                case float f: a.Float(2, f).Varint(20, 1); break;
                case long i: a.Varint(3, i).Varint(20, 2); break;
                case int i: a.Varint(3, i).Varint(20, 2); break;
                case float[] fs: foreach (var f in fs) a.Float(7, f); a.Varint(20, 6); break;
                case long[] ls: foreach (var l in ls) a.Varint(8, l); a.Varint(20, 7); break;
                default: throw new ArgumentException($"Unsupported ONNX attribute value {value?.GetType().Name} for '{name}'.");
            }
        }
    }
}
