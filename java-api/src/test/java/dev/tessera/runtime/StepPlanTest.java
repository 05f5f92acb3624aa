package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.TestFiles;
import dev.tessera.model.llama.LlamaModel;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.ops.Nn;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepPlanTest {
    /**
     * The CPU backend taking grouped steps, as a GPU backend does, but poisoning every output with
     * NaN before computing any: an output planned over an input of its step (x, an addend, another
     * node's input) then corrupts the result.
     */
    private static final class GroupingCpu extends CpuDelegate {
        final List<Integer> groupSizes = new ArrayList<>(), runSizes = new ArrayList<>();
        final List<String> ropeStores = new ArrayList<>();
        final boolean fuse;
        int withAdd, matMulGlus;

        /** fuse: also RoPE with the cache stores, and gate and up with their SwiGLU. */
        GroupingCpu(boolean fuse) {
            this.fuse = fuse;
        }

        private static void poison(Tensor y) {
            Tensor flat = y.reshape(y.numel());
            for (long i = 0; i < flat.numel(); i++) {
                flat.setFloat(Float.NaN, i);
            }
        }

        @Override
        public String name() {
            return "grouping-cpu";
        }

        @Override
        public int matMulGroupLimit() {
            return 4;
        }

        @Override
        public int runLimit(Op op) {
            return op instanceof Op.Rope || op instanceof Op.StoreKv ? 4 : 1;
        }

        @Override
        public void executeRun(Op op, Tensor[] outputs, Tensor[][] inputs) {
            runSizes.add(outputs.length);
            for (Tensor y : outputs) {
                if (y != null) {
                    poison(y);
                }
            }
            super.executeRun(op, outputs, inputs);
        }

        @Override
        public boolean fusesRopeStores() {
            return fuse;
        }

        @Override
        public boolean fusesMatMulGlu() {
            return fuse;
        }

        @Override
        public void executeMatMulGlu(Tensor x, Tensor wGate, Tensor wUp, Tensor gate, Tensor up, Tensor out) {
            matMulGlus++;
            poison(gate);
            poison(up);
            poison(out);
            super.executeMatMulGlu(x, wGate, wUp, gate, up, out);
        }

        /** As a GPU does it: outputs only the stores read are left poisoned, the stores rotate the RoPE's input themselves. */
        @Override
        public void executeRopeStores(Op.Rope op, Tensor[] outputs, Tensor[][] inputs, boolean[] onlyStored, Tensor[][] stores,
                int[] storedRope) {
            ropeStores.add(outputs.length + " ropes, " + stores.length + " stores, from " + Arrays.toString(storedRope)
                    + ", only stored " + Arrays.toString(onlyStored));
            for (int i = 0; i < outputs.length; i++) {
                poison(outputs[i]);
                if (!onlyStored[i]) {
                    CpuBackend.INSTANCE.execute(op, outputs[i], inputs[i]);
                }
            }
            for (int j = 0; j < stores.length; j++) {
                if (storedRope[j] < 0) {
                    CpuBackend.INSTANCE.execute(new Op.StoreKv(), null, stores[j]);
                    continue;
                }
                Tensor[] in = inputs[storedRope[j]];
                try (Tensor rotated = Tensor.allocate(DType.F32, in[0].shape())) {
                    CpuBackend.INSTANCE.execute(op, rotated, in);
                    CpuBackend.INSTANCE.execute(new Op.StoreKv(), null, new Tensor[] {stores[j][0], rotated, stores[j][2]});
                }
            }
        }

        @Override
        public void executeMatMuls(Tensor x, Tensor[] weights, Tensor[] addends, Tensor[] outputs) {
            groupSizes.add(weights.length);
            for (Tensor y : outputs) {
                poison(y);
            }
            for (int i = 0; i < weights.length; i++) {
                Ops.matmulInto(weights[i], x, outputs[i]);
                if (addends[i] != null) {
                    Nn.addInto(addends[i], outputs[i], outputs[i]); // the graph's add: residual + product
                    withAdd++;
                }
            }
        }
    }

    private static StepPlan.MatMuls matMuls(StepPlan.Plan plan, int node) {
        return assertInstanceOf(StepPlan.MatMuls.class, plan.groupAt()[node]);
    }

    /** One pre-norm block's shape: q, k, v of h; o = q·k·v stand-in; x + W_o·o; gate/up; x + W_down·act. */
    private record Block(Graph graph, List<Value> values) {}

    private static Block block(Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor wg, Tensor wu, Tensor wd) {
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("x", TensorSpec.of(DType.F32, 1, 64));
        Value h = g.apply("h", new Op.Activation(Nn.Activation.SILU), x);
        Value q = g.apply("q", new Op.MatMul(), g.constant("wq", wq), h);
        Value k = g.apply("k", new Op.MatMul(), g.constant("wk", wk), h);
        Value v = g.apply("v", new Op.MatMul(), g.constant("wv", wv), h);
        Value o = g.apply("o", new Op.Mul(), g.apply("qk", new Op.Mul(), q, k), v);
        Value attnOut = g.apply("attn_out", new Op.MatMul(), g.constant("wo", wo), o);
        Value x1 = g.apply("attn_residual", new Op.Add(), x, attnOut);
        Value gate = g.apply("gate", new Op.MatMul(), g.constant("wg", wg), x1);
        Value up = g.apply("up", new Op.MatMul(), g.constant("wu", wu), x1);
        Value act = g.apply("act", new Op.SwiGlu(), gate, up);
        Value down = g.apply("down", new Op.MatMul(), g.constant("wd", wd), act);
        Value x2 = g.apply("ffn_residual", new Op.Add(), down, x1); // product first: either order
        g.output("y", x2);
        return new Block(g.build(), List.of(x, h, q, k, v, o, attnOut, x1, gate, up, act, down, x2));
    }

    @Test
    void groupsTheMatMulsOfOneInputAndEachProjectionWithItsResidualAdd() {
        try (Tensor w = Tensor.allocate(DType.F32, 64, 64); Tensor wq4 = Ops.quantize(w, DType.Q4_0)) {
            Graph graph = block(w, w, w, w, w, w, w).graph();
            StepPlan.Plan plan = StepPlan.plan(graph, 4, op -> 1);
            // nodes: 0 h, 1 q, 2 k, 3 v, 4 qk, 5 o, 6 attn_out, 7 attn_residual, 8 gate, 9 up, 10 act, 11 down, 12 ffn_residual
            assertArrayEquals(new int[] {1, 2, 3}, matMuls(plan, 1).matmuls());
            assertEquals(-1, matMuls(plan, 1).add());
            assertArrayEquals(new int[] {6}, matMuls(plan, 6).matmuls());
            assertEquals(7, matMuls(plan, 6).add());
            assertArrayEquals(new int[] {8, 9}, matMuls(plan, 8).matmuls());
            assertEquals(12, matMuls(plan, 11).add());
            assertArrayEquals(new int[] {0, 1, 1, 1, 2, 3, 4, 4, 5, 5, 6, 7, 7}, plan.stepOf());
            // at most two per group: v on its own
            StepPlan.Plan two = StepPlan.plan(graph, 2, op -> 1);
            assertArrayEquals(new int[] {1, 2}, matMuls(two, 1).matmuls());
            assertNull(two.groupAt()[3]);
            // weights of another type start another group
            StepPlan.Plan mixed = StepPlan.plan(block(w, w, wq4, w, wq4, w, w).graph(), 4, op -> 1);
            assertArrayEquals(new int[] {1, 2}, matMuls(mixed, 1).matmuls());
            assertNull(mixed.groupAt()[3], "v of another type runs alone");
            assertNull(mixed.groupAt()[8], "gate and up of different types");
            // no limit: nothing grouped
            StepPlan.Plan none = StepPlan.plan(graph, 0, op -> 1);
            for (int i = 0; i < graph.nodes().size(); i++) {
                assertNull(none.groupAt()[i]);
                assertEquals(i, none.stepOf()[i]);
            }
        }
    }

    @Test
    void gateAndUpWithTheirSwiGluAreOneStepWhereTheBackendFusesThem() {
        try (Tensor w = Tensor.allocate(DType.F32, 64, 64); Tensor wq4 = Ops.quantize(w, DType.Q4_0)) {
            Graph graph = block(w, w, w, w, w, w, w).graph();
            // nodes: 0 h, 1 q, 2 k, 3 v, 4 qk, 5 o, 6 attn_out, 7 attn_residual, 8 gate, 9 up, 10 act, 11 down, 12 ffn_residual
            StepPlan.Plan plan = StepPlan.plan(graph, 4, op -> 1, false, true);
            assertEquals(new StepPlan.MatMulGlu(8), plan.groupAt()[8]);
            assertArrayEquals(new int[] {1, 2, 3}, matMuls(plan, 1).matmuls(), "q, k, v: no SwiGLU after them");
            assertArrayEquals(new int[] {0, 1, 1, 1, 2, 3, 4, 4, 5, 5, 5, 6, 6}, plan.stepOf());
            assertArrayEquals(new int[] {8, 9}, matMuls(StepPlan.plan(graph, 4, op -> 1, false, false), 8).matmuls(), "not fused");
            assertNull(StepPlan.plan(block(w, w, w, w, wq4, w, w).graph(), 4, op -> 1, false, true).groupAt()[8],
                    "gate and up of different types");
        }
    }

    @Test
    void aProductWithAnotherUseOrThatIsAnOutputKeepsItsAdd() {
        try (Tensor w = Tensor.allocate(DType.F32, 8, 8)) {
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 2, 8));
            Value p = g.apply("p", new Op.MatMul(), g.constant("w", w), x);
            Value s = g.apply("s", new Op.Add(), x, p);
            g.output("s", s);
            g.output("p", p); // the product is read after the run
            Value p2 = g.apply("p2", new Op.MatMul(), g.constant("w", w), s);
            Value s2 = g.apply("s2", new Op.Add(), p2, s);
            g.output("t", g.apply("t", new Op.Mul(), s2, g.reshape(p2, 2, 8))); // p2 read again, through a view
            StepPlan.Plan plan = StepPlan.plan(g.build(), 4, op -> 1);
            for (StepPlan.Group group : plan.groupAt()) {
                assertNull(group);
            }
        }
    }

    /**
     * RoPE nodes and KV-cache stores: 0 qr, 1 qrr (reads 0's output), 2 kr, 3 store kr in kc, 4 store
     * k in vc, 5 store k in kc (writes what 3 writes); with more: 6 kr2 at other positions, 7 store
     * kr2 at the first positions, 8 kr3, 9 store kr3 (kr3 is a graph output too).
     */
    private static Graph ropesAndStores(Tensor kc, Tensor vc, boolean more) {
        GraphBuilder g = new GraphBuilder();
        Value pos = g.input("pos", TensorSpec.of(DType.I32, 1));
        Value q = g.input("q", TensorSpec.of(DType.F32, 1, 4, 8));
        Value k = g.input("k", TensorSpec.of(DType.F32, 1, 2, 8));
        Op.Rope rope = new Op.Rope(8, 10000f, false);
        Value qr = g.apply("qr", rope, q, pos);
        Value qrr = g.apply("qrr", rope, qr, pos);
        Value kr = g.apply("kr", rope, k, pos);
        Value kCache = g.constant("kc", kc), vCache = g.constant("vc", vc);
        g.effect(new Op.StoreKv(), kCache, kr, pos);
        g.effect(new Op.StoreKv(), vCache, k, pos);
        g.effect(new Op.StoreKv(), kCache, k, pos);
        g.output("q", qrr);
        if (more) {
            Value kr2 = g.apply("kr2", rope, k, g.input("pos2", TensorSpec.of(DType.I32, 1)));
            g.effect(new Op.StoreKv(), kCache, kr2, pos);
            Value kr3 = g.apply("kr3", rope, k, pos);
            g.effect(new Op.StoreKv(), vCache, kr3, pos);
            g.output("k3", kr3);
        }
        return g.build();
    }

    @Test
    void runsTakeConsecutiveNodesOfOneOpThatDoNotReadWhatAnotherWrites() {
        try (Tensor kc = Tensor.allocate(DType.F16, 2, 16, 8); Tensor vc = Tensor.allocate(DType.F16, 2, 16, 8)) {
            Graph graph = ropesAndStores(kc, vc, false);
            StepPlan.Plan plan = StepPlan.plan(graph, 4, op -> 4);
            assertNull(plan.groupAt()[0], "1 reads what 0 writes");
            assertEquals(new StepPlan.Run(1, 2), plan.groupAt()[1]);
            assertEquals(new StepPlan.Run(3, 4), plan.groupAt()[3]);
            assertNull(plan.groupAt()[5], "5 writes the cache 3 writes");
            assertArrayEquals(new int[] {0, 1, 1, 2, 2, 3}, plan.stepOf());
            assertEquals(new StepPlan.Run(1, 2), StepPlan.plan(graph, 0, op -> op instanceof Op.Rope ? 2 : 1).groupAt()[1]);
            for (StepPlan.Group group : StepPlan.plan(graph, 4, op -> 1).groupAt()) {
                assertNull(group, "no runs where the backend takes one node at a time");
            }
        }
    }

    @Test
    void aRopeRunAndTheStoresOfWhatItRotatesAreOneStepWhereTheBackendFusesThem() {
        try (Tensor kc = Tensor.allocate(DType.F16, 2, 16, 8); Tensor vc = Tensor.allocate(DType.F16, 2, 16, 8)) {
            Graph graph = ropesAndStores(kc, vc, true);
            StepPlan.Plan plan = StepPlan.plan(graph, 4, op -> 4, true, false);
            assertNull(plan.groupAt()[0], "1 reads what 0 writes, and no store follows 0");
            StepPlan.RopeStores rs = assertInstanceOf(StepPlan.RopeStores.class, plan.groupAt()[1]);
            assertEquals(new StepPlan.RopeStores(1, 3, 4), rs);
            assertArrayEquals(new boolean[] {false, true}, StepPlan.onlyStored(graph, rs, StepPlan.uses(graph)), "qrr is an output, kr only stored");
            assertArrayEquals(new int[] {1, -1}, StepPlan.storedRope(graph, rs), "3 stores kr (the run's second), 4 stores k");
            assertNull(plan.groupAt()[5], "5 writes the cache 3 writes");
            assertNull(plan.groupAt()[6], "the store is at other positions");
            StepPlan.RopeStores last = assertInstanceOf(StepPlan.RopeStores.class, plan.groupAt()[8]);
            assertArrayEquals(new boolean[] {false}, StepPlan.onlyStored(graph, last, StepPlan.uses(graph)), "kr3 is read after the run");
            assertArrayEquals(new int[] {0, 1, 1, 1, 1, 2, 3, 4, 5, 5}, plan.stepOf());
            assertEquals(new StepPlan.Run(1, 2), StepPlan.plan(graph, 4, op -> 4, false, false).groupAt()[1], "not fused: the runs as before");
        }
    }

    @Test
    void aStepsOutputsNeverShareMemoryWithWhatItReads() {
        try (Tensor w = Tensor.allocate(DType.F32, 64, 64)) {
            Block b = block(w, w, w, w, w, w, w);
            StepPlan.Plan fusion = StepPlan.plan(b.graph(), 4, op -> 1);
            BufferPlan plan = BufferPlan.of(b.graph(), fusion.stepOf());
            List<Value> vs = b.values();
            // attn_out's step reads o and x and writes x1; down's reads act and x1 and writes x2
            int[][] readWrite = {{5, 7}, {0, 7}, {10, 12}, {7, 12}, {1, 2}, {1, 3}, {1, 4}, {7, 8}, {7, 9}};
            for (int[] rw : readWrite) {
                Value r = vs.get(rw[0]), wr = vs.get(rw[1]);
                assertTrue(plan.overlapInTime(r, wr), r + " and " + wr + " are alive in one step");
                assertTrue(plan.offset(r) + plan.size(r) <= plan.offset(wr) || plan.offset(wr) + plan.size(wr) <= plan.offset(r),
                        r + " and " + wr + " share bytes");
            }
        }
    }

    /**
     * stories260K with grouped steps on the CPU: the node-by-node logits bit for bit over a prompt
     * in batches of 4 and 8 decode steps (the same kernels run; only the steps and the buffer plan
     * differ), and per layer a group of q/k/v, one of gate/up, two projections with their adds,
     * the RoPE of q and k, and the k and v stores.
     */
    @Test
    void groupedStepsGiveTheNodeByNodeLogits() throws Exception {
        GroupingCpu grouping = new GroupingCpu(false);
        int[] prompt = {1, 403, 407, 261, 378, 285, 302, 269, 300};
        try (LlamaModel plainModel = LlamaModel.open(TestFiles.stories260K()); LlamaModel groupedModel = LlamaModel.open(TestFiles.stories260K(), grouping);
                LlamaSession a = plainModel.newSession(64, 4); LlamaSession b = groupedModel.newSession(64, 4)) {
            float[] la = a.decode(prompt).clone();
            float[] lb = b.decode(prompt).clone();
            int layers = plainModel.config().blockCount();
            for (int step = 0; step < 8; step++) {
                assertArrayEquals(la, lb, "logits at step " + step);
                int next = 0;
                for (int i = 1; i < la.length; i++) {
                    next = la[i] > la[next] ? i : next;
                }
                la = a.decode(next).clone();
                lb = b.decode(next).clone();
            }
            assertArrayEquals(la, lb, "logits at the last step");
            int runs = 3 + 8; // prompt batches of 4, 4, 1, then the steps
            assertEquals(runs * layers * 4, grouping.groupSizes.size());
            assertEquals(runs * layers * 2, grouping.withAdd);
            assertEquals(runs * layers * (3 + 2 + 1 + 1), grouping.groupSizes.stream().mapToInt(Integer::intValue).sum());
            assertEquals(List.of(2, 2), grouping.runSizes.subList(0, 2), "RoPE of q and k, then the k and v stores");
            assertEquals(runs * layers * 2, grouping.runSizes.size());
        }
    }

    /**
     * stories260K with each layer's RoPE of q and k and its k and v stores as one step, done as a
     * GPU does (k's rotated value never written, the stores rotating k themselves), and gate, up
     * and their SwiGLU as one step: the node-by-node logits bit for bit.
     */
    @Test
    void fusedStepsGiveTheNodeByNodeLogits() throws Exception {
        GroupingCpu fusing = new GroupingCpu(true);
        int[] prompt = {1, 403, 407, 261, 378, 285, 302};
        try (LlamaModel plainModel = LlamaModel.open(TestFiles.stories260K()); LlamaModel fusedModel = LlamaModel.open(TestFiles.stories260K(), fusing);
                LlamaSession a = plainModel.newSession(64, 4); LlamaSession b = fusedModel.newSession(64, 4)) {
            float[] la = a.decode(prompt).clone();
            float[] lb = b.decode(prompt).clone();
            for (int step = 0; step < 4; step++) {
                assertArrayEquals(la, lb, "logits at step " + step);
                la = a.decode(step + 5).clone();
                lb = b.decode(step + 5).clone();
            }
            assertArrayEquals(la, lb, "logits at the last step");
            int runs = 2 + 4; // prompt batches of 4 and 3, then the steps
            assertEquals(runs * plainModel.config().blockCount(), fusing.ropeStores.size());
            assertEquals("2 ropes, 2 stores, from [1, -1], only stored [false, true]", fusing.ropeStores.get(0));
            assertTrue(fusing.runSizes.isEmpty(), "no RoPE or store runs of their own: " + fusing.runSizes);
            assertEquals(runs * plainModel.config().blockCount(), fusing.matMulGlus, "gate, up and their SwiGLU: one step per layer");
            assertEquals(runs * plainModel.config().blockCount() * (3 + 1 + 1), fusing.groupSizes.stream().mapToInt(Integer::intValue).sum(),
                    "q/k/v and the two projections with their adds as before");
        }
    }
}
