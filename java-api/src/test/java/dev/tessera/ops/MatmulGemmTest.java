package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Ops.matmul for M = 1..67 (Q8_0/Q4_0 go through the tiled GEMM path: a 4-row x 1-column
 * kernel for M = 1, 2, the 3x4 register tile from M = 3; 37 rows and most M are not
 * multiples of the tile) against a float64 product of the dequantized weights with the
 * activations as the kernel sees them: quantized to Q8_0 (our activation quantizer) and
 * dequantized on the tile path; unrounded where the kernel level switches to the F32 SGEMM on
 * widened weights (avx2: from M = 32 on, so M = 32..67 check that path). Either way the
 * only difference is float rounding of the scaled block sums and their summation: at most a
 * few float epsilons (2^-24) times log2(K) relative to sum |w·x|; the stated tolerance is
 * 2e-5 of that sum (about 30 ulps of margin at K = 512), far below the activation
 * quantization error (~0.4% of that sum), so each M matches exactly one of the two references.
 */
class MatmulGemmTest {

    private static float[] gaussian(long seed, int count) {
        Random r = new Random(seed);
        float[] x = new float[count];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void everyBatchSizeFrom1To67MatchesAFloat64Reference(DType type) {
        int n = 37;
        int k = 512;
        int maxM = 67;
        try (Tensor wf = Tensor.of(gaussian(1, n * k), n, k); Tensor w = Ops.quantize(wf, type); Tensor wd = Ops.dequantize(w);
             // X rows at a padded stride (k + 32 floats), as a slice of a wider tensor
             Tensor wide = Tensor.of(gaussian(2, maxM * (k + 32)), maxM, k + 32)) {
            double[][] wref = new double[n][k];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < k; i++) {
                    wref[r][i] = wd.getFloat(r, i);
                }
            }
            for (int m = 1; m <= maxM; m++) {
                Tensor x = wide.slice(0, 0, m).slice(1, 0, k);
                try (Tensor xc = Ops.contiguous(x); Tensor xq = Ops.quantize(xc, DType.Q8_0); Tensor xd = Ops.dequantize(xq);
                     Tensor y = Ops.matmul(w, x)) {
                    // Worst error over all outputs, in units of the tolerance, against each reference.
                    double quantizedX = 0;
                    double floatX = 0;
                    for (int c = 0; c < m; c++) {
                        for (int r = 0; r < n; r++) {
                            double refQ = 0;
                            double refF = 0;
                            double mag = 0;
                            for (int i = 0; i < k; i++) {
                                double p = wref[r][i] * xd.getFloat(c, i);
                                refQ += p;
                                refF += wref[r][i] * xc.getFloat(c, i);
                                mag += Math.abs(p);
                            }
                            double tol = 2e-5 * mag + 1e-6;
                            quantizedX = Math.max(quantizedX, Math.abs(y.getFloat(c, r) - refQ) / tol);
                            floatX = Math.max(floatX, Math.abs(y.getFloat(c, r) - refF) / tol);
                        }
                    }
                    assertTrue(Math.min(quantizedX, floatX) <= 1, type + " M=" + m + ": worst error " + quantizedX
                            + " tolerances against the Q8_0-activation product, " + floatX + " against the F32 one");
                }
            }
        }
    }
}
