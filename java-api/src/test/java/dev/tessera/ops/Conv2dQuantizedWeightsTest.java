package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.ops.Conv2d.Pair;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Quantized conv weights (blocks along kw, e.g. a ViT-B/32 patch embedding in Q8_0). */
class Conv2dQuantizedWeightsTest {
    private static Tensor random(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, shape);
    }

    @Test
    void q8_0PatchEmbeddingEqualsTheConvolutionOfItsDequantizedWeights() {
        try (Tensor x = random(1, 2, 3, 64, 64); Tensor wf = random(2, 8, 3, 32, 32);
             Tensor wq = Ops.quantize(wf, DType.Q8_0); Tensor wd = Ops.dequantize(wq)) {
            Pair s = Pair.of(32);
            Pair zero = Pair.of(0);
            try (Tensor yq = Conv2d.conv2d(x, wq, null, s, zero, Pair.of(1), 1);
                 Tensor yd = Conv2d.conv2d(x, wd, null, s, zero, Pair.of(1), 1);
                 Tensor yf = Conv2d.conv2d(x, wf, null, s, zero, Pair.of(1), 1)) {
                assertArrayEquals(yd.toFloatArray(), yq.toFloatArray(), "same F32 weights, same kernel");
                // Q8_0 rounds each weight by at most half a step (amax/254 of its block); over 3072 taps of
                // inputs in [-1, 1] that bounds the error by sum |x| * step / 2 < 3072 / 254 / 2 ~ 6.
                float[] a = yq.toFloatArray();
                float[] b = yf.toFloatArray();
                double worst = 0;
                for (int i = 0; i < a.length; i++) {
                    worst = Math.max(worst, Math.abs(a[i] - b[i]));
                }
                assertTrue(worst < 0.5, "max |error| vs F32 weights " + worst);
            }
        }
    }

    @Test
    void quantizedWeightsMustHaveWholeBlocksAlongTheKernelWidth() {
        // A 3x3 kernel has rows of 3: a Q8_0 tensor of that shape cannot even exist.
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.Q8_0, 4, 2, 3, 3));
    }
}
