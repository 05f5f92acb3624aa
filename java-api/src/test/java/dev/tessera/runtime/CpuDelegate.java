package dev.tessera.runtime;

import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A test backend whose memory and ops are the CPU backend's; subclasses change what they observe. */
abstract class CpuDelegate implements Backend {
    @Override
    public MemorySegment allocate(Arena arena, long bytes) {
        return CpuBackend.INSTANCE.allocate(arena, bytes);
    }

    @Override
    public void execute(Op op, Tensor out, Tensor[] inputs) {
        CpuBackend.INSTANCE.execute(op, out, inputs);
    }
}
