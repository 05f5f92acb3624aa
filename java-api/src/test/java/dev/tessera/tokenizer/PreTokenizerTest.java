package dev.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The regex splits, checked against what the pre-tokenizer regexes mean, for the pre-tokenizers
 * whose vocabularies have no test vectors here (llama3, qwen2) and for the mechanics the vectors
 * rely on (Unicode classes, lookahead at a piece's end, byte-level encoding).
 */
class PreTokenizerTest {
    private static List<String> split(String pre, String text) {
        PreTokenizer p = PreTokenizer.of(PreTokenizer.spec(pre, "test"));
        return p.split(text).stream().map(w -> new String(Unicode.byteDecode(w), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void llama3() {
        assertEquals(List.of("Hello", " world"), split("llama3", "Hello world"));
        assertEquals(List.of("I", "'M", " ", "123", "45", " ok"), split("llama3", "I'M 12345 ok"));
        assertEquals(List.of("\n\n", " ", " x"), split("llama3", "\n\n  x"));
        assertEquals(List.of(",.!?", " a"), split("llama3", ",.!? a"));
        assertEquals(List.of("naïve", " café"), split("llama3", "naïve café"));
        // A symbol cannot be the optional lead of a word when a space precedes it: " 🦙" then "x".
        assertEquals(List.of("🦙🦙", "x", " 🦙", "x", "🦙x"), split("llama3", "🦙🦙x 🦙x🦙x"));
        assertEquals(List.of("a", "   "), split("llama3", "a   ")); // trailing spaces: \s+(?!\S) at the end
    }

    @Test
    void qwen2SplitsDigitsOneByOne() {
        assertEquals(List.of("3", "3", "3", "3"), split("qwen2", "3333"));
        assertEquals(List.of("x", "'s", " y"), split("qwen2", "x's y"));
    }

    @Test
    void gpt2() {
        // "'a" is no contraction: the apostrophe is punctuation on its own.
        assertEquals(List.of("Hello", ",", " y", "'", "all", "'ll", "!", " ", " 3333", "\n"),
                split("gpt-2", "Hello, y'all'll!  3333\n"));
        // \s+(?!\S): of three spaces before a word, the last one goes with the word.
        assertEquals(List.of("  ", " Hello"), split("gpt-2", "   Hello"));
        // Non-ASCII whitespace (U+3000) counts as \s; '~' and other symbols go with punctuation.
        assertEquals(List.of("a", "\u3000", "b", " ~~"), split("gpt-2", "a\u3000b ~~"));
    }

    @Test
    void starcoderIsolatesEveryDigitFirst() {
        assertEquals(List.of("x", "1", "2", " ", "3"), split("starcoder", "x12 3"));
    }

    @Test
    void defaultGroupsDigitsByThreeAndIsolatesPunctuation() {
        assertEquals(List.of("333", "3", "...", "a"), split("default", "3333...a"));
    }

    @Test
    void unknownNamesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> PreTokenizer.spec("gpt-neox", "f.gguf"));
        assertEquals("default", PreTokenizer.spec(null, "f.gguf").name());
        assertEquals("default", PreTokenizer.spec("", "f.gguf").name());
    }

    @Test
    void classesAreRewrittenForTheCollapsedText() {
        assertEquals("[\u00D2A-Za-z]+", PreTokenizer.collapseRegex("\\p{L}+"));
        assertEquals("[^\\s\u00D2A-Za-z\u00D10-9]", PreTokenizer.collapseRegex("[^\\s\\p{L}\\p{N}]"));
    }
}
