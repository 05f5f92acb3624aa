package dev.tessera.ops;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Tensor operations on the native kernels. Every argument is checked here, before the
 * downcall: a wrong shape, type or layout is an exception, never a crash.
 */
public final class Ops {
    private static final int MAX_DIMS = TesseraNative.TS_MAX_DIMS;

    private Ops() {}

    /**
     * Copies {@code src} into {@code dst} element by element, converting between F32, F16 and
     * BF16 (rounding to nearest even). Both may be any strided view of the same shape; they
     * must not overlap.
     */
    public static void copy(Tensor src, Tensor dst) {
        int srcType = floatType(src, "source");
        int dstType = floatType(dst, "destination");
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("shape mismatch: source " + src + ", destination " + dst);
        }
        if (src.rank() > MAX_DIMS) {
            throw new IllegalArgumentException("at most " + MAX_DIMS + " dims, got " + src.rank());
        }
        requireNative(src, "source");
        requireNative(dst, "destination");
        if (src.numel() == 0) {
            return;
        }
        for (int d = 0; d < dst.rank(); d++) {
            if (dst.shape(d) > 1 && dst.stride(d) == 0) {
                throw new IllegalArgumentException("destination dim " + d + " has stride 0: its elements overlap");
            }
        }
        if (overlaps(src.segment(), dst.segment())) {
            throw new IllegalArgumentException("source and destination overlap");
        }
        Tessera.ensureInitialized();
        int n = src.rank();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment shape = arena.allocateFrom(ValueLayout.JAVA_LONG, n == 0 ? new long[1] : src.shape());
            MemorySegment srcStrides = arena.allocateFrom(ValueLayout.JAVA_LONG, n == 0 ? new long[1] : src.strides());
            MemorySegment dstStrides = arena.allocateFrom(ValueLayout.JAVA_LONG, n == 0 ? new long[1] : dst.strides());
            Tessera.check(TesseraNative.ts_copy_strided(dst.segment(), dstType, dstStrides,
                    src.segment(), srcType, srcStrides, shape, n));
        }
    }

    /** A new contiguous tensor holding {@code src} converted to {@code dtype} (F32, F16 or BF16). */
    public static Tensor convert(Tensor src, DType dtype) {
        Tensor dst = Tensor.allocate(dtype, src.shape());
        try {
            copy(src, dst);
            return dst;
        } catch (RuntimeException e) {
            dst.close();
            throw e;
        }
    }

    /** A contiguous copy of any view (same dtype). */
    public static Tensor contiguous(Tensor src) {
        return convert(src, src.dtype());
    }

    /**
     * Quantizes a contiguous F32 tensor into {@code type} with the reference quantizer (for the
     * legacy types byte-identical to ggml's); the last dim must be a multiple of the block size.
     */
    public static Tensor quantize(Tensor src, DType type) {
        if (src.dtype() != DType.F32 || !src.isContiguous() || src.rank() == 0) {
            throw new IllegalArgumentException("quantize needs a contiguous F32 tensor of rank >= 1, got " + src);
        }
        if (!WEIGHT_TYPES.contains(type) && type != DType.Q8_1 && type != DType.Q8_K) {
            throw new IllegalArgumentException("cannot quantize to " + type);
        }
        requireNative(src, "source");
        long k = src.shape(src.rank() - 1);
        if (k % type.blockSize() != 0) {
            throw new IllegalArgumentException("row length " + k + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        Tensor dst = Tensor.allocate(type, src.shape());
        if (src.numel() > 0) {
            Tessera.ensureInitialized();
            Tessera.check(TesseraNative.ts_quantize(dst.segment(), type.ggmlId(), src.segment(), src.numel() / k, k));
        }
        return dst;
    }

    /** Dequantizes a contiguous tensor of any supported type into a new F32 tensor. */
    public static Tensor dequantize(Tensor src) {
        if (!src.isContiguous() || src.rank() == 0) {
            throw new IllegalArgumentException("dequantize needs a contiguous tensor of rank >= 1, got " + src);
        }
        if (!WEIGHT_TYPES.contains(src.dtype()) && src.dtype() != DType.Q8_0) {
            throw new IllegalArgumentException("cannot dequantize " + src.dtype());
        }
        requireNative(src, "source");
        long k = src.shape(src.rank() - 1);
        Tensor dst = Tensor.allocate(DType.F32, src.shape());
        if (src.numel() > 0) {
            Tessera.ensureInitialized();
            Tessera.check(TesseraNative.ts_dequantize(dst.segment(), src.segment(), src.dtype().ggmlId(), src.numel() / k, k));
        }
        return dst;
    }

    /**
     * Y = X·Wᵀ: W [N, K] of any supported weight type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
     * Q8_0, Q2_K..Q6_K; rows may be strided, each row contiguous), X [M, K] or [K] in F32
     * (rows contiguous). Returns a new F32 tensor [M, N] (or [N]). X is quantized once per call
     * to the activation type W pairs with, as ggml does, so results differ from an F32
     * product by that rounding; from a number of rows of X the kernel level sets per weight
     * type (float weights: 8; quantized weights on AVX2: 12 to 64, where an F32 GEMM beats
     * the int8 arithmetic) W is widened to F32 inside the product and X is used unrounded.
     */
    public static Tensor matmul(Tensor w, Tensor x) {
        checkMatmulOperands(w, x);
        long n = w.shape(0);
        Tensor y = x.rank() == 1 ? Tensor.allocate(DType.F32, n) : Tensor.allocate(DType.F32, x.shape(0), n);
        try {
            matmulInto(w, x, y);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** {@link #matmul} writing into a preallocated F32 tensor y [M, N] (or [N]; rows contiguous). */
    public static void matmulInto(Tensor w, Tensor x, Tensor y) {
        checkMatmulOperands(w, x);
        long n = w.shape(0);
        long k = w.shape(1);
        long m = x.rank() == 1 ? 1 : x.shape(0);
        long[] expected = x.rank() == 1 ? new long[] {n} : new long[] {m, n};
        if (y.dtype() != DType.F32 || !Arrays.equals(y.shape(), expected)) {
            throw new IllegalArgumentException("matmul output must be F32 " + Arrays.toString(expected) + ", got " + y);
        }
        requireRowsContiguous(y, "output");
        requireNative(w, "weights");
        requireNative(x, "input");
        requireNative(y, "output");
        if (overlaps(y.segment(), x.segment()) || overlaps(y.segment(), w.segment())) {
            throw new IllegalArgumentException("matmul output overlaps an input");
        }
        if (m == 0 || n == 0) {
            return;
        }
        long wStride = w.stride(0);
        long xStride = x.rank() == 1 ? k * 4 : x.stride(0);
        long yStride = y.rank() == 1 ? n * 4 : y.stride(0);
        Tessera.ensureInitialized();
        Tessera.check(TesseraNative.ts_matmul(y.segment(), yStride, w.segment(), w.dtype().ggmlId(), wStride,
                x.segment(), xStride, n, k, m));
    }

    /** Whether {@link #matmul} accepts weights of this type. */
    public static boolean isMatmulWeightType(DType type) {
        return WEIGHT_TYPES.contains(type);
    }

    private static final java.util.EnumSet<DType> WEIGHT_TYPES = java.util.EnumSet.of(DType.F32, DType.F16, DType.BF16,
            DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0,
            DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K);

    private static void checkMatmulOperands(Tensor w, Tensor x) {
        if (!WEIGHT_TYPES.contains(w.dtype())) {
            throw new IllegalArgumentException("matmul weights of type " + w.dtype() + " are not supported; supported: " + WEIGHT_TYPES);
        }
        if (w.rank() != 2) {
            throw new IllegalArgumentException("matmul weights must be 2-D [N, K], got " + w);
        }
        long k = w.shape(1);
        if (k % w.dtype().blockSize() != 0) {
            throw new IllegalArgumentException("row length " + k + " of " + w + " is not a multiple of the block size " + w.dtype().blockSize());
        }
        if (x.dtype() != DType.F32 || (x.rank() != 1 && x.rank() != 2) || x.shape(x.rank() - 1) != k) {
            throw new IllegalArgumentException("matmul input must be F32 [M, " + k + "] or [" + k + "] for weights " + w + ", got " + x);
        }
        requireRowsContiguous(w, "weights");
        requireRowsContiguous(x, "input");
    }

    /** Each row (the last dim) packed; rows themselves may be strided but not overlap. */
    private static void requireRowsContiguous(Tensor t, String role) {
        int last = t.rank() - 1;
        long rowBytes = t.dtype().byteSize(t.shape(last));
        if (!t.dtype().isQuantized() && t.shape(last) > 1 && t.stride(last) != t.dtype().elementBytes()) {
            throw new IllegalArgumentException(role + " rows must be contiguous: " + t);
        }
        if (t.rank() == 2 && t.shape(0) > 1 && t.stride(0) < rowBytes) {
            throw new IllegalArgumentException(role + " rows overlap (row stride " + t.stride(0) + " < " + rowBytes + " bytes): " + t);
        }
    }

    private static int floatType(Tensor t, String role) {
        return switch (t.dtype()) {
            case F32 -> TesseraNative.TS_TYPE_F32;
            case F16 -> TesseraNative.TS_TYPE_F16;
            case BF16 -> TesseraNative.TS_TYPE_BF16;
            default -> throw new IllegalArgumentException(role + " type " + t.dtype() + " is not supported here (F32, F16, BF16)");
        };
    }

    private static void requireNative(Tensor t, String role) {
        if (!t.segment().isNative()) {
            throw new IllegalArgumentException(role + " is on the Java heap; kernels need native memory (Tensor.allocate)");
        }
    }

    private static boolean overlaps(MemorySegment a, MemorySegment b) {
        long a0 = a.address();
        long b0 = b.address();
        return a0 < b0 + b.byteSize() && b0 < a0 + a.byteSize();
    }
}
