package dev.tessera.io.safetensors;

import dev.tessera.io.ModelFormatException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A strict JSON (RFC 8259) reader over UTF-8 bytes, driven by the caller's schema: it reads one
 * token at a time and builds no tree, so memory stays proportional to what the caller keeps.
 * Rejects trailing commas, comments, single quotes, control characters in strings, lone
 * surrogates, malformed UTF-8, leading zeros, and nesting deeper than {@link #MAX_DEPTH}.
 * Errors carry the file offset ({@code base} + index).
 */
final class JsonCursor {
    static final int MAX_DEPTH = 64;

    private final byte[] b;
    private final long base;
    private final Path file;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] text = new byte[64];
    private int pos;
    private int tokenStart;

    JsonCursor(byte[] b, long base, Path file) {
        this.b = b;
        this.base = base;
        this.file = file;
    }

    ModelFormatException error(String field, long offset, String detail) {
        return new ModelFormatException(file, field, offset, detail);
    }

    /** File offset of the next token (after whitespace). */
    long offset() {
        skipWhitespace();
        return base + pos;
    }

    /** File offset where the last string or number token started. */
    long tokenStart() {
        return base + tokenStart;
    }

    /** File offset just past the last token read. */
    long tokenEnd() {
        return base + pos;
    }

    private void skipWhitespace() {
        while (pos < b.length) {
            byte c = b[pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** The next byte after whitespace, or -1 at the end. */
    int peek() {
        skipWhitespace();
        return pos < b.length ? b[pos] & 0xFF : -1;
    }

    boolean consume(char c) {
        if (peek() == c) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(char c, String field) throws ModelFormatException {
        if (!consume(c)) {
            throw error(field, base + pos, "expected '" + c + "' but found " + describeNext());
        }
    }

    /** Nothing but whitespace may follow the top-level value. */
    void expectEnd(String field) throws ModelFormatException {
        if (peek() != -1) {
            throw error(field, base + pos, "unexpected " + describeNext() + " after the end of the JSON value");
        }
    }

    private String describeNext() {
        if (pos >= b.length) {
            return "the end of the header";
        }
        int c = b[pos] & 0xFF;
        return c >= 0x20 && c < 0x7F ? "'" + (char) c + "'" : String.format("byte 0x%02X", c);
    }

    String string(String field) throws ModelFormatException {
        skipWhitespace();
        if (pos >= b.length || b[pos] != '"') {
            throw error(field, base + pos, "expected a string but found " + describeNext());
        }
        tokenStart = pos;
        pos++;
        int n = 0;
        boolean ascii = true;
        while (true) {
            if (pos >= b.length) {
                throw error(field, base + tokenStart, "unterminated string");
            }
            int c = b[pos] & 0xFF;
            if (c == '"') {
                pos++;
                break;
            }
            if (c < 0x20) {
                throw error(field, base + pos, String.format("control character 0x%02X in a string", c));
            }
            if (n + 4 > text.length) {
                byte[] grown = new byte[text.length * 2];
                System.arraycopy(text, 0, grown, 0, n);
                text = grown;
            }
            if (c != '\\') {
                text[n++] = (byte) c;
                ascii &= c < 0x80;
                pos++;
                continue;
            }
            long escAt = base + pos;
            if (pos + 1 >= b.length) {
                throw error(field, escAt, "unterminated escape");
            }
            int e = b[pos + 1];
            pos += 2;
            int cp = switch (e) {
                case '"' -> '"';
                case '\\' -> '\\';
                case '/' -> '/';
                case 'b' -> '\b';
                case 'f' -> '\f';
                case 'n' -> '\n';
                case 'r' -> '\r';
                case 't' -> '\t';
                case 'u' -> unicodeEscape(field, escAt);
                default -> throw error(field, escAt, "invalid escape '\\" + (char) (e & 0xFF) + "'");
            };
            if (cp >= 0x80) {
                ascii = false;
            }
            n = appendUtf8(cp, n);
        }
        if (ascii) {
            return new String(text, 0, n, StandardCharsets.ISO_8859_1);
        }
        try {
            return utf8.reset().decode(ByteBuffer.wrap(text, 0, n)).toString();
        } catch (CharacterCodingException ex) {
            throw error(field, base + tokenStart, "malformed UTF-8 in a string");
        }
    }

    /** After "\\u": four hex digits, and a second escape for a surrogate pair. Returns the code point. */
    private int unicodeEscape(String field, long escAt) throws ModelFormatException {
        int hi = hex4(field, escAt);
        if (hi >= 0xDC00 && hi <= 0xDFFF) {
            throw error(field, escAt, "lone low surrogate \\u" + Integer.toHexString(hi));
        }
        if (hi < 0xD800 || hi > 0xDBFF) {
            return hi;
        }
        if (pos + 1 >= b.length || b[pos] != '\\' || b[pos + 1] != 'u') {
            throw error(field, escAt, "high surrogate \\u" + Integer.toHexString(hi) + " not followed by a low surrogate");
        }
        pos += 2;
        int lo = hex4(field, escAt);
        if (lo < 0xDC00 || lo > 0xDFFF) {
            throw error(field, escAt, "high surrogate \\u" + Integer.toHexString(hi) + " not followed by a low surrogate");
        }
        return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }

    private int hex4(String field, long escAt) throws ModelFormatException {
        if (pos + 4 > b.length) {
            throw error(field, escAt, "truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(b[pos + i], 16);
            if (d < 0 || b[pos + i] < 0) {
                throw error(field, escAt, "invalid hex digit in a \\u escape");
            }
            v = v << 4 | d;
        }
        pos += 4;
        return v;
    }

    private int appendUtf8(int cp, int n) {
        if (cp < 0x80) {
            text[n++] = (byte) cp;
        } else if (cp < 0x800) {
            text[n++] = (byte) (0xC0 | cp >> 6);
            text[n++] = (byte) (0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            text[n++] = (byte) (0xE0 | cp >> 12);
            text[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
            text[n++] = (byte) (0x80 | cp & 0x3F);
        } else {
            text[n++] = (byte) (0xF0 | cp >> 18);
            text[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
            text[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
            text[n++] = (byte) (0x80 | cp & 0x3F);
        }
        return n;
    }

    /** A number token, validated against the JSON grammar; returns its text. */
    String number(String field) throws ModelFormatException {
        skipWhitespace();
        tokenStart = pos;
        if (pos < b.length && b[pos] == '-') {
            pos++;
        }
        if (pos < b.length && b[pos] == '0') {
            pos++;
        } else if (pos < b.length && b[pos] >= '1' && b[pos] <= '9') {
            digits();
        } else {
            throw error(field, base + tokenStart, "expected a number but found " + describeNext());
        }
        if (pos < b.length && b[pos] == '.') {
            pos++;
            if (digits() == 0) {
                throw error(field, base + tokenStart, "a '.' in a number must be followed by digits");
            }
        }
        if (pos < b.length && (b[pos] == 'e' || b[pos] == 'E')) {
            pos++;
            if (pos < b.length && (b[pos] == '+' || b[pos] == '-')) {
                pos++;
            }
            if (digits() == 0) {
                throw error(field, base + tokenStart, "an exponent must have digits");
            }
        }
        return new String(b, tokenStart, pos - tokenStart, StandardCharsets.ISO_8859_1);
    }

    private int digits() {
        int start = pos;
        while (pos < b.length && b[pos] >= '0' && b[pos] <= '9') {
            pos++;
        }
        return pos - start;
    }

    /** A number that must be a non-negative integer fitting in a signed 64-bit long. */
    long nonNegativeLong(String field) throws ModelFormatException {
        String t = number(field);
        for (int i = 0; i < t.length(); i++) {
            if (t.charAt(i) < '0' || t.charAt(i) > '9') {
                throw error(field, base + tokenStart, "expected a non-negative integer, got " + abbreviate(t));
            }
        }
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw error(field, base + tokenStart, "integer " + abbreviate(t) + " does not fit in 64 bits");
        }
    }

    private static String abbreviate(String t) {
        return t.length() <= 40 ? t : t.substring(0, 37) + "...";
    }

    /** Reads and discards any value, checking its syntax. */
    void skipValue(String field, int depth) throws ModelFormatException {
        if (depth > MAX_DEPTH) {
            throw error(field, base + pos, "JSON nested deeper than " + MAX_DEPTH + " levels");
        }
        int c = peek();
        switch (c) {
            case '{' -> {
                pos++;
                if (consume('}')) {
                    return;
                }
                do {
                    string(field + " key");
                    expect(':', field);
                    skipValue(field, depth + 1);
                } while (consume(','));
                expect('}', field);
            }
            case '[' -> {
                pos++;
                if (consume(']')) {
                    return;
                }
                do {
                    skipValue(field, depth + 1);
                } while (consume(','));
                expect(']', field);
            }
            case '"' -> string(field);
            case 't' -> literal("true", field);
            case 'f' -> literal("false", field);
            case 'n' -> literal("null", field);
            default -> number(field);
        }
    }

    private void literal(String word, String field) throws ModelFormatException {
        for (int i = 0; i < word.length(); i++) {
            if (pos + i >= b.length || b[pos + i] != word.charAt(i)) {
                throw error(field, base + pos, "invalid literal, expected " + word);
            }
        }
        pos += word.length();
    }
}
