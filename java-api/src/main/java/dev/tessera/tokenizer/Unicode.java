package dev.tessera.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The code point classes llama.cpp's tokenizers use: one category per code point from the Unicode
 * general category (number, letter, mark, punctuation, symbol, separator, control, undefined) plus
 * the White_Space property, and GPT-2's byte-to-character table.
 */
final class Unicode {
    static final int UNDEFINED = 0x01;
    static final int NUMBER = 0x02;
    static final int LETTER = 0x04;
    static final int SEPARATOR = 0x08;
    static final int MARK = 0x10;
    static final int PUNCTUATION = 0x20;
    static final int SYMBOL = 0x40;
    static final int CONTROL = 0x80;

    /** Byte b is written as the character BYTE_TO_CHAR[b] in byte-level BPE vocabularies. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** Inverse of BYTE_TO_CHAR (index by char, -1 where none). */
    static final short[] CHAR_TO_BYTE = new short[512];

    static {
        // Printable Latin-1 bytes stand for themselves; the other 68 bytes get 256, 257, ... in byte order.
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = self ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private Unicode() {}

    static int category(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UNASSIGNED -> UNDEFINED;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                    Character.OTHER_SYMBOL -> SYMBOL;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            default -> UNDEFINED;
        };
    }

    /** The Unicode White_Space property (the set llama.cpp's tables hold). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** C's isspace in the "C" locale (what llama.cpp uses for the lstrip/rstrip of special tokens). */
    static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** The UTF-8 bytes of code points cps[from, from + len). */
    static byte[] utf8(int[] cps, int from, int len) {
        return new String(cps, from, len).getBytes(StandardCharsets.UTF_8);
    }

    /** Byte-level BPE: every byte of the UTF-8 of cps[from, from + len) as its table character. */
    static String byteEncode(int[] cps, int from, int len) {
        byte[] b = utf8(cps, from, len);
        char[] out = new char[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = BYTE_TO_CHAR[b[i] & 0xFF];
        }
        return new String(out);
    }

    /** Inverse of byteEncode for a vocabulary token; characters outside the table pass through as UTF-8. */
    static byte[] byteDecode(String token) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); ) {
            int cp = token.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) {
                out.write(CHAR_TO_BYTE[cp]);
            } else {
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
