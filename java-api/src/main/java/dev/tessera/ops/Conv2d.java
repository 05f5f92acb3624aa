package dev.tessera.ops;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * 2-D convolution over NCHW tensors, as {@code torch.nn.functional.conv2d}:
 * <pre>
 * y[n][co][oy][ox] = bias[co] + Σ w[co][ci][ky][kx] · x[n][g·Cin/groups + ci][oy·sh − ph + ky·dh][ox·sw − pw + kx·dw]
 * </pre>
 * with zeros outside the input, g = co / (Cout/groups), and
 * {@code OH = (H + 2·ph − dh·(kh − 1) − 1) / sh + 1} (likewise OW).
 *
 * <p>x is F32 {@code [N, Cin, H, W]}; w is F32 or F16 {@code [Cout, Cin/groups, kh, kw]} (F16 is
 * widened to F32 once per call), BF16 or a quantized GGUF type where a file carries one (its blocks run
 * along kw, so kw is a multiple of the block size, e.g. a 32×32 patch embedding in Q8_0: dequantized
 * to F32 once per call); bias is F32 {@code [Cout]} or null; y is F32
 * {@code [N, Cout, OH, OW]}. All must be contiguous, in native memory and aligned to their
 * element size. Accumulation is in F32.
 *
 * <p>Paths: depthwise (groups = Cin = Cout) runs a direct loop; 1x1 stride-1 kernels are one
 * GEMM; patchify (kernel = stride, no padding) gathers patches for a GEMM; everything else
 * writes im2col slices straight into the GEMM's packed layout. Scratch per call: never a whole
 * im2col matrix — the packed weights (4 bytes per weight) plus about 1 MiB per thread, at
 * most about 32 MiB for patchify, plus 4 bytes per weight when the weights are F16.
 */
public final class Conv2d {
    private Conv2d() {}

    /** A (height, width) pair: stride, padding or dilation. */
    public record Pair(int h, int w) {
        /** The same value for both dimensions. */
        public static Pair of(int both) {
            return new Pair(both, both);
        }

        @Override
        public String toString() {
            return "(" + h + ", " + w + ")";
        }
    }

    private static final Pair ONE = Pair.of(1);

    /** {@link #conv2d(Tensor, Tensor, Tensor, Pair, Pair, Pair, int)} with square stride, padding and dilation. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, int dilation, int groups) {
        return conv2d(x, w, bias, Pair.of(stride), Pair.of(padding), Pair.of(dilation), groups);
    }

    /** Stride 1, no padding, no dilation, one group. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias) {
        return conv2d(x, w, bias, ONE, Pair.of(0), ONE, 1);
    }

    /**
     * Convolves x with w (and adds bias if not null) into a new F32 tensor
     * {@code [N, Cout, OH, OW]}.
     *
     * @throws IllegalArgumentException if a shape, type, layout or parameter is invalid
     */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, Pair stride, Pair padding, Pair dilation, int groups) {
        long[] shape = outputShape(x, w, bias, stride, padding, dilation, groups);
        Tensor y = Tensor.allocate(DType.F32, shape);
        try {
            conv2dInto(x, w, bias, stride, padding, dilation, groups, y);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /**
     * {@link #conv2d(Tensor, Tensor, Tensor, Pair, Pair, Pair, int)} writing into a preallocated
     * contiguous F32 tensor y {@code [N, Cout, OH, OW]} that must not overlap the inputs.
     */
    public static void conv2dInto(Tensor x, Tensor w, Tensor bias, Pair stride, Pair padding, Pair dilation, int groups,
                                  Tensor y) {
        long[] expected = outputShape(x, w, bias, stride, padding, dilation, groups);
        if (y == null) {
            throw new IllegalArgumentException("conv2d output is null");
        }
        if (y.dtype() != DType.F32 || !Arrays.equals(y.shape(), expected)) {
            throw new IllegalArgumentException("conv2d output must be F32 " + Arrays.toString(expected) + ", got " + y);
        }
        requireLayout(x, "input");
        requireLayout(w, "weights");
        requireLayout(y, "output");
        if (bias != null) {
            requireLayout(bias, "bias");
        }
        if (overlaps(y, x) || overlaps(y, w) || (bias != null && overlaps(y, bias))) {
            throw new IllegalArgumentException("conv2d output overlaps an input");
        }
        if (y.numel() == 0) {
            return;
        }
        if (w.dtype().isQuantized() || w.dtype() == DType.BF16) {
            try (Tensor wf = Ops.dequantize(w)) {
                conv2dInto(x, wf, bias, stride, padding, dilation, groups, y);
            }
            return;
        }
        int wType = w.dtype() == DType.F16 ? TesseraNative.TS_TYPE_F16 : TesseraNative.TS_TYPE_F32;
        Tessera.ensureInitialized();
        Tessera.check(TesseraNative.ts_conv2d(y.segment(), x.segment(), w.segment(), wType,
                bias == null ? MemorySegment.NULL : bias.segment(),
                x.shape(0), x.shape(1), x.shape(2), x.shape(3), w.shape(0), w.shape(2), w.shape(3),
                stride.h(), stride.w(), padding.h(), padding.w(), dilation.h(), dilation.w(), groups));
    }

    /**
     * The output shape {@code [N, Cout, OH, OW]} for these operands, after checking their
     * shapes, types and the parameters.
     *
     * @throws IllegalArgumentException if they do not make a valid convolution
     */
    public static long[] outputShape(Tensor x, Tensor w, Tensor bias, Pair stride, Pair padding, Pair dilation, int groups) {
        if (x == null || w == null || stride == null || padding == null || dilation == null) {
            throw new IllegalArgumentException("conv2d: x, w, stride, padding and dilation must not be null");
        }
        if (x.dtype() != DType.F32 || x.rank() != 4) {
            throw new IllegalArgumentException("conv2d input must be F32 [N, Cin, H, W], got " + x);
        }
        if (!Ops.isMatmulWeightType(w.dtype()) || w.rank() != 4) {
            throw new IllegalArgumentException("conv2d weights must be F32, F16, BF16 or a quantized GGUF type [Cout, Cin/groups, kh, kw], got " + w);
        }
        if (stride.h() < 1 || stride.w() < 1) {
            throw new IllegalArgumentException("conv2d stride must be >= 1, got " + stride);
        }
        if (dilation.h() < 1 || dilation.w() < 1) {
            throw new IllegalArgumentException("conv2d dilation must be >= 1, got " + dilation);
        }
        if (padding.h() < 0 || padding.w() < 0) {
            throw new IllegalArgumentException("conv2d padding must be >= 0, got " + padding);
        }
        if (groups < 1) {
            throw new IllegalArgumentException("conv2d groups must be >= 1, got " + groups);
        }
        long n = x.shape(0), cin = x.shape(1), h = x.shape(2), wd = x.shape(3);
        long cout = w.shape(0), cinG = w.shape(1), kh = w.shape(2), kw = w.shape(3);
        if (cin < 1 || h < 1 || wd < 1) {
            throw new IllegalArgumentException("conv2d input needs Cin, H, W >= 1, got " + x);
        }
        if (cout < 1 || cinG < 1 || kh < 1 || kw < 1) {
            throw new IllegalArgumentException("conv2d weights need every dim >= 1, got " + w);
        }
        if (cin % groups != 0 || cout % groups != 0) {
            throw new IllegalArgumentException("conv2d groups " + groups + " must divide Cin " + cin + " and Cout " + cout);
        }
        if (cinG != cin / groups) {
            throw new IllegalArgumentException("conv2d weights " + w + " need dim 1 = Cin/groups = " + cin / groups
                    + " for input " + x + " and groups " + groups);
        }
        if (bias != null && (bias.dtype() != DType.F32 || bias.rank() != 1 || bias.shape(0) != cout)) {
            throw new IllegalArgumentException("conv2d bias must be F32 [" + cout + "], got " + bias);
        }
        long oh = outputSize(h, kh, stride.h(), padding.h(), dilation.h(), "height");
        long ow = outputSize(wd, kw, stride.w(), padding.w(), dilation.w(), "width");
        try {
            Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(n, cout), Math.multiplyExact(oh, ow)), 4L);
            Math.multiplyExact(Math.multiplyExact(cout, cinG), Math.multiplyExact(kh, kw));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("conv2d output of " + x + " with " + w + " is too large");
        }
        return new long[] {n, cout, oh, ow};
    }

    private static long outputSize(long in, long k, int stride, int pad, int dil, String dim) {
        try {
            long span = Math.addExact(Math.multiplyExact((long) dil, k - 1), 1);
            long padded = Math.addExact(in, 2L * pad);
            if (span > padded) {
                throw new IllegalArgumentException("conv2d: the dilated kernel " + dim + " " + span
                        + " is larger than the padded input " + dim + " " + padded);
            }
            return (padded - span) / stride + 1;
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("conv2d: " + dim + " sizes overflow");
        }
    }

    private static void requireLayout(Tensor t, String role) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException("conv2d " + role + " must be contiguous: " + t);
        }
        if (!t.segment().isNative()) {
            throw new IllegalArgumentException("conv2d " + role + " is on the Java heap; kernels need native memory (Tensor.allocate)");
        }
        if (!t.dtype().isQuantized() && t.segment().address() % t.dtype().elementBytes() != 0) {
            throw new IllegalArgumentException("conv2d " + role + " is not aligned to its " + t.dtype().elementBytes()
                    + "-byte elements: " + t);
        }
    }

    private static boolean overlaps(Tensor a, Tensor b) {
        long a0 = a.segment().address();
        long b0 = b.segment().address();
        return a.segment().byteSize() > 0 && b.segment().byteSize() > 0
                && a0 < b0 + b.segment().byteSize() && b0 < a0 + a.segment().byteSize();
    }
}
