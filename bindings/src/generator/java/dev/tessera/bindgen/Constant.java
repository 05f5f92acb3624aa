package dev.tessera.bindgen;

/**
 * An integer {@code #define}. {@code isLong} follows the C type of the literal (LP64 rules);
 * unsigned values keep their bit pattern, like the unsigned function types do.
 */
public record Constant(String name, long value, boolean isLong, boolean hex, int line, String doc) {}
