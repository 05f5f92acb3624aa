package dev.tessera.model.llama;

import dev.tessera.io.gguf.GgufMetadata;

/**
 * Hyperparameters of a LLaMA-family decoder, read from GGUF metadata as llama.cpp writes it
 * ({@code llama.*} keys; defaults where llama.cpp has them, none hard-coded).
 *
 * @param contextLength training context, the default session size
 * @param ropeDims dims of each head that RoPE rotates (adjacent pairs, llama.cpp's "normal" mode)
 */
public record LlamaConfig(
        int vocabSize,
        int embeddingLength,
        int blockCount,
        int feedForwardLength,
        int headCount,
        int headCountKv,
        int headDim,
        int ropeDims,
        float ropeFreqBase,
        float rmsEps,
        int contextLength) {

    public static final String ARCHITECTURE = "llama";

    public LlamaConfig {
        positive("vocab size", vocabSize);
        positive("embedding_length", embeddingLength);
        positive("block_count", blockCount);
        positive("feed_forward_length", feedForwardLength);
        positive("attention.head_count", headCount);
        positive("attention.head_count_kv", headCountKv);
        positive("context_length", contextLength);
        if (embeddingLength % headCount != 0) {
            throw new IllegalArgumentException("embedding_length " + embeddingLength + " is not a multiple of head_count " + headCount);
        }
        if (headCount % headCountKv != 0) {
            throw new IllegalArgumentException("head_count " + headCount + " is not a multiple of head_count_kv " + headCountKv);
        }
        if (ropeDims <= 0 || ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new IllegalArgumentException("rope.dimension_count " + ropeDims + " must be even and at most the head size " + headDim);
        }
        if (!(ropeFreqBase > 0) || !(rmsEps > 0)) {
            throw new IllegalArgumentException("rope.freq_base " + ropeFreqBase + " and layer_norm_rms_epsilon " + rmsEps + " must be positive");
        }
    }

    /**
     * Reads the hyperparameters; the vocabulary size comes from {@code llama.vocab_size} or the
     * token list.
     *
     * @throws IllegalArgumentException if the file is not a llama model or a value is missing or
     *     inconsistent (the message names the key)
     */
    public static LlamaConfig from(GgufMetadata md) {
        String arch = md.getString("general.architecture", "");
        if (!ARCHITECTURE.equals(arch)) {
            throw new IllegalArgumentException("general.architecture is '" + arch + "', expected '" + ARCHITECTURE + "'");
        }
        String p = ARCHITECTURE + ".";
        String scaling = md.getString(p + "rope.scaling.type", "none");
        if (!scaling.equals("none") && !(scaling.equals("linear") && md.getFloat(p + "rope.scaling.factor", 1f) == 1f)) {
            throw new IllegalArgumentException(p + "rope.scaling.type '" + scaling + "' is not supported");
        }
        int embd = required(md, p + "embedding_length");
        int heads = required(md, p + "attention.head_count");
        int vocab = md.contains(p + "vocab_size") ? md.getInt(p + "vocab_size")
                : md.contains("tokenizer.ggml.tokens") ? md.getArray("tokenizer.ggml.tokens").size() : 0;
        if (vocab <= 0) {
            throw new IllegalArgumentException("no vocabulary size: neither " + p + "vocab_size nor tokenizer.ggml.tokens is present");
        }
        int headDim = embd / Math.max(1, heads);
        return new LlamaConfig(
                vocab,
                embd,
                required(md, p + "block_count"),
                required(md, p + "feed_forward_length"),
                heads,
                md.getInt(p + "attention.head_count_kv", heads),
                headDim,
                md.getInt(p + "rope.dimension_count", headDim),
                md.getFloat(p + "rope.freq_base", 10000f),
                requiredFloat(md, p + "attention.layer_norm_rms_epsilon"),
                required(md, p + "context_length"));
    }

    private static int required(GgufMetadata md, String key) {
        if (!md.contains(key)) {
            throw new IllegalArgumentException("missing metadata key " + key);
        }
        return md.getInt(key);
    }

    private static float requiredFloat(GgufMetadata md, String key) {
        if (!md.contains(key)) {
            throw new IllegalArgumentException("missing metadata key " + key);
        }
        return md.getFloat(key);
    }

    private static void positive(String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
    }

    /** Width of the K and V projections. */
    public int kvDim() {
        return headCountKv * headDim;
    }
}
