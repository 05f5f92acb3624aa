package dev.tessera.ops;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Fused scaled-dot-product attention, {@code O = softmax(scale·Q·Kᵀ + mask)·V}, computed in tiles
 * with an online softmax: the {@code Lq × Lk} score matrix is never materialised, and the native
 * scratch is a few tiles per thread ({@link #scratchBytes}).
 *
 * <ul>
 *   <li>{@code q} F32 {@code [heads, Lq, d]}; {@code k}, {@code v} F32 or F16 (both the same)
 *       {@code [kvHeads, Lk, d]}; the output F32 {@code [heads, Lq, d]}. The head and sequence
 *       dims may have any strides (pass {@code x.transpose(0, 1)} of an {@code [L, heads, d]}
 *       tensor, no copy); the {@code d} elements of a row must be contiguous.</li>
 *   <li>GQA/MQA: {@code heads % kvHeads == 0}; query head {@code h} uses kv head
 *       {@code h / (heads / kvHeads)}.</li>
 *   <li>{@code d} in [1, 256]; multiples of 8 (32, 40, 64, 80, 96, 128, 160, ...) take the SIMD
 *       kernels, other sizes the scalar one.</li>
 *   <li>{@code causal}: query {@code i} sits at position {@code kvOffset + i} and sees keys
 *       {@code j <= kvOffset + i} (decode step with a cache of Lk keys: Lq = 1,
 *       {@code kvOffset = Lk - 1}; a prompt appended to a cache of P keys: {@code kvOffset = P}).</li>
 *   <li>{@code mask}: null or F32 {@code [Lq, Lk]} (rows contiguous), added to the scaled scores
 *       of every head; {@code -Infinity} hides a key.</li>
 *   <li>A query row that sees no key at all (every key masked, {@code Lk == 0}, or causal with
 *       {@code kvOffset + i < 0}) comes out as zeros, never NaN.</li>
 * </ul>
 *
 * <p>Accuracy: F32 accumulation; the AVX2 kernel's exp approximation is within 2.5e-7 relative,
 * so outputs match a double-precision reference to about 1e-6 (tests use 2e-5 absolute plus
 * relative).
 */
public final class Attention {
    /** Largest head size the kernels take. */
    public static final long MAX_HEAD_SIZE = 256;

    private Attention() {}

    /** The usual scale {@code 1/sqrt(d)}. */
    public static float defaultScale(long headSize) {
        if (headSize <= 0) {
            throw new IllegalArgumentException("head size must be positive, got " + headSize);
        }
        return (float) (1.0 / Math.sqrt(headSize));
    }

    /** Non-causal attention without a mask, scale {@code 1/sqrt(d)}; returns a new F32 {@code [heads, Lq, d]}. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v) {
        return attention(q, k, v, null, q.rank() == 3 ? defaultScale(q.shape(2)) : 1f, false, 0);
    }

    /** Attention with every option; returns a new contiguous F32 {@code [heads, Lq, d]}. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale, boolean causal, long kvOffset) {
        checkInputs(q, k, v, mask, scale);
        Tensor out = Tensor.allocate(DType.F32, q.shape());
        try {
            attentionInto(q, k, v, mask, scale, causal, kvOffset, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * Attention written into {@code out}, F32 {@code [heads, Lq, d]} with any non-overlapping
     * strides for the head and sequence dims (rows contiguous), e.g. the transpose of an
     * {@code [Lq, heads, d]} tensor. {@code out} must not overlap any input.
     */
    public static void attentionInto(Tensor q, Tensor k, Tensor v, Tensor mask, float scale, boolean causal, long kvOffset,
                                     Tensor out) {
        checkInputs(q, k, v, mask, scale);
        if (out == null || out.dtype() != DType.F32 || !Arrays.equals(out.shape(), q.shape())) {
            throw new IllegalArgumentException("attention output must be F32 " + Arrays.toString(q.shape()) + ", got " + out);
        }
        requireRowsContiguous(out, "output");
        requireNative(out, "output");
        requireNoSelfOverlap(out);
        for (Tensor in : mask == null ? new Tensor[] {q, k, v} : new Tensor[] {q, k, v, mask}) {
            if (overlaps(out.segment(), in.segment())) {
                throw new IllegalArgumentException("attention output " + out + " overlaps input " + in);
            }
        }
        long heads = q.shape(0), lq = q.shape(1), d = q.shape(2);
        long kvHeads = k.shape(0), lk = k.shape(1);
        if (lq == 0) {
            return;
        }
        MemorySegment maskSeg = mask == null ? MemorySegment.NULL : mask.segment();
        long maskStride = mask == null ? 0 : mask.stride(0);
        int kvType = k.dtype() == DType.F16 ? TesseraNative.TS_TYPE_F16 : TesseraNative.TS_TYPE_F32;
        Tessera.ensureInitialized();
        Tessera.check(TesseraNative.ts_attention(out.segment(), out.stride(0), out.stride(1),
                q.segment(), q.stride(0), q.stride(1),
                k.segment(), k.stride(0), k.stride(1),
                v.segment(), v.stride(0), v.stride(1), kvType,
                maskSeg, maskStride, heads, kvHeads, lq, lk, d, scale, causal ? 1 : 0, kvOffset));
    }

    /**
     * Bytes of native scratch one call with these sizes allocates (and frees before returning)
     * with the active kernel level and thread count: a few tiles per thread, independent of Lk.
     */
    public static long scratchBytes(long heads, long lq, long lk, long d) {
        if (heads <= 0 || lq <= 0 || lk < 0 || d <= 0 || d > MAX_HEAD_SIZE) {
            throw new IllegalArgumentException("bad attention sizes: heads " + heads + ", Lq " + lq + ", Lk " + lk + ", d " + d);
        }
        Tessera.ensureInitialized();
        return TesseraNative.ts_attention_scratch_bytes(heads, lq, Math.max(lk, 1), d);
    }

    private static void checkInputs(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        if (q == null || k == null || v == null) {
            throw new IllegalArgumentException("q, k and v are required");
        }
        if (q.dtype() != DType.F32 || q.rank() != 3) {
            throw new IllegalArgumentException("attention query must be F32 [heads, Lq, d], got " + q);
        }
        if ((k.dtype() != DType.F32 && k.dtype() != DType.F16) || k.rank() != 3) {
            throw new IllegalArgumentException("attention keys must be F32 or F16 [kvHeads, Lk, d], got " + k);
        }
        if (v.dtype() != k.dtype() || !Arrays.equals(v.shape(), k.shape())) {
            throw new IllegalArgumentException("attention values must match the keys' type and shape " + k + ", got " + v);
        }
        long heads = q.shape(0), lq = q.shape(1), d = q.shape(2);
        long kvHeads = k.shape(0), lk = k.shape(1);
        if (d < 1 || d > MAX_HEAD_SIZE) {
            throw new IllegalArgumentException("head size d must be in [1, " + MAX_HEAD_SIZE + "], got " + d);
        }
        if (k.shape(2) != d) {
            throw new IllegalArgumentException("keys' head size " + k.shape(2) + " differs from the query's " + d);
        }
        if (heads < 1 || kvHeads < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("query heads " + heads + " must be a positive multiple of kv heads " + kvHeads);
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be finite, got " + scale);
        }
        requireRowsContiguous(q, "query");
        requireRowsContiguous(k, "keys");
        requireRowsContiguous(v, "values");
        requireNative(q, "query");
        requireNative(k, "keys");
        requireNative(v, "values");
        if (mask != null) {
            if (mask.dtype() != DType.F32 || mask.rank() != 2 || mask.shape(0) != lq || mask.shape(1) != lk) {
                throw new IllegalArgumentException("attention mask must be F32 [" + lq + ", " + lk + "], got " + mask);
            }
            if (lk > 1 && mask.stride(1) != 4) {
                throw new IllegalArgumentException("mask rows must be contiguous: " + mask);
            }
            requireNative(mask, "mask");
        }
    }

    /** The d elements of each row packed. */
    private static void requireRowsContiguous(Tensor t, String role) {
        long e = t.dtype().elementBytes();
        if (t.shape(2) > 1 && t.stride(2) != e) {
            throw new IllegalArgumentException(role + " rows (the d dim) must be contiguous, stride " + e + " bytes: " + t);
        }
    }

    /** Distinct (head, row) pairs of the output must not share bytes. */
    private static void requireNoSelfOverlap(Tensor out) {
        long rowBytes = out.shape(2) * 4;
        long[][] dims = {{out.shape(0), out.stride(0)}, {out.shape(1), out.stride(1)}};
        if (dims[0][1] > dims[1][1]) {
            long[] t = dims[0];
            dims[0] = dims[1];
            dims[1] = t;
        }
        long inner = rowBytes; // bytes spanned by one element of the dim being checked
        for (long[] dim : dims) {
            if (dim[0] <= 1) {
                continue;
            }
            if (dim[1] < inner) {
                throw new IllegalArgumentException("output rows overlap (stride " + dim[1] + " < " + inner + " bytes): " + out);
            }
            inner = dim[1] * (dim[0] - 1) + inner;
        }
    }

    private static void requireNative(Tensor t, String role) {
        if (!t.segment().isNative()) {
            throw new IllegalArgumentException(role + " is on the Java heap; kernels need native memory (Tensor.allocate)");
        }
    }

    private static boolean overlaps(MemorySegment a, MemorySegment b) {
        long a0 = a.address();
        long b0 = b.address();
        return a.byteSize() > 0 && b.byteSize() > 0 && a0 < b0 + b.byteSize() && b0 < a0 + a.byteSize();
    }
}
