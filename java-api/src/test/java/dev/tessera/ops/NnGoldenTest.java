package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
import dev.tessera.io.TestFiles;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.ops.Nn.Activation;
import dev.tessera.ops.Nn.RopeMode;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nn against PyTorch goldens (tools/goldens/ops_goldens.py) at every kernel level this CPU has,
 * on contiguous inputs and on strided views of them.
 *
 * <p>Tolerances (|got - want| <= atol + rtol * |want|), and why:
 * <ul>
 *   <li>exact (0, 0): upsampling, broadcasting add/mul (one float op on both sides), concat,
 *       permute, F32/F16/BF16 embedding rows (conversions are exact);</li>
 *   <li>norms 1e-5 + 1e-5: float32 results of reductions over up to 4096 (GroupNorm 2560)
 *       elements; PyTorch and our AVX2 kernels sum in float in different orders, the scalar
 *       kernel in double, so the mean/rsqrt may differ by ~n^0.5 ulp;</li>
 *   <li>activations 2e-6 + 2e-6: PyTorch's erf/tanh/exp vs ours (the AVX2 erf is A&S 7.1.26,
 *       |error| < 1.5e-7, times 0.5|x| <= 12) plus a few ulp of the result; GLUs the same
 *       times |up| (values < 5);</li>
 *   <li>F16 outputs: the activation tolerance plus one half ulp (rtol 2^-10): both sides round
 *       to half a float result that may differ by the F32 tolerance (PyTorch's own float GELU
 *       loses ~1e-7 absolute to cancellation in 1 + erf near x = -4);</li>
 *   <li>softmax 1e-7 + 1e-5: exp within ~2 ulp and a float/double row sum over <= 1001 terms;</li>
 *   <li>RoPE 1e-5 + 0: the golden is computed in float64; we rotate in float with cos/sin
 *       rounded to float (a few ulp of |x| < 6);</li>
 *   <li>scale: 1 ulp (x*s + b may or may not be fused);</li>
 *   <li>timestep embedding 1e-4 + 0: the argument t*freq reaches 999 in float32, where one ulp
 *       of exp's result moves the argument by 6e-5 and so sin/cos by as much.</li>
 * </ul>
 */
class NnGoldenTest {
    private static SafetensorsFile norms;
    private static SafetensorsFile acts;
    private static SafetensorsFile softmax;
    private static SafetensorsFile rope;
    private static SafetensorsFile misc;
    private final List<Tensor> owned = new ArrayList<>();

    @BeforeAll
    static void open() throws IOException {
        norms = SafetensorsFile.open(TestFiles.resource("goldens/ops/norms.safetensors"));
        acts = SafetensorsFile.open(TestFiles.resource("goldens/ops/activations.safetensors"));
        softmax = SafetensorsFile.open(TestFiles.resource("goldens/ops/softmax.safetensors"));
        rope = SafetensorsFile.open(TestFiles.resource("goldens/ops/rope.safetensors"));
        misc = SafetensorsFile.open(TestFiles.resource("goldens/ops/misc.safetensors"));
    }

    @AfterAll
    static void close() {
        for (SafetensorsFile f : new SafetensorsFile[] {norms, acts, softmax, rope, misc}) {
            if (f != null) {
                f.close();
            }
        }
        Tessera.init(0, null);
    }

    @AfterEach
    void free() {
        owned.forEach(Tensor::close);
        owned.clear();
    }

    private Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    /** Runs body once per kernel level this CPU has. */
    private static void eachLevel(java.util.function.Consumer<Isa> body) {
        List<Isa> isas = Tessera.supportedIsas();
        assertFalse(isas.isEmpty());
        for (Isa isa : isas) {
            Tessera.init(0, isa);
            body.accept(isa);
        }
    }

    /** A copy of t whose last dim is padded by 3 elements, viewed back to t's shape: a strided view. */
    private Tensor padded(Tensor t) {
        long[] shape = t.shape();
        int last = shape.length - 1;
        shape[last] += 3;
        Tensor big = own(Tensor.allocate(t.dtype(), shape));
        Tensor view = big.slice(last, 0, t.shape(last));
        Ops.copy(t, view);
        assertFalse(view.isContiguous());
        return view;
    }

    private void check(String what, Tensor want, Supplier<Tensor> op, double atol, double rtol) {
        Tensor got = own(op.get());
        assertArrayEquals(want.shape(), got.shape(), what + " shape");
        float[] g = got.toFloatArray();
        float[] w = want.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs((double) g[i] - w[i]);
            double tol = atol + rtol * Math.abs(w[i]);
            if (!(err <= tol)) {
                throw new AssertionError(what + " [" + Tessera.isa() + "] element " + i + ": got " + g[i] + ", want " + w[i]
                        + " (|err| " + err + " > " + tol + ")");
            }
        }
    }

    private static final double NORM_TOL = 1e-5;
    private static final double ACT_TOL = 2e-6;

    @Test
    void layerNormAndRmsNormMatchPyTorch() {
        Tensor x = norms.tensor("ln_x");
        Tensor w = norms.tensor("ln_w");
        Tensor b = norms.tensor("ln_b");
        Tensor rx = norms.tensor("rms_x");
        Tensor rw = norms.tensor("rms_w");
        eachLevel(isa -> {
            check("layerNorm", norms.tensor("ln_y"), () -> Nn.layerNorm(x, w, b, 1e-5f), NORM_TOL, NORM_TOL);
            check("layerNorm strided", norms.tensor("ln_y"), () -> Nn.layerNorm(padded(x), w, b, 1e-5f), NORM_TOL, NORM_TOL);
            check("layerNorm plain", norms.tensor("ln_plain_y"), () -> Nn.layerNorm(x, null, null, 1e-5f), NORM_TOL, NORM_TOL);
            check("rmsNorm eps 1e-5", norms.tensor("rms_y_eps5"), () -> Nn.rmsNorm(rx, rw, 1e-5f), NORM_TOL, NORM_TOL);
            check("rmsNorm eps 1e-6 strided", norms.tensor("rms_y_eps6"), () -> Nn.rmsNorm(padded(rx), rw, 1e-6f), NORM_TOL, NORM_TOL);
            check("rmsNorm plain", norms.tensor("rms_plain_y"), () -> Nn.rmsNorm(rx, null, 1e-6f), NORM_TOL, NORM_TOL);
            check("rmsNorm odd", norms.tensor("rms_odd_y"), () -> Nn.rmsNorm(norms.tensor("rms_odd_x"), null, 1e-5f), NORM_TOL, NORM_TOL);
        });
    }

    @Test
    void groupNormMatchesPyTorchOnSdChannelCounts() {
        eachLevel(isa -> {
            for (int c : new int[] {320, 640, 1280}) {
                Tensor x = norms.tensor("gn" + c + "_x");
                Tensor w = norms.tensor("gn" + c + "_w");
                Tensor b = norms.tensor("gn" + c + "_b");
                float eps = c == 1280 ? 1e-6f : 1e-5f;
                check("groupNorm " + c, norms.tensor("gn" + c + "_y"), () -> Nn.groupNorm(x, 32, w, b, eps), NORM_TOL, NORM_TOL);
                // Items spaced apart (a channel slice of a wider tensor), and a transposed view (copied first).
                long[] wide = x.shape();
                wide[1] += 2;
                Tensor big = own(Tensor.allocate(DType.F32, wide));
                Tensor view = big.slice(1, 0, c);
                Ops.copy(x, view);
                check("groupNorm " + c + " spaced", norms.tensor("gn" + c + "_y"), () -> Nn.groupNorm(view, 32, w, b, eps), NORM_TOL, NORM_TOL);
                Tensor t = own(Nn.permute(x, 0, 1, 3, 2)).transpose(2, 3);
                check("groupNorm " + c + " transposed", norms.tensor("gn" + c + "_y"), () -> Nn.groupNorm(t, 32, w, b, eps), NORM_TOL, NORM_TOL);
            }
        });
    }

    @Test
    void activationsAndGatedUnitsMatchPyTorch() {
        Tensor x = acts.tensor("x");
        Tensor xh = acts.tensor("x_f16");
        eachLevel(isa -> {
            check("gelu", acts.tensor("gelu"), () -> Nn.gelu(x), ACT_TOL, ACT_TOL);
            check("gelu strided", acts.tensor("gelu"), () -> Nn.gelu(padded(x)), ACT_TOL, ACT_TOL);
            check("gelu tanh", acts.tensor("gelu_tanh"), () -> Nn.geluTanh(x), ACT_TOL, ACT_TOL);
            check("quick gelu", acts.tensor("quick_gelu"), () -> Nn.quickGelu(x), ACT_TOL, ACT_TOL);
            check("silu", acts.tensor("silu"), () -> Nn.silu(padded(x)), ACT_TOL, ACT_TOL);
            check("gelu f16", acts.tensor("gelu_f16"), () -> Nn.gelu(xh), ACT_TOL, 0x1p-10);
            check("silu f16 strided", acts.tensor("silu_f16"), () -> Nn.silu(padded(xh)), ACT_TOL, 0x1p-10);
            check("clip quick gelu", acts.tensor("clip_quick_gelu"), () -> Nn.activation(acts.tensor("clip_x"), Activation.QUICK_GELU),
                    ACT_TOL, ACT_TOL);
            check("swiglu", acts.tensor("swiglu_y"), () -> Nn.swiglu(acts.tensor("swiglu_gate"), acts.tensor("swiglu_up")),
                    5 * ACT_TOL, ACT_TOL);
            check("swiglu strided", acts.tensor("swiglu_y"), () -> Nn.swiglu(padded(acts.tensor("swiglu_gate")),
                    padded(acts.tensor("swiglu_up"))), 5 * ACT_TOL, ACT_TOL);
            check("geglu", acts.tensor("geglu_y"), () -> Nn.geglu(acts.tensor("geglu_proj")), 5 * ACT_TOL, ACT_TOL);
            check("swiglu f16", acts.tensor("swiglu_y_f16"), () -> Nn.swiglu(acts.tensor("swiglu_gate_f16"),
                    acts.tensor("swiglu_up_f16")), ACT_TOL, 0x1p-10);
        });
    }

    @Test
    void softmaxMatchesPyTorchWithMasksAndLargeLogits() {
        Tensor s = softmax.tensor("scores");
        eachLevel(isa -> {
            check("softmax causal", softmax.tensor("y_masked"), () -> Nn.softmax(s, 0.125f, softmax.tensor("mask")), 1e-7, 1e-5);
            check("softmax big", softmax.tensor("y_big"), () -> Nn.softmax(softmax.tensor("big"), 1f, null), 1e-7, 1e-5);
            check("softmax big strided", softmax.tensor("y_big"), () -> Nn.softmax(padded(softmax.tensor("big")), 1f, null), 1e-7, 1e-5);
            check("softmax additive", softmax.tensor("y_addmask"), () -> Nn.softmax(s, 2f, softmax.tensor("addmask")), 1e-7, 1e-5);
        });
    }

    @Test
    void ropeFollowsLlamaCppNormalAndNeoxLayouts() {
        Tensor x = rope.tensor("x");
        Tensor pos = rope.tensor("pos");
        eachLevel(isa -> {
            check("rope normal", rope.tensor("norm"), () -> Nn.rope(x, pos, 128, RopeMode.NORMAL, 10000f), 1e-5, 0);
            check("rope neox", rope.tensor("neox"), () -> Nn.rope(x, pos, 128, RopeMode.NEOX, 10000f), 1e-5, 0);
            // Heads spaced apart: a head slice of a wider [tokens, 4, 128] tensor.
            Tensor big = own(Tensor.allocate(DType.F32, 5, 4, 128));
            Tensor view = big.slice(1, 1, 4);
            Ops.copy(x, view);
            check("rope normal strided", rope.tensor("norm"), () -> Nn.rope(view, pos, 128, RopeMode.NORMAL, 10000f), 1e-5, 0);
            Tensor px = rope.tensor("px");
            Tensor ppos = rope.tensor("ppos");
            check("rope partial normal", rope.tensor("pnorm"), () -> Nn.rope(px, ppos, 32, RopeMode.NORMAL, 500000f), 1e-5, 0);
            check("rope partial neox", rope.tensor("pneox"), () -> Nn.rope(px, ppos, 32, RopeMode.NEOX, 500000f), 1e-5, 0);
        });
    }

    @Test
    void layoutArithmeticAndEmbeddingsMatchPyTorch() {
        eachLevel(isa -> {
            check("upsample", misc.tensor("up_y"), () -> Nn.upsampleNearest2x(misc.tensor("up_x")), 0, 0);
            check("add broadcast", misc.tensor("add_y"), () -> Nn.add(misc.tensor("add_a"), misc.tensor("add_b")), 0, 0);
            check("add transposed", misc.tensor("add2_y"), () -> Nn.add(misc.tensor("add2_at").transpose(0, 1), misc.tensor("add2_b")), 0, 0);
            check("add swapped", misc.tensor("add2_y"), () -> Nn.add(misc.tensor("add2_b"), misc.tensor("add2_at").transpose(0, 1)), 0, 0);
            check("mul broadcast", misc.tensor("mul_y"), () -> Nn.mul(misc.tensor("mul_a"), misc.tensor("mul_b")), 0, 0);
            check("scale vae", misc.tensor("scale_vae"), () -> Nn.scale(misc.tensor("scale_x"), 0.18215f, 0f), 0, 0x1p-23);
            check("scale img strided", misc.tensor("scale_img"), () -> Nn.scale(padded(misc.tensor("scale_x")), 2f, -1f), 0, 0x1p-23);
            check("concat", misc.tensor("cat_y"), () -> Nn.concat(1, misc.tensor("cat_a"), misc.tensor("cat_b")), 0, 0);
            check("permute", misc.tensor("perm_y"), () -> Nn.permute(misc.tensor("perm_x"), 0, 2, 1, 3), 0, 0);
            Tensor ids = misc.tensor("emb_ids");
            check("embedding f32", misc.tensor("emb_y"), () -> Nn.embedding(misc.tensor("emb_table"), ids), 0, 0);
            check("embedding f16", misc.tensor("emb_y_f16"), () -> Nn.embedding(misc.tensor("emb_table_f16"), ids), 0, 0);
            check("embedding bf16", misc.tensor("emb_y_bf16"), () -> Nn.embedding(misc.tensor("emb_table_bf16"), ids), 0, 0);
            check("embedding strided table", misc.tensor("emb_y"), () -> Nn.embedding(padded(misc.tensor("emb_table")), ids), 0, 0);
            check("timestep sd1.5", misc.tensor("ts_sd15"), () -> Nn.timestepEmbedding(misc.tensor("ts"), 320), 1e-4, 0);
            check("timestep odd", misc.tensor("ts_odd"), () -> Nn.timestepEmbedding(misc.tensor("ts"), 7, false, 1f, 1f, 10000f), 1e-4, 0);
        });
    }

    @Test
    void quantizedEmbeddingRowsEqualDequantizedTableRows() {
        Tensor table = misc.tensor("emb_table");
        Tensor ids = misc.tensor("emb_ids");
        eachLevel(isa -> {
            for (DType q : new DType[] {DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K}) {
                Tensor src = table;
                if (q.blockSize() == 256) { // K-quants need 256-wide rows: four rows side by side
                    src = own(Tensor.allocate(DType.F32, 50, 256));
                    for (int k = 0; k < 4; k++) {
                        Ops.copy(table, src.slice(1, 64L * k, 64L * (k + 1)));
                    }
                }
                Tensor qt = own(Ops.quantize(src, q));
                Tensor deq = own(Ops.dequantize(qt));
                Tensor got = own(Nn.embedding(qt, ids));
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 7; j++) {
                        long id = ids.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i * 7L + j);
                        for (int e = 0; e < src.shape(1); e++) {
                            assertEquals(deq.getFloat(id, e), got.getFloat(i, j, e), 0f, q + " id " + id + " element " + e);
                        }
                    }
                }
            }
        });
    }

    @Test
    void badShapesTypesAndStridesThrowBeforeTheDowncall() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, DType.F32, 4, 8);
            Tensor w7 = Tensor.allocate(arena, DType.F32, 7);
            Tensor h = Tensor.allocate(arena, DType.F16, 4, 8);
            Tensor x3 = Tensor.allocate(arena, DType.F32, 3, 4, 8);
            Tensor ids = Tensor.allocate(arena, DType.I32, 3);
            Tensor idsLong = Tensor.allocate(arena, DType.I64, 3);
            Tensor table = Tensor.allocate(arena, DType.F32, 5, 8);
            Tensor heap = Tensor.wrap(DType.F32, MemorySegment.ofArray(new float[32]), 4, 8);
            assertIae(() -> Nn.layerNorm(x, w7, null, 1e-5f), "weight length");
            assertIae(() -> Nn.layerNorm(x, null, null, -1f), "negative eps");
            assertIae(() -> Nn.rmsNorm(h, null, 1e-5f), "F16 rmsNorm");
            assertIae(() -> Nn.rmsNorm(x.transpose(0, 1), null, 1e-5f), "strided last dim");
            assertIae(() -> Nn.rmsNorm(x3.permute(1, 0, 2), null, 1e-5f), "leading dims that do not collapse");
            assertIae(() -> Nn.rmsNorm(heap, null, 1e-5f), "heap tensor");
            assertIae(() -> Nn.groupNorm(x3, 3, null, null, 1e-5f), "groups not dividing channels");
            assertIae(() -> Nn.groupNorm(Tensor.allocate(arena, DType.F32, 8), 2, null, null, 1e-5f), "groupNorm rank 1");
            assertIae(() -> Nn.activation(Tensor.allocate(arena, DType.BF16, 4), Activation.GELU), "BF16 activation");
            assertIae(() -> Nn.glu(x, h, Activation.SILU), "glu type mismatch");
            assertIae(() -> Nn.glu(x, x3.select(0, 0).slice(0, 0, 3), Activation.SILU), "glu shape mismatch");
            assertIae(() -> Nn.geglu(Tensor.allocate(arena, DType.F32, 2, 7)), "odd geglu width");
            assertIae(() -> Nn.softmax(x3, 1f, Tensor.allocate(arena, DType.F32, 3, 8)), "mask shape");
            assertIae(() -> Nn.softmax(x, Float.NaN, null), "NaN scale");
            assertIae(() -> Nn.rope(x3, ids, 7, RopeMode.NORMAL, 1e4f), "odd nDims");
            assertIae(() -> Nn.rope(x3, ids, 10, RopeMode.NORMAL, 1e4f), "nDims > headDim");
            assertIae(() -> Nn.rope(x3, idsLong, 8, RopeMode.NEOX, 1e4f), "I64 positions");
            assertIae(() -> Nn.rope(x3, Tensor.allocate(arena, DType.I32, 2), 8, RopeMode.NEOX, 1e4f), "position count");
            assertIae(() -> Nn.rope(x3.transpose(1, 2), ids.slice(0, 0, 3), 2, RopeMode.NORMAL, 1e4f), "strided head_dim");
            assertIae(() -> Nn.rope(x3, ids, 8, RopeMode.NORMAL, 0f), "zero base");
            assertIae(() -> Nn.upsampleNearest2x(x3), "upsample rank 3");
            assertIae(() -> Nn.add(x, x3.slice(2, 0, 5)), "shapes that do not broadcast");
            assertIae(() -> Nn.add(Tensor.allocate(arena, DType.F32, 1, 1, 1, 1, 2), x), "rank 5 result");
            assertIae(() -> Nn.mul(x, h), "F16 operand");
            assertIae(() -> Nn.concat(0, x, h), "concat types");
            assertIae(() -> Nn.concat(1, x, x3), "concat ranks");
            assertIae(() -> Nn.concat(2, x, x), "concat dim");
            assertIae(() -> Nn.embedding(table, idsLong), "I64 ids");
            assertIae(() -> Nn.embedding(Tensor.allocate(arena, DType.F32, 5), ids), "1-D table");
            assertIae(() -> Nn.embedding(Tensor.allocate(arena, DType.I32, 5, 8), ids), "I32 table");
            ids.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 1, 5);
            assertIae(() -> Nn.embedding(table, ids), "id == vocab");
            ids.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 1, -1);
            assertIae(() -> Nn.embedding(table, ids), "negative id");
            assertIae(() -> Nn.timestepEmbedding(Tensor.allocate(arena, DType.F32, 3), 1), "dim 1");
            assertIae(() -> Nn.timestepEmbedding(x, 8), "2-D timesteps");
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        float[] data = new float[64 * 1000];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian() * 3;
        }
        try (Tensor x = Tensor.of(data, 64, 1000)) {
            float[][] first = null;
            for (int threads : new int[] {1, 2, 3}) {
                Tessera.init(threads, null);
                float[][] out = new float[4][];
                Tensor[] ys = {Nn.rmsNorm(x, null, 1e-6f), Nn.layerNorm(x, null, null, 1e-5f), Nn.softmax(x, 0.5f, null), Nn.gelu(x)};
                for (int i = 0; i < ys.length; i++) {
                    out[i] = ys[i].toFloatArray();
                    ys[i].close();
                }
                if (first == null) {
                    first = out;
                } else {
                    for (int i = 0; i < out.length; i++) {
                        assertArrayEquals(first[i], out[i], 0f, "op " + i + " with " + threads + " threads");
                    }
                }
            }
        }
    }

    private static void assertIae(org.junit.jupiter.api.function.Executable e, String what) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e, what);
        assertTrue(ex.getMessage() != null && !ex.getMessage().isEmpty(), what + ": no message");
    }
}
