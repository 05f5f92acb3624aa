package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tessera.core.TesseraException;
import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.SamplingParams;
import dev.tessera.image.Rgba8Image;
import dev.tessera.io.TestFiles;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.model.clip.ClipModel;
import dev.tessera.model.llama.LlamaModel;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.model.llava.LlavaChat;
import dev.tessera.model.llava.LlavaModel;
import dev.tessera.ops.Nn;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Graphs on the CUDA backend against the same graphs on the CPU. Skipped, with the reason, where
 * no GPU is usable (CI); ci/gpu-check.sh runs it on a GPU machine.
 */
class CudaBackendTest {
    private static CudaBackend cuda;

    @BeforeAll
    static void open() {
        CudaProbe.Result probe = CudaProbe.probe();
        assumeTrue(probe.available(), "no CUDA device: skipped (" + probe.reason() + ")");
        cuda = Backend.cuda();
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    /**
     * stories260K (F32 weights) through prefill and decode on both backends: logits within 1e-3 of
     * their range (F32 everywhere; the GPU sums in other orders and rounds K/V to F16 as the CPU does)
     * and the same greedy tokens for 24 steps.
     */
    @Test
    void llamaGivesTheCpuLogitsAndTokens() throws Exception {
        int[] prompt = {1, 403, 407, 261, 378, 285, 302, 269, 300};
        try (LlamaModel cpuModel = LlamaModel.open(TestFiles.stories260K()); LlamaModel gpuModel = LlamaModel.open(TestFiles.stories260K(), cuda);
                LlamaSession cpu = cpuModel.newSession(128, 4); LlamaSession gpu = gpuModel.newSession(128, 4)) {
            float[] a = cpu.decode(prompt).clone();
            float[] b = gpu.decode(prompt).clone();
            for (int step = 0; step < 24; step++) {
                assertClose("step " + step, a, b, 1e-3);
                int next = argmax(a);
                assertEquals(next, argmax(b), "greedy token at step " + step);
                a = cpu.decode(next).clone();
                b = gpu.decode(next).clone();
            }
        }
        assertTrue(cuda.residentBytes() > 0, "weights were uploaded");
    }

    /**
     * The same model with every run recorded and submitted as a CUDA graph: the same logits as the
     * plain launches bit for bit (the same kernels run) and so the CPU's tokens; a decode step's graph
     * is updated in place from the previous step's, not built anew each time.
     */
    @Test
    void recordedRunsGiveTheLaunchedRunsLogits() throws Exception {
        int steps = 16;
        try (CudaBackend recorded = Backend.cuda()) {
            recorded.setGraphs(true);
            recorded.setGraphOps(0); // each run one graph
            CudaBackend.GraphStats[] s = decodeLaunchedAndRecorded(recorded, steps);
            assertEquals(3, s[0].launches(), "a run per prompt batch of 4: " + s[0]);
            assertEquals(s[0].launches() + steps, s[1].launches(), s[1].toString());
            assertTrue(s[1].builds() - s[0].builds() <= 2, "decode steps update one graph in place: " + s[1]);
            assertTrue(s[1].lastNodes() >= 5 * 8, "a decode step records every layer's kernels: " + s[1]);
        }
    }

    /**
     * Runs recorded in pieces of 7 ops, each submitted while the next is recorded: the launched runs'
     * logits bit for bit; every decode step makes the same number of graphs, each updating the same
     * piece of the run before in place.
     */
    @Test
    void runsRecordedInPiecesGiveTheLaunchedRunsLogits() throws Exception {
        int steps = 8;
        try (CudaBackend recorded = Backend.cuda()) {
            recorded.setGraphs(true);
            recorded.setGraphOps(7);
            CudaBackend.GraphStats[] s = decodeLaunchedAndRecorded(recorded, steps);
            long launches = s[1].launches() - s[0].launches();
            assertEquals(0, launches % steps, "each step the same pieces: " + s[1]);
            long pieces = launches / steps;
            assertTrue(pieces > 5, "a decode step of some 48 ops (steps) in pieces of 7: " + s[1]);
            assertEquals(launches, s[1].updates() - s[0].updates(), "every piece updated in place (the prompt's last run built them): " + s[1]);
            assertTrue(s[1].lastNodes() >= 5 * 8, "nodes of all of a step's pieces: " + s[1]);
        }
    }

    /**
     * Grouped steps (the default) against every node by itself: matmuls of one input (q/k/v,
     * gate/up) and each projection with its residual add (tsc_matmul_parts), the RoPE of q and k
     * with the k and v stores (tsc_rope_parts rotating K into its cache and copying V into its
     * own), gate and up with their SwiGLU (tsc_matmul_glu). The same logits bit for bit (each
     * value is the same sum, the add the same float add, the cache the same rounding), and a
     * decode step records 8 kernels fewer per layer (q/k/v 3 -> 1, gate and up 2 -> 1, each
     * projection and its add 2 -> 1, ropes and stores 4 -> 1; stories260K's feed-forward, 172
     * wide, is no whole number of blocks of 32, so its GLU stays a kernel of its own).
     */
    @Test
    void groupedStepsGiveTheNodeByNodeLogits() throws Exception {
        try (CudaBackend grouped = Backend.cuda(); CudaBackend apart = Backend.cuda()) {
            apart.setGroupedSteps(false);
            grouped.setGroupedSteps(true); // whatever TESSERA_CUDA_GROUPS says
            assertEquals(0, apart.matMulGroupLimit());
            assertEquals(1, apart.runLimit(new Op.StoreKv()));
            assertTrue(grouped.matMulGroupLimit() > 1);
            for (CudaBackend b : new CudaBackend[] {grouped, apart}) {
                b.setGraphs(true); // to count a step's kernels
                b.setGraphOps(0);
            }
            decodeAlike(grouped, apart, 4, () -> {});
            int layers = 5; // stories260K
            assertEquals(apart.graphStats().lastNodes() - 8 * layers, grouped.graphStats().lastNodes(),
                    "grouped " + grouped.graphStats() + ", apart " + apart.graphStats());
        }
    }

    /** As {@link #decodeAlike}, launched on the shared backend and recorded on the given one; its graph counters after the prompt and at the end. */
    private static CudaBackend.GraphStats[] decodeLaunchedAndRecorded(CudaBackend recorded, int steps) throws Exception {
        CudaBackend.GraphStats[] afterPrompt = new CudaBackend.GraphStats[1];
        decodeAlike(cuda, recorded, steps, () -> afterPrompt[0] = recorded.graphStats());
        return new CudaBackend.GraphStats[] {afterPrompt[0], recorded.graphStats()};
    }

    /**
     * stories260K over a 9-token prompt (batches of 4) and then steps greedy tokens on two backends,
     * the logits equal bit for bit after every run; afterPrompt runs between the prompt and the steps.
     */
    private static void decodeAlike(Backend first, Backend second, int steps, Runnable afterPrompt) throws Exception {
        int[] prompt = {1, 403, 407, 261, 378, 285, 302, 269, 300};
        try (LlamaModel firstModel = LlamaModel.open(TestFiles.stories260K(), first);
                LlamaModel secondModel = LlamaModel.open(TestFiles.stories260K(), second);
                LlamaSession a = firstModel.newSession(128, 4); LlamaSession b = secondModel.newSession(128, 4)) {
            float[] la = a.decode(prompt).clone();
            float[] lb = b.decode(prompt).clone();
            afterPrompt.run();
            for (int step = 0; step < steps; step++) {
                assertTrue(java.util.Arrays.equals(la, lb), "logits at step " + step);
                int next = argmax(la);
                la = a.decode(next).clone();
                lb = b.decode(next).clone();
            }
            assertTrue(java.util.Arrays.equals(la, lb), "logits at the last step");
        }
    }

    /** An op that fails while a run is recorded drops the recording; the next run works. */
    @Test
    void aFailedRecordedRunLeavesTheBackendUsable() {
        try (CudaBackend recorded = Backend.cuda(); Tensor table = Tensor.allocate(DType.F32, 4, 8)) {
            recorded.setGraphs(true);
            for (int i = 0; i < 32; i++) {
                table.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, i);
            }
            GraphBuilder g = new GraphBuilder();
            Value ids = g.input("ids", TensorSpec.of(DType.I32, 2));
            g.output("rows", g.apply("rows", new Op.GetRows(), g.constant("table", table), ids));
            try (CompiledGraph cg = new CompiledGraph(g.build(), recorded)) {
                cg.input("ids").segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 0, 1);
                cg.input("ids").segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 1, 9); // no such row
                RuntimeException e = assertThrows(RuntimeException.class, cg::run);
                assertTrue(e.getMessage().contains("outside"), e.getMessage());
                cg.input("ids").segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 1, 3);
                cg.run();
                assertEquals(8f, cg.output("rows").getFloat(0, 0));
                assertEquals(31f, cg.output("rows").getFloat(1, 7));
                assertEquals(1, recorded.graphStats().launches(), "the failed run submitted nothing");
            }
        }
    }

    /**
     * The tiny LLaVA (goldens/llava: a random mmproj projecting into stories260K) answering about an
     * image on both backends: the same greedy answer, 12 tokens after the image's 4 embeddings and
     * the chat template. Image encoder, projector and decoder all run on the GPU, launched and
     * recorded as CUDA graphs.
     */
    @Test
    void llavaGivesTheCpuAnswer() throws Exception {
        Path mmproj = TestFiles.resource("goldens/llava/tiny-mmproj.gguf");
        byte[] rgb = new byte[40 * 20 * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i * 7 % 251);
        }
        Rgba8Image image = Rgba8Image.ofRgb(40, 20, rgb);
        List<String> answers = new ArrayList<>();
        try (CudaBackend recorded = Backend.cuda()) {
            recorded.setGraphs(true); // every run of the image encoder, projector and decoder as a CUDA graph
            for (Backend backend : new Backend[] {CpuBackend.INSTANCE, cuda, recorded}) {
                try (LlavaModel m = LlavaModel.load(TestFiles.stories260K(), mmproj, backend); LlavaChat chat = m.newChat(256)) {
                    answers.add(chat.ask(image, "What is it?", GenerationParams.of(12, SamplingParams.GREEDY), (id, t) -> {}).text());
                }
            }
            assertTrue(recorded.graphStats().launches() > 12, recorded.graphStats().toString());
        }
        assertFalse(answers.get(0).isEmpty());
        assertEquals(answers.get(0), answers.get(1), "greedy answer on cpu vs cuda");
        assertEquals(answers.get(0), answers.get(2), "greedy answer on cpu vs cuda with CUDA graphs");
    }

    /**
     * The tiny random CLIP of the real architecture (goldens/clip/tiny) on the GPU against its
     * float64 PyTorch reference: every hidden layer and the embeddings of both towers, within 1e-2
     * of the largest value. The bound is the GPU attention's (tensor cores: Q, K, V and the
     * probabilities rounded to f16, ~1e-3 relative each); everything else is F32 as on the CPU.
     */
    @Test
    void clipMatchesThePyTorchReference() throws Exception {
        Path dir = TestFiles.resource("goldens/clip/tiny/config.json").getParent();
        try (SafetensorsFile ref = SafetensorsFile.open(TestFiles.resource("goldens/clip/tiny_reference.safetensors"));
                ClipModel clip = ClipModel.load(dir, cuda)) {
            Map<String, Tensor> v = clip.runVision(ref.tensor("pixels"));
            try {
                for (String name : new String[] {"hidden.0", "hidden.2", "pooled", "embeds"}) {
                    assertClose("vision " + name, ref.tensor("vision." + name).toFloatArray(), v.get(name).toFloatArray(), 1e-2);
                }
            } finally {
                v.values().forEach(Tensor::close);
            }
            Tensor tokens = ref.tensor("tokens");
            int[][] ids = new int[(int) tokens.shape(0)][(int) tokens.shape(1)];
            for (int i = 0; i < ids.length; i++) {
                for (int j = 0; j < ids[i].length; j++) {
                    ids[i][j] = tokens.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, (long) i * ids[i].length + j);
                }
            }
            Map<String, Tensor> t = clip.runText(ids);
            try {
                for (String name : new String[] {"hidden.2", "last", "embeds"}) {
                    assertClose("text " + name, ref.tensor("text." + name).toFloatArray(), t.get(name).toFloatArray(), 1e-2);
                }
            } finally {
                t.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * A feed-forward at one row (gate and up Q4_0 [96, 64], their SwiGLU, down): with grouped steps
     * the products and the GLU are one kernel (tsc_matmul_glu), two fewer than gate, up and the
     * GLU apart; the same bits, and the CPU's values within 1% of their largest.
     */
    @Test
    void aFeedForwardsGateUpAndGluAreOneKernelAtOneRow() {
        Random r = new Random(11);
        List<Tensor> owned = new ArrayList<>();
        try (CudaBackend grouped = Backend.cuda(); CudaBackend apart = Backend.cuda()) {
            grouped.setGroupedSteps(true);
            apart.setGroupedSteps(false);
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 1, 64));
            Value gate = g.apply("gate", new Op.MatMul(), g.constant("wg", own(owned, Ops.quantize(rand(r, owned, 96, 64), DType.Q4_0))), x);
            Value up = g.apply("up", new Op.MatMul(), g.constant("wu", own(owned, Ops.quantize(rand(r, owned, 96, 64), DType.Q4_0))), x);
            Value act = g.apply("act", new Op.SwiGlu(), gate, up);
            g.output("down", g.apply("down", new Op.MatMul(), g.constant("wd", own(owned, Ops.quantize(rand(r, owned, 40, 96), DType.Q4_0))), act));
            Graph graph = g.build();
            Tensor input = rand(r, owned, 1, 64);
            float[][] out = new float[3][];
            long[] kernels = new long[2];
            Backend[] backends = {grouped, apart, CpuBackend.INSTANCE};
            for (int b = 0; b < 3; b++) {
                try (CompiledGraph cg = new CompiledGraph(graph, backends[b])) {
                    if (backends[b] instanceof CudaBackend cb) {
                        cb.setGraphs(true); // to count the kernels
                        cb.setGraphOps(0);
                    }
                    Ops.copy(input, cg.input("x"));
                    cg.run();
                    out[b] = cg.output("down").toFloatArray();
                    if (backends[b] instanceof CudaBackend cb) {
                        kernels[b] = cb.graphStats().lastNodes();
                    }
                }
            }
            assertEquals(java.util.Arrays.toString(out[1]), java.util.Arrays.toString(out[0]), "grouped and apart, bit for bit");
            assertEquals(kernels[1] - 2, kernels[0], "kernels grouped " + kernels[0] + ", apart " + kernels[1]);
            assertClose("down", out[2], out[0], 1e-2); // a GLU value a ulp off may move its Q8_0 quant one step
        } finally {
            owned.forEach(Tensor::close);
        }
    }

    /**
     * A prompt's matmul (20 rows: the tensor cores) by weights of every type a model file brings, CPU
     * vs GPU. F32, F16 and BF16 (F32 products) and Q8_0/Q4_0 (both sides the int8 block dots over the same
     * Q8_0 activations) agree up to float rounding (seen: 1e-7 to 5e-7 of the outputs' range). For the
     * other types the GPU also quantizes x to Q8_0, while the CPU at 20 rows runs its F32 SGEMM on x
     * as it is (AVX-512) or pairs them with Q8_1/Q8_K activations: the activations' rounding, up to
     * half a step of 1/127 of a 32-block's largest |x| per element, differs (seen: 5.7e-3 to 7.2e-3 of
     * the range at k = 512; allowed 2e-2). A wrong scale, min or half is off by the range itself.
     */
    @Test
    void promptSizedMatMulsOfEveryWeightTypeMatchTheCpu() {
        Random r = new Random(11);
        int m = 20, k = 512, n = 72;
        DType[] types = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q5_0, DType.Q4_1, DType.Q5_1, DType.Q2_K,
            DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K};
        List<Tensor> owned = new ArrayList<>();
        try {
            Tensor wf = rand(r, owned, n, k);
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, m, k));
            for (DType t : types) {
                Tensor w = t == DType.F32 ? wf : own(owned, Ops.quantize(wf, t));
                g.output(t.name(), g.apply("y_" + t, new Op.MatMul(), g.constant("w_" + t, w), x));
            }
            Graph graph = g.build();
            Tensor input = rand(r, owned, m, k);
            try (CompiledGraph onCpu = new CompiledGraph(graph, CpuBackend.INSTANCE);
                    CompiledGraph onGpu = new CompiledGraph(graph, cuda)) {
                runBoth(onCpu, onGpu, input);
                for (DType t : types) {
                    double rel = t == DType.F32 || t == DType.F16 || t == DType.BF16 || t == DType.Q8_0 || t == DType.Q4_0 ? 1e-4 : 2e-2;
                    assertClose(t.name(), onCpu.output(t.name()).toFloatArray(), onGpu.output(t.name()).toFloatArray(), rel);
                }
            }
        } finally {
            owned.forEach(Tensor::close);
        }
    }

    /** Every op of a small graph with broadcasting, views, concat and attention, CPU vs GPU. */
    @Test
    void opsMatchTheCpu() {
        Random r = new Random(7);
        int m = 9, k = 64, n = 48;
        List<Tensor> owned = new ArrayList<>();
        try {
            Tensor wf = rand(r, owned, n, k);
            Tensor wq8 = own(owned, Ops.quantize(wf, DType.Q8_0));
            Tensor wq4 = own(owned, Ops.quantize(wf, DType.Q4_0));
            Tensor wh = own(owned, Ops.quantize(wf, DType.F16));
            Tensor norm = rand(r, owned, n);
            Tensor bias = rand(r, owned, n);
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, m, k));
            Value y8 = g.apply("y8", new Op.MatMul(), g.constant("wq8", wq8), x);
            Value y4 = g.apply("y4", new Op.MatMul(), g.constant("wq4", wq4), x);
            Value yh = g.apply("yh", new Op.MatMul(), g.constant("wh", wh), x);
            Value yf = g.apply("yf", new Op.MatMul(), g.constant("wf", wf), x);
            Value s = g.apply("s", new Op.Add(), y8, g.constant("bias", bias)); // broadcast [n] over [m, n]
            Value t = g.apply("t", new Op.Mul(), y4, yh);
            Value u = g.apply("u", new Op.RmsNorm(1e-5f), s, g.constant("norm", norm));
            Value v = g.apply("v", new Op.Activation(Nn.Activation.GELU), t);
            Value w = g.apply("w", new Op.SwiGlu(), u, yf);
            Value c = g.apply("c", new Op.Concat(1), v, w); // [m, 2n]
            // attention over the rows: [1, m, heads = 4, d = 24]
            Value q = g.reshape(c, 1, m, 4, 24);
            Value att = g.apply("att", new Op.Attention(0.2f, true), q, q, q);
            g.output("c", c);
            g.output("att", att);
            Graph graph = g.build();
            Tensor input = rand(r, owned, m, k);
            try (CompiledGraph onCpu = new CompiledGraph(graph, CpuBackend.INSTANCE);
                    CompiledGraph onGpu = new CompiledGraph(graph, cuda)) {
                runBoth(onCpu, onGpu, input);
                // Q8_0/Q4_0 matmuls: the same int8 block dots, float sums in another order;
                // F16/F32 weights: F32 products in another order; GELU/erf: device libm ulps.
                assertClose("concat", onCpu.output("c").toFloatArray(), onGpu.output("c").toFloatArray(), 1e-4);
                // The GPU attention runs on tensor cores: Q, K, V and the probabilities rounded to
                // f16 (2^-11 relative each), so about 1e-3 of the values' range (seen: 4e-4).
                assertClose("attention", onCpu.output("att").toFloatArray(), onGpu.output("att").toFloatArray(), 2e-3);
                // a second run with new input reuses everything
                Tensor input2 = rand(r, owned, m, k);
                runBoth(onCpu, onGpu, input2);
                assertClose("second run", onCpu.output("att").toFloatArray(), onGpu.output("att").toFloatArray(), 2e-3);
            }
        } finally {
            owned.forEach(Tensor::close);
        }
    }

    @Test
    void inputsAndOutputsAreHostMemoryAndDeviceMemoryIsNot() {
        try (Tensor w = Tensor.allocate(DType.F32, 8, 8)) {
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 2, 8));
            g.output("y", g.apply("y", new Op.MatMul(), g.constant("w", w), x));
            try (CompiledGraph cg = new CompiledGraph(g.build(), cuda)) {
                cg.input("x").setFloat(1f, 0, 0); // host memory: writable
                cg.setProfiling(true);
                cg.run();
                assertEquals(0f, cg.output("y").getFloat(1, 7));
                // the copies around a run, timed apart from the ops' enqueueing
                Map<String, Long> calls = new java.util.HashMap<>();
                cg.profile().entries().forEach(e -> calls.put(e.op(), e.calls()));
                assertEquals(Map.of("MatMul", 1L, CompiledGraph.INPUTS_ENTRY, 1L, CompiledGraph.OUTPUTS_ENTRY, 1L), calls);
            }
            assertFalse(cuda.hostAccessible());
            assertThrows(IllegalStateException.class, () -> {
                CudaBackend other = Backend.cuda();
                other.close();
                other.allocate(Arena.global(), 16);
            });
        }
    }

    /**
     * A petabyte is more than any device has: the allocation fails with the driver's reason and the
     * pool's state in the message, holds nothing, and the backend goes on allocating and running.
     */
    @Test
    void moreMemoryThanTheDeviceHasIsAClearErrorAndTheBackendGoesOn() {
        long inUse = cuda.deviceBytesInUse();
        try (Arena arena = Arena.ofConfined()) {
            TesseraException e = assertThrows(TesseraException.class, () -> cuda.allocate(arena, 1L << 50));
            assertTrue(e.getMessage().contains("cudaMalloc of") && e.getMessage().contains("in use"), e.getMessage());
            assertEquals(inUse, cuda.deviceBytesInUse());
            assertEquals(4096, cuda.allocate(arena, 4096).byteSize());
        }
        assertEquals(inUse, cuda.deviceBytesInUse());
        try (Tensor w = Tensor.allocate(DType.F32, 4, 4)) {
            w.setFloat(2f, 3, 1);
            GraphBuilder g = new GraphBuilder();
            Value x = g.input("x", TensorSpec.of(DType.F32, 1, 4));
            g.output("y", g.apply("y", new Op.MatMul(), g.constant("w", w), x));
            try (CompiledGraph cg = new CompiledGraph(g.build(), cuda)) {
                cg.input("x").setFloat(1.5f, 0, 1);
                cg.run();
                assertEquals(3f, cg.output("y").getFloat(0, 3));
            }
        }
    }

    /** Copies input into both graphs' input "x" and runs them. */
    private static void runBoth(CompiledGraph onCpu, CompiledGraph onGpu, Tensor input) {
        Ops.copy(input, onCpu.input("x"));
        Ops.copy(input, onGpu.input("x"));
        onCpu.run();
        onGpu.run();
    }

    private static Tensor rand(Random r, List<Tensor> owned, long... shape) {
        Tensor t = Tensor.allocate(DType.F32, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        }
        return own(owned, t);
    }

    private static Tensor own(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** |a - b| <= rel · max|a| everywhere. */
    private static void assertClose(String what, float[] a, float[] b, double rel) {
        assertEquals(a.length, b.length, what);
        double max = 0, worst = 0;
        int at = -1;
        for (float f : a) {
            max = Math.max(max, Math.abs(f));
        }
        for (int i = 0; i < a.length; i++) {
            double e = Math.abs(a[i] - b[i]);
            if (!(e <= worst)) {
                worst = e;
                at = i;
            }
        }
        assertTrue(worst <= rel * max, what + ": worst difference " + worst + " at " + at + " (cpu " + (at >= 0 ? a[at] : 0)
                + ", gpu " + (at >= 0 ? b[at] : 0) + ") exceeds " + rel + " of the range " + max);
    }
}
