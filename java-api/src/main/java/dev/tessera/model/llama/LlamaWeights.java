package dev.tessera.model.llama;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The tensors of a LLaMA model, zero-copy views of the mapped GGUF file, each checked against the
 * shape the config implies. Valid while the file stays open.
 *
 * @param output the LM head; the token embedding itself when the file has no {@code output.weight}
 *     (tied embeddings)
 */
public record LlamaWeights(Tensor tokenEmbedding, Tensor outputNorm, Tensor output, List<Layer> layers) {

    /** One transformer block. Matrices are [out, in] in PyTorch order (ggml ne reversed). */
    public record Layer(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo,
                        Tensor ffnNorm, Tensor wGate, Tensor wUp, Tensor wDown) {}

    /**
     * Looks up and checks every tensor.
     *
     * @throws IllegalArgumentException naming the tensor that is missing, misshaped or of a type the
     *     kernels cannot use
     */
    public static LlamaWeights from(GgufFile file, LlamaConfig c) {
        int d = c.embeddingLength();
        int qDim = c.headCount() * c.headDim();
        Tensor embd = matrix(file, "token_embd.weight", c.vocabSize(), d);
        Tensor norm = vector(file, "output_norm.weight", d);
        Tensor out = file.hasTensor("output.weight") ? matrix(file, "output.weight", c.vocabSize(), d) : embd;
        Layer[] layers = new Layer[c.blockCount()];
        for (int i = 0; i < layers.length; i++) {
            String b = "blk." + i + ".";
            layers[i] = new Layer(
                    vector(file, b + "attn_norm.weight", d),
                    matrix(file, b + "attn_q.weight", qDim, d),
                    matrix(file, b + "attn_k.weight", c.kvDim(), d),
                    matrix(file, b + "attn_v.weight", c.kvDim(), d),
                    matrix(file, b + "attn_output.weight", d, qDim),
                    vector(file, b + "ffn_norm.weight", d),
                    matrix(file, b + "ffn_gate.weight", c.feedForwardLength(), d),
                    matrix(file, b + "ffn_up.weight", c.feedForwardLength(), d),
                    matrix(file, b + "ffn_down.weight", d, c.feedForwardLength()));
        }
        return new LlamaWeights(embd, norm, out, List.of(layers));
    }

    private static Tensor matrix(GgufFile file, String name, long rows, long cols) {
        Tensor t = find(file, name, new long[] {rows, cols});
        if (!Ops.isMatmulWeightType(t.dtype())) {
            throw new IllegalArgumentException("tensor " + name + " has type " + t.dtype() + ", which the matmul kernels do not support");
        }
        return t;
    }

    private static Tensor vector(GgufFile file, String name, long n) {
        Tensor t = find(file, name, new long[] {n});
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("tensor " + name + " has type " + t.dtype() + ", expected F32");
        }
        return t;
    }

    private static Tensor find(GgufFile file, String name, long[] shape) {
        GgufTensorInfo info = file.findTensorInfo(name)
                .orElseThrow(() -> new IllegalArgumentException("missing tensor " + name + " (expected shape " + Arrays.toString(shape) + ")"));
        if (!Arrays.equals(info.shape(), shape)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(info.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return file.tensor(info);
    }
}
