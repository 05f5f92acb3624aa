package dev.tessera.model.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.GenerationResult;
import dev.tessera.generate.Generator;
import dev.tessera.generate.SamplingParams;
import dev.tessera.io.TestFiles;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.tensor.Tensor;
import dev.tessera.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;

class LlamaModelTest {
    /**
     * Logits of stories260K against PyTorch float64 on the file's own weights
     * (tools/goldens/llama_goldens.py). Differences come from F32 arithmetic and, mainly, the F16
     * KV cache (relative rounding 2^-11 per key/value element); over 5 layers they stay under 1% of
     * the logit range, and the most likely token agrees at every position.
     */
    @Test
    void logitsMatchPyTorchAtEveryPosition() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(TestFiles.resource("goldens/llama/stories260K.safetensors"));
             LlamaModel model = LlamaModel.open(TestFiles.stories260K());
             LlamaSession session = model.newSession(64, 4)) {
            int[] tokens = golden.tensor("tokens").segment().toArray(ValueLayout.JAVA_INT_UNALIGNED);
            Tensor want = golden.tensor("logits");
            int n = tokens.length;
            int vocab = model.config().vocabSize();
            double worst = 0;
            double range = 0;
            for (int i = 0; i < n; i++) {
                float[] got = session.decode(tokens[i]);
                int bestGot = 0;
                int bestWant = 0;
                for (int v = 0; v < vocab; v++) {
                    float w = want.getFloat(i, v);
                    worst = Math.max(worst, Math.abs(got[v] - w));
                    range = Math.max(range, Math.abs(w));
                    if (got[v] > got[bestGot]) {
                        bestGot = v;
                    }
                    if (w > want.getFloat(i, bestWant)) {
                        bestWant = v;
                    }
                }
                assertEquals(bestWant, bestGot, "most likely token at position " + i);
            }
            assertTrue(worst <= 0.01 * range, "max |logit error| " + worst + " vs logit range " + range);
        }
    }

    @Test
    void batchedPrefillGivesTheLogitsOfOneTokenAtATime() throws IOException {
        int[] prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 410};
        try (LlamaModel model = LlamaModel.open(TestFiles.stories260K());
             LlamaSession batched = model.newSession(32, 4);
             LlamaSession single = model.newSession(32, 1)) {
            float[] a = batched.decode(prompt).clone();
            float[] b = null;
            for (int t : prompt) {
                b = single.decode(t);
            }
            assertEquals(prompt.length, batched.position());
            for (int v = 0; v < a.length; v++) {
                assertEquals(b[v], a[v], 1e-3f, "logit " + v);
            }
        }
    }

    @Test
    void greedyGenerationIsFluentAndRepeatable() throws IOException {
        try (LlamaModel model = LlamaModel.open(TestFiles.stories260K())) {
            Tokenizer tok = Tokenizer.fromGguf(model.file());
            String first = null;
            for (int run = 0; run < 2; run++) {
                try (LlamaSession s = model.newSession(128, 16)) {
                    StringBuilder streamed = new StringBuilder();
                    GenerationResult r = new Generator(s, tok).generate("Once upon a time", GenerationParams.of(32, SamplingParams.GREEDY),
                            (id, text) -> streamed.append(text));
                    assertEquals(r.text(), streamed.toString(), "streamed pieces add up to the result");
                    assertEquals(32, r.tokens().length);
                    if (first == null) {
                        first = r.text();
                    } else {
                        assertEquals(first, r.text());
                    }
                }
            }
            // The float64 PyTorch forward of this file continues the prompt with these words greedily.
            assertTrue(first.startsWith(", there was a little girl named Lily. She loved to play outside in the park."), first);
        }
    }

    @Test
    void sameSeedSameTextDifferentSeedDifferentText() throws IOException {
        try (LlamaModel model = LlamaModel.open(TestFiles.stories260K())) {
            Tokenizer tok = Tokenizer.fromGguf(model.file());
            String[] texts = new String[3];
            long[] seeds = {7, 7, 8};
            for (int i = 0; i < 3; i++) {
                try (LlamaSession s = model.newSession(128, 16)) {
                    texts[i] = new Generator(s, tok).generate("Once upon a time", GenerationParams.of(40, SamplingParams.defaults(seeds[i]).withTemperature(1.2f)),
                            (id, text) -> {}).text();
                }
            }
            assertEquals(texts[0], texts[1]);
            assertTrue(!texts[0].equals(texts[2]), "seeds 7 and 8 gave the same 40 tokens: " + texts[0]);
        }
    }

    @Test
    void stopStringsEndGenerationBeforeTheirText() throws IOException {
        try (LlamaModel model = LlamaModel.open(TestFiles.stories260K()); LlamaSession s = model.newSession(128, 16)) {
            GenerationResult r = new Generator(s, Tokenizer.fromGguf(model.file())).generate("Once upon a time",
                    GenerationParams.of(64, SamplingParams.GREEDY).withStopStrings(List.of("Lily")), (id, text) -> {});
            assertEquals(GenerationResult.StopReason.STOP_STRING, r.stopReason());
            assertEquals(", there was a little girl named ", r.text());
        }
    }

    @Test
    void contextOverflowIsAnErrorThatLeavesTheSessionUsable() throws IOException {
        try (LlamaModel model = LlamaModel.open(TestFiles.stories260K()); LlamaSession s = model.newSession(8, 4)) {
            s.decode(1, 403, 407, 261, 378);
            ContextOverflowException e = assertThrows(ContextOverflowException.class, () -> s.decode(432, 383, 286, 261));
            assertEquals(5, e.position());
            assertEquals(5, s.position(), "nothing was appended");
            s.decode(432, 383, 286);
            assertEquals(8, s.position());
            assertThrows(IllegalArgumentException.class, () -> s.decode(512), "token outside the vocabulary");
        }
    }

    @Test
    void filesThatAreNotRunnableLlamaModelsNameTheProblem(@TempDir Path dir) throws IOException {
        Path src = TestFiles.stories260K();
        IllegalArgumentException arch = assertThrows(IllegalArgumentException.class,
                () -> LlamaModel.open(GgufEdits.copy(src, dir.resolve("a.gguf"), w -> w.putString("general.architecture", "clip"), null)));
        assertTrue(arch.getMessage().contains("general.architecture is 'clip'"), arch.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> LlamaModel.open(GgufEdits.copy(src, dir.resolve("b.gguf"), w -> {}, "blk.3.ffn_up.weight")));
        assertTrue(missing.getMessage().contains("missing tensor blk.3.ffn_up.weight"), missing.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> LlamaModel.open(GgufEdits.copy(src, dir.resolve("c.gguf"), w -> w.putUInt32("llama.feed_forward_length", 200), null)));
        assertTrue(shape.getMessage().contains("ffn_gate.weight has shape"), shape.getMessage());
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> LlamaModel.open(GgufEdits.copy(src, dir.resolve("d.gguf"), w -> {}, null, "llama.block_count")));
        assertTrue(key.getMessage().contains("missing metadata key llama.block_count"), key.getMessage());
        assertTrue(Files.exists(dir.resolve("d.gguf")));
    }

    /** llama.cpp's greedy continuation of "Once upon a time" on stories260K (64 ids; see goldens/llama/README.md). */
    private static final int[] LLAMA_CPP_GREEDY_64 = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426, 338,
        391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310, 439, 419, 357, 336};

    @Test
    void greedyIdsAndFirstLogitsMatchLlamaCpp() throws IOException {
        try (LlamaModel model = LlamaModel.open(TestFiles.stories260K()); LlamaSession s = model.newSession(128, 16)) {
            Tokenizer tok = Tokenizer.fromGguf(model.file());
            int[] prompt = tok.encode("Once upon a time");
            assertArrayEquals(new int[] {1, 403, 407, 261, 378}, prompt, "llama.cpp's prompt ids");
            float[] first = s.decode(prompt).clone();
            float[] want = new float[first.length];
            java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(TestFiles.resource("goldens/llama/llamacpp-stories260K-first-logits.f32")))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
            // llama.cpp's own logits are up to 7.6e-3 from a float64 forward (its CPU flash attention
            // rounds Q to F16 as well as K and V); ours are closer (see the PyTorch test). 1e-2 bounds both.
            for (int v = 0; v < want.length; v++) {
                assertEquals(want[v], first[v], 1e-2f, "logit " + v);
            }
            s.rewind(0);
            GenerationResult r = new Generator(s, tok).generate(prompt, GenerationParams.of(64, SamplingParams.GREEDY), (id, t) -> {});
            assertArrayEquals(LLAMA_CPP_GREEDY_64, r.tokens());
        }
    }
}
