package dev.tessera.runtime;

import java.util.List;

/** One step of a graph: op applied to inputs, writing output (null for a side-effect op). */
public record Node(int index, Op op, List<Value> inputs, Value output) {
    public Node {
        inputs = List.copyOf(inputs);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(output == null ? "_" : "%" + output.id()).append(" = ").append(op);
        for (Value v : inputs) {
            sb.append(" %").append(v.id());
        }
        return sb.toString();
    }
}
