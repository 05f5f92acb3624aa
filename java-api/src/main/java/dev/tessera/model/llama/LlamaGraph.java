package dev.tessera.model.llama;

import dev.tessera.runtime.Graph;
import dev.tessera.runtime.GraphBuilder;
import dev.tessera.runtime.Op;
import dev.tessera.runtime.TensorSpec;
import dev.tessera.runtime.Value;
import dev.tessera.tensor.DType;

/**
 * The forward graph of a LLaMA decoder for a batch of n consecutive positions: token ids (or input
 * embeddings, for LLaVA's image tokens) in, the logits of the last position (or of every position)
 * out, the batch's keys and values appended to the cache on the way. Math as llama.cpp runs GGUF
 * LLaMA (FORMATS.md §3.2–3.3): pre-RMSNorm blocks, RoPE on adjacent pairs, grouped causal attention
 * with scale 1/√headDim, SwiGLU feed-forward.
 */
public final class LlamaGraph {
    /** Inputs: I32 [n] token ids ({@link Input#TOKENS}) or F32 [n, dim] ({@link Input#EMBEDDINGS}). */
    public static final String TOKENS = "tokens";
    public static final String EMBEDDINGS = "embeddings";
    /** Input: I32 [n] positions, consecutive, the first = tokens already in the cache. */
    public static final String POSITIONS = "positions";
    /** Output: F32 [1, vocab] (last position) or [n, vocab] (all positions). */
    public static final String LOGITS = "logits";

    /** What a batch is made of. */
    public enum Input { TOKENS, EMBEDDINGS }

    private LlamaGraph() {}

    public static Graph build(LlamaConfig c, LlamaWeights w, KvCache cache, int n, Input input, boolean allLogits) {
        if (n <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + n);
        }
        GraphBuilder g = new GraphBuilder();
        Value pos = g.input(POSITIONS, TensorSpec.of(DType.I32, n));
        Value x = input == Input.TOKENS
                ? g.apply("embed", new Op.GetRows(), g.constant("token_embd.weight", w.tokenEmbedding()), g.input(TOKENS, TensorSpec.of(DType.I32, n)))
                : g.input(EMBEDDINGS, TensorSpec.of(DType.F32, n, c.embeddingLength()));
        Op.MatMul matmul = new Op.MatMul();
        Op.RmsNorm norm = new Op.RmsNorm(c.rmsEps());
        Op.Rope rope = new Op.Rope(c.ropeDims(), c.ropeFreqBase(), false);
        Op.CausalAttention attention = new Op.CausalAttention((float) (1.0 / Math.sqrt(c.headDim())));
        for (int i = 0; i < c.blockCount(); i++) {
            LlamaWeights.Layer l = w.layers().get(i);
            String b = "blk." + i + ".";
            Value h = g.apply(b + "attn_norm", norm, x, g.constant(b + "attn_norm.weight", l.attnNorm()));
            Value q = g.apply(b + "q", matmul, g.constant(b + "attn_q.weight", l.wq()), h);
            Value k = g.apply(b + "k", matmul, g.constant(b + "attn_k.weight", l.wk()), h);
            Value v = g.apply(b + "v", matmul, g.constant(b + "attn_v.weight", l.wv()), h);
            q = g.apply(b + "q_rope", rope, g.reshape(q, n, c.headCount(), c.headDim()), pos);
            k = g.apply(b + "k_rope", rope, g.reshape(k, n, c.headCountKv(), c.headDim()), pos);
            Value kCache = g.constant(b + "k_cache", cache.keys(i));
            Value vCache = g.constant(b + "v_cache", cache.values(i));
            g.effect(new Op.StoreKv(), kCache, k, pos);
            g.effect(new Op.StoreKv(), vCache, g.reshape(v, n, c.headCountKv(), c.headDim()), pos);
            Value o = g.apply(b + "attn", attention, q, kCache, vCache, pos);
            Value attnOut = g.apply(b + "attn_out", matmul, g.constant(b + "attn_output.weight", l.wo()), g.reshape(o, n, -1));
            x = g.apply(b + "attn_residual", new Op.Add(), x, attnOut);
            Value m = g.apply(b + "ffn_norm", norm, x, g.constant(b + "ffn_norm.weight", l.ffnNorm()));
            Value gate = g.apply(b + "ffn_gate", matmul, g.constant(b + "ffn_gate.weight", l.wGate()), m);
            Value up = g.apply(b + "ffn_up", matmul, g.constant(b + "ffn_up.weight", l.wUp()), m);
            Value act = g.apply(b + "ffn_act", new Op.SwiGlu(), gate, up);
            Value down = g.apply(b + "ffn_down", matmul, g.constant(b + "ffn_down.weight", l.wDown()), act);
            x = g.apply(b + "ffn_residual", new Op.Add(), x, down);
        }
        if (!allLogits && n > 1) {
            x = g.slice(x, 0, n - 1, n);
        }
        Value out = g.apply("output_norm", norm, x, g.constant("output_norm.weight", w.outputNorm()));
        g.output(LOGITS, g.apply("output", matmul, g.constant("output.weight", w.output()), out));
        return g.build();
    }
}
