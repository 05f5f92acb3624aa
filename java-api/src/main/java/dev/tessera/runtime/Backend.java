package dev.tessera.runtime;

import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Runs ops on one kind of device. The models only build graphs; which backend runs them is chosen
 * when a graph is compiled, so a new device (CUDA) plugs in here without touching model code.
 */
public interface Backend {
    String name();

    /** Memory for a compiled graph's workspace, owned by arena. */
    MemorySegment allocate(Arena arena, long bytes);

    /**
     * Runs one node. out is the node's output (null for a side-effect op) and inputs its inputs, all
     * bound to memory this backend can address; shapes were checked when the graph was built.
     */
    void execute(Op op, Tensor out, Tensor[] inputs);
}
