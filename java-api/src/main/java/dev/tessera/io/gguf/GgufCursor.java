package dev.tessera.io.gguf;

import dev.tessera.io.FieldSpan;
import dev.tessera.io.ModelFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A little-endian reader over a file mapping that checks every read against the bytes left, so a
 * forged length or count fails here with a {@link ModelFormatException} before anything is
 * allocated. Errors name the current scope (set by the parser, e.g. {@code kv[3] 'general.name'}),
 * the field and its offset.
 */
final class GgufCursor {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final long size;
    private final Path file;
    private final Consumer<FieldSpan> listener;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] scratch = new byte[256];
    private long pos;
    private String scope = "";
    private long element = -1;

    GgufCursor(MemorySegment seg, Path file, Consumer<FieldSpan> listener) {
        this.seg = seg;
        this.size = seg.byteSize();
        this.file = file;
        this.listener = listener;
    }

    long position() {
        return pos;
    }

    long size() {
        return size;
    }

    long remaining() {
        return size - pos;
    }

    /** Names what is being read, for errors: e.g. {@code kv[3] 'general.name'}. Clears the element index. */
    void scope(String scope) {
        this.scope = scope;
        this.element = -1;
    }

    /** The array element being read, or -1. */
    void element(long index) {
        this.element = index;
    }

    private String describe(String field) {
        StringBuilder sb = new StringBuilder(scope);
        if (element >= 0) {
            sb.append('[').append(element).append(']');
        }
        if (!field.isEmpty()) {
            sb.append(sb.isEmpty() ? "" : " ").append(field);
        }
        return sb.toString();
    }

    ModelFormatException error(String field, long offset, String detail) {
        return new ModelFormatException(file, describe(field), offset, detail);
    }

    /** Fails unless {@code n} more bytes exist. */
    void require(long n, String field) throws ModelFormatException {
        if (n < 0 || n > size - pos) {
            throw error(field, pos, "truncated: needs " + (n < 0 ? Long.toUnsignedString(n) : n) + " bytes but only "
                    + (size - pos) + " remain (file size " + size + ")");
        }
    }

    /** Checks, reports and skips an {@code n}-byte field; returns its offset. */
    private long take(long n, String field, FieldSpan.Kind kind) throws ModelFormatException {
        require(n, field);
        long at = pos;
        if (listener != null && n > 0) {
            listener.accept(new FieldSpan(describe(field), at, n, kind));
        }
        pos += n;
        return at;
    }

    int u8(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return seg.get(ValueLayout.JAVA_BYTE, take(1, field, kind)) & 0xFF;
    }

    short i16(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return seg.get(I16, take(2, field, kind));
    }

    int i32(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return seg.get(I32, take(4, field, kind));
    }

    /** A u32 as a non-negative long. */
    long u32(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return i32(field, kind) & 0xFFFF_FFFFL;
    }

    /** Raw 64 bits; the caller decides signedness. */
    long i64(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return seg.get(I64, take(8, field, kind));
    }

    float f32(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return seg.get(F32, take(4, field, kind));
    }

    double f64(String field, FieldSpan.Kind kind) throws ModelFormatException {
        return seg.get(F64, take(8, field, kind));
    }

    /** Bulk-copies {@code count} elements of {@code layout} into {@code array} (bounds checked first). */
    void bulk(ValueLayout layout, Object array, int count, String field) throws ModelFormatException {
        long at = take(count * layout.byteSize(), field, FieldSpan.Kind.VALUE);
        MemorySegment.copy(seg, layout, at, array, 0, count);
    }

    /**
     * A GGUF string: u64 length then that many UTF-8 bytes. Lengths above {@code maxBytes} or the
     * bytes left, and malformed UTF-8, are errors.
     */
    String string(String field, long maxBytes) throws ModelFormatException {
        long lenAt = pos;
        long len = i64(field + " length", FieldSpan.Kind.LENGTH);
        if (len < 0 || len > size - pos) {
            throw error(field + " length", lenAt, "string length " + Long.toUnsignedString(len)
                    + " exceeds the " + (size - pos) + " bytes left in the file");
        }
        if (len > maxBytes) {
            throw error(field + " length", lenAt, "string length " + len + " exceeds the limit of " + maxBytes + " bytes");
        }
        if (len == 0) {
            return ""; // one shared instance: a file of empty strings costs no heap per element
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw error(field + " length", lenAt, "string length " + len + " exceeds 2 GiB");
        }
        int n = (int) len;
        long at = pos;
        pos += n;
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, scratch.length * 2)];
        }
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, at, scratch, 0, n);
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            if (scratch[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(scratch, 0, n, StandardCharsets.ISO_8859_1); // fast path: no decoder
        }
        try {
            return utf8.reset().decode(ByteBuffer.wrap(scratch, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw error(field, at, "malformed UTF-8 in a " + n + "-byte string");
        }
    }
}
