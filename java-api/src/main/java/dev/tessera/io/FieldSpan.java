package dev.tessera.io;

/**
 * Where a reader found one field of a file's structure: handed to an optional listener while
 * parsing, for dump tools and for fuzz tests that forge exactly the bytes of a count or offset.
 *
 * @param field the field's name as error messages spell it
 * @param offset byte offset of the field in the file
 * @param length bytes the field occupies
 * @param kind what the field means
 */
public record FieldSpan(String field, long offset, long length, Kind kind) {
    /** The role of a field. */
    public enum Kind {
        /** File magic. */
        MAGIC,
        /** Format version. */
        VERSION,
        /** Number of following items (tensors, key/values, array elements). */
        COUNT,
        /** Byte length of a string or of a header. */
        LENGTH,
        /** A type id or type name. */
        TYPE,
        /** A dimension count or dimension size. */
        DIMENSION,
        /** A data offset. */
        OFFSET,
        /** Any other value. */
        VALUE
    }
}
