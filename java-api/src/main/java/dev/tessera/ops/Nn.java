package dev.tessera.ops;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Objects;
import java.util.function.IntSupplier;

/**
 * Neural-network layers of CLIP, LLaMA and Stable Diffusion on the native kernels: norms,
 * activations and gated units, softmax, rotary embeddings, upsampling, broadcasting
 * arithmetic, concatenation, permutation, embedding lookups and timestep embeddings.
 *
 * <p>Every method checks shapes, types and strides here, before the downcall, and throws
 * {@link IllegalArgumentException} naming the problem. Every result is a new contiguous tensor
 * that the caller owns (close it). "Rows" are the last dim: it must be contiguous (stride =
 * element size), while the leading dims may have any strides that collapse into one row
 * stride (e.g. a slice of rows, or one half of each row of a wider tensor); other layouts
 * are rejected with a message suggesting {@link Ops#contiguous}.
 */
public final class Nn {
    private Nn() {}

    /** Activations of {@link #activation} and {@link #glu}. */
    public enum Activation {
        /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default). */
        GELU(TesseraNative.TS_ACT_GELU),
        /** GELU with PyTorch's approximate='tanh'. */
        GELU_TANH(TesseraNative.TS_ACT_GELU_TANH),
        /** x * sigmoid(1.702 x), CLIP's quick_gelu. */
        QUICK_GELU(TesseraNative.TS_ACT_QUICK_GELU),
        /** x * sigmoid(x), a.k.a. swish. */
        SILU(TesseraNative.TS_ACT_SILU);

        final int code;

        Activation(int code) {
            this.code = code;
        }

        /** The TS_ACT_* id of tessera.h. */
        public int code() {
            return code;
        }
    }

    /** RoPE layouts (llama.cpp's modes). */
    public enum RopeMode {
        /** Adjacent pairs (x[2i], x[2i+1]): llama.cpp's default, used by GGUF LLaMA models. */
        NORMAL(TesseraNative.TS_ROPE_NORM),
        /** Halves (x[i], x[i + nDims/2]): GPT-NeoX, and Hugging Face LLaMA checkpoints. */
        NEOX(TesseraNative.TS_ROPE_NEOX);

        final int code;

        RopeMode(int code) {
            this.code = code;
        }

        /** The TS_ROPE_* id of tessera.h. */
        public int code() {
            return code;
        }
    }

    // ---------------------------------------------------------------- norms

    /**
     * LayerNorm over the last dim of an F32 tensor: (x - mean) / sqrt(var + eps) * weight + bias
     * (biased variance). weight and bias are F32 [n] or null.
     */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return produce(DType.F32, x.shape(), y -> layerNormInto(x, weight, bias, eps, y));
    }

    /** {@link #layerNorm} written into y (contiguous F32 of x's shape; may be x itself). */
    public static void layerNormInto(Tensor x, Tensor weight, Tensor bias, float eps, Tensor y) {
        Rows r = rows(x, "layerNorm input", DType.F32);
        checkVector(weight, r.n, "layerNorm weight");
        checkVector(bias, r.n, "layerNorm bias");
        checkEps(eps);
        checkOut(y, DType.F32, x.shape(), "layerNorm output", x);
        run(r.count() > 0, () -> TesseraNative.ts_layer_norm(y.segment(), r.n * 4, x.segment(), r.stride,
                    seg(weight), seg(bias), r.rows, r.n, eps));
    }

    /** RMSNorm over the last dim of an F32 tensor: x / sqrt(mean(x²) + eps) * weight (F32 [n] or null). */
    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return produce(DType.F32, x.shape(), y -> rmsNormInto(x, weight, eps, y));
    }

    /** {@link #rmsNorm} written into y (contiguous F32 of x's shape; may be x itself). */
    public static void rmsNormInto(Tensor x, Tensor weight, float eps, Tensor y) {
        Rows r = rows(x, "rmsNorm input", DType.F32);
        checkVector(weight, r.n, "rmsNorm weight");
        checkEps(eps);
        checkOut(y, DType.F32, x.shape(), "rmsNorm output", x);
        run(r.count() > 0, () -> TesseraNative.ts_rms_norm(y.segment(), r.n * 4, x.segment(), r.stride, seg(weight), r.rows, r.n, eps));
    }

    /**
     * GroupNorm of F32 [N, C, *spatial] (NCHW): C split into {@code groups} groups normalised
     * together (biased variance), then per channel * weight + bias (F32 [C] or null). SD1.5
     * uses 32 groups, eps 1e-5 (1e-6 in the VAE). A view whose items are not contiguous is
     * copied first.
     */
    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        requireType(x, "groupNorm input", DType.F32);
        if (x.rank() < 2) {
            throw new IllegalArgumentException("groupNorm needs [N, C, ...], got " + x);
        }
        long c = x.shape(1);
        if (groups < 1 || c % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + groups + " groups do not divide " + c + " channels of " + x);
        }
        checkVector(weight, c, "groupNorm weight");
        checkVector(bias, c, "groupNorm bias");
        checkEps(eps);
        requireNative(x, "groupNorm input");
        long hw = 1;
        for (int d = 2; d < x.rank(); d++) {
            hw = Math.multiplyExact(hw, x.shape(d));
        }
        Tensor y = Tensor.allocate(DType.F32, x.shape());
        if (x.numel() == 0) {
            return y;
        }
        Tensor src = itemsContiguous(x) ? x : Ops.contiguous(x);
        try {
            long item = c * hw * 4;
            long fhw = hw;
            return call(y, true, () -> TesseraNative.ts_group_norm(y.segment(), item, src.segment(),
                    x.shape(0) > 1 ? src.stride(0) : item, seg(weight), seg(bias), x.shape(0), c, fhw, groups, eps));
        } finally {
            if (src != x) {
                src.close();
            }
        }
    }

    // ---------------------------------------------------------------- activations

    /** act(x) per element of an F32 or F16 tensor; the result has x's type (F16 is computed in float, rounded once). */
    public static Tensor activation(Tensor x, Activation act) {
        return produce(x.dtype(), x.shape(), y -> activationInto(x, act, y));
    }

    /** {@link #activation} written into y (contiguous, x's type and shape; may be x itself). */
    public static void activationInto(Tensor x, Activation act, Tensor y) {
        Objects.requireNonNull(act, "act");
        Rows r = rows(x, "activation input", DType.F32, DType.F16);
        checkOut(y, x.dtype(), x.shape(), "activation output", x);
        run(r.count() > 0, () -> TesseraNative.ts_activation(y.segment(), r.n * x.dtype().elementBytes(), x.segment(), r.stride,
                    floatId(x), act.code, r.rows, r.n));
    }

    public static Tensor gelu(Tensor x) {
        return activation(x, Activation.GELU);
    }

    public static Tensor geluTanh(Tensor x) {
        return activation(x, Activation.GELU_TANH);
    }

    public static Tensor quickGelu(Tensor x) {
        return activation(x, Activation.QUICK_GELU);
    }

    public static Tensor silu(Tensor x) {
        return activation(x, Activation.SILU);
    }

    /** act(gate) * up per element; gate and up of one type (F32 or F16) and shape. */
    public static Tensor glu(Tensor gate, Tensor up, Activation act) {
        return produce(gate.dtype(), gate.shape(), y -> gluInto(gate, up, act, y));
    }

    /** {@link #glu} written into y (contiguous, gate's type and shape; may be gate or up itself). */
    public static void gluInto(Tensor gate, Tensor up, Activation act, Tensor y) {
        Objects.requireNonNull(act, "act");
        Rows g = rows(gate, "glu gate", DType.F32, DType.F16);
        Rows u = rows(up, "glu up", DType.F32, DType.F16);
        if (gate.dtype() != up.dtype() || !Arrays.equals(gate.shape(), up.shape())) {
            throw new IllegalArgumentException("glu gate " + gate + " and up " + up + " must have one type and shape");
        }
        checkOut(y, gate.dtype(), gate.shape(), "glu output", gate, up);
        run(g.count() > 0, () -> TesseraNative.ts_glu(y.segment(), g.n * gate.dtype().elementBytes(), gate.segment(), g.stride,
                    up.segment(), u.stride, floatId(gate), act.code, g.rows, g.n));
    }

    /** LLaMA's feed-forward gate: silu(gate) * up, with gate = W1·x (gate_proj) and up = W3·x (up_proj). */
    public static Tensor swiglu(Tensor gate, Tensor up) {
        return glu(gate, up, Activation.SILU);
    }

    /**
     * diffusers' GEGLU on the projection output [..., 2n]: {@code hidden, gate = proj.chunk(2, -1)}
     * gives hidden = the FIRST half and gate = the SECOND half; the result is hidden * gelu(gate),
     * shape [..., n].
     */
    public static Tensor geglu(Tensor proj) {
        if (proj.rank() < 1 || proj.shape(proj.rank() - 1) % 2 != 0) {
            throw new IllegalArgumentException("geglu needs a last dim of even size, got " + proj);
        }
        int last = proj.rank() - 1;
        long n = proj.shape(last) / 2;
        return glu(proj.slice(last, n, 2 * n), proj.slice(last, 0, n), Activation.GELU);
    }

    // ---------------------------------------------------------------- softmax

    /**
     * Softmax over the last dim of F32 x of (x * scale + mask). The mask (F32, or null) has the
     * shape of x's trailing dims, e.g. [q, k] for scores [heads, q, k], and is repeated over
     * the leading ones; -inf entries mask out; a fully masked row becomes zeros.
     */
    public static Tensor softmax(Tensor x, float scale, Tensor mask) {
        return produce(DType.F32, x.shape(), y -> softmaxInto(x, scale, mask, y));
    }

    /** {@link #softmax} written into y (contiguous F32 of x's shape; may be x itself). */
    public static void softmaxInto(Tensor x, float scale, Tensor mask, Tensor y) {
        Rows r = rows(x, "softmax input", DType.F32);
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("softmax scale must be finite, got " + scale);
        }
        long maskRows = 1;
        long maskStride = 0;
        if (mask != null) {
            Rows m = rows(mask, "softmax mask", DType.F32);
            int k = mask.rank();
            long[] tail = Arrays.copyOfRange(x.shape(), Math.max(0, x.rank() - k), x.rank());
            if (k > x.rank() || !Arrays.equals(tail, mask.shape())) {
                throw new IllegalArgumentException("softmax mask " + mask + " must have the shape of the trailing dims of " + x);
            }
            maskRows = Math.max(1, m.rows);
            maskStride = m.stride;
        }
        checkOut(y, DType.F32, x.shape(), "softmax output", x);
        final long mRows = maskRows;
        final long mStride = maskStride;
        run(r.count() > 0, () -> TesseraNative.ts_softmax(y.segment(), r.n * 4, x.segment(), r.stride, seg(mask), mStride,
                    mRows, r.rows, r.n, scale));
    }

    // ---------------------------------------------------------------- RoPE

    /**
     * Rotary embedding of F32 x [tokens, heads, headDim] (headDim contiguous, other strides free)
     * with positions pos (I32 [tokens], contiguous; any values, e.g. KV-cache offsets): pair i
     * of the first nDims (even) elements is rotated by pos * freqBase^(-2i/nDims); the rest is
     * copied. LLaMA: nDims = headDim = 128, base 10000, {@link RopeMode#NORMAL} for GGUF weights.
     */
    public static Tensor rope(Tensor x, Tensor pos, int nDims, RopeMode mode, float freqBase) {
        return produce(DType.F32, x.shape(), y -> ropeInto(x, pos, nDims, mode, freqBase, y));
    }

    /** {@link #rope} written into y (contiguous F32 of x's shape; may be x itself if x is contiguous). */
    public static void ropeInto(Tensor x, Tensor pos, int nDims, RopeMode mode, float freqBase, Tensor y) {
        Objects.requireNonNull(mode, "mode");
        requireType(x, "rope input", DType.F32);
        if (x.rank() != 3) {
            throw new IllegalArgumentException("rope input must be [tokens, heads, headDim], got " + x);
        }
        long tokens = x.shape(0);
        long heads = x.shape(1);
        long headDim = x.shape(2);
        if (headDim > 1 && x.stride(2) != 4) {
            throw new IllegalArgumentException("rope input must have contiguous head_dim: " + x);
        }
        if (nDims < 0 || nDims % 2 != 0 || nDims > headDim) {
            throw new IllegalArgumentException("rope nDims " + nDims + " must be even and in [0, " + headDim + "]");
        }
        if (!(freqBase > 0) || Float.isInfinite(freqBase)) {
            throw new IllegalArgumentException("rope freqBase must be finite and > 0, got " + freqBase);
        }
        requireType(pos, "rope positions", DType.I32);
        if (pos.rank() != 1 || pos.shape(0) != tokens || !pos.isContiguous()) {
            throw new IllegalArgumentException("rope positions must be contiguous I32 [" + tokens + "], got " + pos);
        }
        requireNative(x, "rope input");
        requireNative(pos, "rope positions");
        checkOut(y, DType.F32, x.shape(), "rope output", x);
        run(x.numel() > 0, () -> TesseraNative.ts_rope(y.segment(), heads * headDim * 4, headDim * 4, x.segment(), x.stride(0),
                    x.stride(1), pos.segment(), tokens, heads, headDim, nDims, mode.code, freqBase));
    }

    // ---------------------------------------------------------------- layout and arithmetic

    /** Nearest-neighbour 2x upsampling of F32 [N, C, H, W] to [N, C, 2H, 2W] (a non-contiguous view is copied first). */
    public static Tensor upsampleNearest2x(Tensor x) {
        requireType(x, "upsample input", DType.F32);
        if (x.rank() != 4) {
            throw new IllegalArgumentException("upsampleNearest2x needs [N, C, H, W], got " + x);
        }
        requireNative(x, "upsample input");
        long h = x.shape(2);
        long w = x.shape(3);
        Tensor y = Tensor.allocate(DType.F32, x.shape(0), x.shape(1), Math.multiplyExact(h, 2), Math.multiplyExact(w, 2));
        if (x.numel() == 0) {
            return y;
        }
        Tensor src = x.isContiguous() ? x : Ops.contiguous(x);
        try {
            return call(y, true, () -> TesseraNative.ts_upsample_nearest2x(y.segment(), src.segment(), x.shape(0) * x.shape(1), h, w));
        } finally {
            if (src != x) {
                src.close();
            }
        }
    }

    /** a + b with numpy broadcasting (F32, rank of the result at most 4, any strides). */
    public static Tensor add(Tensor a, Tensor b) {
        return produce(DType.F32, broadcastShape(a.shape(), b.shape()), y -> addInto(a, b, y));
    }

    /** {@link #add} written into y (F32 of the broadcast shape, any non-overlapping strides; may be a or b itself). */
    public static void addInto(Tensor a, Tensor b, Tensor y) {
        binary(a, b, y, TesseraNative.TS_BINARY_ADD, "add");
    }

    /** a * b with numpy broadcasting (F32, rank of the result at most 4, any strides). */
    public static Tensor mul(Tensor a, Tensor b) {
        return produce(DType.F32, broadcastShape(a.shape(), b.shape()), y -> mulInto(a, b, y));
    }

    /** {@link #mul} written into y (F32 of the broadcast shape, any non-overlapping strides; may be a or b itself). */
    public static void mulInto(Tensor a, Tensor b, Tensor y) {
        binary(a, b, y, TesseraNative.TS_BINARY_MUL, "mul");
    }

    /** The broadcast shape of a and b under numpy rules, or IllegalArgumentException. */
    public static long[] broadcastShape(long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            long db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast (dim " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    private static void binary(Tensor a, Tensor b, Tensor y, int op, String name) {
        requireType(a, name + " operand a", DType.F32);
        requireType(b, name + " operand b", DType.F32);
        long[] shape = broadcastShape(a.shape(), b.shape());
        if (shape.length > 4) {
            throw new IllegalArgumentException(name + ": result rank " + shape.length + " exceeds 4");
        }
        requireNative(a, name + " operand a");
        requireNative(b, name + " operand b");
        requireType(y, name + " output", DType.F32);
        if (!Arrays.equals(y.shape(), shape)) {
            throw new IllegalArgumentException(name + " output must have the broadcast shape " + Arrays.toString(shape) + ", got " + y);
        }
        requireNative(y, name + " output");
        for (int d = 0; d < y.rank(); d++) {
            if (y.shape(d) > 1 && y.stride(d) == 0) {
                throw new IllegalArgumentException(name + " output dim " + d + " has stride 0: its elements overlap");
            }
        }
        noPartialOverlap(y, name + " output", a, b);
        if (y.numel() == 0) {
            return;
        }
        int n = shape.length;
        try (Arena arena = Arena.ofConfined()) {
            run(true, () -> TesseraNative.ts_binary(y.segment(), longs(arena, y.strides()), a.segment(),
                    longs(arena, broadcastStrides(a, shape)), b.segment(), longs(arena, broadcastStrides(b, shape)),
                    longs(arena, shape), n, op));
        }
    }

    /** t's byte strides against the broadcast shape (leading and size-1 dims stride 0). */
    public static long[] broadcastStrides(Tensor t, long[] shape) {
        long[] st = new long[shape.length];
        int pad = shape.length - t.rank();
        for (int d = pad; d < shape.length; d++) {
            st[d] = t.shape(d - pad) == 1 ? 0 : t.stride(d - pad);
        }
        return st;
    }

    /** x * s + b per element of an F32 tensor. */
    public static Tensor scale(Tensor x, float s, float b) {
        return produce(DType.F32, x.shape(), y -> scaleInto(x, s, b, y));
    }

    /** {@link #scale} written into y (contiguous F32 of x's shape; may be x itself). */
    public static void scaleInto(Tensor x, float s, float b, Tensor y) {
        Rows r = rows(x, "scale input", DType.F32);
        checkOut(y, DType.F32, x.shape(), "scale output", x);
        run(r.count() > 0, () -> TesseraNative.ts_scale(y.segment(), r.n * 4, x.segment(), r.stride, r.rows, r.n, s, b));
    }

    /**
     * Concatenation along {@code dim} of tensors of one float type (F32, F16, BF16) whose shapes
     * agree except in that dim; inputs may be any strided views (each is one strided copy).
     */
    public static Tensor concat(int dim, Tensor... xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("concat needs at least one tensor");
        }
        Tensor first = Objects.requireNonNull(xs[0], "xs[0]");
        requireType(first, "concat input 0", DType.F32, DType.F16, DType.BF16);
        if (dim < 0 || dim >= first.rank()) {
            throw new IllegalArgumentException("concat dim " + dim + " out of range for rank " + first.rank());
        }
        long total = 0;
        for (int i = 0; i < xs.length; i++) {
            Tensor t = Objects.requireNonNull(xs[i], "xs[" + i + "]");
            if (t.dtype() != first.dtype() || t.rank() != first.rank()) {
                throw new IllegalArgumentException("concat input " + i + " " + t + " differs in type or rank from " + first);
            }
            for (int d = 0; d < t.rank(); d++) {
                if (d != dim && t.shape(d) != first.shape(d)) {
                    throw new IllegalArgumentException("concat input " + i + " " + t + " differs from " + first + " in dim " + d);
                }
            }
            requireNative(t, "concat input " + i);
            total = Math.addExact(total, t.shape(dim));
        }
        long[] shape = first.shape();
        shape[dim] = total;
        Tensor y = Tensor.allocate(first.dtype(), shape);
        try {
            long off = 0;
            for (Tensor t : xs) {
                Ops.copy(t, y.slice(dim, off, off + t.shape(dim)));
                off += t.shape(dim);
            }
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** A contiguous copy of x with its dims reordered (result dim i = x's dim dims[i]). */
    public static Tensor permute(Tensor x, int... dims) {
        return Ops.contiguous(x.permute(dims));
    }

    // ---------------------------------------------------------------- embeddings

    private static final EnumSet<DType> TABLE_TYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16,
            DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0,
            DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K);

    /**
     * Rows of {@code table} [vocab, n] (F32, F16, BF16 or a quantized weight type; rows
     * contiguous, row stride free) for the I32 ids (contiguous, any shape), dequantized to an
     * F32 tensor [ids..., n]. An id outside [0, vocab) throws IllegalArgumentException.
     */
    public static Tensor embedding(Tensor table, Tensor ids) {
        long[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = table.rank() == 2 ? table.shape(1) : 0;
        return produce(DType.F32, shape, y -> embeddingInto(table, ids, y));
    }

    /** {@link #embedding} written into y (contiguous F32 [ids..., n]). */
    public static void embeddingInto(Tensor table, Tensor ids, Tensor y) {
        if (!TABLE_TYPES.contains(table.dtype())) {
            throw new IllegalArgumentException("embedding table of type " + table.dtype() + " is not supported; supported: " + TABLE_TYPES);
        }
        if (table.rank() != 2) {
            throw new IllegalArgumentException("embedding table must be [vocab, n], got " + table);
        }
        long vocab = table.shape(0);
        long n = table.shape(1);
        if (n % table.dtype().blockSize() != 0) {
            throw new IllegalArgumentException("embedding row length " + n + " is not a multiple of " + table.dtype() + "'s block size");
        }
        long unit = table.dtype().isQuantized() ? table.dtype().blockBytes() : table.dtype().elementBytes();
        long rowBytes = table.dtype().byteSize(n);
        if (n > table.dtype().blockSize() && table.stride(1) != unit) {
            throw new IllegalArgumentException("embedding table rows must be contiguous: " + table);
        }
        if (vocab > 1 && table.stride(0) < rowBytes) {
            throw new IllegalArgumentException("embedding table rows overlap: " + table);
        }
        requireType(ids, "embedding ids", DType.I32);
        if (!ids.isContiguous()) {
            throw new IllegalArgumentException("embedding ids must be contiguous: " + ids);
        }
        requireNative(table, "embedding table");
        requireNative(ids, "embedding ids");
        long count = ids.numel();
        MemorySegment idSeg = ids.segment();
        for (long i = 0; i < count; i++) {
            int id = idSeg.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("embedding id " + id + " at index " + i + " is outside [0, " + vocab + ")");
            }
        }
        long[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = n;
        checkOut(y, DType.F32, shape, "embedding output", table, ids);
        run(count > 0 && n > 0, () -> TesseraNative.ts_get_rows(y.segment(), n * 4, table.segment(), table.dtype().ggmlId(),
                    vocab > 1 ? table.stride(0) : rowBytes, vocab, n, idSeg, count));
    }

    /**
     * diffusers' {@code get_timestep_embedding(timesteps, dim, flip_sin_to_cos,
     * downscale_freq_shift, scale, max_period)} of F32 timesteps [N] (any stride): F32 [N, dim].
     */
    public static Tensor timestepEmbedding(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift,
            float scale, float maxPeriod) {
        requireType(timesteps, "timesteps", DType.F32);
        if (timesteps.rank() != 1) {
            throw new IllegalArgumentException("timesteps must be 1-D, got " + timesteps);
        }
        if (dim < 2) {
            throw new IllegalArgumentException("timestep embedding dim must be >= 2, got " + dim);
        }
        if (dim / 2 - downscaleFreqShift == 0 || !(maxPeriod > 0)) {
            throw new IllegalArgumentException("timestep embedding needs dim/2 != downscaleFreqShift and maxPeriod > 0");
        }
        requireNative(timesteps, "timesteps");
        long n = timesteps.shape(0);
        Tensor y = Tensor.allocate(DType.F32, n, dim);
        if (n == 0) {
            return y;
        }
        Tensor t = timesteps.isContiguous() ? timesteps : Ops.contiguous(timesteps);
        try {
            return call(y, true, () -> TesseraNative.ts_timestep_embedding(y.segment(), t.segment(), n, dim, flipSinToCos ? 1 : 0,
                    downscaleFreqShift, scale, maxPeriod));
        } finally {
            if (t != timesteps) {
                t.close();
            }
        }
    }

    /** SD1.5's time projection: flip_sin_to_cos = true, downscale_freq_shift = 0, scale 1, max_period 10000 (dim 320). */
    public static Tensor timestepEmbedding(Tensor timesteps, int dim) {
        return timestepEmbedding(timesteps, dim, true, 0f, 1f, 10000f);
    }

    // ---------------------------------------------------------------- checks

    /** A tensor seen as rows x n: n = last dim (contiguous), rows = product of the others with one byte stride. */
    /** A tensor seen as rows of n elements, one byte stride apart (see {@link #rows}). */
    public record Rows(long rows, long n, long stride) {
        long count() {
            return rows * n;
        }
    }

    /**
     * x viewed as [rows, n] with one row stride (contiguous last dim, leading dims that collapse),
     * as the row-wise kernels take it (on any backend); IllegalArgumentException naming role otherwise.
     */
    public static Rows rows(Tensor x, String role, DType... types) {
        requireType(x, role, types);
        if (x.rank() == 0) {
            throw new IllegalArgumentException(role + " must have rank >= 1, got a scalar");
        }
        requireNative(x, role);
        int last = x.rank() - 1;
        long n = x.shape(last);
        long esize = x.dtype().elementBytes();
        if (n > 1 && x.stride(last) != esize) {
            throw new IllegalArgumentException(role + " must have a contiguous last dim (stride " + esize + "), got " + x
                    + "; use Ops.contiguous");
        }
        long rows = 1;
        long stride = n * esize;
        long expected = -1;
        for (int d = last - 1; d >= 0; d--) {
            long s = x.shape(d);
            rows *= s;
            if (s == 1) {
                continue;
            }
            if (expected < 0) {
                stride = x.stride(d);
            } else if (x.stride(d) != expected) {
                throw new IllegalArgumentException(role + " " + x + ": its leading dims do not collapse into one row stride;"
                        + " use Ops.contiguous");
            }
            expected = x.stride(d) * s;
        }
        return new Rows(rows, n, stride);
    }

    /** Allocates the result, fills it with the given into-variant, frees it if that fails. */
    private static Tensor produce(DType type, long[] shape, java.util.function.Consumer<Tensor> into) {
        Tensor y = Tensor.allocate(type, shape);
        try {
            into.accept(y);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** Runs the downcall when there is work. */
    private static void run(boolean work, IntSupplier downcall) {
        if (work) {
            Tessera.ensureInitialized();
            Tessera.check(downcall.getAsInt());
        }
    }

    /** An output the row kernels can write: contiguous, native, of the given type and shape, not partially overlapping an input. */
    private static void checkOut(Tensor y, DType type, long[] shape, String role, Tensor... inputs) {
        requireType(y, role, type);
        if (!Arrays.equals(y.shape(), shape) || !y.isContiguous()) {
            throw new IllegalArgumentException(role + " must be contiguous " + type + " " + Arrays.toString(shape) + ", got " + y);
        }
        requireNative(y, role);
        noPartialOverlap(y, role, inputs);
    }

    /** y may be an input itself (same address and size: in place) but must not overlap one otherwise. */
    private static void noPartialOverlap(Tensor y, String role, Tensor... inputs) {
        MemorySegment ys = y.segment();
        for (Tensor in : inputs) {
            MemorySegment s = in.segment();
            boolean overlap = ys.address() < s.address() + s.byteSize() && s.address() < ys.address() + ys.byteSize();
            boolean same = ys.address() == s.address() && ys.byteSize() == s.byteSize() && Arrays.equals(y.strides(), in.strides());
            if (overlap && !same) {
                throw new IllegalArgumentException(role + " " + y + " overlaps input " + in + " without being it");
            }
        }
    }

    private static boolean itemsContiguous(Tensor x) {
        return x.select(0, 0).isContiguous();
    }

    /** Runs the downcall when there is work; frees y if it fails. */
    private static Tensor call(Tensor y, boolean work, IntSupplier downcall) {
        if (!work) {
            return y;
        }
        try {
            Tessera.ensureInitialized();
            Tessera.check(downcall.getAsInt());
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    private static void requireType(Tensor t, String role, DType... types) {
        Objects.requireNonNull(t, role);
        for (DType d : types) {
            if (t.dtype() == d) {
                return;
            }
        }
        throw new IllegalArgumentException(role + " must be " + (types.length == 1 ? types[0] : Arrays.toString(types))
                + ", got " + t.dtype());
    }

    private static void checkVector(Tensor v, long n, String role) {
        if (v == null) {
            return;
        }
        requireType(v, role, DType.F32);
        if (v.rank() != 1 || v.shape(0) != n || (n > 1 && v.stride(0) != 4)) {
            throw new IllegalArgumentException(role + " must be contiguous F32 [" + n + "], got " + v);
        }
        requireNative(v, role);
    }

    private static void checkEps(float eps) {
        if (!(eps >= 0) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
    }

    private static int floatId(Tensor t) {
        return t.dtype() == DType.F16 ? TesseraNative.TS_TYPE_F16 : TesseraNative.TS_TYPE_F32;
    }

    private static MemorySegment seg(Tensor t) {
        return t == null ? MemorySegment.NULL : t.segment();
    }

    private static MemorySegment longs(Arena arena, long[] v) {
        return arena.allocateFrom(ValueLayout.JAVA_LONG, v.length == 0 ? new long[1] : v);
    }

    private static void requireNative(Tensor t, String role) {
        if (!t.segment().isNative()) {
            throw new IllegalArgumentException(role + " is on the Java heap; kernels need native memory (Tensor.allocate)");
        }
    }
}
