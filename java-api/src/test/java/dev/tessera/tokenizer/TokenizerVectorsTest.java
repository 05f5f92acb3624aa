package dev.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.TestFiles;
import dev.tessera.io.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs every case of llama.cpp's tokenizer test vectors (see resources/tokenizer/README.md):
 * each input of NAME.gguf.inp, encoded without BOS/EOS and with special-token parsing off, must give
 * exactly the ids on the same line of NAME.gguf.out.
 */
class TokenizerVectorsTest {
    private static final String SEP = "\n__ggml_vocab_test__\n";

    record Case(String input, int[] expected) {}

    static List<Case> cases(String vocab) throws IOException {
        String inp = Files.readString(TestFiles.resource("tokenizer/ggml-vocab-" + vocab + ".gguf.inp"), StandardCharsets.UTF_8);
        List<String> out = Files.readAllLines(TestFiles.resource("tokenizer/ggml-vocab-" + vocab + ".gguf.out"), StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (pos < inp.length()) {
            int next = inp.indexOf(SEP, pos);
            if (next < 0) {
                inputs.add(inp.substring(pos));
                break;
            }
            inputs.add(inp.substring(pos, next));
            pos = next + SEP.length();
        }
        assertEquals(inputs.size(), out.size(), vocab + ": inputs and expected lines differ in number");
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = out.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(inputs.get(i), ids));
        }
        return cases;
    }

    static Tokenizer load(String vocab) throws IOException {
        try (GgufFile f = GgufFile.open(TestFiles.resource("tokenizer/ggml-vocab-" + vocab + ".gguf"))) {
            return Tokenizer.fromGguf(f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "mpt", "starcoder", "falcon", "refact",
            "deepseek-llm", "deepseek-coder", "bert-bge"})
    void everyVectorMatchesExactly(String vocab) throws IOException {
        Tokenizer tok = load(vocab);
        List<Case> cases = cases(vocab);
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            int[] got = tok.encode(c.input(), false, false);
            if (!Arrays.equals(c.expected(), got)) {
                failures.add(String.format("%s: input %s%n  expected %s%n  got      %s", vocab, quote(c.input()),
                        Arrays.toString(c.expected()), Arrays.toString(got)));
            }
        }
        System.out.printf("tokenizer vectors %-15s %s/%s: %d/%d passed%n", vocab, tok.model(), tok.preTokenizer(),
                cases.size() - failures.size(), cases.size());
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(46, cases.size());
    }

    /**
     * The pieces of every vector's ids put back together give the input's bytes exactly (after the
     * SentencePiece prefix space): the ids carry all of the text, byte-fallback and byte-level pieces
     * included. Not for WordPiece, which lowercases and drops whitespace.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "mpt", "starcoder", "falcon", "refact",
            "deepseek-llm", "deepseek-coder"})
    void piecesRoundTripToTheInputBytes(String vocab) throws IOException {
        Tokenizer tok = load(vocab);
        for (Case c : cases(vocab)) {
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (int id : c.expected()) {
                joined.writeBytes(tok.pieceBytes(id, false));
            }
            String prefix = tok.model().equals("llama") && !c.input().isEmpty() ? " " : "";
            assertEquals(prefix + c.input(), joined.toString(StandardCharsets.UTF_8), vocab + ": " + quote(c.input()));
            // And through the stream decoder, which must produce the same text in whole characters.
            StreamDecoder sd = tok.streamDecoder(true);
            StringBuilder streamed = new StringBuilder();
            for (int id : c.expected()) {
                String s = sd.next(id);
                assertTrue(s.indexOf('\uFFFD') < 0, "stream emitted a broken character");
                streamed.append(s);
            }
            streamed.append(sd.finish());
            assertEquals(c.input(), streamed.toString(), vocab + " stream: " + quote(c.input()));
        }
    }

    /** decode() returns the input wherever llama.cpp's clean-up rules do not apply to it. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "deepseek-llm", "deepseek-coder"})
    void decodeInvertsEncodeWithoutCleanup(String vocab) throws IOException {
        Tokenizer tok = load(vocab);
        for (Case c : cases(vocab)) {
            assertEquals(c.input(), tok.decode(tok.encode(c.input(), false, false)), vocab + ": " + quote(c.input()));
        }
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> b.append(ch);
            }
        }
        return b.append('"').toString();
    }

    static Path vocabPath(String vocab) {
        return TestFiles.resource("tokenizer/ggml-vocab-" + vocab + ".gguf");
    }
}
