package dev.tessera.model.llama;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CpuBackend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A LLaMA-family decoder loaded from a GGUF file: the mapping (weights are never copied onto the
 * heap), its hyperparameters and checked weights. Sessions ({@link #newSession}) hold the
 * per-conversation state; several may run at once on different threads, since the weights are only
 * read. Closing the model closes its sessions and unmaps the file.
 */
public final class LlamaModel implements AutoCloseable {
    private final GgufFile file;
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final Backend backend;
    private final List<LlamaSession> sessions = new ArrayList<>();
    private boolean closed;

    private LlamaModel(GgufFile file, Backend backend) {
        this.file = file;
        this.config = LlamaConfig.from(file.metadata());
        this.weights = LlamaWeights.from(file, config);
        this.backend = backend;
    }

    /** Opens a model on the CPU backend. */
    public static LlamaModel open(Path path) throws IOException {
        return open(path, CpuBackend.INSTANCE);
    }

    /**
     * Maps the file and checks architecture, hyperparameters and every tensor.
     *
     * @throws IOException if the file cannot be read or is not valid GGUF
     * @throws IllegalArgumentException if it is not a LLaMA model this library can run (the message
     *     names the key or tensor)
     */
    public static LlamaModel open(Path path, Backend backend) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            return new LlamaModel(file, backend);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    public GgufFile file() {
        return file;
    }

    /**
     * Prompt positions per batch of the default sessions: llama.cpp's default micro-batch. Bigger
     * batches give the matmuls more columns, where the CPU kernels are fastest (7B-shaped Q4_0
     * on the CI machine, 128-token prompt: 8.8 tokens/s in batches of 64, 9.8 in one of 128).
     */
    public static final int DEFAULT_BATCH_SIZE = 512;

    /** A session with room for contextSize positions, prompts evaluated in batches of up to batchSize. */
    public synchronized LlamaSession newSession(int contextSize, int batchSize) {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
        LlamaSession s = new LlamaSession(this, backend, contextSize, batchSize);
        sessions.add(s);
        return s;
    }

    /**
     * A session with the training context length (capped at 4096) and prompt batches of up to
     * {@link #DEFAULT_BATCH_SIZE} positions.
     */
    public LlamaSession newSession() {
        return newSession(Math.min(config.contextLength(), 4096), DEFAULT_BATCH_SIZE);
    }

    synchronized void sessionClosed(LlamaSession s) {
        sessions.remove(s);
    }

    @Override
    public void close() {
        List<LlamaSession> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(sessions);
        }
        for (LlamaSession s : open) {
            s.close();
        }
        file.close();
    }
}
