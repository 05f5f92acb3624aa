package dev.tessera.runtime;

import dev.tessera.tensor.DType;
import java.util.List;

/**
 * The operations a graph node can perform. Each op checks its inputs' specs and infers its output
 * spec when the graph is built ({@link #infer}), so a model with a wrong shape fails before anything
 * runs; a backend ({@link Backend}) runs them. Adding an op: a record here, its case in every backend.
 */
public sealed interface Op {
    /**
     * The output spec for these input specs, or null for an op that only writes into one of its
     * inputs (a side effect, such as appending to a KV cache).
     *
     * @throws IllegalArgumentException if the inputs do not fit the op
     */
    TensorSpec infer(List<TensorSpec> in);

    /** The name profiles group by. */
    default String name() {
        return getClass().getSimpleName();
    }

    /** Y [M, N] = X [M, K] · Wᵀ for W [N, K] of any weight type (see dev.tessera.ops.Ops#matmul). */
    record MatMul() implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 2);
            TensorSpec w = in.get(0);
            TensorSpec x = in.get(1);
            require(w.rank() == 2, this, "weights must be 2-D [N, K], got " + w);
            require(x.rank() == 2 && x.dtype() == DType.F32 && x.dim(1) == w.dim(1), this,
                    "input must be F32 [M, " + w.dim(1) + "] for weights " + w + ", got " + x);
            return TensorSpec.of(DType.F32, x.dim(0), w.dim(0));
        }
    }

    /** Rows of a table (any weight type) picked by I32 ids [n] → F32 [n, D]. */
    record GetRows() implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 2);
            TensorSpec table = in.get(0);
            TensorSpec ids = in.get(1);
            require(table.rank() == 2, this, "table must be 2-D [rows, D], got " + table);
            require(ids.rank() == 1 && ids.dtype() == DType.I32, this, "ids must be I32 [n], got " + ids);
            return TensorSpec.of(DType.F32, ids.dim(0), table.dim(1));
        }
    }

    /** x / rms(x) · weight over the last dim, for x F32 [..., D] and weight F32 [D]. */
    record RmsNorm(float eps) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 2);
            TensorSpec x = in.get(0);
            TensorSpec w = in.get(1);
            require(x.dtype() == DType.F32 && x.rank() >= 1, this, "input must be F32, got " + x);
            require(w.dtype() == DType.F32 && w.rank() == 1 && w.dim(0) == x.dim(-1), this,
                    "weight must be F32 [" + x.dim(-1) + "], got " + w);
            return x;
        }
    }

    /**
     * Rotary position embedding of x F32 [n, heads, headDim] at I32 positions [n]: the first nDims
     * of each head rotated, in adjacent pairs (LLaMA GGUF layout) or halves (NeoX).
     */
    record Rope(int nDims, float freqBase, boolean neox) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 2);
            TensorSpec x = in.get(0);
            TensorSpec pos = in.get(1);
            require(x.dtype() == DType.F32 && x.rank() == 3, this, "input must be F32 [n, heads, headDim], got " + x);
            require(pos.dtype() == DType.I32 && pos.rank() == 1 && pos.dim(0) == x.dim(0), this,
                    "positions must be I32 [" + x.dim(0) + "], got " + pos);
            require(nDims > 0 && nDims % 2 == 0 && nDims <= x.dim(2), this, "rotated dims " + nDims + " must be even and <= " + x.dim(2));
            return x;
        }
    }

    /** Element-wise a + b of two F32 values, with numpy broadcasting (e.g. a bias [N] added to [M, N]). */
    record Add() implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 2);
            TensorSpec a = in.get(0);
            TensorSpec b = in.get(1);
            require(a.dtype() == DType.F32 && b.dtype() == DType.F32, this, "inputs must be F32, got " + a + " and " + b);
            long[] shape;
            try {
                shape = dev.tessera.ops.Nn.broadcastShape(a.shape(), b.shape());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name() + ": " + e.getMessage(), e);
            }
            require(shape.length <= 4, this, "result rank " + shape.length + " exceeds 4");
            return TensorSpec.of(DType.F32, shape);
        }
    }

    /** Element-wise a · b of two F32 values of the same shape. */
    record Mul() implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            return sameShapeF32(this, in);
        }
    }

    /** silu(gate) · up (LLaMA's feed-forward gate), same-shape F32 inputs (gate, up). */
    record SwiGlu() implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            return sameShapeF32(this, in);
        }
    }

    /**
     * Writes rows src F32 [n, kvHeads, headDim] into cache [kvHeads, ctx, headDim] (F16 or F32) at
     * I32 positions [n], which must be consecutive. Inputs (cache, src, positions); no output.
     */
    record StoreKv() implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 3);
            TensorSpec cache = in.get(0);
            TensorSpec src = in.get(1);
            TensorSpec pos = in.get(2);
            require(cache.rank() == 3 && (cache.dtype() == DType.F16 || cache.dtype() == DType.F32), this,
                    "cache must be F16/F32 [kvHeads, ctx, headDim], got " + cache);
            require(src.dtype() == DType.F32 && src.rank() == 3 && src.dim(1) == cache.dim(0) && src.dim(2) == cache.dim(2), this,
                    "rows must be F32 [n, " + cache.dim(0) + ", " + cache.dim(2) + "], got " + src);
            require(pos.dtype() == DType.I32 && pos.rank() == 1 && pos.dim(0) == src.dim(0), this,
                    "positions must be I32 [" + src.dim(0) + "], got " + pos);
            return null;
        }
    }

    /**
     * Causal attention of queries q F32 [n, heads, headDim] at consecutive I32 positions [n] over the
     * first positions[n-1]+1 rows of the caches k, v [kvHeads, ctx, headDim] (F16 or F32), grouped
     * (heads a multiple of kvHeads). Inputs (q, k, v, positions); output F32 [n, heads, headDim].
     */
    record CausalAttention(float scale) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 4);
            TensorSpec q = in.get(0);
            TensorSpec k = in.get(1);
            TensorSpec v = in.get(2);
            TensorSpec pos = in.get(3);
            require(q.dtype() == DType.F32 && q.rank() == 3, this, "queries must be F32 [n, heads, headDim], got " + q);
            require(k.rank() == 3 && k.equals(v) && k.dim(2) == q.dim(2), this,
                    "caches must be equal [kvHeads, ctx, " + q.dim(2) + "], got " + k + " and " + v);
            require(k.dim(0) > 0 && q.dim(1) % k.dim(0) == 0, this, q.dim(1) + " heads are not a multiple of " + k.dim(0) + " kv heads");
            require(pos.dtype() == DType.I32 && pos.rank() == 1 && pos.dim(0) == q.dim(0), this,
                    "positions must be I32 [" + q.dim(0) + "], got " + pos);
            return q;
        }
    }

    /**
     * LayerNorm over the last dim of x F32 [..., D] with weight and bias F32 [D] (biased variance).
     * Inputs (x, weight, bias).
     */
    record LayerNorm(float eps) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 3);
            TensorSpec x = in.get(0);
            require(x.dtype() == DType.F32 && x.rank() >= 1, this, "input must be F32, got " + x);
            for (int i = 1; i < 3; i++) {
                TensorSpec p = in.get(i);
                require(p.dtype() == DType.F32 && p.rank() == 1 && p.dim(0) == x.dim(-1), this,
                        (i == 1 ? "weight" : "bias") + " must be F32 [" + x.dim(-1) + "], got " + p);
            }
            require(eps > 0 && Float.isFinite(eps), this, "eps must be positive, got " + eps);
            return x;
        }
    }

    /** An element-wise activation of an F32 value. */
    record Activation(dev.tessera.ops.Nn.Activation act) implements Op {
        public Activation {
            java.util.Objects.requireNonNull(act, "act");
        }

        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 1);
            require(in.get(0).dtype() == DType.F32, this, "input must be F32, got " + in.get(0));
            return in.get(0);
        }
    }

    /**
     * Self-contained multi-head attention over a batch: q, k, v F32 [B, L, heads, headDim] (one
     * shape) → F32 [B, L, heads, headDim]; each batch item attends only to itself. causal: position
     * i sees keys 0..i (a text encoder's mask); otherwise every key.
     */
    record Attention(float scale, boolean causal) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            arity(this, in, 3);
            TensorSpec q = in.get(0);
            require(q.dtype() == DType.F32 && q.rank() == 4, this, "queries must be F32 [B, L, heads, headDim], got " + q);
            require(in.get(1).equals(q) && in.get(2).equals(q), this, "keys and values must have the queries' spec " + q
                    + ", got " + in.get(1) + " and " + in.get(2));
            require(q.dim(3) <= dev.tessera.ops.Attention.MAX_HEAD_SIZE, this, "head size " + q.dim(3) + " exceeds "
                    + dev.tessera.ops.Attention.MAX_HEAD_SIZE);
            require(scale > 0 && Float.isFinite(scale), this, "scale must be positive, got " + scale);
            return q;
        }
    }

    /**
     * 2-D convolution of x F32 [N, Cin, H, W] with weights F32/F16 [Cout, Cin, kh, kw] (one group, no
     * dilation), optional bias F32 [Cout] as a third input → F32 [N, Cout, OH, OW].
     */
    record Conv2d(int stride, int padding) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            require(in.size() == 2 || in.size() == 3, this, "takes 2 or 3 inputs, got " + in.size());
            TensorSpec x = in.get(0);
            TensorSpec w = in.get(1);
            require(x.dtype() == DType.F32 && x.rank() == 4, this, "input must be F32 [N, Cin, H, W], got " + x);
            require((w.dtype() == DType.F32 || w.dtype() == DType.F16) && w.rank() == 4 && w.dim(1) == x.dim(1), this,
                    "weights must be F32/F16 [Cout, " + x.dim(1) + ", kh, kw], got " + w);
            if (in.size() == 3) {
                TensorSpec b = in.get(2);
                require(b.dtype() == DType.F32 && b.rank() == 1 && b.dim(0) == w.dim(0), this, "bias must be F32 [" + w.dim(0) + "], got " + b);
            }
            require(stride >= 1 && padding >= 0, this, "bad stride " + stride + " or padding " + padding);
            long oh = (x.dim(2) + 2L * padding - w.dim(2)) / stride + 1;
            long ow = (x.dim(3) + 2L * padding - w.dim(3)) / stride + 1;
            require(x.dim(2) + 2L * padding >= w.dim(2) && x.dim(3) + 2L * padding >= w.dim(3), this,
                    "kernel " + w + " is larger than the padded input " + x);
            return TensorSpec.of(DType.F32, x.dim(0), w.dim(0), oh, ow);
        }
    }

    /** Concatenation along dim of F32 values (any strides) whose shapes agree elsewhere. */
    record Concat(int dim) implements Op {
        @Override
        public TensorSpec infer(List<TensorSpec> in) {
            require(!in.isEmpty(), this, "needs at least one input");
            TensorSpec first = in.get(0);
            require(dim >= 0 && dim < first.rank(), this, "dim " + dim + " is out of range for " + first);
            long[] shape = first.shape();
            long total = 0;
            for (TensorSpec t : in) {
                require(t.dtype() == DType.F32 && t.rank() == first.rank(), this, "inputs must be F32 of rank " + first.rank() + ", got " + t);
                for (int d = 0; d < shape.length; d++) {
                    require(d == dim || t.dim(d) == shape[d], this, "shapes " + first + " and " + t + " differ outside dim " + dim);
                }
                total += t.dim(dim);
            }
            shape[dim] = total;
            return TensorSpec.of(DType.F32, shape);
        }
    }

    private static TensorSpec sameShapeF32(Op op, List<TensorSpec> in) {
        arity(op, in, 2);
        TensorSpec a = in.get(0);
        TensorSpec b = in.get(1);
        require(a.dtype() == DType.F32 && a.equals(b), op, "inputs must be two F32 values of one shape, got " + a + " and " + b);
        return a;
    }

    private static void arity(Op op, List<TensorSpec> in, int n) {
        require(in.size() == n, op, "takes " + n + " inputs, got " + in.size());
    }

    private static void require(boolean ok, Op op, String message) {
        if (!ok) {
            throw new IllegalArgumentException(op.name() + ": " + message);
        }
    }
}
