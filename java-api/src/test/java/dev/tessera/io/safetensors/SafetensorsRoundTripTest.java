package dev.tessera.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    /** Writes one tensor of every safetensors dtype (plus a scalar and an empty one) with random bytes. */
    static List<Tensor> writeEveryDtype(Path file, long seed) throws IOException {
        Random rnd = new Random(seed);
        Object[][] specs = {
            {DType.U8, new long[] {9}}, {DType.F32, new long[] {4, 4}}, {DType.F16, new long[] {3}},
            {DType.BF16, new long[] {2, 3}}, {DType.F64, new long[] {2}}, {DType.I64, new long[] {3}},
            {DType.I32, new long[] {2, 2}}, {DType.I16, new long[] {5}}, {DType.I8, new long[] {7}},
            {DType.BOOL, new long[] {4}}, {DType.F32, new long[] {}}, {DType.F32, new long[] {0, 3}},
        };
        List<Tensor> tensors = new ArrayList<>();
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt")
                .putMetadata("note", "\u00fc \" \\ \n \u0001 \ud83d\ude00");
        for (int i = 0; i < specs.length; i++) {
            Tensor t = Tensor.allocate((DType) specs[i][0], (long[]) specs[i][1]);
            for (long b = 0; b < t.byteSize(); b++) {
                t.segment().set(ValueLayout.JAVA_BYTE, b, (byte) (t.dtype() == DType.BOOL ? rnd.nextInt(2) : rnd.nextInt()));
            }
            tensors.add(t);
            w.add("t" + i + (i == 3 ? ".\u00e9\"q" : ""), t);
        }
        w.write(file);
        return tensors;
    }

    @Test
    void everyDtypeRoundTripsWithMetadata() throws IOException {
        Path file = dir.resolve("all.safetensors");
        List<Tensor> tensors = writeEveryDtype(file, 1);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "note", "\u00fc \" \\ \n \u0001 \ud83d\ude00"), f.metadata());
            assertEquals(List.of("format", "note"), List.copyOf(f.metadata().keySet()));
            assertEquals(0, f.dataStart() % 8);
            assertEquals(tensors.size(), f.tensorInfos().size());
            for (int i = 0; i < tensors.size(); i++) {
                String name = "t" + i + (i == 3 ? ".\u00e9\"q" : "");
                Tensor t = tensors.get(i);
                SafetensorsTensorInfo info = f.tensorInfo(name);
                assertEquals(t.dtype(), info.dtype());
                assertArrayEquals(t.shape(), info.shape());
                assertEquals(0, (f.dataStart() + info.begin()) % t.dtype().blockBytes(), "naturally aligned " + name);
                Tensor v = f.tensor(name);
                assertFalse(v.ownsMemory());
                assertEquals(-1, v.segment().mismatch(t.segment()), name);
            }
        } finally {
            tensors.forEach(Tensor::close);
        }
    }

    @Test
    void largestElementsComeFirstAndTensorsAreBackToBack() throws IOException {
        Path file = dir.resolve("order.safetensors");
        writeEveryDtype(file, 2).forEach(Tensor::close);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            List<SafetensorsTensorInfo> infos = new ArrayList<>(f.tensorInfos());
            infos.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            long end = 0;
            int lastSize = Integer.MAX_VALUE;
            for (SafetensorsTensorInfo t : infos) {
                assertEquals(end, t.begin());
                end = t.end();
                if (t.byteSize() > 0) {
                    assertTrue(t.dtype().blockBytes() <= lastSize);
                    lastSize = t.dtype().blockBytes();
                }
            }
            assertEquals(f.fileSize() - f.dataStart(), end);
        }
    }

    @Test
    void headerIsSpacePaddedToAMultipleOfEight() throws IOException {
        Path file = dir.resolve("pad.safetensors");
        try (Tensor t = Tensor.of(new float[] {1, 2, 3})) {
            new SafetensorsWriter().add("x", t).write(file);
        }
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", header.strip());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1, 2, 3}, f.tensor("x").toFloatArray());
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void stridedViewsAreWrittenPacked() throws IOException {
        Path file = dir.resolve("strided.safetensors");
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            new SafetensorsWriter().add("tt", t.transpose(0, 1)).write(file);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new long[] {3, 2}, f.tensor("tt").shape());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.tensor("tt").toFloatArray());
        }
    }

    @Test
    void rawSegmentsAndInvalidInputs() throws IOException {
        try (Arena arena = Arena.ofConfined(); Tensor q = Tensor.allocate(DType.Q4_0, 32)) {
            MemorySegment seg = arena.allocate(6);
            Path file = dir.resolve("raw.safetensors");
            new SafetensorsWriter().add("h", DType.F16, new long[] {3}, seg).write(file);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals(DType.F16, f.tensorInfo("h").dtype());
            }
            SafetensorsWriter w = new SafetensorsWriter().putMetadata("k", "v");
            assertThrows(IllegalArgumentException.class, () -> w.add("h", DType.F16, new long[] {2}, seg));
            assertThrows(IllegalArgumentException.class, () -> w.add("q", q));
            assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", DType.F16, new long[] {3}, seg));
            assertThrows(IllegalArgumentException.class, () -> w.putMetadata("k", "again"));
            assertThrows(IllegalArgumentException.class, () -> w.putMetadata("bad", "\ud800"));
            w.add("h", DType.F16, new long[] {3}, seg);
            assertThrows(IllegalArgumentException.class, () -> w.add("h", DType.F16, new long[] {3}, seg));
        }
    }

    @Test
    void tensorViewsBecomeUnusableAfterClose() throws IOException {
        Path file = dir.resolve("c.safetensors");
        try (Tensor t = Tensor.of(new float[] {1})) {
            new SafetensorsWriter().add("x", t).write(file);
        }
        SafetensorsFile f = SafetensorsFile.open(file);
        Tensor x = f.tensor("x");
        f.close();
        f.close();
        assertThrows(IllegalStateException.class, () -> x.getFloat(0));
        assertThrows(IllegalStateException.class, () -> f.tensor("x"));
    }
}
