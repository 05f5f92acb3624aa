package dev.tessera.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.TestFiles;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {
    @TempDir
    Path dir;

    static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", new GgufValue.Str("test"));
        m.put("t.u8", new GgufValue.UInt8(255));
        m.put("t.i8", new GgufValue.Int8((byte) -128));
        m.put("t.u16", new GgufValue.UInt16(65535));
        m.put("t.i16", new GgufValue.Int16((short) -32768));
        m.put("t.u32", new GgufValue.UInt32(0xFFFF_FFFFL));
        m.put("t.i32", new GgufValue.Int32(Integer.MIN_VALUE));
        m.put("t.f32", new GgufValue.Float32(-0.0f));
        m.put("t.bool", new GgufValue.Bool(true));
        m.put("t.str", new GgufValue.Str("h\u00e9llo \u2581 \ud83d\ude00 \u0000 end"));
        m.put("t.empty", new GgufValue.Str(""));
        m.put("t.u64", new GgufValue.UInt64(-1L));
        m.put("t.i64", new GgufValue.Int64(Long.MIN_VALUE));
        m.put("t.f64", new GgufValue.Float64(Math.PI));
        m.put("a.u8", GgufArray.ofUInt8((byte) 0, (byte) 255));
        m.put("a.i8", GgufArray.ofInt8((byte) -1));
        m.put("a.u16", GgufArray.ofUInt16((short) 1, (short) -1));
        m.put("a.i16", GgufArray.ofInt16((short) -2));
        m.put("a.u32", GgufArray.ofUInt32(1, -1));
        m.put("a.i32", GgufArray.ofInt32(3, -3));
        m.put("a.f32", GgufArray.ofFloat32(1.5f, Float.NaN, Float.NEGATIVE_INFINITY));
        m.put("a.bool", GgufArray.ofBool(true, false, true));
        m.put("a.str", GgufArray.ofStrings("a", "", "\u7ed9"));
        m.put("a.u64", GgufArray.ofUInt64(Long.MIN_VALUE));
        m.put("a.i64", GgufArray.ofInt64(-5, 5));
        m.put("a.f64", GgufArray.ofFloat64(-1e300));
        m.put("a.none", GgufArray.ofInt32());
        return m;
    }

    @Test
    void everyMetadataTypeRoundTrips() throws IOException {
        GgufWriter w = new GgufWriter();
        everyValueType().forEach(w::put);
        Path file = dir.resolve("kv.gguf");
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(everyValueType(), f.metadata().asMap());
            assertEquals(List.copyOf(everyValueType().keySet()), List.copyOf(f.metadata().keys()));
            assertEquals(3, f.version());
        }
    }

    @Test
    void tensorsOfEveryTypeRoundTripByteForByte() throws IOException {
        Random rnd = new Random(42);
        List<Object[]> specs = List.of(
                new Object[] {DType.F32, new long[] {3, 5}}, new Object[] {DType.F16, new long[] {4, 8}},
                new Object[] {DType.BF16, new long[] {2, 2, 2}}, new Object[] {DType.F64, new long[] {3}},
                new Object[] {DType.I8, new long[] {7}}, new Object[] {DType.I16, new long[] {1, 1, 1, 3}},
                new Object[] {DType.I32, new long[] {2, 3}}, new Object[] {DType.I64, new long[] {2}},
                new Object[] {DType.Q4_0, new long[] {2, 64}}, new Object[] {DType.Q8_0, new long[] {32}},
                new Object[] {DType.Q4_K, new long[] {1, 256}}, new Object[] {DType.Q6_K, new long[] {2, 256}},
                new Object[] {DType.IQ2_XXS, new long[] {256}}, new Object[] {DType.MXFP4, new long[] {3, 32}},
                new Object[] {DType.F32, new long[] {0, 4}});
        List<Tensor> tensors = new ArrayList<>();
        GgufWriter w = new GgufWriter().putString("general.architecture", "test");
        try {
            for (int i = 0; i < specs.size(); i++) {
                Tensor t = Tensor.allocate((DType) specs.get(i)[0], (long[]) specs.get(i)[1]);
                for (long b = 0; b < t.byteSize(); b++) {
                    t.segment().set(ValueLayout.JAVA_BYTE, b, (byte) rnd.nextInt());
                }
                tensors.add(t);
                w.addTensor("t" + i, t);
            }
            Path file = dir.resolve("tensors.gguf");
            w.write(file);
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(0, f.dataStart() % 32);
                long expectedOffset = 0;
                for (int i = 0; i < specs.size(); i++) {
                    GgufTensorInfo info = f.tensorInfos().get(i);
                    Tensor t = tensors.get(i);
                    assertEquals("t" + i, info.name());
                    assertEquals(t.dtype(), info.type());
                    assertArrayEquals(t.shape(), info.shape());
                    assertEquals(expectedOffset, info.offset(), "offsets are consecutive, as ggml requires");
                    expectedOffset += (t.byteSize() + 31) / 32 * 32;
                    assertEquals(-1, f.tensor(info).segment().mismatch(t.segment()), info.name());
                }
                assertEquals(f.dataStart() + expectedOffset, f.fileSize(), "the last tensor is padded too");
            }
        } finally {
            tensors.forEach(Tensor::close);
        }
    }

    @Test
    void rawSegmentsWithAGivenTypeAndNe() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(2 * 18);
            q.fill((byte) 7);
            Path file = dir.resolve("raw.gguf");
            new GgufWriter().alignment(64).addTensor("q", DType.Q4_0, new long[] {32, 2}, q).write(file);
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(64, f.alignment());
                assertEquals(0, f.dataStart() % 64);
                assertArrayEquals(new long[] {32, 2}, f.tensorInfo("q").ne());
                assertEquals(-1, f.tensor("q").segment().mismatch(q));
            }
            assertThrows(IllegalArgumentException.class,
                    () -> new GgufWriter().addTensor("q", DType.Q4_0, new long[] {32, 3}, q));
            assertThrows(IllegalArgumentException.class,
                    () -> new GgufWriter().addTensor("q", DType.Q4_0, new long[] {16, 2}, q));
            assertThrows(IllegalArgumentException.class,
                    () -> new GgufWriter().addTensor("q", DType.F32, new long[] {2, 3, 1, 1, 1}, arena.allocate(24)));
        }
    }

    @Test
    void stridedViewsAreWrittenPacked() throws IOException {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            Path file = dir.resolve("t.gguf");
            new GgufWriter().addTensor("tt", t.transpose(0, 1)).addTensor("s", t.select(1, 2)).write(file);
            try (GgufFile f = GgufFile.open(file)) {
                assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.tensor("tt").toFloatArray());
                assertArrayEquals(new long[] {2, 3}, f.tensorInfo("tt").ne());
                assertArrayEquals(new float[] {3, 6}, f.tensor("s").toFloatArray());
            }
        }
    }

    @Test
    void rewritingLlamaCppFilesReproducesThemByteForByte() throws IOException {
        for (Path original : List.of(TestFiles.stories260K(), TestFiles.llamaSpmVocab(), TestFiles.gpt2Vocab())) {
            Path copy = dir.resolve("copy-" + original.getFileName());
            try (GgufFile f = GgufFile.open(original)) {
                GgufWriter w = new GgufWriter().putAll(f.metadata());
                for (GgufTensorInfo t : f.tensorInfos()) {
                    w.addTensor(t.name(), f.tensor(t));
                }
                w.write(copy);
                try (GgufFile g = GgufFile.open(copy)) {
                    assertEquals(f.metadata().asMap(), g.metadata().asMap());
                    assertEquals(f.tensorInfos(), g.tensorInfos());
                    for (GgufTensorInfo t : f.tensorInfos()) {
                        assertEquals(-1, f.tensor(t).segment().mismatch(g.tensor(t).segment()), t.name());
                    }
                }
            }
            assertEquals(-1, Files.mismatch(original, copy), original.getFileName().toString());
        }
    }

    @Test
    void invalidMetadataAndTensorsAreRejectedUpFront() {
        GgufWriter w = new GgufWriter().putUInt32("a", 1);
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("a", 2));
        assertThrows(IllegalArgumentException.class, () -> w.putString("", "x"));
        assertThrows(IllegalArgumentException.class, () -> w.putString("k".repeat(65536), "x"));
        assertThrows(IllegalArgumentException.class, () -> w.putString("bad", "\ud800"));
        assertThrows(IllegalArgumentException.class, () -> w.put("s", GgufArray.ofStrings("ok", "\udc00")));
        assertThrows(IllegalArgumentException.class, () -> w.putInt32("general.alignment", 32));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(48));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(0));
        try (Tensor u8 = Tensor.allocate(DType.U8, 4); Tensor f = Tensor.allocate(DType.F32, 1, 1, 1, 1, 2)) {
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("u8", u8));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("5d", f));
            w.addTensor("ok", f.select(0, 0));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("ok", f.select(0, 0)));
        }
    }

    @Test
    void scalarTensorsAreWrittenAsOneElement() throws IOException {
        try (Tensor s = Tensor.allocate(DType.F32)) {
            s.setFloat(3f);
            Path file = dir.resolve("s.gguf");
            new GgufWriter().addTensor("s", s).write(file);
            try (GgufFile f = GgufFile.open(file)) {
                assertArrayEquals(new long[] {1}, f.tensorInfo("s").ne());
                assertEquals(3f, f.tensor("s").getFloat(0));
            }
        }
    }

    @Test
    void aFailedWriteLeavesTheTargetAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("keep.gguf");
        Files.writeString(file, "old");
        Tensor t = Tensor.allocate(DType.F32, 4);
        GgufWriter w = new GgufWriter().addTensor("t", t);
        t.close(); // the data is gone by the time write() streams it
        assertThrows(IllegalStateException.class, () -> w.write(file));
        assertEquals("old", Files.readString(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
        assertFalse(Files.exists(dir.resolve(".keep.gguf.tmp")));
        assertTrue(Files.isRegularFile(file));
    }
}
