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
