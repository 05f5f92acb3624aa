package dev.tessera.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fallback notes, metadata rewriting, progress, byte counts and re-quantizing an already quantized file. */
class GgufQuantizerStreamingTest {
    private static final Path STORIES = Path.of("..", "models", "stories260K.gguf");

    /** Quantizes stories260K and checks the result against the source; returns the report. */
    private static GgufQuantizer.Report check(Path dir, DType target, DType for64, DType for172, double relRmseBound)
            throws Exception {
        Path out = dir.resolve(target.name().toLowerCase() + ".gguf");
        List<GgufQuantizer.TensorReport> seen = new ArrayList<>();
        GgufQuantizer.Report report = GgufQuantizer.quantize(STORIES, out, target, true, (done, total, t) -> {
            assertEquals(seen.size() + 1, done);
            seen.add(t);
        });
        assertEquals(report.tensors(), seen);
        try (GgufFile src = GgufFile.open(STORIES); GgufFile q = GgufFile.open(out)) {
            Set<String> keys = new HashSet<>(src.metadata().keys());
            keys.add(GgufQuantizer.FILE_TYPE_KEY);
            keys.add(GgufQuantizer.QUANTIZATION_VERSION_KEY);
            assertEquals(keys, q.metadata().keys());
            assertEquals(GgufQuantizer.llamaFileType(target), q.metadata().getInt(GgufQuantizer.FILE_TYPE_KEY));
            assertEquals(2, q.metadata().getInt(GgufQuantizer.QUANTIZATION_VERSION_KEY));
            assertEquals(src.metadata().getString("general.architecture"), q.metadata().getString("general.architecture"));
            assertEquals(src.metadata().getStringArray("tokenizer.ggml.tokens"), q.metadata().getStringArray("tokenizer.ggml.tokens"));

            List<GgufTensorInfo> a = src.tensorInfos();
            List<GgufTensorInfo> b = q.tensorInfos();
            assertEquals(a.size(), b.size());
            long bytesAfter = 0;
            for (int i = 0; i < a.size(); i++) {
                GgufTensorInfo s = a.get(i);
                GgufTensorInfo d = b.get(i);
                assertEquals(s.name(), d.name());
                assertArrayEquals(s.ne(), d.ne(), s.name());
                assertEquals(DType.F32, s.type(), "stories260K is all F32");
                bytesAfter += d.byteSize();
                if (s.nDims() == 1) {
                    assertEquals(DType.F32, d.type(), s.name());
                    assertTrue(q.tensor(d).segment().mismatch(src.tensor(s).segment()) == -1, s.name() + " copied unchanged");
                    continue;
                }
                DType expected = s.ne()[0] % 256 == 0 ? target : s.ne()[0] == 172 ? for172 : for64;
                if (s.ne()[0] % 256 != 0 && s.ne()[0] != 172 && s.ne()[0] != 64) {
                    throw new AssertionError("unexpected row length in " + s);
                }
                assertEquals(expected, d.type(), s.name());
                assertEquals(expected, report.tensors().get(i).to());
                if (expected == DType.F32) {
                    assertFalse(report.tensors().get(i).note().isEmpty(), s.name());
                    continue;
                }
                Tensor orig = src.tensor(s);
                double rms = Math.sqrt(sumSquares(orig) / orig.numel());
                double rmse = GgufQuantizer.rmse(orig, q.tensor(d));
                assertTrue(rmse <= relRmseBound * rms, s.name() + ": rmse " + rmse + " > " + relRmseBound + " * rms " + rms);
                assertEquals(rmse, report.tensors().get(i).rmse(), 1e-9 * rms + 1e-12, s.name());
            }
            assertEquals(bytesAfter, report.bytesAfter());
            assertEquals(a.stream().mapToLong(GgufTensorInfo::byteSize).sum(), report.bytesBefore());
            assertTrue(report.bytesAfter() < report.bytesBefore());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.filter(p -> p.getFileName().toString().endsWith(".scratch")).count(), "scratch file removed");
        }
        return report;
    }

    private static double sumSquares(Tensor t) {
        try (Tensor f = Ops.contiguous(t)) {
            double s = 0;
            for (float v : f.toFloatArray()) {
                s += (double) v * v;
            }
            return s;
        }
    }

    @Test
    void q8_0QuantizesRowsOf64AndKeepsRowsOf172AsF32(@TempDir Path dir) throws Exception {
        GgufQuantizer.Report r = check(dir, DType.Q8_0, DType.Q8_0, DType.F32, 0.01);
        assertTrue(r.tensors().stream().anyMatch(t -> t.note().equals("row length 172 fits no block of Q8_0: kept F32")));
    }

    @Test
    void q4_0QuantizesRowsOf64(@TempDir Path dir) throws Exception {
        check(dir, DType.Q4_0, DType.Q4_0, DType.F32, 0.15);
    }

    @Test
    void kQuantsFallBackToLegacyTypesWhenRowsAreShorterThan256(@TempDir Path dir) throws Exception {
        GgufQuantizer.Report r = check(dir, DType.Q4_K, DType.Q5_0, DType.F32, 0.08);
        assertTrue(r.tensors().stream().anyMatch(t -> t.note().equals("row length 64 is not a multiple of Q4_K's block size 256: Q5_0 instead")));
        assertTrue(r.tensors().stream().anyMatch(t -> t.note().equals("row length 172 fits no block of Q4_K or Q5_0: kept F32")));
        check(dir, DType.Q6_K, DType.Q8_0, DType.F32, 0.01);
        check(dir, DType.Q5_K, DType.Q5_1, DType.F32, 0.08);
    }

    @Test
    void everyLegacyTypeProducesAReadableFile(@TempDir Path dir) throws Exception {
        check(dir, DType.Q4_1, DType.Q4_1, DType.F32, 0.15);
        check(dir, DType.Q5_0, DType.Q5_0, DType.F32, 0.08);
        check(dir, DType.Q5_1, DType.Q5_1, DType.F32, 0.08);
    }

    @Test
    void requantizingAQuantizedFileReplacesFileTypeAndKeepsQuantizedTensors(@TempDir Path dir) throws Exception {
        Path q8 = dir.resolve("q8.gguf");
        Path q4 = dir.resolve("q4.gguf");
        GgufQuantizer.quantize(STORIES, q8, DType.Q8_0, false, null);
        GgufQuantizer.Report r = GgufQuantizer.quantize(q8, q4, DType.Q4_0, false, null);
        assertEquals(r.bytesBefore(), r.bytesAfter(), "nothing left to quantize");
        try (GgufFile a = GgufFile.open(q8); GgufFile b = GgufFile.open(q4)) {
            assertEquals(List.copyOf(a.metadata().keys()), List.copyOf(b.metadata().keys()), "keys kept in order, none added twice");
            assertEquals(2, b.metadata().getInt(GgufQuantizer.FILE_TYPE_KEY));
            assertEquals(a.tensorInfos().stream().map(GgufTensorInfo::type).toList(),
                    b.tensorInfos().stream().map(GgufTensorInfo::type).toList());
        }
    }

    @Test
    void rejectsNonTargetsAndMissingInput(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class,
                () -> GgufQuantizer.quantize(STORIES, dir.resolve("x.gguf"), DType.F16, false, null));
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> GgufQuantizer.quantize(dir.resolve("missing.gguf"), dir.resolve("x.gguf"), DType.Q8_0, false, null));
        assertFalse(Files.exists(dir.resolve("x.gguf")));
    }
}
