package dev.tessera.model.llama;

import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CpuBackend;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * Keys and values of every layer for up to {@link #capacity()} positions, in F16 (half the memory
 * of F32, and what the attention kernel reads fastest): per layer [kvHeads, capacity, headDim].
 * The memory comes from the backend that runs the session (device memory on a GPU, which only
 * that backend's ops touch). Owns its memory; {@link #close()} frees it.
 */
public final class KvCache implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final List<Tensor> keys;
    private final List<Tensor> values;
    private final int capacity;

    public KvCache(LlamaConfig c, int capacity) {
        this(c, capacity, CpuBackend.INSTANCE);
    }

    public KvCache(LlamaConfig c, int capacity, Backend backend) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        Tensor[] k = new Tensor[c.blockCount()];
        Tensor[] v = new Tensor[c.blockCount()];
        try {
            for (int i = 0; i < k.length; i++) {
                k[i] = allocate(backend, c, capacity);
                v[i] = allocate(backend, c, capacity);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
        keys = List.of(k);
        values = List.of(v);
    }

    private Tensor allocate(Backend backend, LlamaConfig c, int capacity) {
        long[] shape = {c.headCountKv(), capacity, c.headDim()};
        return Tensor.wrap(DType.F16, backend.allocate(arena, DType.F16.byteSize(Tensor.numelOf(shape))), shape);
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
