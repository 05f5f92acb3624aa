package dev.tessera.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.GenerationResult;
import dev.tessera.generate.Generator;
import dev.tessera.generate.SamplingParams;
import dev.tessera.model.llama.LlamaModel;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.tensor.DType;
import dev.tessera.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stories260K after {@code tessera quantize}: how far greedy text follows the F32 model. */
class QuantizedGenerationTest {
    private static final Path STORIES = Path.of("..", "models", "stories260K.gguf");
    private static final String PROMPT = "Once upon a time";

    private static GenerationResult greedy(Path model, int tokens) throws IOException {
        try (LlamaModel m = LlamaModel.open(model); LlamaSession s = m.newSession(128, 16)) {
            return new Generator(s, Tokenizer.fromGguf(m.file())).generate(PROMPT, GenerationParams.of(tokens, SamplingParams.GREEDY),
                    (id, t) -> {});
        }
    }

    /** Number of leading tokens two generations share. */
    private static int commonPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) {
            n++;
        }
        return n;
    }

    @Test
    void q8_0KeepsTheFirstSixteenGreedyTokensOfF32(@TempDir Path dir) throws IOException {
        GenerationResult f32 = greedy(STORIES, 48);
        Path q8 = dir.resolve("q8_0.gguf");
        GgufQuantizer.quantize(STORIES, q8, DType.Q8_0, false, (d, t, i) -> {});
        GenerationResult r = greedy(q8, 48);
        System.err.printf("f32 : %s%nq8_0: %s (first %d tokens equal)%n", f32.text(), r.text(), commonPrefix(f32.tokens(), r.tokens()));
        assertArrayEquals(Arrays.copyOf(f32.tokens(), 16), Arrays.copyOf(r.tokens(), 16), "q8_0: " + r.text() + "\nf32:  " + f32.text());
    }

    @Test
    void q4_0StillGeneratesRepeatablyOnThisTinyModel(@TempDir Path dir) throws IOException {
        GenerationResult f32 = greedy(STORIES, 48);
        Path q4 = dir.resolve("q4_0.gguf");
        GgufQuantizer.quantize(STORIES, q4, DType.Q4_0, false, (d, t, i) -> {});
        GenerationResult a = greedy(q4, 48);
        GenerationResult b = greedy(q4, 48);
        System.err.printf("q4_0: %s (first %d tokens equal to f32)%n", a.text(), commonPrefix(f32.tokens(), a.tokens()));
        assertEquals(a.text(), b.text());
        assertEquals(48, a.tokens().length);
    }
}
