package dev.tessera.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token ids into text piece by piece. A character whose UTF-8 bytes are split
 * over several tokens (byte-fallback tokens, byte-level BPE pieces of an emoji) is held back until
 * its last byte arrives, so every returned string is whole. Applies the same first-piece space rule
 * as {@link Tokenizer#decode(int[])} but not the clean-up rules (they need look-ahead). Not thread-safe.
 */
public final class StreamDecoder {
    private final GgufTokenizer tokenizer;
    private final boolean renderSpecial;
    private final boolean startOfText;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean first;

    StreamDecoder(GgufTokenizer tokenizer, boolean renderSpecial, boolean startOfText) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
        this.startOfText = startOfText;
        this.first = startOfText;
    }

    /** Adds one token; returns the text that is now complete (possibly empty). */
    public String next(int id) {
        byte[] b = tokenizer.pieceBytes(id, renderSpecial);
        int from = 0;
        if (first && tokenizer.addSpacePrefix() && b.length > 0 && b[0] == ' ') {
            from = 1; // the SentencePiece prefix space, as decode() drops it
        }
        first = false;
        pending.write(b, from, b.length - from);
        byte[] all = pending.toByteArray();
        int cut = completeLength(all);
        pending.reset();
        pending.write(all, cut, all.length - cut);
        return new String(all, 0, cut, StandardCharsets.UTF_8);
    }

    /** Returns what is still held back (an incomplete sequence shows as U+FFFD) and resets. */
    public String finish() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        first = startOfText;
        return s;
    }

    /**
     * Length of the prefix of {@code b} that ends on a character boundary: a trailing lead byte
     * followed by fewer continuation bytes than it announces is held back; anything malformed is
     * let through (the decoder shows it as U+FFFD).
     */
    static int completeLength(byte[] b) {
        int n = b.length;
        // A sequence is at most 4 bytes, so only the last 3 can belong to an unfinished one.
        for (int k = 1; k <= Math.min(3, n); k++) {
            int c = b[n - k] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            int need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
            return need > k ? n - k : n;
        }
        return n;
    }
}
