package dev.tessera.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.ModelFormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Malformed and hostile safetensors files: each fails with a ModelFormatException naming file, field and offset. */
class SafetensorsHostileFileTest {
    @TempDir
    Path dir;

    private static byte[] file(long headerLength, byte[] header, int dataBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
        out.writeBytes(header);
        out.writeBytes(new byte[dataBytes]);
        return out.toByteArray();
    }

    private static byte[] file(String json, int dataBytes) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, dataBytes);
    }

    private ModelFormatException rejected(byte[] bytes, String field, long offset, String detail) throws IOException {
        Path f = Files.write(dir.resolve("bad.safetensors"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(f).close());
        assertEquals(f, e.file());
        assertTrue(e.field().contains(field), () -> "field '" + field + "': " + e.getMessage());
        if (offset >= 0) {
            assertEquals(offset, e.offset(), () -> "offset: " + e.getMessage());
        }
        assertTrue(e.detail().contains(detail), () -> "detail: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(f + ": " + e.field() + " at byte " + e.offset() + ": "), e.getMessage());
        return e;
    }

    private static final String GOOD = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @Test
    void wellFormedFileOpens() throws IOException {
        Path f = Files.write(dir.resolve("ok.safetensors"), file("  " + GOOD + " \n\t", 8));
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals(2, s.tensor("a").numel());
        }
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        rejected(new byte[5], "header length", 0, "file has 5 bytes");
    }

    @Test
    void headerLengthBeyondTheFileOrTheCap() throws IOException {
        rejected(file(1000, GOOD.getBytes(), 8), "header length", 0, "header length 1000 exceeds the 62 bytes after it");
        rejected(file(-1, GOOD.getBytes(), 8), "header length", 0, "18446744073709551615 exceeds the limit of 100000000 bytes");
        rejected(file(100_000_001, GOOD.getBytes(), 8), "header length", 0, "exceeds the limit of 100000000 bytes");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "empty header                 | ``                                        | header       | 8  | expected '{' but found the end",
        "array at top level           | []                                        | header       | 8  | expected '{'",
        "trailing comma               | {\"__metadata__\":{},}                    | tensor name  | 27 | expected a string",
        "missing colon                | {\"a\" {}}                                | tensor 'a'   | 13 | expected ':'",
        "unterminated string          | {\"abc                                    | tensor name  | 9  | unterminated string",
        "single quotes                | {'a':1}                                   | tensor name  | 9  | expected a string",
        "comment                      | {/*x*/}                                   | tensor name  | 9  | expected a string",
        "trailing garbage             | {}x                                       | header       | 10 | after the end of the JSON value",
        "two objects                  | {}{}                                      | header       | 10 | after the end",
        "bad escape                   | {\"a\\q\":1}                              | tensor name  | 11 | invalid escape",
        "lone low surrogate           | {\"\\udc00\":1}                           | tensor name  | 10 | lone low surrogate",
        "unpaired high surrogate      | {\"\\ud800x\":1}                          | tensor name  | 10 | not followed by a low surrogate",
        "short unicode escape         | {\"\\u12\"}                               | tensor name  | 10 | invalid hex digit",
        "tensor entry not an object   | {\"a\":5}                                 | tensor 'a'   | 13 | expected '{'",
        "missing dtype                | {\"a\":{\"shape\":[],\"data_offsets\":[0,0]}} | tensor 'a' | 13 | missing \"dtype\"",
        "missing data_offsets         | {\"a\":{\"dtype\":\"F32\",\"shape\":[]}}   | tensor 'a'   | 13 | missing \"data_offsets\"",
        "dtype not a string           | {\"a\":{\"dtype\":1}}                     | tensor 'a' dtype | 22 | expected a string",
        "duplicate member             | {\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\"}} | tensor 'a' dtype | 28 | duplicate \"dtype\"",
        "unknown dtype                | {\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[],\"data_offsets\":[0,1]}} | tensor 'a' dtype | 22 | unsupported safetensors dtype 'F8_E4M3'",
        "negative dim                 | {\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}} | shape[0] | 37 | expected a non-negative integer, got -1",
        "fractional dim               | {\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}} | shape[0] | 37 | got 1.5",
        "exponent dim                 | {\"a\":{\"dtype\":\"F32\",\"shape\":[1e3],\"data_offsets\":[0,0]}} | shape[0] | 37 | got 1e3",
        "leading zero                 | {\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,0]}} | shape | 38 | expected ']'",
        "dim beyond 64 bits           | {\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]}} | shape[0] | 37 | does not fit in 64 bits",
        "too many offsets             | {\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4,8]}} | data_offsets | 54 | more than 2 numbers",
        "one offset                   | {\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0]}} | data_offsets | 54 | expected [begin, end], got 1",
        "begin after end              | {\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}} | data_offsets | 55 | begin 8 > end 4",
        "end past the data            | {\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}} | data_offsets | 55 | exceeds the data section (8 bytes)",
        "size mismatch                | {\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}} | data_offsets | 55 | needs 12 bytes but data_offsets [0, 8) hold 8",
        "numel overflow               | {\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}} | tensor 'a' shape | 36 | overflows",
        "duplicate tensor             | {\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]},\"a\":{}} | tensor 'a' | 60 | duplicate tensor name",
        "overlap                      | {\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]}} | tensor 'b' data_offsets | 107 | overlaps tensor 'a' [0, 4)",
        "metadata not strings         | {\"__metadata__\":{\"k\":1}}              | __metadata__ 'k' | 29 | values must be strings",
        "metadata not an object       | {\"__metadata__\":[]}                     | __metadata__ | 24 | expected '{'",
        "duplicate metadata key       | {\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}} | __metadata__ 'k' | 33 | duplicate __metadata__ key",
        "duplicate metadata           | {\"__metadata__\":{},\"__metadata__\":{}} | __metadata__ | 27 | duplicate __metadata__",
        "control character            | {\"a\u0001\":1}                           | tensor name  | 11 | control character 0x01",
        "bad literal                  | {\"a\":{\"dtype\":\"F32\",\"x\":nul}}     | tensor 'a' x | 32 | invalid literal",
        "minus without digits         | {\"a\":{\"x\":-}}                         | tensor 'a' x | 18 | expected a number",
    })
    void malformedHeader(String name, String json, String field, long offset, String detail) throws IOException {
        rejected(file(json, 8), field.strip(), offset, detail);
    }

    @Test
    void invalidUtf8InTheHeader() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '{', '}', '}'};
        rejected(file(h.length, h, 0), "tensor name", 9, "malformed UTF-8");
    }

    @Test
    void deepNestingInAnIgnoredMemberFailsCleanly() throws IOException {
        String json = "{\"a\":{\"dtype\":\"F32\",\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}}";
        rejected(file(json, 8), "tensor 'a' x", -1, "nested deeper than 64");
    }

    @Test
    void unknownMembersAreIgnoredAndGapsAreAccepted() throws IOException {
        String json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"extra\":{\"deep\":[1,2.5e-3,true,false,null,\"s\"]},"
                + "\"data_offsets\":[4,8]},\"e\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[2,2]}}";
        Path f = Files.write(dir.resolve("ok.safetensors"), file(json, 12));
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals(4, s.tensorInfo("a").begin());
            assertEquals(0, s.tensor("e").numel());
        }
    }

    @Test
    void emptyTensorWithHugeDimsIsAcceptedAndViewable() throws IOException {
        // Found by the fuzz test: 0 bytes, but the other dim overflows the packed strides.
        String json = "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,9223372036854775807],\"data_offsets\":[0,0]}}";
        Path f = Files.write(dir.resolve("empty.safetensors"), file(json, 0));
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals(0, s.tensor("e").numel());
        }
    }

    @Test
    void surrogatePairEscapesDecodeToOneCodePoint() throws IOException {
        String json = "{\"\\ud83d\\ude00\\u00e9\\n\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}";
        Path f = Files.write(dir.resolve("esc.safetensors"), file(json, 1));
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertTrue(s.hasTensor("\ud83d\ude00\u00e9\n"));
        }
    }
}
