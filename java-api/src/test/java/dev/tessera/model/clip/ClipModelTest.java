package dev.tessera.model.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.TestFiles;
import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLIP graphs against a reference forward pass of a tiny random CLIP (tools/goldens/clip_goldens.py).
 * The `transformers` package is not available where the goldens were made, so the reference is
 * our own float64 PyTorch implementation of the published architecture (OpenAI CLIP / Hugging Face
 * CLIPModel: pre-LN blocks, class token, causal text mask, pooling at the end token), run on the
 * same F32 weights; the model folder is in the Hugging Face layout.
 *
 * <p>Tolerances (max |Δ| over a tensor, divided by the tensor's max |ref|), 2 to 4× the errors
 * measured when they were set: F32 weights 2e-6 (measured ≤ 4.5e-7: float accumulation order);
 * F16 matrices, or a whole F16 checkpoint, 2e-3 (measured ≤ 5.6e-4 and ≤ 7.6e-4: weights and matmul
 * activations rounded to F16); Q8_0
 * matrices 2.5e-2 (measured ≤ 1.3e-2: weights and activations quantized to 8 bits per 32-block,
 * compounded over 2 blocks and the LayerNorms).
 */
class ClipModelTest {
    private static final Path DIR = TestFiles.resource("goldens/clip/tiny/config.json").getParent();
    private static SafetensorsFile ref;
    private static ClipModel model;

    @BeforeAll
    static void open() throws IOException {
        ref = SafetensorsFile.open(TestFiles.resource("goldens/clip/tiny_reference.safetensors"));
        model = ClipModel.load(DIR);
    }

    @AfterAll
    static void close() {
        model.close();
        ref.close();
    }

    private static int[][] tokens() {
        Tensor t = ref.tensor("tokens");
        int n = (int) t.shape(0);
        int ctx = (int) t.shape(1);
        int[][] ids = new int[n][ctx];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < ctx; j++) {
                ids[i][j] = t.segment().getAtIndex(ValueLayout.JAVA_INT, (long) i * ctx + j);
            }
        }
        return ids;
    }

    private static void close(Map<String, Tensor> m) {
        m.values().forEach(Tensor::close);
    }

    /** max |a - ref| / max |ref|. */
    private static double relErr(Tensor actual, String refName) {
        float[] e = ref.tensor(refName).toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, refName);
        double max = 0;
        double diff = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i]));
            diff = Math.max(diff, Math.abs(e[i] - a[i]));
        }
        return diff / max;
    }

    private static void checkAll(ClipModel m, double tol) {
        Map<String, Tensor> v = m.runVision(ref.tensor("pixels"));
        try {
            for (int i = 0; i <= 2; i++) {
                check(v.get("hidden." + i), "vision.hidden." + i, tol);
            }
            check(v.get("pooled"), "vision.pooled", tol);
            check(v.get("embeds"), "vision.embeds", tol);
        } finally {
            close(v);
        }
        Map<String, Tensor> t = m.runText(tokens());
        try {
            for (int i = 0; i <= 2; i++) {
                check(t.get("hidden." + i), "text.hidden." + i, tol);
            }
            check(t.get("last"), "text.last", tol);
            check(t.get("pooled"), "text.pooled", tol);
            check(t.get("embeds"), "text.embeds", tol);
        } finally {
            close(t);
        }
    }

    private static void check(Tensor actual, String refName, double tol) {
        double err = relErr(actual, refName);
        assertTrue(err <= tol, refName + ": relative error " + err + " > " + tol);
    }

    @Test
    void configIsReadFromTheHfFolder() {
        ClipConfig c = model.config();
        assertEquals(32, c.vision().imageSize());
        assertEquals(17, c.vision().tokens());
        assertEquals(dev.tessera.ops.Nn.Activation.QUICK_GELU, c.vision().act());
        assertEquals(dev.tessera.ops.Nn.Activation.GELU, c.text().act());
        assertEquals(999, c.text().eosTokenId());
        assertEquals(32, c.projectionDim());
        assertEquals(ref.tensor("logit_scale").toFloatArray()[0], model.logitScale());
    }

    @Test
    void f32MatchesTheReferenceLayerByLayer() {
        checkAll(model, 2e-6);
    }

    @Test
    void f16MatchesWithinF16Rounding() {
        try (ClipModel m = model.withMatrixType(DType.F16)) {
            assertEquals(DType.F16, m.weights().vision().layers().get(0).q().dtype());
            checkAll(m, 2e-3);
        }
    }

    @Test
    void q8MatchesWithinQuantizationError() {
        try (ClipModel m = model.withMatrixType(DType.Q8_0)) {
            assertEquals(DType.Q8_0, m.weights().text().layers().get(1).fc2().dtype());
            checkAll(m, 2.5e-2);
        }
    }

    @Test
    void embeddingsAreNormalisedAndBatchIndependent() {
        Tensor px = ref.tensor("pixels");
        float[][] both = model.embedPixels(px);
        float[][] second = model.embedPixels(px.slice(0, 1, 2));
        assertEquals(1.0, ClipModel.dot(both[0], both[0]), 1e-5);
        assertArrayEquals(both[1], second[0], 1e-5f);
        float[] e = ref.tensor("vision.embeds").toFloatArray();
        float[][] expected = ClipModel.normalize(new float[][] {java.util.Arrays.copyOfRange(e, 32, 64)});
        assertArrayEquals(expected[0], second[0], 1e-4f);
        int[][] ids = tokens();
        float[][] texts = model.embedTokens(ids);
        float[][] one = model.embedTokens(new int[][] {ids[2]});
        assertArrayEquals(texts[2], one[0], 1e-5f);
        // shorter rows are zero padded: the first row is zero padded after its end token
        int[] shortRow = java.util.Arrays.copyOf(ids[0], 6);
        assertArrayEquals(texts[0], model.embedTokens(new int[][] {shortRow})[0], 1e-6f);
    }

    @Test
    void rankingUsesTheLogitScaleSoftmax() {
        float[][] img = model.embedPixels(ref.tensor("pixels"));
        float[][] txt = model.embedTokens(tokens());
        List<ClipModel.Label> ranked = ClipModel.rank(img[0], List.of("a", "b", "c"), List.of(txt), model.logitScale());
        double sum = 0;
        for (ClipModel.Label l : ranked) {
            sum += l.probability();
        }
        assertEquals(1.0, sum, 1e-9);
        assertTrue(ranked.get(0).probability() >= ranked.get(1).probability());
        double scale = Math.exp(model.logitScale());
        ClipModel.Label top = ranked.get(0);
        int idx = List.of("a", "b", "c").indexOf(top.label());
        assertEquals(scale * ClipModel.dot(img[0], txt[idx]), top.logit(), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> model.classify(img[0], List.of(), ClipModel.DEFAULT_TEMPLATE));
        assertThrows(IllegalArgumentException.class, () -> model.classify(img[0], List.of("x"), "no placeholder"));
    }

    @Test
    void badInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> model.embedTokens(new int[][] {{998, 5, 6}}), "no end token");
        assertThrows(IllegalArgumentException.class, () -> model.embedTokens(new int[][] {{998, 1000, 999}}), "id outside vocab");
        assertThrows(IllegalArgumentException.class, () -> model.embedTokens(new int[][] {new int[78]}), "too long");
        try (Tensor bad = Tensor.allocate(DType.F32, 1, 3, 16, 16)) {
            assertThrows(IllegalArgumentException.class, () -> model.embedPixels(bad));
        }
    }

    @Test
    void ggufRoundTripGivesTheSameOutputs(@TempDir Path tmp) throws IOException {
        try (ClipModel q = model.withMatrixType(DType.Q8_0)) {
            Path file = tmp.resolve("tiny-q8_0.gguf");
            q.writeGguf(file, "tiny");
            try (ClipModel back = ClipModel.load(file)) {
                assertEquals(q.config().text(), back.config().text());
                assertEquals(q.config().projectionDim(), back.config().projectionDim());
                assertEquals(q.logitScale(), back.logitScale());
                assertEquals(DType.Q8_0, back.weights().vision().layers().get(0).fc1().dtype());
                Tensor px = ref.tensor("pixels");
                assertArrayEquals(q.imageFeatures(px), back.imageFeatures(px));
                assertArrayEquals(q.textFeatures(tokens()), back.textFeatures(tokens()));
            }
        }
    }

    /**
     * A llama.cpp-style mmproj file: vision only, fc1/fc2 stored under each other's names, the last
     * block dropped, no post-LayerNorm or projection. The loader detects the swap by shape, and the
     * last stored hidden state is the full tower's penultimate one (what LLaVA uses).
     */
    @Test
    void mmprojStyleVisionTowerGivesThePenultimateHiddenState(@TempDir Path tmp) throws IOException {
        ClipConfig.Vision v = model.config().vision();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "clip");
        w.putBoolean("clip.has_vision_encoder", true);
        w.putBoolean("clip.has_text_encoder", false);
        w.putBoolean("clip.has_llava_projector", true);
        w.putString("clip.projector_type", "mlp");
        w.putUInt32("clip.vision.image_size", v.imageSize());
        w.putUInt32("clip.vision.patch_size", v.patchSize());
        w.putUInt32("clip.vision.embedding_length", v.width());
        w.putUInt32("clip.vision.feed_forward_length", v.ffn());
        w.putUInt32("clip.vision.projection_dim", 32);
        w.putUInt32("clip.vision.attention.head_count", v.heads());
        w.putFloat32("clip.vision.attention.layer_norm_epsilon", v.eps());
        w.putUInt32("clip.vision.block_count", v.blocks() - 1);
        w.put("clip.vision.image_mean", GgufArray.ofFloat32(v.mean()));
        w.put("clip.vision.image_std", GgufArray.ofFloat32(v.std()));
        w.putBoolean("clip.use_gelu", false);
        int last = v.blocks() - 1;
        for (Map.Entry<String, Tensor> e : model.tensors().entrySet()) {
            String name = e.getKey();
            if (!name.startsWith("v.") || name.startsWith("v.post_ln") || name.startsWith("v.blk." + last + ".")) {
                continue;
            }
            name = name.replace("ffn_up", "FC1").replace("ffn_down", "ffn_up").replace("FC1", "ffn_down");
            w.addTensor(name, e.getValue().dtype() == DType.F32 && e.getValue().rank() == 2 && !name.contains("position")
                    ? dev.tessera.ops.Ops.convert(e.getValue(), DType.F16) : e.getValue());
        }
        Path file = tmp.resolve("mmproj.gguf");
        w.write(file);
        try (ClipModel mm = ClipModel.load(file)) {
            assertNull(mm.weights().text());
            assertNull(mm.weights().vision().postLnWeight());
            assertEquals(DType.F16, mm.weights().vision().layers().get(0).fc1().dtype());
            assertEquals(v.ffn(), mm.weights().vision().layers().get(0).fc1().shape(0));
            try (Tensor h = mm.visionHiddenState(ref.tensor("pixels"), last)) {
                check(h, "vision.hidden." + last, 2e-3);
            }
            assertThrows(IllegalStateException.class, () -> mm.embedPixels(ref.tensor("pixels")));
            assertThrows(IllegalStateException.class, () -> mm.embedText("a cat"));
        }
    }

    /** The tiny model with a random token table of the real vocabulary size, so real prompts can be embedded. */
    static ClipModel fullVocabulary(ClipModel tiny, long seed) {
        ClipConfig c = tiny.config();
        ClipConfig.Text t = c.text();
        ClipConfig.Text full = new ClipConfig.Text(ClipTokenizer.VOCAB_SIZE, t.contextLength(), t.width(), t.blocks(), t.heads(), t.ffn(),
                t.eps(), t.act(), -1);
        java.util.Map<String, Tensor> m = new java.util.LinkedHashMap<>(tiny.tensors());
        java.util.Random r = new java.util.Random(seed);
        float[] table = new float[ClipTokenizer.VOCAB_SIZE * t.width()];
        for (int i = 0; i < table.length; i++) {
            table[i] = (float) (r.nextGaussian() * 0.5);
        }
        try (Tensor tok = Tensor.of(table, ClipTokenizer.VOCAB_SIZE, t.width())) {
            m.put("t.token_embd.weight", tok);
            return ClipModel.fromTensors(new ClipConfig(c.vision(), full, c.projectionDim()), m, tiny.logitScale());
        }
    }

    @Test
    void textsAreTokenisedWithClipBpeAndPooledAtTheLargestId(@TempDir Path tmp) throws IOException {
        try (ClipModel m = fullVocabulary(model, 7)) {
            int[] ids = m.tokenizer().encodeContext("A photo of a cat.");
            float[] direct = m.embedTokens(new int[][] {ids})[0];
            assertArrayEquals(direct, m.embedText("A photo of a cat."), 0f);
            // OpenAI's rule: pooling at the end token (the largest id), so padding after it changes nothing
            int[] padded = ids.clone();
            for (int i = 0; i < padded.length; i++) {
                if (padded[i] == 0) {
                    padded[i] = ClipTokenizer.END_OF_TEXT;
                }
            }
            assertArrayEquals(direct, m.embedTokens(new int[][] {padded})[0], 1e-6f);
            List<float[]> batch = m.embedTexts(List.of("a dog", "A photo of a cat.", "a red car"));
            assertArrayEquals(direct, batch.get(1), 1e-5f);
            List<ClipModel.Label> ranked = m.classify(m.embedPixels(ref.tensor("pixels"))[0], List.of("cat", "dog", "car"),
                    ClipModel.DEFAULT_TEMPLATE);
            assertEquals(3, ranked.size());
            double sum = ranked.stream().mapToDouble(ClipModel.Label::probability).sum();
            assertEquals(1.0, sum, 1e-9);
            Path file = tmp.resolve("full.gguf");
            m.writeGguf(file, "tiny-full-vocab");
            try (ClipModel back = ClipModel.load(file)) {
                assertEquals(-1, back.config().text().eosTokenId());
                assertArrayEquals(direct, back.embedText("A photo of a cat."), 0f);
            }
        }
    }

    /** A Hugging Face folder saved in F16 (every tensor, as torch_dtype=float16 checkpoints are): vectors are widened on load. */
    @Test
    void f16HfFolderLoads(@TempDir Path tmp) throws IOException {
        java.nio.file.Files.copy(DIR.resolve("config.json"), tmp.resolve("config.json"));
        try (SafetensorsFile f32 = SafetensorsFile.open(DIR.resolve("model.safetensors"))) {
            dev.tessera.io.safetensors.SafetensorsWriter w = new dev.tessera.io.safetensors.SafetensorsWriter();
            List<Tensor> copies = new java.util.ArrayList<>();
            try {
                for (var info : f32.tensorInfos()) {
                    Tensor c = dev.tessera.ops.Ops.convert(f32.tensor(info.name()), DType.F16);
                    copies.add(c);
                    w.add(info.name(), c);
                }
                w.write(tmp.resolve("model.safetensors"));
            } finally {
                copies.forEach(Tensor::close);
            }
        }
        try (ClipModel m = ClipModel.load(tmp)) {
            assertEquals(DType.F16, m.weights().vision().layers().get(0).q().dtype());
            assertEquals(DType.F32, m.weights().vision().layers().get(0).qBias().dtype());
            assertEquals(DType.F32, m.weights().text().positionEmbedding().dtype());
            assertEquals(model.logitScale(), m.logitScale(), 2e-3);
            checkAll(m, 2e-3);
        }
    }

    /** A CLIPVisionModel folder (model_type clip_vision_model, vision keys at the top, vision_model.* tensors only). */
    @Test
    void visionOnlyHfFolderLoads(@TempDir Path tmp) throws IOException {
        java.nio.file.Files.writeString(tmp.resolve("config.json"), """
                {"model_type": "clip_vision_model", "image_size": 32, "patch_size": 8, "hidden_size": 64,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
                 "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "projection_dim": 32, "num_channels": 3}
                """);
        try (SafetensorsFile all = SafetensorsFile.open(DIR.resolve("model.safetensors"))) {
            dev.tessera.io.safetensors.SafetensorsWriter w = new dev.tessera.io.safetensors.SafetensorsWriter();
            for (var info : all.tensorInfos()) {
                if (info.name().startsWith("vision_model.")) {
                    w.add(info.name(), all.tensor(info.name()));
                }
            }
            w.write(tmp.resolve("model.safetensors"));
        }
        try (ClipModel m = ClipModel.load(tmp)) {
            assertNull(m.config().text());
            assertNull(m.weights().vision().projection());
            try (Tensor h = m.visionHiddenState(ref.tensor("pixels"), 1)) {
                check(h, "vision.hidden.1", 2e-6);
            }
            Map<String, Tensor> out = m.runVision(ref.tensor("pixels"));
            try {
                check(out.get("pooled"), "vision.pooled", 2e-6);
                assertNull(out.get("embeds"));
            } finally {
                close(out);
            }
            assertThrows(IllegalStateException.class, () -> m.embedText("a cat"));
            assertThrows(IllegalStateException.class, () -> m.imageFeatures(ref.tensor("pixels")));
        }
    }
}
