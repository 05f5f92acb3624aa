package dev.tessera.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
import dev.tessera.io.TestFiles;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Attention} against PyTorch goldens (tools/goldens/attention_goldens.py: float64
 * softmax(QKᵀ·scale + mask)·V rounded to float32) on every kernel level this CPU runs, and its
 * argument checks.
 *
 * <p>Tolerance: |got - want| <= 2e-5 + 2e-5·|want|. Outputs are convex combinations of V rows
 * with |V| ~ N(0, 1); the kernels accumulate in float (about 1e-6 here) and the AVX2 exp is
 * within 2.5e-7 relative, so 2e-5 leaves an order of magnitude of margin while still catching
 * a wrong scale, a missed rescale, an off-by-one causal limit or a wrong kv head (all >1e-2).
 */
class AttentionGoldenTest {
    private static final double ATOL = 2e-5;
    private static final double RTOL = 2e-5;

    @AfterAll
    static void restoreDefaults() {
        Tessera.init(0, null);
    }

    private static List<Path> goldens() throws IOException {
        try (Stream<Path> files = Files.list(TestFiles.resource("goldens/attention"))) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
            assertTrue(list.size() >= 15, "goldens missing: " + list);
            return list;
        }
    }

    @Test
    void matchesPyTorchGoldensOnEveryKernelLevelAndThreadCount() throws IOException {
        List<Path> files = goldens();
        for (Isa isa : Tessera.supportedIsas()) {
            for (int threads : new int[] {1, 2, 3}) {
                Tessera.init(threads, isa);
                for (Path file : files) {
                    checkGolden(file, isa + "/" + threads + "t " + file.getFileName());
                }
            }
        }
    }

    private static void checkGolden(Path file, String what) throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Map<String, String> meta = st.metadata();
            float scale = Float.parseFloat(meta.get("scale"));
            boolean causal = Integer.parseInt(meta.get("causal")) != 0;
            long kvOffset = Long.parseLong(meta.get("kv_offset"));
            boolean lhd = meta.get("layout").equals("lhd");
            Tensor q = st.tensor("q"), k = st.tensor("k"), v = st.tensor("v"), want = st.tensor("out");
            Tensor mask = st.hasTensor("mask") ? st.tensor("mask") : null;
            if (lhd) { // stored [L, heads, d]: the kernel reads the transposed views in place
                q = q.transpose(0, 1);
                k = k.transpose(0, 1);
                v = v.transpose(0, 1);
                want = want.transpose(0, 1);
                try (Tensor outLhd = Tensor.allocate(DType.F32, q.shape(1), q.shape(0), q.shape(2))) {
                    Tensor out = outLhd.transpose(0, 1);
                    Attention.attentionInto(q, k, v, mask, scale, causal, kvOffset, out);
                    compare(want, out, what);
                }
            } else {
                try (Tensor out = Attention.attention(q, k, v, mask, scale, causal, kvOffset)) {
                    compare(want, out, what);
                }
            }
        }
    }

    private static void compare(Tensor want, Tensor got, String what) {
        assertArrayEquals(want.shape(), got.shape(), what);
        for (long h = 0; h < want.shape(0); h++) {
            for (long i = 0; i < want.shape(1); i++) {
                for (long c = 0; c < want.shape(2); c++) {
                    float w = want.getFloat(h, i, c), g = got.getFloat(h, i, c);
                    if (!(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) {
                        fail(what + ": out[" + h + "][" + i + "][" + c + "] = " + g + ", want " + w);
                    }
                }
            }
        }
    }

    private static Tensor gaussian(long seed, long... shape) {
        Random r = new Random(seed);
        float[] x = new float[Math.toIntExact(Tensor.numelOf(shape))];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return Tensor.of(x, shape);
    }

    @Test
    void fullyMaskedRowsAreZerosNotNaN() {
        for (Isa isa : Tessera.supportedIsas()) {
            Tessera.init(0, isa);
            try (Tensor q = gaussian(1, 2, 9, 64); Tensor k = gaussian(2, 2, 70, 64); Tensor v = gaussian(3, 2, 70, 64);
                 Tensor mask = Tensor.allocate(DType.F32, 9, 70)) {
                for (int j = 0; j < 70; j++) {
                    mask.setFloat(Float.NEGATIVE_INFINITY, 4, j);
                }
                try (Tensor o = Attention.attention(q, k, v, mask, 0.125f, false, 0)) {
                    for (int h = 0; h < 2; h++) {
                        for (int i = 0; i < 9; i++) {
                            for (int c = 0; c < 64; c++) {
                                float x = o.getFloat(h, i, c);
                                assertFalse(Float.isNaN(x), isa + " NaN at " + h + "," + i + "," + c);
                                if (i == 4) {
                                    assertEquals(0f, x, 0f, isa + " hidden row");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** A decode step over a cache (Lq = 1, kvOffset = Lk - 1) equals the last row of the causal prefill. */
    @Test
    void decodeStepEqualsTheLastRowOfTheCausalPrefill() {
        for (Isa isa : Tessera.supportedIsas()) {
            Tessera.init(0, isa);
            long l = 97;
            try (Tensor q = gaussian(4, 4, l, 128); Tensor kf = gaussian(5, 2, l, 128); Tensor vf = gaussian(6, 2, l, 128);
                 Tensor k = Ops.convert(kf, DType.F16); Tensor v = Ops.convert(vf, DType.F16);
                 Tensor full = Attention.attention(q, k, v, null, 0.0884f, true, 0);
                 Tensor step = Attention.attention(q.slice(1, l - 1, l), k, v, null, 0.0884f, true, l - 1)) {
                for (int h = 0; h < 4; h++) {
                    for (int c = 0; c < 128; c++) {
                        assertEquals(full.getFloat(h, l - 1, c), step.getFloat(h, 0, c), 2e-6, isa + " h" + h + " c" + c);
                    }
                }
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        try (Tensor q = gaussian(1, 4, 5, 32); Tensor k = gaussian(2, 2, 7, 32); Tensor v = gaussian(3, 2, 7, 32);
             Tensor mask = Tensor.allocate(DType.F32, 5, 7); Tensor maskT = Tensor.allocate(DType.F32, 7, 5);
             Tensor out = Tensor.allocate(DType.F32, 4, 5, 32); Tensor qHalf = Ops.convert(q, DType.F16);
             Tensor kBf = Ops.convert(k, DType.BF16); Tensor vHalf = Ops.convert(v, DType.F16);
             Tensor k3 = gaussian(4, 3, 7, 32); Tensor kd = gaussian(5, 2, 7, 40); Tensor q300 = gaussian(6, 1, 1, 300);
             Tensor k300 = gaussian(7, 1, 2, 300); Tensor qT = gaussian(8, 4, 32, 5)) {
            // sanity: the good call works
            Attention.attentionInto(q, k, v, mask, 0.1f, false, 0, out);
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(qHalf, k, v), "F16 query");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q.select(0, 0), k, v), "rank-2 query");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, kBf, v), "BF16 keys");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k, vHalf), "K/V types differ");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k, v.slice(1, 0, 6)), "K/V shapes differ");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k3, k3), "4 heads over 3 kv heads");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, kd, kd), "head sizes differ");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q300, k300, k300), "d > 256");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(qT.transpose(1, 2), k, v), "q rows not contiguous");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k.slice(2, 0, 16), v.slice(2, 0, 16)),
                    "head size differs after slicing");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k, v, maskT, 0.1f, false, 0), "mask shape");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k, v, maskT.transpose(0, 1), 0.1f, false, 0),
                    "mask rows not contiguous");
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(q, k, v, null, Float.NaN, false, 0), "NaN scale");
            assertThrows(IllegalArgumentException.class, () -> Attention.attentionInto(q, k, v, null, 1f, false, 0, q), "out overlaps q");
            assertThrows(IllegalArgumentException.class, () -> Attention.attentionInto(q, k, v, null, 1f, false, 0, out.slice(1, 0, 4)),
                    "out shape");
            Tensor overlapping = Tensor.wrap(DType.F32, out.segment(), new long[] {4, 5, 32}, new long[] {128, 0, 4});
            assertThrows(IllegalArgumentException.class, () -> Attention.attentionInto(q, k, v, null, 1f, false, 0, overlapping),
                    "out rows overlap");
            Tensor heap = Tensor.wrap(DType.F32, MemorySegment.ofArray(new float[4 * 5 * 32]), 4, 5, 32);
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(heap, k, v), "heap query");
            assertThrows(IllegalArgumentException.class, () -> Attention.scratchBytes(8, 4096, 4096, 0), "scratch d 0");
        }
    }

    /** SD 1.5's 4096-token self-attention (8 heads, d 40) needs well under 64 MiB of scratch. */
    @Test
    void scratchIsBoundedIndependentlyOfTheKeyCount() {
        for (Isa isa : Tessera.supportedIsas()) {
            Tessera.init(0, isa);
            long sd = Attention.scratchBytes(8, 4096, 4096, 40);
            assertTrue(sd > 0 && sd < (1L << 20), isa + ": " + sd + " bytes");
            assertEquals(sd, Attention.scratchBytes(8, 4096, 1 << 20, 40), isa + ": scratch grows with Lk");
        }
    }
}
