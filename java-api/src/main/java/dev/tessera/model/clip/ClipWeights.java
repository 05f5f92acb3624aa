package dev.tessera.model.clip;

import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The tensors of a CLIP model, checked against the shapes the config implies. Matrices stay as
 * stored (F32, F16, BF16 or a quantized type: zero-copy views of the mapped file); vectors,
 * position embeddings and the class embedding are converted to F32 copies owned here, since the
 * element-wise kernels take F32. Valid while the file stays open; close to free the copies.
 */
public final class ClipWeights implements AutoCloseable {

    /** One pre-LN encoder block. Matrices are [out, in] (PyTorch order). */
    public record Layer(Tensor ln1Weight, Tensor ln1Bias, Tensor q, Tensor qBias, Tensor k, Tensor kBias, Tensor v, Tensor vBias,
                        Tensor out, Tensor outBias, Tensor ln2Weight, Tensor ln2Bias, Tensor fc1, Tensor fc1Bias, Tensor fc2,
                        Tensor fc2Bias) {}

    /**
     * The vision tower. postLn* and projection are null in files that lack them (a LLaVA mmproj).
     *
     * @param patchEmbedding F32/F16 [width, 3, patch, patch]
     * @param positionEmbedding F32 [tokens, width] (row 0 = the class token)
     */
    public record Vision(Tensor classEmbedding, Tensor patchEmbedding, Tensor positionEmbedding, Tensor preLnWeight,
                         Tensor preLnBias, List<Layer> layers, Tensor postLnWeight, Tensor postLnBias, Tensor projection) {}

    /** The text tower; projection is [projectionDim, width]. */
    public record Text(Tensor tokenEmbedding, Tensor positionEmbedding, List<Layer> layers, Tensor finalLnWeight,
                       Tensor finalLnBias, Tensor projection) {}

    /** Tensor names in one file layout. */
    public interface Naming {
        /** Global tensor of a tower ('v' or 't'): see the names in {@link #HF}. */
        String global(char tower, String part);

        /** A block tensor: part is q, k, v, out, ln1, ln2, fc1 or fc2; suffix "weight" or "bias". */
        String layer(char tower, int index, String part, String suffix);

        /** Whether fc1/fc2 may be stored under each other's name (detected by shape). */
        boolean mayBeSwapped();
    }

    /** Hugging Face CLIPModel names. */
    public static final Naming HF = new Naming() {
        @Override
        public String global(char tower, String part) {
            return switch (tower + ":" + part) {
                case "v:class" -> "vision_model.embeddings.class_embedding";
                case "v:patch" -> "vision_model.embeddings.patch_embedding.weight";
                case "v:pos" -> "vision_model.embeddings.position_embedding.weight";
                case "v:pre_ln" -> "vision_model.pre_layrnorm";
                case "v:post_ln" -> "vision_model.post_layernorm";
                case "v:proj" -> "visual_projection.weight";
                case "t:token" -> "text_model.embeddings.token_embedding.weight";
                case "t:pos" -> "text_model.embeddings.position_embedding.weight";
                case "t:post_ln" -> "text_model.final_layer_norm";
                case "t:proj" -> "text_projection.weight";
                default -> throw new IllegalArgumentException(tower + ":" + part);
            };
        }

        @Override
        public String layer(char tower, int index, String part, String suffix) {
            String p = switch (part) {
                case "q", "k", "v" -> "self_attn." + part + "_proj";
                case "out" -> "self_attn.out_proj";
                case "ln1" -> "layer_norm1";
                case "ln2" -> "layer_norm2";
                case "fc1" -> "mlp.fc1";
                case "fc2" -> "mlp.fc2";
                default -> throw new IllegalArgumentException(part);
            };
            return (tower == 'v' ? "vision_model" : "text_model") + ".encoder.layers." + index + "." + p + "." + suffix;
        }

        @Override
        public boolean mayBeSwapped() {
            return false;
        }
    };

    /** llama.cpp / clip.cpp GGUF names (docs/CLIP_GGUF.md). fc1 is ffn_up, fc2 ffn_down, or swapped. */
    public static final Naming GGUF = new Naming() {
        @Override
        public String global(char tower, String part) {
            return switch (tower + ":" + part) {
                case "v:class" -> "v.class_embd";
                case "v:patch" -> "v.patch_embd.weight";
                case "v:pos" -> "v.position_embd.weight";
                case "v:pre_ln" -> "v.pre_ln";
                case "v:post_ln" -> "v.post_ln";
                case "v:proj" -> "visual_projection.weight";
                case "t:token" -> "t.token_embd.weight";
                case "t:pos" -> "t.position_embd.weight";
                case "t:post_ln" -> "t.post_ln";
                case "t:proj" -> "text_projection.weight";
                default -> throw new IllegalArgumentException(tower + ":" + part);
            };
        }

        @Override
        public String layer(char tower, int index, String part, String suffix) {
            String p = switch (part) {
                case "q", "k", "v" -> "attn_" + part;
                case "out" -> "attn_out";
                case "ln1", "ln2" -> part;
                case "fc1" -> "ffn_up";
                case "fc2" -> "ffn_down";
                default -> throw new IllegalArgumentException(part);
            };
            return tower + ".blk." + index + "." + p + "." + suffix;
        }

        @Override
        public boolean mayBeSwapped() {
            return true;
        }
    };

    private final Vision vision;
    private final Text text;
    private final float logitScale;
    private final List<Tensor> owned;

    private ClipWeights(Vision vision, Text text, float logitScale, List<Tensor> owned) {
        this.vision = vision;
        this.text = text;
        this.logitScale = logitScale;
        this.owned = owned;
    }

    /** Null when the file has no vision tower. */
    public Vision vision() {
        return vision;
    }

    /** Null when the file has no text tower. */
    public Text text() {
        return text;
    }

    /** ln of the similarity scale (CLIP's logit_scale before exp). */
    public float logitScale() {
        return logitScale;
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
    }

    /**
     * Looks up and checks every tensor the config needs.
     *
     * @param find a tensor by name, or null if absent
     * @param logitScale ln of the similarity scale
     * @throws IllegalArgumentException naming a missing or misshaped tensor, or one of an unusable type
     */
    public static ClipWeights load(ClipConfig c, Naming names, Function<String, Tensor> find, float logitScale) {
        Loader l = new Loader(find, names);
        try {
            Vision vision = null;
            if (c.vision() != null) {
                ClipConfig.Vision v = c.vision();
                int w = v.width();
                Tensor patch = l.get(names.global('v', "patch"), w, 3, v.patchSize(), v.patchSize());
                if (patch.dtype() != DType.F32 && patch.dtype() != DType.F16) {
                    patch = l.toF32(patch);
                }
                List<Layer> layers = l.layers('v', v.blocks(), w, v.ffn());
                boolean post = find.apply(names.global('v', "post_ln") + ".weight") != null;
                String proj = names.global('v', "proj");
                vision = new Vision(l.vector(names.global('v', "class"), w), patch,
                        l.f32(names.global('v', "pos"), v.tokens(), w),
                        l.vector(names.global('v', "pre_ln") + ".weight", w), l.vector(names.global('v', "pre_ln") + ".bias", w),
                        layers, post ? l.vector(names.global('v', "post_ln") + ".weight", w) : null,
                        post ? l.vector(names.global('v', "post_ln") + ".bias", w) : null,
                        post && find.apply(proj) != null ? l.matrix(proj, c.projectionDim(), w) : null);
            }
            Text text = null;
            if (c.text() != null) {
                ClipConfig.Text t = c.text();
                int w = t.width();
                Tensor token = l.get(names.global('t', "token"), t.vocabSize(), w);
                if (token.dtype() == DType.BF16) {
                    token = l.toF32(token);
                }
                text = new Text(token, l.f32(names.global('t', "pos"), t.contextLength(), w), l.layers('t', t.blocks(), w, t.ffn()),
                        l.vector(names.global('t', "post_ln") + ".weight", w), l.vector(names.global('t', "post_ln") + ".bias", w),
                        l.matrix(names.global('t', "proj"), c.projectionDim(), w));
            }
            return new ClipWeights(vision, text, logitScale, l.owned);
        } catch (RuntimeException e) {
            for (Tensor t : l.owned) {
                t.close();
            }
            throw e;
        }
    }

    private static final class Loader {
        final Function<String, Tensor> find;
        final Naming names;
        final List<Tensor> owned = new ArrayList<>();

        Loader(Function<String, Tensor> find, Naming names) {
            this.find = find;
            this.names = names;
        }

        Tensor get(String name, long... shape) {
            Tensor t = find.apply(name);
            if (t == null) {
                throw new IllegalArgumentException("missing tensor " + name + " (expected shape " + Arrays.toString(shape) + ")");
            }
            if (!Arrays.equals(t.shape(), shape)) {
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(shape));
            }
            return t;
        }

        Tensor toF32(Tensor t) {
            Tensor c = t.dtype().isQuantized() ? Ops.dequantize(t) : Ops.convert(t, DType.F32);
            owned.add(c);
            return c;
        }

        Tensor f32(String name, long... shape) {
            Tensor t = get(name, shape);
            return t.dtype() == DType.F32 ? t : toF32(t);
        }

        Tensor vector(String name, long n) {
            return f32(name, n);
        }

        Tensor matrix(String name, long rows, long cols) {
            Tensor t = get(name, rows, cols);
            if (!Ops.isMatmulWeightType(t.dtype())) {
                throw new IllegalArgumentException("tensor " + name + " has type " + t.dtype() + ", which the matmul kernels do not support");
            }
            return t;
        }

        List<Layer> layers(char tower, int count, int w, int ffn) {
            List<Layer> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String fc1 = names.layer(tower, i, "fc1", "weight");
                String fc2 = names.layer(tower, i, "fc2", "weight");
                String fc1b = names.layer(tower, i, "fc1", "bias");
                String fc2b = names.layer(tower, i, "fc2", "bias");
                Tensor probe = find.apply(fc1);
                if (names.mayBeSwapped() && probe != null && probe.rank() == 2 && probe.shape(0) == w && ffn != w) {
                    // legacy clip.cpp / llama.cpp files store fc1 as ffn_down and fc2 as ffn_up
                    String s = fc1;
                    fc1 = fc2;
                    fc2 = s;
                    s = fc1b;
                    fc1b = fc2b;
                    fc2b = s;
                }
                out.add(new Layer(
                        vector(names.layer(tower, i, "ln1", "weight"), w), vector(names.layer(tower, i, "ln1", "bias"), w),
                        matrix(names.layer(tower, i, "q", "weight"), w, w), vector(names.layer(tower, i, "q", "bias"), w),
                        matrix(names.layer(tower, i, "k", "weight"), w, w), vector(names.layer(tower, i, "k", "bias"), w),
                        matrix(names.layer(tower, i, "v", "weight"), w, w), vector(names.layer(tower, i, "v", "bias"), w),
                        matrix(names.layer(tower, i, "out", "weight"), w, w), vector(names.layer(tower, i, "out", "bias"), w),
                        vector(names.layer(tower, i, "ln2", "weight"), w), vector(names.layer(tower, i, "ln2", "bias"), w),
                        matrix(fc1, ffn, w), vector(fc1b, ffn), matrix(fc2, w, ffn), vector(fc2b, w)));
            }
            return out;
        }
    }
}
