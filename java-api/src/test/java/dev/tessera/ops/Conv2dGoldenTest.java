package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
import dev.tessera.io.TestFiles;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.ops.Conv2d.Pair;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Conv2d against PyTorch goldens (tools/goldens/conv_goldens.py: float64 conv2d of the same
 * float32 inputs, F16-rounded weights where the weights are F16) on every kernel level this
 * CPU runs, one thread and the pool; and the argument checks.
 */
class Conv2dGoldenTest {
    private static final List<String> CASES = List.of("basic_3x3_batch2", "stride2", "dilation2", "groups2_asym",
            "depthwise_3x3", "depthwise_5x5_s2", "pointwise_1x1", "patchify_14", "patchify_32_f16", "f16_3x3",
            "unet_3x3_80ch", "vae_3x3_128ch_f16");

    @AfterAll
    static void restoreDefaults() {
        Tessera.init(0, null);
    }

    private static Pair pair(Map<String, String> meta, String key) {
        String[] p = meta.get(key).split(",");
        return new Pair(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    }

    /**
     * Tolerance: the kernels accumulate in F32 over K = Cin/groups·kh·kw ≤ 3072 products
     * (blocked, so the error grows like a few ulps per 256-term block); inputs are unit
     * Gaussians and weights scaled by 1/sqrt(K), so outputs are O(1) and |Σ|terms|| ≲ sqrt(K).
     * 1e-5·(1 + |y|) + 2e-8·K bounds that with an order of magnitude to spare (observed
     * errors are at most 6e-6), while any wrong tap, offset or group moves outputs by O(0.1).
     */
    @Test
    void matchesPyTorchOnEveryKernelLevel() throws Exception {
        assertEquals(CASES.size(), goldenFiles().size(), "every golden file is listed");
        for (Isa isa : Tessera.supportedIsas()) {
            for (int threads : new int[] {1, 0}) {
                Tessera.init(threads, isa);
                for (String name : CASES) {
                    checkCase(isa + " threads=" + threads + " " + name, name);
                }
            }
        }
    }

    private static List<String> goldenFiles() throws Exception {
        try (Stream<Path> s = Files.list(TestFiles.resource("goldens/conv/basic_3x3_batch2.safetensors").getParent())) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".safetensors")).toList();
        }
    }

    private static void checkCase(String what, String name) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(TestFiles.resource("goldens/conv/" + name + ".safetensors"))) {
            Map<String, String> meta = f.metadata();
            try (Tensor x = Ops.contiguous(f.tensor("x")); Tensor w = Ops.contiguous(f.tensor("w"));
                 Tensor bias = f.hasTensor("bias") ? Ops.contiguous(f.tensor("bias")) : null;
                 Tensor want = Ops.contiguous(f.tensor("y"));
                 Tensor y = Conv2d.conv2d(x, w, bias, pair(meta, "stride"), pair(meta, "padding"), pair(meta, "dilation"),
                         Integer.parseInt(meta.get("groups")))) {
                assertArrayEquals(want.shape(), y.shape(), what + " shape");
                long k = w.shape(1) * w.shape(2) * w.shape(3);
                float[] got = y.toFloatArray();
                float[] exp = want.toFloatArray();
                for (int i = 0; i < exp.length; i++) {
                    double tol = 1e-5 * (1 + Math.abs(exp[i])) + 2e-8 * k;
                    if (Math.abs(got[i] - exp[i]) > tol) {
                        assertEquals(exp[i], got[i], tol, what + " y[" + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void squareOverloadAndIntoAgreeWithPairs() {
        try (Tensor x = Tensor.of(ramp(2 * 3 * 6 * 5), 2, 3, 6, 5); Tensor w = Tensor.of(ramp(4 * 3 * 9), 4, 3, 3, 3);
             Tensor a = Conv2d.conv2d(x, w, null, 2, 1, 1, 1);
             Tensor b = Tensor.allocate(DType.F32, Conv2d.outputShape(x, w, null, Pair.of(2), Pair.of(1), Pair.of(1), 1))) {
            assertArrayEquals(new long[] {2, 4, 3, 3}, a.shape());
            Conv2d.conv2dInto(x, w, null, Pair.of(2), Pair.of(1), Pair.of(1), 1, b);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
            // y[0][0][0][0]: taps (ky, kx) in {1,2}x{1,2} of input pixels (0..1, 0..1), all channels
            double s = 0;
            for (int c = 0; c < 3; c++) {
                for (int ky = 1; ky < 3; ky++) {
                    for (int kx = 1; kx < 3; kx++) {
                        s += (double) w.getFloat(0, c, ky, kx) * x.getFloat(0, c, ky - 1, kx - 1);
                    }
                }
            }
            assertEquals(s, a.getFloat(0, 0, 0, 0), 1e-4 * Math.abs(s));
        }
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i % 7 - 3) * 0.25f;
        }
        return v;
    }

    private static void bad(String messagePart, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(messagePart), "message '" + e.getMessage() + "' should mention '" + messagePart + "'");
    }

    @Test
    void rejectsBadInputsBeforeTheDowncall() {
        try (Tensor x = Tensor.allocate(DType.F32, 1, 4, 8, 8); Tensor w = Tensor.allocate(DType.F32, 6, 2, 3, 3);
             Tensor w1 = Tensor.allocate(DType.F32, 6, 4, 3, 3); Tensor xh = Tensor.allocate(DType.F16, 1, 4, 8, 8);
             Tensor wb = Tensor.allocate(DType.I32, 6, 4, 3, 3); Tensor bias5 = Tensor.allocate(DType.F32, 5);
             Tensor big = Tensor.allocate(DType.F32, 6, 4, 9, 9); Tensor y = Tensor.allocate(DType.F32, 1, 6, 8, 8);
             Tensor x3 = Tensor.allocate(DType.F32, 4, 8, 8)) {
            Pair one = Pair.of(1);
            bad("input must be F32", () -> Conv2d.conv2d(xh, w1, null));
            bad("input must be F32", () -> Conv2d.conv2d(x3, w1, null));
            bad("weights must be F32, F16", () -> Conv2d.conv2d(x, wb, null));
            bad("Cin/groups = 4", () -> Conv2d.conv2d(x, w, null));
            bad("groups 3 must divide", () -> Conv2d.conv2d(x, w1, null, one, one, one, 3));
            bad("groups must be >= 1", () -> Conv2d.conv2d(x, w1, null, one, one, one, 0));
            bad("bias must be F32 [6]", () -> Conv2d.conv2d(x, w1, bias5));
            bad("stride must be >= 1", () -> Conv2d.conv2d(x, w1, null, new Pair(1, 0), one, one, 1));
            bad("dilation must be >= 1", () -> Conv2d.conv2d(x, w1, null, one, one, new Pair(-1, 1), 1));
            bad("padding must be >= 0", () -> Conv2d.conv2d(x, w1, null, one, new Pair(0, -2), one, 1));
            bad("larger than the padded input", () -> Conv2d.conv2d(x, big, null));
            bad("larger than the padded input", () -> Conv2d.conv2d(x, w1, null, one, Pair.of(0), Pair.of(5), 1));
            bad("too large", () -> Conv2d.outputShape(x, w1, null, one, Pair.of(Integer.MAX_VALUE), one, 1));
            bad("must be contiguous", () -> Conv2d.conv2d(x.transpose(2, 3), w1, null));
            bad("null", () -> Conv2d.conv2d(x, null, null));
            bad("on the Java heap", () -> Conv2d.conv2d(
                    Tensor.wrap(DType.F32, MemorySegment.ofArray(new float[4 * 64]), 1, 4, 8, 8), w1, null));
            bad("output must be F32 [1, 6, 6, 6]", () -> Conv2d.conv2dInto(x, w1, null, one, Pair.of(0), one, 1, y));
            bad("overlaps", () -> Conv2d.conv2dInto(x, w1, null, one, one, one, 1, Tensor.wrap(DType.F32,
                    x.segment().reinterpret(0).reinterpret(6 * 64 * 4), 1, 6, 8, 8)));
            assertFalse(Tessera.isa() == null);
        }
    }

    @Test
    void emptyBatchGivesAnEmptyOutput() {
        try (Tensor x = Tensor.allocate(DType.F32, 0, 2, 5, 5); Tensor w = Tensor.allocate(DType.F16, 3, 2, 3, 3);
             Tensor y = Conv2d.conv2d(x, w, null)) {
            assertArrayEquals(new long[] {0, 3, 3, 3}, y.shape());
        }
    }
}
