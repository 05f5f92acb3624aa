package dev.tessera.runtime;

import dev.tessera.tensor.Tensor;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A forward computation built once for fixed shapes: values, and nodes that run in order. Immutable;
 * {@link CompiledGraph} plans its memory and runs it on a backend. Build one with {@link GraphBuilder}.
 */
public final class Graph {
    private final List<Value> values;
    private final List<Node> nodes;
    private final Map<String, Value> inputs;
    private final Map<String, Value> outputs;
    private final Map<Value, Tensor> constants;

    Graph(List<Value> values, List<Node> nodes, Map<String, Value> inputs, Map<String, Value> outputs, Map<Value, Tensor> constants) {
        this.values = List.copyOf(values);
        this.nodes = List.copyOf(nodes);
        this.inputs = Collections.unmodifiableMap(inputs);
        this.outputs = Collections.unmodifiableMap(outputs);
        this.constants = Collections.unmodifiableMap(constants);
    }

    /** Every value, indexed by {@link Value#id()}. */
    public List<Value> values() {
        return values;
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Inputs by name, in declaration order. */
    public Map<String, Value> inputs() {
        return inputs;
    }

    /** Outputs by name, in declaration order. */
    public Map<String, Value> outputs() {
        return outputs;
    }

    /** The tensor bound to each constant value. */
    public Map<Value, Tensor> constants() {
        return constants;
    }

    /** One line per value and node, for debugging. */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        for (Value v : values) {
            if (v.kind() != Value.Kind.NODE) {
                sb.append(v).append('\n');
            }
        }
        for (Node n : nodes) {
            sb.append(n).append("   ").append(n.output() == null ? "" : n.output().spec()).append('\n');
        }
        return sb.toString();
    }
}
