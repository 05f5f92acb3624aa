package dev.tessera.model.llava;

import dev.tessera.model.llama.LlamaModel;
import dev.tessera.tensor.Tensor;
import dev.tessera.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * LLaVA-1.5: an mmproj image encoder ({@link LlavaImageEncoder}) in front of a LLaMA-family language
 * model GGUF. Images become {@link #imageTokens()} embeddings placed where {@code <image>} stands
 * in the prompt ({@link LlavaChat}). Closing releases both files.
 */
public final class LlavaModel implements AutoCloseable {
    private final LlamaModel llm;
    private final LlavaImageEncoder images;
    private final Tokenizer tokenizer;

    private LlavaModel(LlamaModel llm, LlavaImageEncoder images) {
        this.llm = llm;
        this.images = images;
        int embd = llm.config().embeddingLength();
        if (images.outputWidth() != embd) {
            throw new IllegalArgumentException("mmproj projects to " + images.outputWidth()
                    + " dims but the language model's embedding length is " + embd + ": the files do not belong together");
        }
        this.tokenizer = Tokenizer.fromGguf(llm.file());
    }

    /**
     * Loads the language model and the mmproj file.
     *
     * @throws IOException if a file cannot be read or is not valid GGUF
     * @throws IllegalArgumentException if they are not a LLaVA pair this library can run (named)
     */
    public static LlavaModel load(Path llmPath, Path mmprojPath) throws IOException {
        return load(llmPath, mmprojPath, dev.tessera.runtime.CpuBackend.INSTANCE);
    }

    /** As {@link #load(Path, Path)}, both models running on backend (which the caller closes after the model). */
    public static LlavaModel load(Path llmPath, Path mmprojPath, dev.tessera.runtime.Backend backend) throws IOException {
        LlamaModel llm = LlamaModel.open(llmPath, backend);
        LlavaImageEncoder images = null;
        try {
            images = LlavaImageEncoder.load(mmprojPath, backend);
            return new LlavaModel(llm, images);
        } catch (IOException | RuntimeException e) {
            if (images != null) {
                images.close();
            }
            llm.close();
            throw e;
        }
    }

    public LlamaModel languageModel() {
        return llm;
    }

    public LlavaImageEncoder imageEncoder() {
        return images;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int imageTokens() {
        return images.imageTokens();
    }

    /** See {@link LlavaImageEncoder#encodeImage(dev.tessera.image.Rgba8Image)}. */
    public Tensor encodeImage(dev.tessera.image.Rgba8Image image) {
        return images.encodeImage(image);
    }

    /**
     * A conversation with its own KV cache of contextSize positions (prompts in batches of up to
     * {@link LlamaModel#DEFAULT_BATCH_SIZE}).
     */
    public LlavaChat newChat(int contextSize) {
        return new LlavaChat(this, llm.newSession(contextSize, LlamaModel.DEFAULT_BATCH_SIZE));
    }

    @Override
    public void close() {
        try {
            images.close();
        } finally {
            llm.close();
        }
    }
}
