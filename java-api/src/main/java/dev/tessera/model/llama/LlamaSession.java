package dev.tessera.model.llama;

import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CompiledGraph;
import dev.tessera.runtime.Profile;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One conversation's state: a KV cache and the compiled graphs that extend it. Feed it tokens (or
 * embeddings); it returns the logits of the last one. Prompts run in batches of up to
 * {@link #batchSize()} positions (matmuls with M > 1), generation one position at a time; the
 * graphs for each batch size are compiled once and reused, so decoding allocates nothing.
 *
 * <p>Confined to one thread at a time (it is not synchronised). Close it to free the cache.
 */
public final class LlamaSession implements AutoCloseable {
    /** Compiled graphs kept for batch sizes other than 1 and {@link #batchSize()}. */
    private static final int EXTRA_GRAPHS = 4;

    private final LlamaModel model;
    private final Backend backend;
    private final KvCache cache;
    private final int batchSize;
    private final float[] logits;
    private final Map<Long, CompiledGraph> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private final Profile profile = new Profile();
    private boolean profiling;
    private int position;
    private boolean closed;

    LlamaSession(LlamaModel model, Backend backend, int contextSize, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.model = model;
        this.backend = backend;
        this.cache = new KvCache(model.config(), contextSize, backend);
        this.batchSize = batchSize;
        this.logits = new float[model.config().vocabSize()];
    }

    public LlamaModel model() {
        return model;
    }

    /** Positions filled so far. */
    public int position() {
        return position;
    }

    /** The context size: positions the cache holds. */
    public int contextSize() {
        return cache.capacity();
    }

    public int batchSize() {
        return batchSize;
    }

    /**
     * Appends tokens at the current position and returns the logits of the last one (an array owned
     * by the session, overwritten by the next call).
     *
     * @throws ContextOverflowException if they do not fit in the context; nothing is appended then
     */
    public float[] decode(int... tokens) {
        checkOpen();
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to decode");
        }
        int vocab = model.config().vocabSize();
        for (int t : tokens) {
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        reserve(tokens.length);
        for (int start = 0; start < tokens.length; start += batchSize) {
            int n = Math.min(batchSize, tokens.length - start);
            CompiledGraph g = graph(n, LlamaGraph.Input.TOKENS);
            MemorySegment.copy(tokens, start, g.input(LlamaGraph.TOKENS).segment(), ValueLayout.JAVA_INT, 0, n);
            run(g, n);
        }
        return logits;
    }

    /**
     * Appends input embeddings F32 [n, embeddingLength] (e.g. projected image patches) and returns
     * the logits of the last one.
     */
    public float[] decodeEmbeddings(Tensor embeddings) {
        checkOpen();
        int d = model.config().embeddingLength();
        if (embeddings.rank() != 2 || embeddings.shape(1) != d || embeddings.dtype() != dev.tessera.tensor.DType.F32) {
            throw new IllegalArgumentException("embeddings must be F32 [n, " + d + "], got " + embeddings);
        }
        int total = Math.toIntExact(embeddings.shape(0));
        if (total == 0) {
            throw new IllegalArgumentException("no embeddings to decode");
        }
        reserve(total);
        for (int start = 0; start < total; start += batchSize) {
            int n = Math.min(batchSize, total - start);
            CompiledGraph g = graph(n, LlamaGraph.Input.EMBEDDINGS);
            dev.tessera.ops.Ops.copy(embeddings.slice(0, start, start + n), g.input(LlamaGraph.EMBEDDINGS));
            run(g, n);
        }
        return logits;
    }

    /** Forgets every position from p on (p = 0 starts over); the cache rows are overwritten later. */
    public void rewind(int p) {
        checkOpen();
        if (p < 0 || p > position) {
            throw new IllegalArgumentException("cannot rewind to " + p + " from position " + position);
        }
        position = p;
    }

    /** Times per op type while profiling is on. */
    public void setProfiling(boolean on) {
        profiling = on;
        for (CompiledGraph g : graphs.values()) {
            g.setProfiling(on);
        }
    }

    /** Per-op times of every graph this session ran while profiling. */
    public Profile profile() {
        Profile all = new Profile();
        all.addAll(profile);
        for (CompiledGraph g : graphs.values()) {
            all.addAll(g.profile());
        }
        return all;
    }

    private void reserve(int n) {
        if ((long) position + n > cache.capacity()) {
            throw new ContextOverflowException(position, n, cache.capacity());
        }
    }

    private void run(CompiledGraph g, int n) {
        MemorySegment pos = g.input(LlamaGraph.POSITIONS).segment();
        for (int i = 0; i < n; i++) {
            pos.setAtIndex(ValueLayout.JAVA_INT, i, position + i);
        }
        g.run();
        position += n;
        MemorySegment.copy(g.output(LlamaGraph.LOGITS).segment(), ValueLayout.JAVA_FLOAT, 0, logits, 0, logits.length);
    }

    private CompiledGraph graph(int n, LlamaGraph.Input input) {
        long key = (long) n << 1 | input.ordinal();
        CompiledGraph g = graphs.get(key);
        if (g == null) {
            g = new CompiledGraph(LlamaGraph.build(model.config(), model.weights(), cache, n, input, false), backend);
            g.setProfiling(profiling);
            graphs.put(key, g);
            evictExtraGraphs();
        }
        return g;
    }

    private void evictExtraGraphs() {
        long keepOne = 1L << 1;
        long keepBatch = (long) batchSize << 1;
        int extra = 0;
        for (Long k : graphs.keySet()) {
            if ((k & ~1L) != keepOne && (k & ~1L) != keepBatch) {
                extra++;
            }
        }
        var it = graphs.entrySet().iterator();
        while (extra > EXTRA_GRAPHS && it.hasNext()) {
            var e = it.next();
            long k = e.getKey() & ~1L;
            if (k != keepOne && k != keepBatch) {
                profile.addAll(e.getValue().profile());
                e.getValue().close();
                it.remove();
                extra--;
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (CompiledGraph g : graphs.values()) {
            g.close();
        }
        graphs.clear();
        cache.close();
        model.sessionClosed(this);
    }
}
