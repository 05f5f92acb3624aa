package dev.tessera.bench;

import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a LLaMA-shaped GGUF file with random weights, for speed and memory measurements at sizes
 * no test file has (e.g. LLaMA-7B in Q4_0: 3.6 GiB). Matrices are real quantized blocks of gaussian
 * values (quantized once, then the same blocks reused for every tensor, so writing stays fast);
 * norms are ones. The vocabulary is a SentencePiece-style one of the right size: the three control
 * tokens, the 256 byte tokens, then made-up pieces, so tokenizers and samplers run as on a real model.
 */
public final class SyntheticLlama {
    /** Hyperparameters of the file. */
    public record Shape(int dim, int layers, int heads, int kvHeads, int ffn, int vocab, int context) {
        /** LLaMA-7B: 4096 dim, 32 layers, 32 heads, 11008 FFN, 32000 vocab. */
        public static final Shape LLAMA_7B = new Shape(4096, 32, 32, 32, 11008, 32000, 4096);
    }

    private SyntheticLlama() {}

    /** Writes the model to out with every matrix in type. */
    public static void write(Path out, Shape s, DType type) throws IOException {
        int headDim = s.dim() / s.heads();
        if (s.vocab() < 259 + 1) {
            throw new IllegalArgumentException("vocabulary of " + s.vocab() + " is smaller than the control and byte tokens");
        }
        try (Arena arena = Arena.ofConfined()) {
            // One pool of quantized gaussian rows, sliced for every matrix.
            Tensor pool = randomRows(arena, type, Math.max(s.vocab(), s.ffn()), s.dim());
            MemorySegment ones = arena.allocate((long) Math.max(s.dim(), s.ffn()) * 4, 64);
            for (long i = 0; i < ones.byteSize() / 4; i++) {
                ones.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f);
            }
            Tensor downPool = randomRows(arena, type, s.dim(), s.ffn());
            GgufWriter w = new GgufWriter();
            w.putString("general.architecture", "llama");
            w.putString("general.name", "synthetic-llama-" + s.dim() + "x" + s.layers());
            w.putUInt32("llama.context_length", s.context());
            w.putUInt32("llama.embedding_length", s.dim());
            w.putUInt32("llama.block_count", s.layers());
            w.putUInt32("llama.feed_forward_length", s.ffn());
            w.putUInt32("llama.attention.head_count", s.heads());
            w.putUInt32("llama.attention.head_count_kv", s.kvHeads());
            w.putUInt32("llama.rope.dimension_count", headDim);
            w.putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
            putVocabulary(w, s.vocab());
            Tensor norm = Tensor.wrap(DType.F32, ones.asSlice(0, (long) s.dim() * 4), s.dim());
            int kvDim = s.kvHeads() * headDim;
            w.addTensor("token_embd.weight", pool.slice(0, 0, s.vocab()));
            for (int l = 0; l < s.layers(); l++) {
                String b = "blk." + l + ".";
                w.addTensor(b + "attn_norm.weight", norm);
                w.addTensor(b + "attn_q.weight", pool.slice(0, 0, s.dim()));
                w.addTensor(b + "attn_k.weight", pool.slice(0, 0, kvDim));
                w.addTensor(b + "attn_v.weight", pool.slice(0, 0, kvDim));
                w.addTensor(b + "attn_output.weight", pool.slice(0, 0, s.dim()));
                w.addTensor(b + "ffn_norm.weight", norm);
                w.addTensor(b + "ffn_gate.weight", pool.slice(0, 0, s.ffn()));
                w.addTensor(b + "ffn_up.weight", pool.slice(0, 0, s.ffn()));
                w.addTensor(b + "ffn_down.weight", downPool);
            }
            w.addTensor("output_norm.weight", norm);
            w.addTensor("output.weight", pool.slice(0, 0, s.vocab()));
            w.write(out);
        }
    }

    private static void putVocabulary(GgufWriter w, int size) {
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>";
        tokens[1] = "<s>";
        tokens[2] = "</s>";
        types[0] = 2; // UNKNOWN
        types[1] = 3; // CONTROL
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6; // BYTE
        }
        for (int i = 259; i < size; i++) {
            tokens[i] = "\u2581w" + (i - 259);
            scores[i] = -i;
            types[i] = 1; // NORMAL
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.put("tokenizer.ggml.tokens", GgufArray.ofStrings(tokens));
        w.put("tokenizer.ggml.scores", GgufArray.ofFloat32(scores));
        w.put("tokenizer.ggml.token_type", GgufArray.ofInt32(types));
        w.putUInt32("tokenizer.ggml.bos_token_id", 1);
        w.putUInt32("tokenizer.ggml.eos_token_id", 2);
        w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
    }

    /** rows × cols gaussian values (σ = 1/√cols, so activations keep their scale) quantized to type. */
    private static Tensor randomRows(Arena arena, DType type, int rows, int cols) {
        Tensor f = Tensor.allocate(arena, DType.F32, rows, cols);
        SplittableRandom r = new SplittableRandom(42);
        double sigma = 1 / Math.sqrt(cols);
        MemorySegment seg = f.segment();
        for (long i = 0; i < (long) rows * cols; i++) {
            seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (gaussian(r) * sigma));
        }
        if (type == DType.F32) {
            return f;
        }
        Tensor q = Ops.quantize(f, type);
        Tensor copy = Tensor.allocate(arena, type, rows, cols);
        MemorySegment.copy(q.segment(), 0, copy.segment(), 0, q.byteSize());
        q.close();
        return copy;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
