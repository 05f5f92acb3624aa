package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.ops.Nn;
import dev.tessera.tensor.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Shape inference and checks of the ops CLIP added (their math is checked by ClipModelTest's goldens). */
class OpInferTest {
    private static TensorSpec f32(long... shape) {
        return TensorSpec.of(DType.F32, shape);
    }

    @Test
    void addBroadcasts() {
        assertEquals(f32(4, 8), new Op.Add().infer(List.of(f32(4, 8), f32(8))));
        assertEquals(f32(2, 5, 8), new Op.Add().infer(List.of(f32(2, 5, 8), f32(5, 8))));
        assertEquals(f32(3, 4), new Op.Add().infer(List.of(f32(3, 1), f32(1, 4))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Op.Add().infer(List.of(f32(4, 8), f32(7))));
        assertTrue(e.getMessage().startsWith("Add:"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Op.Add().infer(List.of(f32(1, 1, 1, 1, 2), f32(2))), "rank 5");
        assertThrows(IllegalArgumentException.class, () -> new Op.Add().infer(List.of(f32(2), TensorSpec.of(DType.F16, 2))));
        // Mul keeps its same-shape rule
        assertThrows(IllegalArgumentException.class, () -> new Op.Mul().infer(List.of(f32(4, 8), f32(8))));
    }

    @Test
    void layerNormNeedsWeightAndBiasOfTheLastDim() {
        assertEquals(f32(6, 16), new Op.LayerNorm(1e-5f).infer(List.of(f32(6, 16), f32(16), f32(16))));
        assertThrows(IllegalArgumentException.class, () -> new Op.LayerNorm(1e-5f).infer(List.of(f32(6, 16), f32(16), f32(15))));
        assertThrows(IllegalArgumentException.class, () -> new Op.LayerNorm(0f).infer(List.of(f32(6, 16), f32(16), f32(16))));
        assertThrows(IllegalArgumentException.class, () -> new Op.LayerNorm(1e-5f).infer(List.of(f32(6, 16), f32(16))));
    }

    @Test
    void attentionTakesOneBatchedShape() {
        Op.Attention a = new Op.Attention(0.125f, false);
        assertEquals(f32(2, 10, 4, 16), a.infer(List.of(f32(2, 10, 4, 16), f32(2, 10, 4, 16), f32(2, 10, 4, 16))));
        assertThrows(IllegalArgumentException.class, () -> a.infer(List.of(f32(2, 10, 4, 16), f32(2, 9, 4, 16), f32(2, 10, 4, 16))));
        assertThrows(IllegalArgumentException.class, () -> a.infer(List.of(f32(10, 4, 16), f32(10, 4, 16), f32(10, 4, 16))));
        assertThrows(IllegalArgumentException.class, () -> new Op.Attention(0.125f, true).infer(
                List.of(f32(1, 2, 1, 300), f32(1, 2, 1, 300), f32(1, 2, 1, 300))), "head size over 256");
    }

    @Test
    void conv2dOutputShape() {
        Op.Conv2d patch = new Op.Conv2d(8, 0);
        assertEquals(f32(2, 64, 4, 4), patch.infer(List.of(f32(2, 3, 32, 32), TensorSpec.of(DType.F16, 64, 3, 8, 8))));
        assertEquals(f32(1, 5, 7, 7), new Op.Conv2d(1, 1).infer(List.of(f32(1, 3, 7, 7), f32(5, 3, 3, 3), f32(5))));
        assertThrows(IllegalArgumentException.class, () -> patch.infer(List.of(f32(2, 4, 32, 32), f32(64, 3, 8, 8))), "channels");
        assertThrows(IllegalArgumentException.class, () -> patch.infer(List.of(f32(2, 3, 4, 4), f32(64, 3, 8, 8))), "kernel too big");
        assertThrows(IllegalArgumentException.class, () -> patch.infer(List.of(f32(2, 3, 32, 32), TensorSpec.of(DType.Q8_0, 64, 3, 8, 32))));
    }

    @Test
    void concatAddsTheDim() {
        assertEquals(f32(2, 17, 64), new Op.Concat(1).infer(List.of(f32(2, 1, 64), f32(2, 16, 64))));
        assertThrows(IllegalArgumentException.class, () -> new Op.Concat(1).infer(List.of(f32(2, 1, 64), f32(3, 16, 64))));
        assertThrows(IllegalArgumentException.class, () -> new Op.Concat(3).infer(List.of(f32(2, 1, 64))));
    }

    @Test
    void activationKeepsTheSpec() {
        assertEquals(f32(3, 5), new Op.Activation(Nn.Activation.QUICK_GELU).infer(List.of(f32(3, 5))));
        assertThrows(NullPointerException.class, () -> new Op.Activation(null));
    }
}
