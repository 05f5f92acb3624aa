package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import org.junit.jupiter.api.Test;

class TensorTest {
    private static Tensor iota(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] data = new float[(int) n];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        return Tensor.of(data, shape);
    }

    @Test
    void allocateGivesZeroFilledContiguousMemoryWithByteStrides() {
        try (Tensor t = Tensor.allocate(DType.F32, 2, 3)) {
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertArrayEquals(new long[] {12, 4}, t.strides());
            assertEquals(6, t.numel());
            assertEquals(24, t.byteSize());
            assertEquals(24, t.segment().byteSize());
            assertTrue(t.isContiguous());
            assertTrue(t.ownsMemory());
            assertEquals(0, t.segment().address() % Tensor.ALLOCATION_ALIGNMENT);
            assertArrayEquals(new float[6], t.toFloatArray());
            assertEquals("Tensor[F32 2x3]", t.toString());
        }
    }

    @Test
    void ofCopiesDataInRowMajorOrder() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            assertEquals(6f, t.getFloat(1, 2));
            assertEquals(2f, t.getFloat(0, 1));
        }
        try (Tensor t = Tensor.of(new float[] {7, 8})) {
            assertArrayEquals(new long[] {2}, t.shape());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("6 elements but data has 5"), e.getMessage());
    }

    @Test
    void f16AndBf16RoundToNearestEven() {
        try (Tensor h = Tensor.allocate(DType.F16, 3); Tensor b = Tensor.allocate(DType.BF16, 4)) {
            h.setFloat(1f / 3, 0);
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(1f / 3)), h.getFloat(0));
            h.setFloat(65520f, 1); // rounds up to infinity in binary16
            assertEquals(Float.POSITIVE_INFINITY, h.getFloat(1));
            b.setFloat(Float.intBitsToFloat(0x3F808000), 0); // halfway: ties to the even 0x3F80
            assertEquals(Float.intBitsToFloat(0x3F800000), b.getFloat(0));
            b.setFloat(Float.intBitsToFloat(0x3F818000), 1); // halfway: ties to the even 0x3F82
            assertEquals(Float.intBitsToFloat(0x3F820000), b.getFloat(1));
            b.setFloat(Float.intBitsToFloat(0x3F808001), 2); // above halfway rounds up
            assertEquals(Float.intBitsToFloat(0x3F810000), b.getFloat(2));
            b.setFloat(Float.NaN, 3);
            assertTrue(Float.isNaN(b.getFloat(3)));
            assertEquals((short) 0x3F80, b.segment().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        }
    }

    @Test
    void sliceSelectPermuteAndTransposeShareMemory() {
        try (Tensor t = iota(2, 3, 4)) {
            Tensor s = t.slice(2, 1, 3);
            assertArrayEquals(new long[] {2, 3, 2}, s.shape());
            assertEquals(13f, s.getFloat(1, 0, 0));
            assertFalse(s.isContiguous());
            assertFalse(s.ownsMemory());

            Tensor row = t.select(0, 1);
            assertArrayEquals(new long[] {3, 4}, row.shape());
            assertEquals(12f, row.getFloat(0, 0));
            assertTrue(row.isContiguous());

            Tensor p = t.permute(2, 0, 1);
            assertArrayEquals(new long[] {4, 2, 3}, p.shape());
            assertEquals(t.getFloat(1, 2, 3), p.getFloat(3, 1, 2));

            Tensor tr = t.transpose(0, 2);
            assertArrayEquals(new long[] {4, 3, 2}, tr.shape());
            assertEquals("Tensor[F32 4x3x2 strides=4,16,48]", tr.toString());

            tr.setFloat(-1f, 3, 2, 1); // writes through to the parent
            assertEquals(-1f, t.getFloat(1, 2, 3));
        }
    }

    @Test
    void toFloatArrayFollowsTheViewLayoutForEveryFloatType() {
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
            try (Tensor t = Tensor.allocate(dt, 2, 3)) {
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 3; j++) {
                        t.setFloat(i * 3 + j, i, j);
                    }
                }
                assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, t.transpose(0, 1).toFloatArray(), dt.toString());
                assertArrayEquals(new float[] {1, 2, 4, 5}, t.slice(1, 1, 3).toFloatArray(), dt.toString());
            }
        }
    }

    @Test
    void reshapeSplitsAndMergesCompatibleDimsWithoutCopying() {
        try (Tensor t = iota(4, 6)) {
            Tensor r = t.reshape(2, -1, 3);
            assertArrayEquals(new long[] {2, 4, 3}, r.shape());
            assertEquals(t.segment().address(), r.segment().address());
            assertEquals(23f, r.getFloat(1, 3, 2));
            assertArrayEquals(t.toFloatArray(), t.view(24).toFloatArray());

            Tensor cols = t.slice(1, 0, 3); // [4,3] with row stride 24
            Tensor split = cols.reshape(2, 2, 3);
            assertArrayEquals(new long[] {48, 24, 4}, split.strides());
            assertEquals(t.getFloat(3, 2), split.getFloat(1, 1, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cols.reshape(12));
            assertTrue(e.getMessage().contains("without copying"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.transpose(0, 1).reshape(24));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(7, -1));
        }
    }

    @Test
    void scalarAndEmptyTensorsAreValid() {
        try (Tensor s = Tensor.allocate(DType.F32)) {
            assertEquals(0, s.rank());
            assertEquals(1, s.numel());
            s.setFloat(2.5f);
            assertEquals(2.5f, s.getFloat());
            assertEquals("Tensor[F32 scalar]", s.toString());
            assertArrayEquals(new float[] {2.5f}, s.reshape(1, 1).toFloatArray());
        }
        try (Tensor e = Tensor.allocate(DType.F32, 0, 3)) {
            assertEquals(0, e.numel());
            assertEquals(0, e.segment().byteSize());
            assertEquals(0, e.toFloatArray().length);
            assertEquals(0, e.reshape(3, 0).numel());
        }
        try (Tensor t = iota(3)) {
            assertEquals(0, t.slice(0, 3, 3).numel());
            assertEquals(1f, t.select(0, 1).getFloat());
        }
    }

    @Test
    void quantizedTensorsAddressWholeBlocksAlongTheLastDim() {
        try (Tensor q = Tensor.allocate(DType.Q4_0, 2, 64)) {
            assertEquals(2 * 2 * 18, q.byteSize());
            assertArrayEquals(new long[] {36, 18}, q.strides());
            assertEquals("Tensor[Q4_0 2x64]", q.toString());
            Tensor half = q.slice(1, 32, 64);
            assertEquals(18, half.segment().address() - q.segment().address());
            assertArrayEquals(new long[] {36, 18}, half.strides());
            assertArrayEquals(new long[] {4, 32}, q.reshape(4, 32).shape());
            assertArrayEquals(new long[] {128}, q.reshape(128).shape());
            assertArrayEquals(new long[] {18, 18}, q.select(0, 1).reshape(2, 32).strides());
            assertThrows(IllegalArgumentException.class, () -> q.slice(1, 1, 33));
            assertThrows(IllegalArgumentException.class, () -> q.select(1, 0));
            assertThrows(IllegalArgumentException.class, () -> q.transpose(0, 1));
            assertThrows(IllegalArgumentException.class, () -> q.reshape(8, 16));
            assertThrows(UnsupportedOperationException.class, () -> q.getFloat(0, 0));
            assertThrows(UnsupportedOperationException.class, q::toFloatArray);
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.Q4_0, 2, 33));
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.Q8_0));
    }

    @Test
    void badIndicesAndDimsFailWithClearMessages() {
        try (Tensor t = iota(2, 3)) {
            IndexOutOfBoundsException oob = assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(0, 3));
            assertEquals("index 3 out of bounds for dim 1 of size 3 in Tensor[F32 2x3]", oob.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(-1, 0));
            IllegalArgumentException arity = assertThrows(IllegalArgumentException.class, () -> t.getFloat(1));
            assertEquals("Tensor[F32 2x3] needs 2 indices, got 1", arity.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.select(2, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> t.select(0, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1, 2, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1, 2, 1));
            assertThrows(IllegalArgumentException.class, () -> t.permute(0, 0));
            assertThrows(IllegalArgumentException.class, () -> t.permute(0));
            assertThrows(IllegalArgumentException.class, () -> t.transpose(0, -1));
            assertThrows(IllegalArgumentException.class, () -> t.shape(2));
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F32, 2, -1));
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> Tensor.allocate(DType.F32, Long.MAX_VALUE, 2));
        assertTrue(huge.getMessage().contains("2^63"), huge.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F64, Long.MAX_VALUE / 4));
    }

    @Test
    void elementCountIsOrderIndependentAndEmptyTensorsMayHaveHugeDims() {
        assertEquals(0, Tensor.numelOf(Long.MAX_VALUE, Long.MAX_VALUE, 0)); // the 0 wins in any order
        assertEquals(0, Tensor.numelOf(0, Long.MAX_VALUE, Long.MAX_VALUE));
        assertEquals(1, Tensor.numelOf());
        assertThrows(IllegalArgumentException.class, () -> Tensor.numelOf(1L << 32, 1L << 31));
        assertThrows(IllegalArgumentException.class, () -> Tensor.numelOf(0, -1));
        try (Tensor e = Tensor.allocate(DType.F32, 0, Long.MAX_VALUE, 4)) { // found by the fuzz test
            assertEquals(0, e.numel());
            assertEquals(0, e.byteSize());
            assertTrue(e.isContiguous());
            assertEquals(0, e.permute(2, 0, 1).toFloatArray().length);
            assertEquals(0, e.reshape(4, 0).numel());
            assertEquals(0, e.select(2, 3).slice(1, 5, 9).numel());
        }
    }

    @Test
    void closingTheOwnerFreesMemoryAndStaleViewsFailSafely() {
        Tensor t = iota(2, 2);
        Tensor v = t.select(0, 1);
        v.close(); // a view owns nothing
        assertEquals(2f, v.getFloat(0));
        t.close();
        t.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> v.getFloat(0));
    }

    @Test
    void tensorsInACallersArenaLiveAsLongAsTheArena() {
        Tensor t;
        try (Arena arena = Arena.ofConfined()) {
            t = Tensor.allocate(arena, DType.F32, 2);
            assertFalse(t.ownsMemory());
            t.close();
            t.setFloat(1f, 0);
            assertEquals(1f, t.getFloat(0));
        }
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
    }

    @Test
    void wrapValidatesStridesAgainstTheSegment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(24);
            Tensor t = Tensor.wrap(DType.F32, seg, new long[] {3, 2}, new long[] {4, 12});
            assertEquals("Tensor[F32 3x2 strides=4,12]", t.toString());
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(DType.F32, seg, new long[] {3, 3}, new long[] {4, 12}));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(DType.F32, seg, new long[] {2}, new long[] {-4}));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(DType.F32, seg, new long[] {2}, new long[] {4, 4}));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(DType.F32, seg, 7));
            assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrap(DType.Q8_0, arena.allocate(68), new long[] {2, 32}, new long[] {34, 17}));
            assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrap(DType.F32, seg, new long[] {Long.MAX_VALUE / 2, 2}, new long[] {Long.MAX_VALUE / 2, 4}));
        }
    }

    @Test
    void writeToPacksAnyLayoutInRowMajorOrder() throws IOException {
        try (Tensor t = iota(3, 4)) {
            assertArrayEquals(t.transpose(0, 1).toFloatArray(), floats(written(t.transpose(0, 1))));
            assertArrayEquals(t.slice(1, 1, 3).toFloatArray(), floats(written(t.slice(1, 1, 3))));
            assertArrayEquals(t.toFloatArray(), floats(written(t)));
        }
        try (Tensor q = Tensor.allocate(DType.Q8_0, 3, 64)) {
            for (long i = 0; i < q.byteSize(); i++) {
                q.segment().set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            byte[] rows = written(q.slice(0, 1, 3));
            assertEquals(2 * 68, rows.length);
            assertEquals((byte) 68, rows[0]);
            byte[] right = written(q.slice(1, 32, 64)); // 3 rows, second block of each
            assertEquals(3 * 34, right.length);
            assertEquals((byte) 34, right[0]);
            assertEquals((byte) (68 + 34), right[34]);
        }
    }

    private static byte[] written(Tensor t) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WritableByteChannel ch = Channels.newChannel(out)) {
            t.writeTo(ch);
        }
        return out.toByteArray();
    }

    private static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
