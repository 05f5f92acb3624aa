package dev.tessera.model.clip;

import dev.tessera.runtime.Graph;
import dev.tessera.runtime.GraphBuilder;
import dev.tessera.runtime.Op;
import dev.tessera.runtime.TensorSpec;
import dev.tessera.runtime.Value;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * The forward graphs of CLIP's two towers for a batch of n inputs (FORMATS.md §5.1). Activations
 * are kept as [n·tokens, width] rows so every linear layer is one matmul; attention sees them as
 * [n, tokens, heads, headDim].
 *
 * <p>Hidden state i (output "hidden.i" or "hidden") follows Hugging Face's hidden_states: 0 is the
 * encoder input (for vision, after pre-LayerNorm), i the output of block i-1.
 */
public final class ClipGraph {
    /** Vision input: F32 [n, 3, size, size] normalised pixels. */
    public static final String PIXELS = "pixels";
    /** Text inputs: I32 [n·context] token ids, I32 [n] row of each item's end token in [n·context]. */
    public static final String TOKENS = "tokens";
    public static final String POOL_ROWS = "pool_rows";
    /** Output: F32 [n, tokens, width], the last hidden state computed. */
    public static final String HIDDEN = "hidden";
    /** Text output: F32 [n, context, width], the final LayerNorm over every token. */
    public static final String LAST = "last";
    /** Output: F32 [n, width], post-LN class token (vision) or final-LN end token (text). */
    public static final String POOLED = "pooled";
    /** Output: F32 [n, projectionDim], pooled · projectionᵀ (not normalised). */
    public static final String EMBEDS = "embeds";

    private ClipGraph() {}

    /**
     * The vision tower run through its first {@code blocks} encoder blocks.
     *
     * @param classTokens F32 [n, 1, width], the class embedding repeated (the caller owns it)
     * @param classRows I32 [n], b·tokens (the caller owns it)
     * @param allHidden also output every hidden state as "hidden.i"
     * @param pooled output POOLED (and EMBEDS when there is a projection); needs every block and a post-LN
     */
    public static Graph vision(ClipConfig.Vision c, ClipWeights.Vision w, int n, int blocks, Tensor classTokens, Tensor classRows,
                               boolean allHidden, boolean pooled) {
        checkBatch(n);
        if (blocks < 0 || blocks > w.layers().size()) {
            throw new IllegalArgumentException("blocks must be in [0, " + w.layers().size() + "], got " + blocks);
        }
        if (pooled && (blocks != w.layers().size() || w.postLnWeight() == null)) {
            throw new IllegalArgumentException("pooling needs every block and a post-LayerNorm");
        }
        int t = c.tokens();
        int width = c.width();
        GraphBuilder g = new GraphBuilder();
        Value pixels = g.input(PIXELS, TensorSpec.of(DType.F32, n, 3, c.imageSize(), c.imageSize()));
        Value patches = g.apply("patch_embd", new Op.Conv2d(c.patchSize(), 0), pixels, g.constant("v.patch_embd.weight", w.patchEmbedding()));
        // [n, width, grid, grid] -> [n, grid·grid, width], raster order
        Value seq = g.permute(g.reshape(patches, n, width, t - 1), 0, 2, 1);
        Value x = g.apply("tokens", new Op.Concat(1), g.constant("v.class_tokens", classTokens), seq);
        x = g.apply("pos", new Op.Add(), x, g.constant("v.position_embd.weight", w.positionEmbedding()));
        x = g.apply("pre_ln", new Op.LayerNorm(c.eps()), g.reshape(x, (long) n * t, width),
                g.constant("v.pre_ln.weight", w.preLnWeight()), g.constant("v.pre_ln.bias", w.preLnBias()));
        if (allHidden) {
            g.output(HIDDEN + ".0", g.reshape(x, n, t, width));
        }
        for (int i = 0; i < blocks; i++) {
            x = block(g, "v.blk." + i + ".", w.layers().get(i), x, n, t, c.heads(), c.headDim(), c.eps(), c.act(), false);
            if (allHidden) {
                g.output(HIDDEN + "." + (i + 1), g.reshape(x, n, t, width));
            }
        }
        g.output(HIDDEN, g.reshape(x, n, t, width));
        if (pooled) {
            Value cls = g.apply("cls", new Op.GetRows(), x, g.constant("v.class_rows", classRows));
            Value p = g.apply("post_ln", new Op.LayerNorm(c.eps()), cls, g.constant("v.post_ln.weight", w.postLnWeight()),
                    g.constant("v.post_ln.bias", w.postLnBias()));
            g.output(POOLED, p);
            if (w.projection() != null) {
                g.output(EMBEDS, g.apply("proj", new Op.MatMul(), g.constant("visual_projection.weight", w.projection()), p));
            }
        }
        return g.build();
    }

    /** The whole text tower for n sequences of the context length. */
    public static Graph text(ClipConfig.Text c, ClipWeights.Text w, int n, boolean allHidden) {
        checkBatch(n);
        int t = c.contextLength();
        int width = c.width();
        GraphBuilder g = new GraphBuilder();
        Value ids = g.input(TOKENS, TensorSpec.of(DType.I32, (long) n * t));
        Value rows = g.input(POOL_ROWS, TensorSpec.of(DType.I32, n));
        Value x = g.apply("token_embd", new Op.GetRows(), g.constant("t.token_embd.weight", w.tokenEmbedding()), ids);
        x = g.apply("pos", new Op.Add(), g.reshape(x, n, t, width), g.constant("t.position_embd.weight", w.positionEmbedding()));
        x = g.reshape(x, (long) n * t, width);
        if (allHidden) {
            g.output(HIDDEN + ".0", g.reshape(x, n, t, width));
        }
        for (int i = 0; i < w.layers().size(); i++) {
            x = block(g, "t.blk." + i + ".", w.layers().get(i), x, n, t, c.heads(), c.headDim(), c.eps(), c.act(), true);
            if (allHidden) {
                g.output(HIDDEN + "." + (i + 1), g.reshape(x, n, t, width));
            }
        }
        g.output(HIDDEN, g.reshape(x, n, t, width));
        Value last = g.apply("final_ln", new Op.LayerNorm(c.eps()), x, g.constant("t.post_ln.weight", w.finalLnWeight()),
                g.constant("t.post_ln.bias", w.finalLnBias()));
        g.output(LAST, g.reshape(last, n, t, width));
        Value pooled = g.apply("pool", new Op.GetRows(), last, rows);
        g.output(POOLED, pooled);
        g.output(EMBEDS, g.apply("proj", new Op.MatMul(), g.constant("text_projection.weight", w.projection()), pooled));
        return g.build();
    }

    /** x [n·len, width] through one pre-LN block. */
    private static Value block(GraphBuilder g, String b, ClipWeights.Layer l, Value x, int n, int len, int heads, int hd, float eps,
                               dev.tessera.ops.Nn.Activation act, boolean causal) {
        Op.LayerNorm norm = new Op.LayerNorm(eps);
        Value h = g.apply(b + "ln1", norm, x, g.constant(b + "ln1.weight", l.ln1Weight()), g.constant(b + "ln1.bias", l.ln1Bias()));
        Value q = linear(g, b + "attn_q", l.q(), l.qBias(), h);
        Value k = linear(g, b + "attn_k", l.k(), l.kBias(), h);
        Value v = linear(g, b + "attn_v", l.v(), l.vBias(), h);
        Value o = g.apply(b + "attn", new Op.Attention((float) (1.0 / Math.sqrt(hd)), causal),
                g.reshape(q, n, len, heads, hd), g.reshape(k, n, len, heads, hd), g.reshape(v, n, len, heads, hd));
        Value attnOut = linear(g, b + "attn_out", l.out(), l.outBias(), g.reshape(o, (long) n * len, (long) heads * hd));
        x = g.apply(b + "attn_residual", new Op.Add(), x, attnOut);
        Value m = g.apply(b + "ln2", norm, x, g.constant(b + "ln2.weight", l.ln2Weight()), g.constant(b + "ln2.bias", l.ln2Bias()));
        Value up = g.apply(b + "ffn_act", new Op.Activation(act), linear(g, b + "ffn_up", l.fc1(), l.fc1Bias(), m));
        Value down = linear(g, b + "ffn_down", l.fc2(), l.fc2Bias(), up);
        return g.apply(b + "ffn_residual", new Op.Add(), x, down);
    }

    private static Value linear(GraphBuilder g, String name, Tensor weight, Tensor bias, Value x) {
        Value y = g.apply(name, new Op.MatMul(), g.constant(name + ".weight", weight), x);
        return g.apply(name + "_bias", new Op.Add(), y, g.constant(name + ".bias", bias));
    }

    private static void checkBatch(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + n);
        }
    }
}
