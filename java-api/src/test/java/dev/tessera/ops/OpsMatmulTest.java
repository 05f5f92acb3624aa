package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.core.TesseraException;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class OpsMatmulTest {

    private static Tensor gaussian(long seed, long... shape) {
        Random r = new Random(seed);
        float[] x = new float[Math.toIntExact(Tensor.numelOf(shape))];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return Tensor.of(x, shape);
    }

    /**
     * Against a double-precision product of the dequantized weights with F32 inputs: the only
     * differences are the activations' 8-bit (or F16/BF16) rounding and float accumulation, so
     * the error is bounded relative to sum |w·x|/sqrt(K): 8-bit activations err by up to
     * amax/254 per element (std ~0.5% of |x| here), a random-walk sum of ~0.2 of that bound
     * over K = 512 terms; 8% keeps ~10 standard deviations of margin. F16/BF16 activations
     * and F32 weights get 1e-2 and 1e-5 (their rounding is 2^-11, 2^-8 relative per element).
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void matmulMatchesTheDequantizedProductForEveryWeightType(DType type) {
        int n = 19, k = 512, m = 3;
        try (Tensor wf = gaussian(1, n, k); Tensor x = gaussian(2, m, k);
             Tensor w = type == DType.F32 ? Ops.contiguous(wf) : Ops.quantize(wf, type);
             Tensor wd = Ops.dequantize(w); Tensor y = Ops.matmul(w, x)) {
            assertArrayEquals(new long[] {m, n}, y.shape());
            double relTol = switch (type) {
                case F32 -> 1e-5;
                case F16, BF16 -> 1e-2;
                default -> 0.08;
            };
            for (int c = 0; c < m; c++) {
                for (int r = 0; r < n; r++) {
                    double ref = 0, mag = 0;
                    for (int i = 0; i < k; i++) {
                        ref += (double) wd.getFloat(r, i) * x.getFloat(c, i);
                        mag += Math.abs((double) wd.getFloat(r, i) * x.getFloat(c, i));
                    }
                    assertEquals(ref, y.getFloat(c, r), relTol * mag / Math.sqrt(k) + 1e-5, type + " y[" + c + "][" + r + "]");
                }
            }
        }
    }

    @Test
    void matvecOnRealStories260KWeightsQuantizedToQ8_0StaysClose() throws Exception {
        try (GgufFile f = GgufFile.open(Path.of("..", "models", "stories260K.gguf"))) {
            Tensor w = f.tensor("blk.0.ffn_gate.weight"); // ne [64, 172]: 172 rows of 64
            long k = w.shape(1);
            long kq = k - k % 32;
            Tensor wSlice = w.slice(1, 0, kq);
            try (Tensor wc = Ops.contiguous(wSlice); Tensor q = Ops.quantize(wc, DType.Q8_0);
                 Tensor x = gaussian(3, kq); Tensor yf = Ops.matmul(wc, x); Tensor yq = Ops.matmul(q, x)) {
                // Worst case, block by block: weights err by at most wamax/254 and activations by
                // xamax/254 per element (Q8_0 rounds to nearest with d = amax/127).
                for (int r = 0; r < yf.shape(0); r++) {
                    double bound = 1e-5;
                    for (int b = 0; b < kq; b += 32) {
                        double wa = 0, xa = 0, ws = 0, xs = 0;
                        for (int i = b; i < b + 32; i++) {
                            wa = Math.max(wa, Math.abs(wc.getFloat(r, i)));
                            xa = Math.max(xa, Math.abs(x.getFloat(i)));
                            ws += Math.abs(wc.getFloat(r, i));
                            xs += Math.abs(x.getFloat(i));
                        }
                        bound += (ws * xa + xs * wa) / 254 * 1.01;
                    }
                    assertEquals(yf.getFloat(r), yq.getFloat(r), bound, "row " + r);
                }
            }
        }
    }

    @Test
    void shapeAndTypeErrorsAreExceptionsBeforeTheDowncall() {
        try (Tensor w = Tensor.allocate(DType.F32, 4, 64); Tensor x = Tensor.allocate(DType.F32, 2, 32);
             Tensor xq = Tensor.allocate(DType.F16, 2, 64); Tensor y = Tensor.allocate(DType.F32, 2, 5);
             Tensor odd = Tensor.allocate(DType.F32, 4, 48)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.matmul(w, x));
            assertThrows(IllegalArgumentException.class, () -> Ops.matmul(w, xq));
            try (Tensor x2 = Tensor.allocate(DType.F32, 2, 64)) {
                assertThrows(IllegalArgumentException.class, () -> Ops.matmulInto(w, x2, y));
            }
            assertThrows(IllegalArgumentException.class, () -> Ops.quantize(odd, DType.Q4_0));
            assertThrows(IllegalArgumentException.class, () -> Ops.quantize(w, DType.IQ2_XXS));
        }
    }

    @Test
    void allZeroQuantizedWeightsGiveZerosWithoutANativeError() {
        // A TesseraException would mean the kernel saw bad input; the Java checks must catch it first.
        try (Tensor w = Tensor.allocate(DType.Q4_0, 2, 32); Tensor x = Tensor.allocate(DType.F32, 1, 32)) {
            try (Tensor y = Ops.matmul(w, x)) {
                assertEquals(0f, y.getFloat(0, 0));
            } catch (TesseraException e) {
                throw new AssertionError("native call rejected input the Java side accepted", e);
            }
        }
    }
}
