package dev.tessera.model.llava;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.ops.Nn;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * LLaVA-1.5's "mlp" projector from vision features to the language model's embedding space:
 * mm.2 · GELU(mm.0 · f + b0) + b2, with the exact (erf) GELU of the original LLaVA (llama.cpp uses
 * the tanh approximation; FORMATS.md §4.3).
 */
public final class LlavaProjector {
    private final Tensor w0;
    private final Tensor b0;
    private final Tensor w2;
    private final Tensor b2;

    private LlavaProjector(Tensor w0, Tensor b0, Tensor w2, Tensor b2) {
        this.w0 = w0;
        this.b0 = b0;
        this.w2 = w2;
        this.b2 = b2;
    }

    /**
     * Reads and checks the projector of an mmproj file.
     *
     * @param visionWidth the vision tower's width, the projector's input
     * @throws IllegalArgumentException for another projector type or misshaped tensors (named)
     */
    public static LlavaProjector from(GgufFile mmproj, int visionWidth) {
        String type = mmproj.metadata().getString("clip.projector_type", "mlp");
        if (!type.equals("mlp")) {
            throw new IllegalArgumentException("mmproj projector type '" + type + "' is not supported (only LLaVA-1.5's 'mlp')");
        }
        Tensor w0 = find(mmproj, "mm.0.weight");
        Tensor b0 = find(mmproj, "mm.0.bias");
        Tensor w2 = find(mmproj, "mm.2.weight");
        Tensor b2 = find(mmproj, "mm.2.bias");
        if (w0.rank() != 2 || w0.shape(1) != visionWidth) {
            throw new IllegalArgumentException("mm.0.weight has shape " + Arrays.toString(w0.shape()) + ", expected [hidden, " + visionWidth + "]");
        }
        long hidden = w0.shape(0);
        if (w2.rank() != 2 || w2.shape(1) != hidden) {
            throw new IllegalArgumentException("mm.2.weight has shape " + Arrays.toString(w2.shape()) + ", expected [out, " + hidden + "]");
        }
        checkBias(b0, hidden, "mm.0.bias");
        checkBias(b2, w2.shape(0), "mm.2.bias");
        for (Tensor w : new Tensor[] {w0, w2}) {
            if (!Ops.isMatmulWeightType(w.dtype())) {
                throw new IllegalArgumentException("projector weights of type " + w.dtype() + " are not supported");
            }
        }
        return new LlavaProjector(w0, b0, w2, b2);
    }

    /** Width of the projected embeddings (must equal the language model's embedding length). */
    public int outputWidth() {
        return (int) w2.shape(0);
    }

    /** Projects features F32 [tokens, visionWidth] to a new F32 [tokens, outputWidth] (the caller closes it). */
    public Tensor project(Tensor features) {
        try (Tensor h = Ops.matmul(w0, features)) {
            Nn.addInto(h, b0, h);
            Nn.activationInto(h, Nn.Activation.GELU, h);
            Tensor out = Ops.matmul(w2, h);
            Nn.addInto(out, b2, out);
            return out;
        }
    }

    private static Tensor find(GgufFile f, String name) {
        if (!f.hasTensor(name)) {
            throw new IllegalArgumentException("mmproj has no tensor " + name + " (an LLaVA 'mlp' projector needs mm.0 and mm.2)");
        }
        return f.tensor(name);
    }

    private static void checkBias(Tensor b, long n, String name) {
        if (b.rank() != 1 || b.shape(0) != n || b.dtype() != DType.F32) {
            throw new IllegalArgumentException(name + " must be F32 [" + n + "], got " + b);
        }
    }
}
