package dev.tessera.io.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.ModelFormatException;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed and hostile GGUF files: each must fail with a {@link ModelFormatException} naming the
 * file, the field and the byte offset. Layout reminder: magic 0, version 4, tensor_count 8,
 * kv_count 16, first key/value at 24.
 */
class GgufHostileFileTest {
    @TempDir
    Path dir;

    private ModelFormatException rejected(GgufBytes b, String field, long offset, String detail) throws IOException {
        Path file = b.write(dir, "bad.gguf");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(file).close());
        assertEquals(file, e.file());
        assertTrue(e.field().contains(field), () -> "field '" + field + "': " + e.getMessage());
        assertEquals(offset, e.offset(), () -> "offset: " + e.getMessage());
        assertTrue(e.detail().contains(detail), () -> "detail: " + e.getMessage());
        assertEquals(file + ": " + e.field() + " at byte " + offset + ": " + e.detail(), e.getMessage());
        return e;
    }

    /** A file with one tensor info and no metadata, for tensor-info cases. */
    private static GgufBytes oneTensor(String name, int type, long offset, long... ne) {
        return GgufBytes.header(3, 1, 0).tensorInfo(name, type, offset, ne);
    }

    @Test
    void badMagic() throws IOException {
        GgufBytes b = new GgufBytes().raw("GGML".getBytes()).u32(3).u64(0).u64(0);
        rejected(b, "magic", 0, "not a GGUF file: starts with 47 47 4D 4C");
    }

    @Test
    void emptyAndTinyFilesAreTruncated() throws IOException {
        rejected(new GgufBytes(), "magic", 0, "truncated: needs 4 bytes but only 0 remain");
        rejected(new GgufBytes().raw("GGUF".getBytes()).u8(3), "version", 4, "truncated");
        rejected(new GgufBytes().raw("GGUF".getBytes()).u32(3).u64(0), "kv_count", 16, "truncated");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 4, 99, 0xFFFF_FFFFL})
    void unsupportedVersion(long version) throws IOException {
        rejected(GgufBytes.header(version, 0, 0), "version", 4, "unsupported GGUF version " + version);
    }

    @Test
    void versionOneIsRejectedByName() throws IOException {
        rejected(GgufBytes.header(1, 0, 0), "version", 4, "GGUF v1");
    }

    @Test
    void byteSwappedVersionIsRecognised() throws IOException {
        rejected(GgufBytes.header(0x0300_0000L, 0, 0), "version", 4, "byte-swapped");
    }

    @Test
    void versionTwoIsAccepted() throws IOException {
        Path file = GgufBytes.header(2, 0, 1).kvString("general.architecture", "llama").write(dir, "v2.gguf");
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(2, f.version());
            assertEquals("llama", f.metadata().getString("general.architecture"));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {-1, 1L << 40, 2})
    void forgedTensorCountCannotAllocate(long count) throws IOException {
        rejected(GgufBytes.header(3, count, 0).zeros(30), "tensor_count", 8, "is impossible");
    }

    @ParameterizedTest
    @ValueSource(longs = {-1, Long.MAX_VALUE, 1L << 32, 5})
    void forgedKvCountCannotAllocate(long count) throws IOException {
        rejected(GgufBytes.header(3, 0, count).zeros(56), "kv_count", 16, "is impossible");
    }

    @Test
    void emptyKey() throws IOException {
        rejected(GgufBytes.header(3, 0, 1).kvU32("", 1), "kv[0] key", 24, "empty key");
    }

    @Test
    void duplicateKey() throws IOException {
        GgufBytes b = GgufBytes.header(3, 0, 2).kvU32("a.b", 1).kvU32("a.b", 2);
        rejected(b, "kv[1] 'a.b' key", 24 + 8 + 3 + 4 + 4, "duplicate key (first defined by kv[0])");
    }

    @Test
    void unknownValueTypeMessageNamesFileFieldAndOffset() throws IOException {
        GgufBytes b = GgufBytes.header(3, 0, 1).str("k").u32(13).u32(0);
        ModelFormatException e = rejected(b, "kv[0] 'k' value type", 33, "unknown value type 13");
        assertTrue(e.getMessage().endsWith("bad.gguf: kv[0] 'k' value type at byte 33: unknown value type 13"), e.getMessage());
    }

    @Test
    void nestedArrayIsRejected() throws IOException {
        GgufBytes b = GgufBytes.header(3, 0, 1).str("k").u32(9).u32(9).u64(1).u32(4).u64(1).u32(7);
        rejected(b, "kv[0] 'k' array element type", 37, "arrays of arrays are not supported");
    }

    @Test
    void unknownArrayElementType() throws IOException {
        rejected(GgufBytes.header(3, 0, 1).str("k").u32(9).u32(77).u64(0), "array element type", 37, "unknown value type 77");
    }

    @Test
    void arrayLengthIsCappedAndCheckedAgainstTheFile() throws IOException {
        rejected(GgufBytes.header(3, 0, 1).str("k").u32(9).u32(0).u64(1L << 31), "kv[0] 'k' array length", 41,
                "exceeds the limit of 1073741824");
        rejected(GgufBytes.header(3, 0, 1).str("k").u32(9).u32(6).u64(1000).zeros(100), "array length", 41,
                "truncated: 1000 FLOAT32 elements need at least 4000 bytes");
        rejected(GgufBytes.header(3, 0, 1).str("k").u32(9).u32(8).u64(100).zeros(100), "array length", 41,
                "need at least 800 bytes");
    }

    @Test
    void stringLengthBeyondTheFile() throws IOException {
        rejected(GgufBytes.header(3, 0, 1).u64(1L << 40).raw("k".getBytes()).zeros(13), "kv[0] key length", 24,
                "exceeds the 14 bytes left");
        rejected(GgufBytes.header(3, 0, 1).str("k").u32(8).u64(-1), "kv[0] 'k' value length", 37, "exceeds");
        GgufBytes inArray = GgufBytes.header(3, 0, 1).str("k").u32(9).u32(8).u64(2).str("ok").u64(99).zeros(10);
        rejected(inArray, "kv[0] 'k'[1] string length", 59, "exceeds the 10 bytes left");
    }

    @Test
    void keysLongerThan64KiBAreRejected() throws IOException {
        String key = "k".repeat(65536);
        rejected(GgufBytes.header(3, 0, 1).kvU32(key, 1), "kv[0] key length", 24, "exceeds the limit of 65535 bytes");
    }

    @Test
    void malformedUtf8InAString() throws IOException {
        GgufBytes b = GgufBytes.header(3, 0, 1).str("k").u32(8).u64(2).raw((byte) 0xC3, (byte) 0x28);
        rejected(b, "kv[0] 'k' value", 45, "malformed UTF-8");
        GgufBytes surrogate = GgufBytes.header(3, 0, 1).str("k").u32(8).u64(3).raw((byte) 0xED, (byte) 0xA0, (byte) 0x80);
        rejected(surrogate, "kv[0] 'k' value", 45, "malformed UTF-8");
    }

    @Test
    void alignmentMustBeANonZeroPowerOfTwoU32() throws IOException {
        rejected(GgufBytes.header(3, 0, 1).str("general.alignment").u32(5).u32(32), "'general.alignment' value", 53,
                "must be UINT32, got INT32");
        rejected(GgufBytes.header(3, 0, 1).kvU32("general.alignment", 0), "'general.alignment' value", 53,
                "alignment 0 is not a non-zero power of two");
        rejected(GgufBytes.header(3, 0, 1).kvU32("general.alignment", 24), "value", 53, "alignment 24 is not");
    }

    @Test
    void customAlignmentIsHonoured() throws IOException {
        GgufBytes b = GgufBytes.header(3, 1, 1).kvU32("general.alignment", 64).tensorInfo("w", 0, 0, 4).padTo(64).zeros(64);
        try (GgufFile f = GgufFile.open(b.write(dir, "a64.gguf"))) {
            assertEquals(64, f.alignment());
            assertEquals(128, f.dataStart());
        }
        GgufBytes misaligned = GgufBytes.header(3, 1, 1).kvU32("general.alignment", 64).tensorInfo("w", 0, 32, 4)
                .padTo(64).zeros(128);
        rejected(misaligned, "tensor_info[0] 'w' offset", 24 + 8 + 17 + 4 + 4 + 8 + 1 + 4 + 8 + 4, "not a multiple of the alignment 64");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        GgufBytes b = GgufBytes.header(3, 2, 0).tensorInfo("w", 0, 0, 8).tensorInfo("w", 0, 32, 8).padTo(32).zeros(64);
        rejected(b, "tensor_info[1] 'w' name", 24 + 33, "duplicate tensor name (first defined by tensor_info[0])");
    }

    @Test
    void tooManyDims() throws IOException {
        rejected(oneTensor("w", 0, 0, 1, 1, 1, 1, 1).padTo(32).zeros(32), "tensor_info[0] 'w' n_dims", 33,
                "n_dims 5 exceeds the maximum of 4");
    }

    @Test
    void negativeDim() throws IOException {
        rejected(oneTensor("w", 0, 0, 4, -2).padTo(32).zeros(32), "ne[1]", 45, "is negative");
    }

    @Test
    void unknownGgmlType() throws IOException {
        rejected(oneTensor("w", 99, 0, 4).padTo(32).zeros(32), "tensor_info[0] 'w' type", 45, "unknown ggml type id 99");
        rejected(oneTensor("w", 4, 0, 32).padTo(32).zeros(32), "type", 45, "Q4_2");
        rejected(oneTensor("w", -1, 0, 4).padTo(32).zeros(32), "type", 45, "unknown ggml type id 4294967295");
    }

    @Test
    void firstDimMustBeWholeBlocks() throws IOException {
        rejected(oneTensor("q", DType.Q4_0.ggmlId(), 0, 33, 2).padTo(32).zeros(64), "tensor_info[0] 'q' ne[0]", 37,
                "ne[0] = 33 is not a multiple of the Q4_0 block size 32");
    }

    @Test
    void byteSizeOverflow() throws IOException {
        rejected(oneTensor("w", 0, 0, 1L << 61).padTo(32), "ne", 37, "overflow a 64-bit byte size");
        rejected(oneTensor("w", 0, 0, 1L << 32, 1L << 32).padTo(32), "ne", 37, "overflow");
    }

    @Test
    void misalignedOrNegativeOffset() throws IOException {
        rejected(oneTensor("w", 0, 4, 4).padTo(32).zeros(64), "tensor_info[0] 'w' offset", 49, "not a multiple of the alignment 32");
        rejected(oneTensor("w", 0, Long.MIN_VALUE, 4).padTo(32).zeros(64), "offset", 49, "is negative");
    }

    @Test
    void tensorDataPastTheEndOfTheFile() throws IOException {
        rejected(oneTensor("w", 0, 0, 1000).padTo(32).zeros(100), "tensor_info[0] 'w' offset", 49, "extends past the end of the file");
        rejected(oneTensor("w", 0, Long.MAX_VALUE & ~31L, 4).padTo(32).zeros(16), "offset", 49, "extends past the end");
    }

    @Test
    void overlappingTensors() throws IOException {
        GgufBytes b = GgufBytes.header(3, 2, 0).tensorInfo("a", 0, 0, 16).tensorInfo("b", 0, 32, 16).padTo(32).zeros(96);
        rejected(b, "tensor_info[1] 'b' offset", 24 + 33 + 25, "overlaps tensor 'a' [0, 64)");
    }

    @Test
    void gapsBetweenTensorsAndEmptyTensorsAreAccepted() throws IOException {
        GgufBytes b = GgufBytes.header(3, 3, 0).tensorInfo("a", 0, 64, 16).tensorInfo("e", 0, 0, 0, 5)
                .tensorInfo("b", 0, 0, 8).padTo(32).zeros(128);
        try (GgufFile f = GgufFile.open(b.write(dir, "gaps.gguf"))) {
            assertEquals(0, f.tensor("e").numel());
            assertEquals(16, f.tensor("a").numel());
        }
    }

    @Test
    void emptyTensorWithHugeDimsIsAcceptedAndViewable() throws IOException {
        // Found by the fuzz test: 0 bytes, but the other dims overflow any stride.
        GgufBytes b = oneTensor("e", 0, 0, 1L << 62, 1L << 62, 0).padTo(32);
        try (GgufFile f = GgufFile.open(b.write(dir, "empty.gguf"))) {
            Tensor t = f.tensor("e");
            assertEquals(0, t.numel());
            assertEquals(0, t.segment().byteSize());
        }
    }

    @Test
    void longTensorNamesAreAcceptedUpTo64KiB() throws IOException {
        String name = "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.attn1.to_out.0.weight".repeat(10);
        try (GgufFile f = GgufFile.open(oneTensor(name, 0, 0, 4).padTo(32).zeros(32).write(dir, "long.gguf"))) {
            assertTrue(f.hasTensor(name));
        }
        rejected(oneTensor("n".repeat(70000), 0, 0, 4), "tensor_info[0] name length", 24, "exceeds the limit of 65535");
    }

    @Test
    void anyNonZeroBoolByteReadsAsTrue() throws IOException {
        Path file = GgufBytes.header(3, 0, 1).str("b").u32(7).u8(2).write(dir, "bool.gguf");
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(f.metadata().getBoolean("b"));
        }
    }

    @Test
    void everyTruncationOfAValidFileIsRejected() throws IOException {
        Path full = dir.resolve("full.gguf");
        try (Tensor w = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3); Tensor q = Tensor.allocate(DType.Q8_0, 2, 32)) {
            new GgufWriter().putString("general.architecture", "test").put("ids", GgufArray.ofInt32(1, 2, 3))
                    .put("words", GgufArray.ofStrings("x", "\u00fc")).addTensor("w", w).addTensor("q", q).write(full);
        }
        byte[] bytes = Files.readAllBytes(full);
        long required;
        try (GgufFile f = GgufFile.open(full)) {
            GgufTensorInfo last = f.tensorInfos().getLast();
            required = f.dataStart() + last.offset() + last.byteSize();
        }
        Path cut = dir.resolve("cut.gguf");
        for (int len = 0; len < bytes.length; len++) {
            Files.write(cut, Arrays.copyOf(bytes, len));
            if (len < required) {
                int n = len;
                assertThrows(ModelFormatException.class, () -> GgufFile.open(cut).close(), () -> "prefix of " + n + " bytes");
            } else {
                GgufFile.open(cut).close(); // only trailing padding is missing
            }
        }
    }
}
