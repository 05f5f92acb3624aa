package dev.tessera.generate;

/** Receives generated tokens as they come. */
@FunctionalInterface
public interface TokenListener {
    /**
     * One generated token and the text that became final with it: possibly empty (part of a UTF-8
     * character, or text held back because it may begin a stop string), possibly more than the
     * token's own piece (text released from an earlier token). When generation ends with text still
     * held back, it comes in a last call with token -1.
     */
    void onToken(int token, String text);
}
