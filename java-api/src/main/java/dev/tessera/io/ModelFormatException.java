package dev.tessera.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model file is malformed, truncated, hostile or uses a feature Tessera does not support.
 *
 * <p>The message always names the file, the field and the byte offset where the problem was found,
 * e.g. {@code model.gguf: kv[3] 'general.alignment' value at byte 212: alignment 24 is not a
 * non-zero power of two}.
 */
public final class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;
    private final long offset;
    private final String detail;

    /**
     * @param file the file being read
     * @param field what was being read, e.g. {@code tensor_info[2] 'output.weight' ne[1]}
     * @param offset byte offset in the file where the field starts, or -1 if not tied to one place
     * @param detail what is wrong
     */
    public ModelFormatException(Path file, String field, long offset, String detail) {
        this(file, field, offset, detail, null);
    }

    public ModelFormatException(Path file, String field, long offset, String detail, Throwable cause) {
        super(format(file, field, offset, detail), cause);
        this.file = file;
        this.field = field;
        this.offset = offset;
        this.detail = detail;
    }

    private static String format(Path file, String field, long offset, String detail) {
        return file + ": " + field + (offset >= 0 ? " at byte " + offset : "") + ": " + detail;
    }

    public Path file() {
        return file;
    }

    public String field() {
        return field;
    }

    /** Byte offset of the offending field in the file, or -1. */
    public long offset() {
        return offset;
    }

    /** The problem without the file/field/offset prefix. */
    public String detail() {
        return detail;
    }
}
