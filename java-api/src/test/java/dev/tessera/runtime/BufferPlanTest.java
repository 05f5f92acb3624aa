package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BufferPlanTest {
    /** A chain x -> a1 -> a2 -> ... of matmuls by one square weight. */
    private static Graph chain(int length, int m, int k, Tensor w, List<Value> out) {
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("x", TensorSpec.of(DType.F32, m, k));
        Value wv = g.constant("w", w);
        out.add(x);
        for (int i = 0; i < length; i++) {
            x = g.apply("a" + i, new Op.MatMul(), wv, x);
            out.add(x);
        }
        g.output("y", x);
        return g.build();
    }

    @Test
    void chainReusesMemoryOfDeadIntermediates() {
        try (Tensor w = Tensor.allocate(DType.F32, 64, 64)) {
            List<Value> vs = new ArrayList<>();
            Graph graph = chain(10, 8, 64, w, vs);
            BufferPlan plan = BufferPlan.of(graph);
            long one = 8 * 64 * 4;
            // Input (live throughout) + two alternating intermediates suffice; the plan must not hold all 10.
            assertEquals(3 * one, plan.peakLiveBytes());
            assertEquals(3 * one, plan.workspaceBytes());
        }
    }

    @Test
    void valuesAliveTogetherNeverShareBytes() {
        try (Tensor w = Tensor.allocate(DType.F32, 32, 32)) {
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 3, 32));
            Value wv = g.constant("w", w);
            Value a = g.apply("a", new Op.MatMul(), wv, x);
            Value b = g.apply("b", new Op.MatMul(), wv, a);
            Value c = g.apply("c", new Op.MatMul(), wv, g.reshape(a, 3, 32)); // a used again via a view
            Value d = g.apply("d", new Op.Add(), b, c);
            g.output("d", d);
            BufferPlan plan = BufferPlan.of(g.build());
            List<Value> planned = List.of(x, a, b, c, d);
            for (Value p : planned) {
                for (Value q : planned) {
                    if (p != q && plan.overlapInTime(p, q)) {
                        boolean disjoint = plan.offset(p) + plan.size(p) <= plan.offset(q) || plan.offset(q) + plan.size(q) <= plan.offset(p);
                        assertTrue(disjoint, p + " and " + q + " are alive together but share bytes");
                    }
                }
            }
            assertTrue(plan.overlapInTime(a, c), "a is read by c through a view, so it lives until c");
            assertFalse(plan.overlapInTime(a, d));
            assertEquals(0, plan.offset(x) % BufferPlan.ALIGNMENT);
        }
    }

    @Test
    void shapeErrorsAreCaughtWhenTheGraphIsBuilt() {
        try (Tensor w = Tensor.allocate(DType.F32, 16, 32)) {
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 2, 16));
            Value wv = g.constant("w", w);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.apply("y", new Op.MatMul(), wv, x));
            assertTrue(e.getMessage().contains("MatMul"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> g.reshape(x, 5, 7));
            assertThrows(IllegalArgumentException.class, () -> g.apply("z", new Op.Add(), x, g.input("q", TensorSpec.of(DType.F32, 3, 16))));
            GraphBuilder other = new GraphBuilder();
            assertThrows(IllegalArgumentException.class, () -> other.output("x", x), "a value of another graph");
        }
    }
}
