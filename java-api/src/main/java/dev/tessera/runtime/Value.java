package dev.tessera.runtime;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a graph: an input the caller fills before each run, a constant bound at build time
 * (weights, KV-cache state), the output of a node, or a view (reshape, permute, slice) of another
 * value that shares its memory. Values are created by {@link GraphBuilder} and compared by identity.
 */
public final class Value {
    /** Where a value's memory comes from. */
    public enum Kind {
        /** Planned by the runtime, written by the caller before a run. */
        INPUT,
        /** A tensor the caller owns (weights, caches); the runtime never frees it. */
        CONSTANT,
        /** Planned by the runtime, written by one node. */
        NODE,
        /** Shares the memory of {@link #base()}. */
        VIEW
    }

    /** How a view is derived from its base. */
    public sealed interface ViewOp {
        /** Same elements, new shape (the base must allow it without copying). */
        record Reshape(long[] shape) implements ViewOp {
            public Reshape {
                shape = shape.clone();
            }

            @Override
            public String toString() {
                return "reshape" + Arrays.toString(shape);
            }
        }

        /** Result dim i is the base's dim dims[i]. */
        record Permute(int[] dims) implements ViewOp {
            public Permute {
                dims = dims.clone();
            }

            @Override
            public String toString() {
                return "permute" + Arrays.toString(dims);
            }
        }

        /** Elements [start, end) of one dim. */
        record Slice(int dim, long start, long end) implements ViewOp {}
    }

    private final int id;
    private final String name;
    private final Kind kind;
    private final TensorSpec spec;
    private final Value base;
    private final ViewOp viewOp;

    Value(int id, String name, Kind kind, TensorSpec spec, Value base, ViewOp viewOp) {
        this.id = id;
        this.name = Objects.requireNonNull(name);
        this.kind = kind;
        this.spec = spec;
        this.base = base;
        this.viewOp = viewOp;
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public TensorSpec spec() {
        return spec;
    }

    /** The value a view derives from; null for other kinds. */
    public Value base() {
        return base;
    }

    public ViewOp viewOp() {
        return viewOp;
    }

    /** The value that owns this value's memory: itself, or the root of a chain of views. */
    public Value root() {
        Value v = this;
        while (v.base != null) {
            v = v.base;
        }
        return v;
    }

    @Override
    public String toString() {
        return "%" + id + " " + name + ": " + spec + (kind == Kind.VIEW ? " = " + viewOp + "(%" + base.id + ")" : " (" + kind.name().toLowerCase() + ")");
    }
}
