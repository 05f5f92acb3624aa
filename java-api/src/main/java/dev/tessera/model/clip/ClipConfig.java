package dev.tessera.model.clip;

import dev.tessera.image.ClipImagePreprocessor;
import dev.tessera.io.gguf.GgufMetadata;
import dev.tessera.ops.Nn;
import java.util.Map;

/**
 * Hyper-parameters of a CLIP model: a vision tower, a text tower (either may be absent, e.g. a
 * LLaVA mmproj file has no text tower) and the joint embedding size. Read from a Hugging Face
 * config.json ({@link #fromHfJson}) or from GGUF metadata ({@link #fromGguf}, keys in
 * docs/CLIP_GGUF.md).
 */
public record ClipConfig(Vision vision, Text text, int projectionDim) {

    /** The vision transformer. blocks = encoder layers stored (a LLaVA file drops the last one). */
    public record Vision(int imageSize, int patchSize, int width, int blocks, int heads, int ffn, float eps,
                         Nn.Activation act, float[] mean, float[] std) {
        public Vision {
            positive("image size", imageSize);
            positive("patch size", patchSize);
            positive("vision width", width);
            positive("vision heads", heads);
            if (blocks < 0) {
                throw new IllegalArgumentException("vision block count must be >= 0, got " + blocks);
            }
            if (imageSize % patchSize != 0) {
                throw new IllegalArgumentException("image size " + imageSize + " is not a multiple of the patch size " + patchSize);
            }
            if (width % heads != 0) {
                throw new IllegalArgumentException("vision width " + width + " is not a multiple of " + heads + " heads");
            }
            if (mean.length != 3 || std.length != 3) {
                throw new IllegalArgumentException("image mean and std need 3 values each");
            }
        }

        /** Patches per side. */
        public int grid() {
            return imageSize / patchSize;
        }

        /** Sequence length: patches plus the class token. */
        public int tokens() {
            return grid() * grid() + 1;
        }

        public int headDim() {
            return width / heads;
        }
    }

    /**
     * The text transformer. eosTokenId is where pooling happens: the first position holding it, or
     * -1 for OpenAI's rule (the position of the largest id, which is the end token 49407 in the
     * original vocabulary). Hugging Face uses the latter when its config says eos_token_id = 2.
     */
    public record Text(int vocabSize, int contextLength, int width, int blocks, int heads, int ffn, float eps,
                       Nn.Activation act, int eosTokenId) {
        public Text {
            positive("vocab size", vocabSize);
            positive("context length", contextLength);
            positive("text width", width);
            positive("text heads", heads);
            if (width % heads != 0) {
                throw new IllegalArgumentException("text width " + width + " is not a multiple of " + heads + " heads");
            }
        }

        public int headDim() {
            return width / heads;
        }
    }

    private static void positive(String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
    }

    /** A Hugging Face activation name (hidden_act). */
    public static Nn.Activation activation(String name) {
        return switch (name) {
            case "quick_gelu" -> Nn.Activation.QUICK_GELU;
            case "gelu" -> Nn.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_tanh" -> Nn.Activation.GELU_TANH;
            default -> throw new IllegalArgumentException("unsupported activation '" + name + "'");
        };
    }

    /** The Hugging Face name of an activation. */
    public static String activationName(Nn.Activation act) {
        return switch (act) {
            case QUICK_GELU -> "quick_gelu";
            case GELU -> "gelu";
            case GELU_TANH -> "gelu_pytorch_tanh";
            case SILU -> "silu";
        };
    }

    /**
     * Parses a CLIPModel config.json (transformers' defaults for absent keys, which are those of
     * openai/clip-vit-base-patch32), or a CLIPVisionModel one (model_type clip_vision_model: no
     * text tower). Image mean/std are OpenAI's until {@link #withPreprocessorJson} reads the
     * folder's preprocessor_config.json.
     */
    @SuppressWarnings("unchecked")
    public static ClipConfig fromHfJson(String json) {
        Object root = MiniJson.parse(json);
        if (!(root instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("config.json is not a JSON object");
        }
        Map<String, Object> top = (Map<String, Object>) m;
        boolean visionOnly = "clip_vision_model".equals(top.get("model_type"));
        Map<String, Object> v = visionOnly ? top : top.get("vision_config") instanceof Map<?, ?> vm ? (Map<String, Object>) vm : Map.of();
        Map<String, Object> t = top.get("text_config") instanceof Map<?, ?> tm ? (Map<String, Object>) tm : Map.of();
        Vision vision = new Vision(num(v, "image_size", 224), num(v, "patch_size", 32), num(v, "hidden_size", 768),
                num(v, "num_hidden_layers", 12), num(v, "num_attention_heads", 12), num(v, "intermediate_size", 3072),
                (float) dbl(v, "layer_norm_eps", 1e-5), activation(str(v, "hidden_act", "quick_gelu")),
                ClipImagePreprocessor.OPENAI_MEAN.clone(), ClipImagePreprocessor.OPENAI_STD.clone());
        if (visionOnly) {
            // a CLIPVisionModel checkpoint (e.g. a LLaVA vision tower): vision_model.* tensors only
            return new ClipConfig(vision, null, num(top, "projection_dim", 512));
        }
        int eos = num(t, "eos_token_id", ClipTokenizer.END_OF_TEXT);
        Text text = new Text(num(t, "vocab_size", 49408), num(t, "max_position_embeddings", 77), num(t, "hidden_size", 512),
                num(t, "num_hidden_layers", 12), num(t, "num_attention_heads", 8), num(t, "intermediate_size", 2048),
                (float) dbl(t, "layer_norm_eps", 1e-5), activation(str(t, "hidden_act", "quick_gelu")), eos == 2 ? -1 : eos);
        return new ClipConfig(vision, text, num(top, "projection_dim", 512));
    }

    /**
     * This config with the image mean/std of a Hugging Face preprocessor_config.json
     * ({@code image_mean}, {@code image_std}: three numbers each; absent keys keep the current values).
     */
    @SuppressWarnings("unchecked")
    public ClipConfig withPreprocessorJson(String json) {
        if (vision == null) {
            return this;
        }
        Object root = MiniJson.parse(json);
        if (!(root instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("preprocessor_config.json is not a JSON object");
        }
        Map<String, Object> top = (Map<String, Object>) m;
        float[] mean = triple(top, "image_mean", vision.mean());
        float[] std = triple(top, "image_std", vision.std());
        for (float x : std) {
            if (!(x > 0)) {
                throw new IllegalArgumentException("preprocessor_config.json image_std must be positive, got " + java.util.Arrays.toString(std));
            }
        }
        Vision v = new Vision(vision.imageSize(), vision.patchSize(), vision.width(), vision.blocks(), vision.heads(), vision.ffn(),
                vision.eps(), vision.act(), mean, std);
        return new ClipConfig(v, text, projectionDim);
    }

    private static float[] triple(Map<String, Object> m, String key, float[] def) {
        Object o = m.get(key);
        if (o == null) {
            return def.clone();
        }
        if (!(o instanceof java.util.List<?> l) || l.size() != 3 || !l.stream().allMatch(x -> x instanceof Double)) {
            throw new IllegalArgumentException("preprocessor_config.json " + key + " must be 3 numbers, got " + o);
        }
        float[] f = new float[3];
        for (int i = 0; i < 3; i++) {
            f[i] = ((Double) l.get(i)).floatValue();
        }
        return f;
    }

    private static int num(Map<String, Object> m, String key, int def) {
        Object o = m.get(key);
        if (o == null) {
            return def;
        }
        if (!(o instanceof Double d) || d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("config key " + key + " must be an integer, got " + o);
        }
        return d.intValue();
    }

    private static double dbl(Map<String, Object> m, String key, double def) {
        Object o = m.get(key);
        if (o == null) {
            return def;
        }
        if (!(o instanceof Double d)) {
            throw new IllegalArgumentException("config key " + key + " must be a number, got " + o);
        }
        return d;
    }

    private static String str(Map<String, Object> m, String key, String def) {
        Object o = m.get(key);
        if (o == null) {
            return def;
        }
        if (!(o instanceof String s)) {
            throw new IllegalArgumentException("config key " + key + " must be a string, got " + o);
        }
        return s;
    }

    /**
     * Reads the clip.* keys of a GGUF file (ours or llama.cpp's). clip.use_gelu = true means GELU
     * (we run the exact erf form, as the Hugging Face models do; llama.cpp runs the tanh form);
     * our files' clip.{vision,text}.hidden_act, when present, say exactly which.
     */
    public static ClipConfig fromGguf(GgufMetadata md) {
        String arch = md.getString("general.architecture", "");
        if (!arch.equals("clip")) {
            throw new IllegalArgumentException("not a CLIP GGUF file: general.architecture is '" + arch + "'");
        }
        boolean gelu = md.getBoolean("clip.use_gelu", false);
        Nn.Activation defaultAct = gelu ? Nn.Activation.GELU : Nn.Activation.QUICK_GELU;
        Vision vision = null;
        int projection = 0;
        if (md.getBoolean("clip.has_vision_encoder", false)) {
            float[] mean = md.contains("clip.vision.image_mean") ? md.getFloatArray("clip.vision.image_mean") : ClipImagePreprocessor.OPENAI_MEAN.clone();
            float[] std = md.contains("clip.vision.image_std") ? md.getFloatArray("clip.vision.image_std") : ClipImagePreprocessor.OPENAI_STD.clone();
            vision = new Vision(md.getInt("clip.vision.image_size"), md.getInt("clip.vision.patch_size"),
                    md.getInt("clip.vision.embedding_length"), md.getInt("clip.vision.block_count"),
                    md.getInt("clip.vision.attention.head_count"), md.getInt("clip.vision.feed_forward_length"),
                    md.getFloat("clip.vision.attention.layer_norm_epsilon", 1e-5f),
                    md.contains("clip.vision.hidden_act") ? activation(md.getString("clip.vision.hidden_act")) : defaultAct, mean, std);
            projection = md.getInt("clip.vision.projection_dim", 0);
        }
        Text text = null;
        if (md.getBoolean("clip.has_text_encoder", false)) {
            text = new Text(md.getInt("clip.text.vocab_size", ClipTokenizer.VOCAB_SIZE), md.getInt("clip.text.context_length", 77),
                    md.getInt("clip.text.embedding_length"), md.getInt("clip.text.block_count"),
                    md.getInt("clip.text.attention.head_count"), md.getInt("clip.text.feed_forward_length"),
                    md.getFloat("clip.text.attention.layer_norm_epsilon", 1e-5f),
                    md.contains("clip.text.hidden_act") ? activation(md.getString("clip.text.hidden_act")) : defaultAct,
                    md.getInt("clip.text.eos_token_id", -1));
            projection = md.getInt("clip.text.projection_dim", projection);
        }
        if (vision == null && text == null) {
            throw new IllegalArgumentException("the GGUF file has neither a vision nor a text encoder (clip.has_*_encoder)");
        }
        return new ClipConfig(vision, text, projection);
    }
}
