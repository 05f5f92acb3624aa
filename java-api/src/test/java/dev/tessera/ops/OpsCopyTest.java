package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class OpsCopyTest {
    @AfterAll
    static void restoreDefaults() {
        Tessera.init(0, null);
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 10);
        }
        return x;
    }

    @Test
    void convertRoundsToF16AndBf16LikeJavaOnEveryKernelLevel() {
        float[] data = random(1003, 1);
        for (Isa isa : Tessera.supportedIsas()) {
            Tessera.init(0, isa);
            try (Tensor src = Tensor.of(data, 17, 59);
                 Tensor half = Ops.convert(src, DType.F16);
                 Tensor bf = Ops.convert(src, DType.BF16)) {
                for (int i = 0; i < data.length; i++) {
                    long[] idx = {i / 59, i % 59};
                    // Float.floatToFloat16 is round-to-nearest-even, as our kernels must be.
                    assertEquals(Float.float16ToFloat(Float.floatToFloat16(data[i])), half.getFloat(idx), 0f, isa + " f16 " + i);
                    int bits = Float.floatToRawIntBits(data[i]);
                    int rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
                    assertEquals(Float.intBitsToFloat(rounded), bf.getFloat(idx), 0f, isa + " bf16 " + i);
                }
            }
        }
    }

    @Test
    void copyOfATransposedViewMakesItContiguous() {
        float[] data = random(6 * 7, 2);
        try (Tensor src = Tensor.of(data, 6, 7)) {
            Tensor t = src.transpose(0, 1);
            try (Tensor c = Ops.contiguous(t)) {
                assertTrue(c.isContiguous());
                assertArrayEquals(new long[] {7, 6}, c.shape());
                for (int i = 0; i < 7; i++) {
                    for (int j = 0; j < 6; j++) {
                        assertEquals(data[j * 7 + i], c.getFloat(i, j), 0f);
                    }
                }
            }
        }
    }

    @Test
    void copyChecksShapesTypesAndOverlapBeforeTheDowncall() {
        try (Tensor a = Tensor.allocate(DType.F32, 4, 4); Tensor b = Tensor.allocate(DType.F32, 4, 5);
             Tensor q = Tensor.allocate(DType.Q8_0, 1, 32)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.copy(a, b));
            assertThrows(IllegalArgumentException.class, () -> Ops.copy(q, q));
            assertThrows(IllegalArgumentException.class, () -> Ops.copy(a.slice(0, 0, 2), a.slice(0, 1, 3)));
            Tensor heap = Tensor.wrap(DType.F32, MemorySegment.ofArray(new float[16]), 4, 4);
            assertThrows(IllegalArgumentException.class, () -> Ops.copy(heap, a));
        }
    }
}
