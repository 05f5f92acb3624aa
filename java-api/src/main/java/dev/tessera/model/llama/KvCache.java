package dev.tessera.model.llama;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * Keys and values of every layer for up to {@link #capacity()} positions, in F16 (half the memory
 * of F32, and what the attention kernel reads fastest): per layer [kvHeads, capacity, headDim].
 * Owns its memory; {@link #close()} frees it.
 */
public final class KvCache implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final List<Tensor> keys;
    private final List<Tensor> values;
    private final int capacity;

    public KvCache(LlamaConfig c, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        Tensor[] k = new Tensor[c.blockCount()];
        Tensor[] v = new Tensor[c.blockCount()];
        try {
            for (int i = 0; i < k.length; i++) {
                k[i] = Tensor.allocate(arena, DType.F16, c.headCountKv(), capacity, c.headDim());
                v[i] = Tensor.allocate(arena, DType.F16, c.headCountKv(), capacity, c.headDim());
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
        keys = List.of(k);
        values = List.of(v);
    }

    public int capacity() {
        return capacity;
    }

    public Tensor keys(int layer) {
        return keys.get(layer);
    }

    public Tensor values(int layer) {
        return values.get(layer);
    }

    /** Bytes of cache memory. */
    public long byteSize() {
        long n = 0;
        for (Tensor t : keys) {
            n += 2 * t.byteSize();
        }
        return n;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
