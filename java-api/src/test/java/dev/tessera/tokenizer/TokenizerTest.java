package dev.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Behaviour around the plain encoding: special tokens, BOS/EOS, decoding, streaming, bad metadata. */
class TokenizerTest {
    @TempDir
    Path dir;

    private static Tokenizer load(String vocab) throws IOException {
        return TokenizerVectorsTest.load(vocab);
    }

    @Test
    void llamaAddsBosAndKnowsItsSpecialIds() throws IOException {
        Tokenizer t = load("llama-spm");
        assertEquals("llama", t.model());
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bosId());
        assertEquals(2, t.eosId());
        assertEquals(0, t.unkId());
        assertTrue(t.addsBos());
        assertFalse(t.addsEos());
        assertTrue(t.isEog(2));
        assertFalse(t.isEog(1));
        assertTrue(t.isControl(1));
        assertArrayEquals(new int[] {1, 15043, 3186}, t.encode("Hello world"));
        assertArrayEquals(new int[] {15043, 3186}, t.encode("Hello world", false, false));
        assertArrayEquals(new int[] {1}, t.encode(""));
        assertArrayEquals(new int[0], t.encode("", false, false));
        assertEquals("▁Hello", t.token(15043));
        assertEquals(" Hello", t.piece(15043));
        assertEquals("<0x0A>", t.token(13));
        assertEquals("\n", t.piece(13));
    }

    @Test
    void controlTokenTextIsParsedOnlyWhenAsked() throws IOException {
        Tokenizer t = load("llama-spm");
        // A special token resets the prefix-space rule: the text after it starts a new word.
        assertArrayEquals(new int[] {1, 15043}, t.encode("<s>Hello", false, true));
        int[] plain = t.encode("<s>Hello", false, false);
        assertTrue(plain.length > 2);
        assertTrue(Arrays.stream(plain).noneMatch(id -> id == 1), Arrays.toString(plain));
        assertEquals("<s>Hello", t.decode(plain));

        Tokenizer g = load("gpt-2");
        assertArrayEquals(new int[] {50256}, g.encode("<|endoftext|>", false, true));
        assertTrue(g.encode("<|endoftext|>", false, false).length > 1);
        assertTrue(g.isEog(50256));
        // Rendered only with unparseSpecial.
        int[] ids = g.encode("a<|endoftext|>b", false, true);
        assertEquals("ab", g.decode(ids));
        assertEquals("a<|endoftext|>b", g.decode(ids, false, true));
    }

    @Test
    void gpt2AddsNoBosAndCleansSpacesOnDecode() throws IOException {
        Tokenizer g = load("gpt-2");
        assertEquals("gpt-2", g.preTokenizer());
        assertFalse(g.addsBos());
        assertArrayEquals(g.encode("Hello world", false, false), g.encode("Hello world"));
        assertEquals("Ġworld", g.token(995));
        assertEquals(" world", g.piece(995));
        // llama.cpp's clean-up: no space before , . ! ? and before 's 'm 're 've.
        assertEquals("Hello, world! it's", g.decode(g.encode("Hello , world ! it 's")));
    }

    @Test
    void missingPreTokenizerMeansDefault() throws IOException {
        Tokenizer t = load("gpt-neox");
        assertEquals("gpt2", t.model());
        assertEquals("default", t.preTokenizer());
        String text = "Hello world 3333 (x) $5 — ok\n";
        int[] ids = t.encode(text, false, false);
        StringBuilder joined = new StringBuilder();
        for (int id : ids) {
            joined.append(new String(t.pieceBytes(id, false), StandardCharsets.UTF_8));
        }
        assertEquals(text, joined.toString());
        // The default split puts digits in groups of three before the merges.
        int[] digits = t.encode("3333", false, false);
        assertEquals("333", t.piece(digits[0]));
        assertEquals("3", t.piece(digits[1]));
    }

    @Test
    void streamDecoderHoldsSplitCharactersBack() throws IOException {
        Tokenizer t = load("llama-spm");
        int[] ids = t.encode(" this is 🦙.cpp", false, false);
        // 🦙 has no token: it comes as four byte tokens.
        assertArrayEquals(new int[] {29871, 445, 338, 29871, 243, 162, 169, 156, 29889, 8223}, ids);
        StreamDecoder sd = t.streamDecoder(true);
        String[] parts = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            parts[i] = sd.next(ids[i]);
        }
        assertEquals("", parts[4]);
        assertEquals("", parts[5]);
        assertEquals("", parts[6]);
        assertEquals("🦙", parts[7]);
        assertEquals(" this is 🦙.cpp", String.join("", parts) + sd.finish());
        // Continuing a text keeps the space of the first piece.
        StreamDecoder cont = t.streamDecoder(false);
        assertEquals(" Hello", cont.next(15043));
        // An unfinished sequence at the end comes out as U+FFFD.
        assertEquals("", cont.next(243));
        assertEquals("\uFFFD", cont.finish());
    }

    @Test
    void completeLengthFindsTheLastCharacterBoundary() {
        assertEquals(0, StreamDecoder.completeLength(new byte[0]));
        assertEquals(1, StreamDecoder.completeLength(new byte[] {'a'}));
        assertEquals(1, StreamDecoder.completeLength(new byte[] {'a', (byte) 0xF0, (byte) 0x9F}));
        assertEquals(5, StreamDecoder.completeLength(new byte[] {'a', (byte) 0xF0, (byte) 0x9F, (byte) 0xA6, (byte) 0x99}));
        assertEquals(2, StreamDecoder.completeLength(new byte[] {'a', (byte) 0xC3}) + 1);
        // A stray continuation byte is not held back.
        assertEquals(2, StreamDecoder.completeLength(new byte[] {'a', (byte) 0x80}));
    }

    @Test
    void spmMergesByScoreAndFallsBackToUnknownWithoutByteTokens() throws IOException {
        Tokenizer t = synthetic(w -> w.putString("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", GgufArray.ofStrings("<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "▁ab", "ba"))
                .put("tokenizer.ggml.scores", GgufArray.ofFloat32(0, 0, 0, -1, -2, -2, -1.5f, -0.5f, -1f))
                .put("tokenizer.ggml.token_type", GgufArray.ofInt32(2, 3, 3, 1, 1, 1, 1, 1, 1)));
        // "▁aba": "ba" (-1) beats "ab" (-1.5), so a|ba, then "▁a" is no token: ▁ a ba.
        assertArrayEquals(new int[] {3, 4, 8}, t.encode("aba", false, false));
        // "▁ab▁c": ab, then ▁ab; c has neither a token nor a byte token: unknown.
        assertArrayEquals(new int[] {7, 3, 0}, t.encode("ab c", false, false));
        assertArrayEquals(new int[] {1, 7}, t.encode("ab"));
    }

    @Test
    void eosIsAddedWhenTheMetadataAsks() throws IOException {
        Tokenizer t = synthetic(w -> w.putString("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", GgufArray.ofStrings("<unk>", "<s>", "</s>", "▁a"))
                .put("tokenizer.ggml.token_type", GgufArray.ofInt32(2, 3, 3, 1))
                .putBoolean("tokenizer.ggml.add_bos_token", false)
                .putBoolean("tokenizer.ggml.add_eos_token", true));
        assertArrayEquals(new int[] {3, 2}, t.encode("a"));
        assertEquals("a", t.decode(new int[] {3, 2}, true, false));
    }

    @Test
    void unknownModelOrPreTokenizerIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> synthetic(w -> w
                .putString("tokenizer.ggml.model", "t5").put("tokenizer.ggml.tokens", GgufArray.ofStrings("a"))));
        assertTrue(e.getMessage().contains("'t5'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> synthetic(w -> w
                .putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "no-such-pre")
                .put("tokenizer.ggml.tokens", GgufArray.ofStrings("a", "b", "ab"))
                .put("tokenizer.ggml.merges", GgufArray.ofStrings("a b"))));
        assertTrue(e.getMessage().contains("'no-such-pre'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> synthetic(w -> w.putString("general.name", "x")));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> synthetic(w -> w
                .putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "gpt-2")
                .put("tokenizer.ggml.tokens", GgufArray.ofStrings("a", "b"))));
        assertTrue(e.getMessage().contains("merges"), e.getMessage());
    }

    @Test
    void unpairedSurrogatesAreEncodedAsReplacementCharacters() throws IOException {
        for (String vocab : new String[] {"llama-spm", "gpt-2"}) {
            Tokenizer t = load(vocab);
            assertArrayEquals(t.encode("a\uFFFDb\uFFFD"), t.encode("a\uD800b\uDC00"), vocab);
            assertArrayEquals(t.encode("x🦙"), t.encode("x\uD83E\uDD99"), vocab); // a real pair stays
        }
        assertEquals("ab", GgufTokenizer.wellFormed("ab"));
        assertEquals("\uFFFD🦙\uFFFD", GgufTokenizer.wellFormed("\uDD99🦙\uD83E"));
    }

    @Test
    void repeatedWordsGiveTheSameIdsAsFreshOnes() throws IOException {
        // The BPE word cache must not change results: encode a text twice and per piece.
        Tokenizer t = load("gpt-2");
        String text = "the cat and the hat and the bat";
        int[] once = t.encode(text, false, false);
        assertArrayEquals(once, t.encode(text, false, false));
        assertArrayEquals(new int[] {1169, 3797, 290, 262, 6877, 290, 262, 7365}, once);
    }

    @Test
    void badIdsAreRejected() throws IOException {
        Tokenizer t = load("llama-spm");
        assertThrows(IllegalArgumentException.class, () -> t.piece(32000));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}));
    }

    private Tokenizer synthetic(Consumer<GgufWriter> fill) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
        fill.accept(w);
        Path p = dir.resolve("vocab.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            return Tokenizer.fromGguf(f);
        }
    }
}
