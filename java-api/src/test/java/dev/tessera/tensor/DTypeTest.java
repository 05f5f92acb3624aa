package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DTypeTest {
    @Test
    void blockSizesAndBytesMatchTheGgmlTable() {
        assertEquals(0, DType.F32.ggmlId());
        assertEquals(4, DType.F32.blockBytes());
        assertEquals(30, DType.BF16.ggmlId());
        assertEquals(28, DType.F64.ggmlId());
        assertEquals(32, DType.Q4_0.blockSize());
        assertEquals(18, DType.Q4_0.blockBytes());
        assertEquals(34, DType.Q8_0.blockBytes());
        assertEquals(256, DType.Q4_K.blockSize());
        assertEquals(144, DType.Q4_K.blockBytes());
        assertEquals(210, DType.Q6_K.blockBytes());
        assertEquals(292, DType.Q8_K.blockBytes());
        assertEquals(39, DType.MXFP4.ggmlId());
        assertEquals(17, DType.MXFP4.blockBytes());
        assertEquals(64, DType.NVFP4.blockSize());
        assertEquals(128, DType.Q1_0.blockSize());
        assertEquals(42, DType.Q2_0.ggmlId());
    }

    @Test
    void everyGgmlIdIsUniqueAndLooksUpItsType() {
        Set<Integer> ids = new HashSet<>();
        for (DType t : DType.values()) {
            if (t.hasGgmlId()) {
                assertTrue(ids.add(t.ggmlId()), "duplicate id " + t.ggmlId());
                assertSame(t, DType.fromGgmlId(t.ggmlId()));
            } else {
                assertEquals(-1, t.ggmlId());
            }
        }
        assertEquals(43 - 2 - 3 - 3, ids.size()); // 0..42 minus removed Q4_2/Q4_3, 31-33, 36-38
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5, 31, 33, 36, 38, 43, 1000, -1, Integer.MIN_VALUE})
    void unknownOrRemovedGgmlIdIsRejected(int id) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.fromGgmlId(id));
        assertTrue(e.getMessage().contains("unknown ggml type id"), e.getMessage());
    }

    @Test
    void quantizedMeansBlocksOfMoreThanOneElement() {
        assertTrue(DType.Q4_0.isQuantized());
        assertTrue(DType.IQ2_XXS.isQuantized());
        assertFalse(DType.F16.isQuantized());
        assertFalse(DType.BOOL.isQuantized());
        assertThrows(UnsupportedOperationException.class, DType.Q8_0::elementBytes);
        assertEquals(2, DType.BF16.elementBytes());
    }

    @Test
    void byteSizeCountsWholeBlocks() {
        assertEquals(0, DType.Q4_0.byteSize(0));
        assertEquals(18 * 3, DType.Q4_0.byteSize(96));
        assertEquals(8 * 10, DType.F64.byteSize(10));
        assertEquals(144, DType.Q4_K.byteSize(256));
    }

    @Test
    void byteSizeRejectsPartialBlocksNegativeCountsAndOverflow() {
        assertThrows(IllegalArgumentException.class, () -> DType.Q4_0.byteSize(33));
        assertThrows(IllegalArgumentException.class, () -> DType.F32.byteSize(-1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.F32.byteSize(Long.MAX_VALUE / 2));
        assertTrue(e.getMessage().contains("overflow"), e.getMessage());
        assertEquals(Long.MAX_VALUE / 2 * 2, DType.I16.byteSize(Long.MAX_VALUE / 2));
    }

    @Test
    void safetensorsNamesRoundTrip() {
        for (String n : new String[] {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"}) {
            assertEquals(n, DType.fromSafetensorsName(n).safetensorsName());
        }
        assertNull(DType.Q4_0.safetensorsName());
        assertThrows(IllegalArgumentException.class, () -> DType.fromSafetensorsName("F8_E4M3"));
        assertThrows(IllegalArgumentException.class, () -> DType.fromSafetensorsName("f32"));
        assertThrows(IllegalArgumentException.class, () -> DType.fromSafetensorsName("Q4_0"));
    }
}
