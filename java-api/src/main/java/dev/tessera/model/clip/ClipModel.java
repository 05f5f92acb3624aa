package dev.tessera.model.clip;

import dev.tessera.image.ClipImagePreprocessor;
import dev.tessera.image.ImageIo;
import dev.tessera.image.Rgba8Image;
import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.ops.Nn;
import dev.tessera.ops.Ops;
import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CompiledGraph;
import dev.tessera.runtime.CpuBackend;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A CLIP model: image and text embeddings in one space, zero-shot classification. Load a Hugging
 * Face folder (config.json + model.safetensors), our GGUF re-save, or a llama.cpp mmproj file
 * (vision tower only, no projection: use {@link #visionHiddenState} as LLaVA does).
 *
 * <p>Forward passes run in batches of up to {@link #MAX_BATCH} items through graphs compiled once
 * per batch size and reused. Methods are synchronized: one forward at a time (the kernels use
 * every core already). Close to unmap the file and free the workspaces.
 */
public final class ClipModel implements AutoCloseable {
    /** Largest batch one graph runs; longer lists are split. */
    public static final int MAX_BATCH = 16;
    /** OpenAI's zero-shot template. */
    public static final String DEFAULT_TEMPLATE = "a photo of a {}.";
    /** ln(100): the logit scale of the released checkpoints, used when a file stores none. */
    public static final float DEFAULT_LOGIT_SCALE = (float) Math.log(100);
    private static final int MAX_GRAPHS = 6;

    private final ClipConfig config;
    private final ClipWeights weights;
    private final List<AutoCloseable> resources;
    private final Backend backend;
    private final Map<String, Compiled> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private final dev.tessera.runtime.Profile evicted = new dev.tessera.runtime.Profile();
    private ClipTokenizer tokenizer;
    private boolean profiling;
    private boolean closed;

    /** A compiled graph and the per-batch constants it binds. */
    private record Compiled(CompiledGraph graph, List<Tensor> owned) implements AutoCloseable {
        @Override
        public void close() {
            graph.close();
            owned.forEach(Tensor::close);
        }
    }

    /** One ranked label of {@link #classify}. */
    public record Label(String label, double probability, double logit) {}

    private ClipModel(ClipConfig config, ClipWeights weights, List<AutoCloseable> resources, Backend backend) {
        this.config = config;
        this.weights = weights;
        this.resources = resources;
        this.backend = backend;
    }

    /**
     * Loads a model: a folder holding config.json and model.safetensors (or that .safetensors file
     * itself), or a .gguf file (ours or a llama.cpp CLIP/mmproj file).
     *
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the files do not hold a CLIP model we can run (naming why)
     */
    public static ClipModel load(Path path) throws IOException {
        return load(path, CpuBackend.INSTANCE);
    }

    /** As {@link #load(Path)}, running on backend (e.g. a {@link dev.tessera.runtime.CudaBackend}, which the caller closes after the model). */
    public static ClipModel load(Path path, Backend backend) throws IOException {
        if (Files.isDirectory(path)) {
            return loadHf(path.resolve("config.json"), path.resolve("model.safetensors"), backend);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            Path dir = path.toAbsolutePath().getParent();
            return loadHf(dir.resolve("config.json"), path, backend);
        }
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "model not found");
        }
        return loadGguf(path, backend);
    }

    private static ClipModel loadHf(Path configFile, Path modelFile, Backend backend) throws IOException {
        if (!Files.exists(configFile)) {
            throw new java.nio.file.NoSuchFileException(configFile.toString(), null, "a Hugging Face CLIP folder needs config.json");
        }
        if (!Files.exists(modelFile)) {
            throw new java.nio.file.NoSuchFileException(modelFile.toString(), null, "a Hugging Face CLIP folder needs model.safetensors");
        }
        ClipConfig config = ClipConfig.fromHfJson(Files.readString(configFile));
        Path preprocessor = configFile.resolveSibling("preprocessor_config.json");
        if (Files.exists(preprocessor)) {
            config = config.withPreprocessorJson(Files.readString(preprocessor));
        }
        SafetensorsFile file = SafetensorsFile.open(modelFile);
        try {
            Function<String, Tensor> find = n -> file.hasTensor(n) ? file.tensor(n) : null;
            float scale = DEFAULT_LOGIT_SCALE;
            if (file.hasTensor("logit_scale")) {
                scale = file.tensor("logit_scale").toFloatArray()[0];
            }
            ClipWeights w = ClipWeights.load(config, ClipWeights.HF, find, scale);
            return new ClipModel(config, w, new ArrayList<>(List.of(w, file)), backend);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static ClipModel loadGguf(Path path, Backend backend) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            ClipConfig config = ClipConfig.fromGguf(file.metadata());
            Function<String, Tensor> find = n -> file.hasTensor(n) ? file.tensor(n) : null;
            float scale = file.metadata().getFloat("clip.logit_scale", DEFAULT_LOGIT_SCALE);
            ClipWeights w = ClipWeights.load(config, ClipWeights.GGUF, find, scale);
            return new ClipModel(config, w, new ArrayList<>(List.of(w, file)), backend);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public ClipConfig config() {
        return config;
    }

    public ClipWeights weights() {
        return weights;
    }

    /** ln of the similarity scale; logits = exp(logitScale) · cosine. */
    public float logitScale() {
        return weights.logitScale();
    }

    public boolean hasVision() {
        return weights.vision() != null;
    }

    public boolean hasText() {
        return weights.text() != null;
    }

    /** CLIP's preprocessing at this model's input size and mean/std. */
    public ClipImagePreprocessor preprocessor() {
        ClipConfig.Vision v = requireVision();
        return new ClipImagePreprocessor(v.imageSize(), v.mean(), v.std());
    }

    /** The OpenAI BPE tokenizer (loaded on first use from the bundled vocabulary). */
    public synchronized ClipTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ClipTokenizer.load();
        }
        return tokenizer;
    }

    // ------------------------------------------------------------------ embeddings

    /** The L2-normalised embedding of an image file. */
    public float[] embedImage(Path file) throws IOException {
        return embedImages(List.of(file)).getFirst();
    }

    /** The L2-normalised embedding of an image. */
    public float[] embedImage(BufferedImage image) {
        try (Tensor px = preprocessor().preprocess(toRgba8(image))) {
            return embedPixels(px.reshape(1, 3, px.shape(1), px.shape(2)))[0];
        }
    }

    /** The L2-normalised embeddings of image files, in order. */
    public List<float[]> embedImages(List<Path> files) throws IOException {
        requireVision();
        List<float[]> out = new ArrayList<>(files.size());
        ClipImagePreprocessor pre = preprocessor();
        for (int start = 0; start < files.size(); start += MAX_BATCH) {
            try (Tensor px = pre.preprocessFiles(files.subList(start, Math.min(files.size(), start + MAX_BATCH)))) {
                out.addAll(Arrays.asList(embedPixels(px)));
            }
        }
        return out;
    }

    /** The L2-normalised embedding of a text (tokenised with CLIP's BPE, truncated to the context). */
    public float[] embedText(String text) {
        return embedTexts(List.of(text)).getFirst();
    }

    /** The L2-normalised embeddings of texts, in order. */
    public List<float[]> embedTexts(List<String> texts) {
        ClipConfig.Text t = requireText();
        ClipTokenizer tok = tokenizer();
        int[][] ids = new int[texts.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tok.encodeContext(texts.get(i), t.contextLength());
        }
        return Arrays.asList(embedTokens(ids));
    }

    /** L2-normalised image embeddings of preprocessed pixels F32 [n, 3, size, size]. */
    public float[][] embedPixels(Tensor pixels) {
        return normalize(imageFeatures(pixels));
    }

    /** L2-normalised text embeddings of token id rows (each at most the context length; shorter rows are zero padded). */
    public float[][] embedTokens(int[][] ids) {
        return normalize(textFeatures(ids));
    }

    /** Projected image features (not normalised) [n][projectionDim]. */
    public synchronized float[][] imageFeatures(Tensor pixels) {
        ClipWeights.Vision w = requireVisionWeights();
        if (w.projection() == null || w.postLnWeight() == null) {
            throw new IllegalStateException("this vision tower has no post-LayerNorm or projection (a LLaVA mmproj file?): "
                    + "use visionHiddenState");
        }
        int n = checkPixels(pixels);
        float[][] out = new float[n][];
        for (int start = 0; start < n; start += MAX_BATCH) {
            int b = Math.min(MAX_BATCH, n - start);
            CompiledGraph g = visionGraph(b, w.layers().size(), false, true);
            Ops.copy(pixels.slice(0, start, start + b), g.input(ClipGraph.PIXELS));
            g.run();
            readRows(g.output(ClipGraph.EMBEDS), out, start);
        }
        return out;
    }

    /** Projected text features (not normalised) [n][projectionDim]. */
    public synchronized float[][] textFeatures(int[][] ids) {
        requireText();
        float[][] out = new float[ids.length][];
        for (int start = 0; start < ids.length; start += MAX_BATCH) {
            int b = Math.min(MAX_BATCH, ids.length - start);
            CompiledGraph g = textGraph(b, false);
            fillText(g, ids, start, b);
            g.run();
            readRows(g.output(ClipGraph.EMBEDS), out, start);
        }
        return out;
    }

    /**
     * Hidden state {@code layer} of the vision tower (Hugging Face's hidden_states[layer]: 0 = after
     * the pre-LayerNorm, i = after block i-1; LLaVA-1.5 takes the penultimate of the full tower, which
     * is the last one an mmproj file stores) as a new F32 [n, tokens, width] tensor (the caller
     * closes it). Row 0 of each item is the class token; drop it with slice(1, 1, tokens).
     */
    public synchronized Tensor visionHiddenState(Tensor pixels, int layer) {
        ClipWeights.Vision w = requireVisionWeights();
        if (layer < 0 || layer > w.layers().size()) {
            throw new IllegalArgumentException("hidden layer must be in [0, " + w.layers().size() + "], got " + layer);
        }
        int n = checkPixels(pixels);
        ClipConfig.Vision c = config.vision();
        Tensor out = Tensor.allocate(DType.F32, n, c.tokens(), c.width());
        try {
            for (int start = 0; start < n; start += MAX_BATCH) {
                int b = Math.min(MAX_BATCH, n - start);
                CompiledGraph g = visionGraph(b, layer, false, false);
                Ops.copy(pixels.slice(0, start, start + b), g.input(ClipGraph.PIXELS));
                g.run();
                Ops.copy(g.output(ClipGraph.HIDDEN), out.slice(0, start, start + b));
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * Every output of one vision forward of up to {@link #MAX_BATCH} images, as new tensors the
     * caller closes: "hidden.0".."hidden.L", and "pooled", "embeds" where the file has them.
     */
    public synchronized Map<String, Tensor> runVision(Tensor pixels) {
        ClipWeights.Vision w = requireVisionWeights();
        int n = checkPixels(pixels);
        checkBatchLimit(n);
        boolean pooled = w.postLnWeight() != null;
        CompiledGraph g = visionGraph(n, w.layers().size(), true, pooled);
        Ops.copy(pixels, g.input(ClipGraph.PIXELS));
        g.run();
        return copyOutputs(g);
    }

    /** Every output of one text forward of up to {@link #MAX_BATCH} id rows: hidden.i, last, pooled, embeds. */
    public synchronized Map<String, Tensor> runText(int[][] ids) {
        requireText();
        checkBatchLimit(ids.length);
        CompiledGraph g = textGraph(ids.length, true);
        fillText(g, ids, 0, ids.length);
        g.run();
        return copyOutputs(g);
    }

    // ------------------------------------------------------------------ classification

    /** {@link #classify(float[], List, String)} of an image file with OpenAI's template. */
    public List<Label> classify(Path image, List<String> labels) throws IOException {
        return classify(embedImage(image), labels, DEFAULT_TEMPLATE);
    }

    /** {@link #classify(float[], List, String)} of an image with OpenAI's template. */
    public List<Label> classify(BufferedImage image, List<String> labels) {
        return classify(embedImage(image), labels, DEFAULT_TEMPLATE);
    }

    /**
     * Zero-shot classification: each label is put in the template ("{}" is replaced by it; a
     * template without "{}" is rejected), embedded, and scored exp(logitScale)·cosine; returns
     * the labels ranked by softmax probability, highest first.
     */
    public List<Label> classify(float[] imageEmbedding, List<String> labels, String template) {
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("no labels to classify with");
        }
        if (template == null || !template.contains("{}")) {
            throw new IllegalArgumentException("the prompt template must contain {}, got " + template);
        }
        List<String> prompts = new ArrayList<>(labels.size());
        for (String l : labels) {
            if (l == null || l.isBlank()) {
                throw new IllegalArgumentException("labels must not be blank");
            }
            prompts.add(template.replace("{}", l.strip()));
        }
        return rank(imageEmbedding, labels, embedTexts(prompts), logitScale());
    }

    /**
     * Ranks labels by softmax over exp(logitScale)·(image · text) for normalised embeddings, highest
     * probability first.
     */
    public static List<Label> rank(float[] imageEmbedding, List<String> labels, List<float[]> textEmbeddings, float logitScale) {
        if (labels.isEmpty() || labels.size() != textEmbeddings.size()) {
            throw new IllegalArgumentException("need one text embedding per label, got " + labels.size() + " labels and "
                    + textEmbeddings.size() + " embeddings");
        }
        double scale = Math.exp(logitScale);
        double[] logits = new double[labels.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            logits[i] = scale * dot(imageEmbedding, textEmbeddings.get(i));
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (double l : logits) {
            sum += Math.exp(l - max);
        }
        List<Label> out = new ArrayList<>(labels.size());
        for (int i = 0; i < logits.length; i++) {
            out.add(new Label(labels.get(i).strip(), Math.exp(logits[i] - max) / sum, logits[i]));
        }
        out.sort(Comparator.comparingDouble(Label::probability).reversed());
        return out;
    }

    /** Dot product (the cosine of two normalised embeddings). */
    public static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("embedding sizes differ: " + a.length + " vs " + b.length);
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** L2-normalised copies of the rows. */
    public static float[][] normalize(float[][] rows) {
        float[][] out = new float[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            double s = 0;
            for (float v : rows[r]) {
                s += (double) v * v;
            }
            double inv = s > 0 ? 1 / Math.sqrt(s) : 0;
            out[r] = new float[rows[r].length];
            for (int i = 0; i < out[r].length; i++) {
                out[r][i] = (float) (rows[r][i] * inv);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ conversion and saving

    /**
     * A copy of this model (independent of this one's file) whose linear-layer matrices are stored as
     * {@code type} (F32, F16, BF16, Q8_0, Q4_0, ... any matmul weight type whose block divides the row
     * lengths); embeddings, norms and biases keep their types. Close the copy too.
     */
    public ClipModel withMatrixType(DType type) {
        if (!Ops.isMatmulWeightType(type)) {
            throw new IllegalArgumentException(type + " is not a matmul weight type");
        }
        List<Tensor> converted = new ArrayList<>();
        try {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : tensors().entrySet()) {
                Tensor t = e.getValue();
                if (isMatrixName(e.getKey()) && t.dtype() != type) {
                    try (Tensor f = t.dtype() == DType.F32 ? null : toF32(t)) {
                        Tensor src = f == null ? t : f;
                        Tensor c = type == DType.F32 ? Ops.contiguous(src)
                                : type.isQuantized() ? Ops.quantize(src, type) : Ops.convert(src, type);
                        converted.add(c);
                        t = c;
                    }
                }
                all.put(e.getKey(), t);
            }
            return fromTensors(config, all, logitScale(), backend);
        } finally {
            converted.forEach(Tensor::close);
        }
    }

    /**
     * A model from tensors under their GGUF names (docs/CLIP_GGUF.md; e.g. random weights for a
     * benchmark). The tensors are copied, so the caller may close them afterwards. Close the model.
     *
     * @throws IllegalArgumentException naming a missing or misshaped tensor
     */
    public static ClipModel fromTensors(ClipConfig config, Map<String, Tensor> tensors, float logitScale) {
        return fromTensors(config, tensors, logitScale, CpuBackend.INSTANCE);
    }

    /** As {@link #fromTensors(ClipConfig, Map, float)}, running on backend. */
    public static ClipModel fromTensors(ClipConfig config, Map<String, Tensor> tensors, float logitScale, Backend backend) {
        List<Tensor> owned = new ArrayList<>();
        Map<String, Tensor> copies = new HashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor c = Ops.isMatmulWeightType(e.getValue().dtype()) && e.getValue().dtype().isQuantized()
                        ? copyRaw(e.getValue()) : Ops.contiguous(e.getValue());
                owned.add(c);
                copies.put(e.getKey(), c);
            }
            ClipWeights w = ClipWeights.load(config, ClipWeights.GGUF, copies::get, logitScale);
            List<AutoCloseable> res = new ArrayList<>();
            res.add(w);
            res.addAll(owned);
            return new ClipModel(config, w, res, backend);
        } catch (RuntimeException e) {
            owned.forEach(Tensor::close);
            throw e;
        }
    }

    /** A byte copy of a contiguous quantized tensor (Ops.copy converts float types only). */
    private static Tensor copyRaw(Tensor t) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException("quantized tensor " + t + " is not contiguous");
        }
        Tensor c = Tensor.allocate(t.dtype(), t.shape());
        MemorySegment.copy(t.segment(), 0, c.segment(), 0, t.byteSize());
        return c;
    }

    private static Tensor toF32(Tensor t) {
        return t.dtype().isQuantized() ? Ops.dequantize(t) : Ops.convert(t, DType.F32);
    }

    private static boolean isMatrixName(String name) {
        return name.endsWith("_projection.weight") || (name.contains(".blk.") && name.endsWith(".weight")
                && !name.contains(".ln1.") && !name.contains(".ln2."));
    }

    /** Every tensor under its GGUF name (docs/CLIP_GGUF.md), fc1 as ffn_up. */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        ClipWeights.Naming n = ClipWeights.GGUF;
        if (weights.vision() != null) {
            ClipWeights.Vision v = weights.vision();
            m.put(n.global('v', "class"), v.classEmbedding());
            m.put(n.global('v', "patch"), v.patchEmbedding());
            m.put(n.global('v', "pos"), v.positionEmbedding());
            m.put(n.global('v', "pre_ln") + ".weight", v.preLnWeight());
            m.put(n.global('v', "pre_ln") + ".bias", v.preLnBias());
            putLayers(m, 'v', v.layers());
            if (v.postLnWeight() != null) {
                m.put(n.global('v', "post_ln") + ".weight", v.postLnWeight());
                m.put(n.global('v', "post_ln") + ".bias", v.postLnBias());
            }
            if (v.projection() != null) {
                m.put(n.global('v', "proj"), v.projection());
            }
        }
        if (weights.text() != null) {
            ClipWeights.Text t = weights.text();
            m.put(n.global('t', "token"), t.tokenEmbedding());
            m.put(n.global('t', "pos"), t.positionEmbedding());
            putLayers(m, 't', t.layers());
            m.put(n.global('t', "post_ln") + ".weight", t.finalLnWeight());
            m.put(n.global('t', "post_ln") + ".bias", t.finalLnBias());
            m.put(n.global('t', "proj"), t.projection());
        }
        return m;
    }

    private static void putLayers(Map<String, Tensor> m, char tower, List<ClipWeights.Layer> layers) {
        ClipWeights.Naming n = ClipWeights.GGUF;
        for (int i = 0; i < layers.size(); i++) {
            ClipWeights.Layer l = layers.get(i);
            Tensor[][] parts = {{l.ln1Weight(), l.ln1Bias()}, {l.q(), l.qBias()}, {l.k(), l.kBias()}, {l.v(), l.vBias()},
                {l.out(), l.outBias()}, {l.ln2Weight(), l.ln2Bias()}, {l.fc1(), l.fc1Bias()}, {l.fc2(), l.fc2Bias()}};
            String[] names = {"ln1", "q", "k", "v", "out", "ln2", "fc1", "fc2"};
            for (int p = 0; p < names.length; p++) {
                m.put(n.layer(tower, i, names[p], "weight"), parts[p][0]);
                m.put(n.layer(tower, i, names[p], "bias"), parts[p][1]);
            }
        }
    }

    /** Writes this model as a GGUF file (keys and names in docs/CLIP_GGUF.md), tensors in their current types. */
    public void writeGguf(Path path, String name) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "clip");
        w.putString("general.name", name == null ? "clip" : name);
        w.putBoolean("clip.has_vision_encoder", hasVision());
        w.putBoolean("clip.has_text_encoder", hasText());
        w.putBoolean("clip.has_llava_projector", false);
        w.putFloat32("clip.logit_scale", logitScale());
        ClipConfig.Vision v = config.vision();
        ClipConfig.Text t = config.text();
        Nn.Activation act = v != null ? v.act() : t.act();
        w.putBoolean("clip.use_gelu", act == Nn.Activation.GELU || act == Nn.Activation.GELU_TANH);
        if (hasVision()) {
            w.putUInt32("clip.vision.image_size", v.imageSize());
            w.putUInt32("clip.vision.patch_size", v.patchSize());
            w.putUInt32("clip.vision.embedding_length", v.width());
            w.putUInt32("clip.vision.feed_forward_length", v.ffn());
            w.putUInt32("clip.vision.projection_dim", config.projectionDim());
            w.putUInt32("clip.vision.attention.head_count", v.heads());
            w.putFloat32("clip.vision.attention.layer_norm_epsilon", v.eps());
            w.putUInt32("clip.vision.block_count", weights.vision().layers().size());
            w.put("clip.vision.image_mean", GgufArray.ofFloat32(v.mean()));
            w.put("clip.vision.image_std", GgufArray.ofFloat32(v.std()));
            w.putString("clip.vision.hidden_act", ClipConfig.activationName(v.act()));
        }
        if (hasText()) {
            w.putUInt32("clip.text.context_length", t.contextLength());
            w.putUInt32("clip.text.vocab_size", t.vocabSize());
            w.putUInt32("clip.text.embedding_length", t.width());
            w.putUInt32("clip.text.feed_forward_length", t.ffn());
            w.putUInt32("clip.text.projection_dim", config.projectionDim());
            w.putUInt32("clip.text.attention.head_count", t.heads());
            w.putFloat32("clip.text.attention.layer_norm_epsilon", t.eps());
            w.putUInt32("clip.text.block_count", t.blocks());
            w.putInt32("clip.text.eos_token_id", t.eosTokenId());
            w.putString("clip.text.hidden_act", ClipConfig.activationName(t.act()));
        }
        for (Map.Entry<String, Tensor> e : tensors().entrySet()) {
            w.addTensor(e.getKey(), e.getValue());
        }
        w.write(path);
    }

    // ------------------------------------------------------------------ internals

    private ClipConfig.Vision requireVision() {
        if (config.vision() == null || weights.vision() == null) {
            throw new IllegalStateException("this model has no vision tower");
        }
        return config.vision();
    }

    private ClipWeights.Vision requireVisionWeights() {
        requireVision();
        checkOpen();
        return weights.vision();
    }

    private ClipConfig.Text requireText() {
        if (config.text() == null || weights.text() == null) {
            throw new IllegalStateException("this model has no text tower");
        }
        checkOpen();
        return config.text();
    }

    private int checkPixels(Tensor pixels) {
        int s = config.vision().imageSize();
        if (pixels.dtype() != DType.F32 || pixels.rank() != 4 || pixels.shape(1) != 3 || pixels.shape(2) != s || pixels.shape(3) != s) {
            throw new IllegalArgumentException("pixels must be F32 [n, 3, " + s + ", " + s + "], got " + pixels);
        }
        if (pixels.shape(0) == 0) {
            throw new IllegalArgumentException("no images");
        }
        return Math.toIntExact(pixels.shape(0));
    }

    private static void checkBatchLimit(int n) {
        if (n <= 0 || n > MAX_BATCH) {
            throw new IllegalArgumentException("batch must be 1.." + MAX_BATCH + ", got " + n);
        }
    }

    private void fillText(CompiledGraph g, int[][] ids, int start, int b) {
        ClipConfig.Text c = config.text();
        int ctx = c.contextLength();
        MemorySegment tok = g.input(ClipGraph.TOKENS).segment();
        MemorySegment rows = g.input(ClipGraph.POOL_ROWS).segment();
        for (int i = 0; i < b; i++) {
            int[] row = ids[start + i];
            if (row == null || row.length == 0 || row.length > ctx) {
                throw new IllegalArgumentException("token row " + (start + i) + " must have 1.." + ctx + " ids, got "
                        + (row == null ? "null" : row.length));
            }
            int pool = -1;
            int best = Integer.MIN_VALUE;
            for (int j = 0; j < ctx; j++) {
                int id = j < row.length ? row[j] : 0;
                if (id < 0 || id >= c.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
                }
                tok.setAtIndex(ValueLayout.JAVA_INT, (long) i * ctx + j, id);
                if (c.eosTokenId() >= 0 ? (id == c.eosTokenId() && pool < 0) : id > best) {
                    pool = j;
                    best = id;
                }
            }
            if (pool < 0) {
                throw new IllegalArgumentException("token row " + (start + i) + " has no end token " + c.eosTokenId());
            }
            rows.setAtIndex(ValueLayout.JAVA_INT, i, i * ctx + pool);
        }
    }

    private CompiledGraph visionGraph(int n, int blocks, boolean allHidden, boolean pooled) {
        String key = "v" + n + ":" + blocks + ":" + allHidden + ":" + pooled;
        Compiled c = graphs.get(key);
        if (c == null) {
            ClipConfig.Vision v = config.vision();
            ClipWeights.Vision w = weights.vision();
            List<Tensor> owned = new ArrayList<>();
            try {
                Tensor cls = Tensor.allocate(DType.F32, n, 1, v.width());
                owned.add(cls);
                Tensor rows = Tensor.allocate(DType.I32, n);
                owned.add(rows);
                for (int i = 0; i < n; i++) {
                    Ops.copy(w.classEmbedding().reshape(1, v.width()), cls.select(0, i));
                    rows.segment().setAtIndex(ValueLayout.JAVA_INT, i, i * v.tokens());
                }
                c = new Compiled(new CompiledGraph(ClipGraph.vision(v, w, n, blocks, cls, rows, allHidden, pooled), backend), owned);
            } catch (RuntimeException e) {
                owned.forEach(Tensor::close);
                throw e;
            }
            put(key, c);
        }
        return c.graph();
    }

    private CompiledGraph textGraph(int n, boolean allHidden) {
        String key = "t" + n + ":" + allHidden;
        Compiled c = graphs.get(key);
        if (c == null) {
            c = new Compiled(new CompiledGraph(ClipGraph.text(config.text(), weights.text(), n, allHidden), backend), List.of());
            put(key, c);
        }
        return c.graph();
    }

    /** Times per op type from now on (off by default). */
    public synchronized void setProfiling(boolean on) {
        profiling = on;
        for (Compiled c : graphs.values()) {
            c.graph().setProfiling(on);
        }
    }

    /** Per-op times of every forward run while profiling was on. */
    public synchronized dev.tessera.runtime.Profile profile() {
        dev.tessera.runtime.Profile all = new dev.tessera.runtime.Profile();
        all.addAll(evicted);
        for (Compiled c : graphs.values()) {
            all.addAll(c.graph().profile());
        }
        return all;
    }

    private void put(String key, Compiled c) {
        c.graph().setProfiling(profiling);
        graphs.put(key, c);
        var it = graphs.entrySet().iterator();
        while (graphs.size() > MAX_GRAPHS && it.hasNext()) {
            var e = it.next();
            if (e.getValue() != c) {
                evicted.addAll(e.getValue().graph().profile());
                e.getValue().close();
                it.remove();
            }
        }
    }

    private static Map<String, Tensor> copyOutputs(CompiledGraph g) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (String name : g.graph().outputs().keySet()) {
                out.put(name, Ops.contiguous(g.output(name)));
            }
            return out;
        } catch (RuntimeException e) {
            out.values().forEach(Tensor::close);
            throw e;
        }
    }

    private static void readRows(Tensor t, float[][] out, int start) {
        int n = (int) t.shape(0);
        int d = (int) t.shape(1);
        for (int i = 0; i < n; i++) {
            out[start + i] = new float[d];
            MemorySegment.copy(t.segment(), ValueLayout.JAVA_FLOAT, (long) i * d * 4, out[start + i], 0, d);
        }
    }

    private static Rgba8Image toRgba8(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int[] line = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, line, 0, w);
            for (int x = 0; x < w; x++) {
                int p = line[x];
                int o = (y * w + x) * 3;
                rgb[o] = (byte) (p >> 16);
                rgb[o + 1] = (byte) (p >> 8);
                rgb[o + 2] = (byte) p;
            }
        }
        return Rgba8Image.ofRgb(w, h, rgb);
    }

    /** Decodes an image file with Tessera's decoders (for callers that want the pixels). */
    public static Rgba8Image readImage(Path file) throws IOException {
        return ImageIo.read(file);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        graphs.values().forEach(Compiled::close);
        graphs.clear();
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + r, e);
            }
        }
    }
}
