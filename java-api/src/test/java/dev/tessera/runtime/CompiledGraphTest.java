package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CompiledGraphTest {

    @Test
    void profileCountsEachOpOfEveryRunWhileOnAndNoCopiesOnHostMemory() {
        try (Tensor w = Tensor.allocate(DType.F32, 4, 4)) {
            for (int i = 0; i < 4; i++) {
                w.setFloat(2f, i, i);
            }
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 1, 4));
            Value y = g.apply("y", new Op.MatMul(), g.constant("w", w), x);
            g.output("z", g.apply("z", new Op.Add(), y, x));
            try (CompiledGraph cg = new CompiledGraph(g.build(), CpuBackend.INSTANCE)) {
                cg.input("x").setFloat(1f, 0, 2);
                cg.run(); // profiling off: nothing recorded
                cg.setProfiling(true);
                cg.run();
                cg.run();
                assertEquals(3f, cg.output("z").getFloat(0, 2));
                Map<String, Long> calls = cg.profile().entries().stream()
                        .collect(Collectors.toMap(Profile.Entry::op, Profile.Entry::calls));
                assertEquals(Map.of("MatMul", 2L, "Add", 2L), calls);
                assertTrue(cg.profile().totalNanos() > 0);
            }
        }
    }

    /**
     * The backend learns which constants an op writes (a KV cache, here through a reshaped view of
     * it) and which none does (matmul weights): a GPU may stream only the latter before the kernel
     * ahead of it has ended.
     */
    @Test
    void bindingTellsTheBackendWhichConstantsAnOpWrites() {
        try (Tensor w = Tensor.allocate(DType.F32, 8, 8); Tensor cache = Tensor.allocate(DType.F32, 16, 8)) {
            GraphBuilder g = new GraphBuilder();
            Value pos = g.input("pos", TensorSpec.of(DType.I32, 1));
            Value x = g.input("x", TensorSpec.of(DType.F32, 1, 8));
            Value y = g.apply("y", new Op.MatMul(), g.constant("w", w), x);
            g.effect(new Op.StoreKv(), g.reshape(g.constant("cache", cache), 1, 16, 8), g.reshape(y, 1, 1, 8), pos);
            g.output("y", y);
            Map<Long, Boolean> written = new HashMap<>();
            Backend recording = new CpuDelegate() {
                @Override
                public String name() {
                    return "recording";
                }

                @Override
                public Tensor resident(Tensor constant, boolean writes) {
                    written.put(constant.segment().address(), writes);
                    return constant;
                }
            };
            try (CompiledGraph cg = new CompiledGraph(g.build(), recording)) {
                assertEquals(Map.of(w.segment().address(), false, cache.segment().address(), true), written);
            }
        }
    }
}
