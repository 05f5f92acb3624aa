package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
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
}
