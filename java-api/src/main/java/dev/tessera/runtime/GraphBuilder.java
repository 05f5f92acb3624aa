package dev.tessera.runtime;

import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records a graph: declare inputs and constants, apply ops (checked as they are added), name the
 * outputs, then {@link #build()}. Not thread-safe; one builder per graph.
 */
public final class GraphBuilder {
    private final List<Value> values = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Value> inputs = new LinkedHashMap<>();
    private final Map<String, Value> outputs = new LinkedHashMap<>();
    private final Map<Value, Tensor> constants = new IdentityHashMap<>();
    private boolean built;

    /** A value the caller fills before each run (through {@link CompiledGraph#input}). */
    public Value input(String name, TensorSpec spec) {
        if (inputs.containsKey(name)) {
            throw new IllegalArgumentException("input '" + name + "' declared twice");
        }
        Value v = newValue(name, Value.Kind.INPUT, spec, null, null);
        inputs.put(name, v);
        return v;
    }

    /** A tensor the caller owns and keeps alive while the graph is used: weights, caches. */
    public Value constant(String name, Tensor tensor) {
        Value v = newValue(name, Value.Kind.CONSTANT, new TensorSpec(tensor.dtype(), tensor.shape()), null, null);
        constants.put(v, tensor);
        return v;
    }

    /** Applies op to inputs; returns its output value. */
    public Value apply(String name, Op op, Value... args) {
        TensorSpec spec = infer(op, args);
        if (spec == null) {
            throw new IllegalArgumentException(op.name() + " has no output: use effect()");
        }
        Value out = newValue(name, Value.Kind.NODE, spec, null, null);
        nodes.add(new Node(nodes.size(), op, List.of(args), out));
        return out;
    }

    /** Applies an op that only writes into one of its inputs (e.g. a cache). */
    public void effect(Op op, Value... args) {
        TensorSpec spec = infer(op, args);
        if (spec != null) {
            throw new IllegalArgumentException(op.name() + " has an output: use apply()");
        }
        nodes.add(new Node(nodes.size(), op, List.of(args), null));
    }

    /** The same elements of v under a new shape (one dim may be -1). */
    public Value reshape(Value v, long... shape) {
        long[] s = shape.clone();
        long known = 1;
        int infer = -1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1 && infer < 0) {
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("bad shape " + Arrays.toString(shape) + " for a reshape of " + v);
            } else {
                known = Math.multiplyExact(known, s[i]);
            }
        }
        long n = v.spec().numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("cannot infer a dim of " + Arrays.toString(shape) + " for " + v);
            }
            s[infer] = n / known;
        }
        TensorSpec spec = new TensorSpec(v.spec().dtype(), s);
        if (spec.numel() != n) {
            throw new IllegalArgumentException("cannot reshape " + v + " to " + Arrays.toString(s));
        }
        return view(v, spec, new Value.ViewOp.Reshape(s));
    }

    /** A view of v with its dims reordered: result dim i is v's dim dims[i]. */
    public Value permute(Value v, int... dims) {
        long[] src = v.spec().shape();
        if (dims.length != src.length) {
            throw new IllegalArgumentException("permute " + Arrays.toString(dims) + " does not fit " + v);
        }
        long[] s = new long[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] >= dims.length || seen[dims[i]]) {
                throw new IllegalArgumentException(Arrays.toString(dims) + " is not a permutation for " + v);
            }
            seen[dims[i]] = true;
            s[i] = src[dims[i]];
        }
        return view(v, new TensorSpec(v.spec().dtype(), s), new Value.ViewOp.Permute(dims));
    }

    /** Elements [start, end) of dim of v. */
    public Value slice(Value v, int dim, long start, long end) {
        long[] s = v.spec().shape();
        if (dim < 0 || dim >= s.length || start < 0 || end > s[dim] || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") of dim " + dim + " is out of bounds for " + v);
        }
        s[dim] = end - start;
        return view(v, new TensorSpec(v.spec().dtype(), s), new Value.ViewOp.Slice(dim, start, end));
    }

    /** Names a value as an output, readable after each run. */
    public void output(String name, Value v) {
        if (outputs.containsKey(name)) {
            throw new IllegalArgumentException("output '" + name + "' declared twice");
        }
        owned(v);
        outputs.put(name, v);
    }

    public Graph build() {
        if (built) {
            throw new IllegalStateException("build() was already called");
        }
        built = true;
        return new Graph(values, nodes, inputs, outputs, constants);
    }

    private TensorSpec infer(Op op, Value[] args) {
        List<TensorSpec> specs = new ArrayList<>(args.length);
        for (Value a : args) {
            owned(a);
            specs.add(a.spec());
        }
        return op.infer(specs);
    }

    private Value view(Value base, TensorSpec spec, Value.ViewOp op) {
        owned(base);
        return newValue(base.name() + "." + op.getClass().getSimpleName().toLowerCase(), Value.Kind.VIEW, spec, base, op);
    }

    private Value newValue(String name, Value.Kind kind, TensorSpec spec, Value base, Value.ViewOp viewOp) {
        if (built) {
            throw new IllegalStateException("the graph is already built");
        }
        Value v = new Value(values.size(), name, kind, spec, base, viewOp);
        values.add(v);
        return v;
    }

    private void owned(Value v) {
        if (v == null || v.id() >= values.size() || values.get(v.id()) != v) {
            throw new IllegalArgumentException("value " + v + " does not belong to this graph");
        }
    }
}
