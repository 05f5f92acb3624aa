package dev.tessera.bench;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.ops.Attention;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fused attention on the shapes of real models, on 1 thread and on the pool, with the active
 * kernel level:
 * <ul>
 *   <li>CLIP ViT-L/14 at 336 px: self-attention over 577 tokens, 16 heads, d 64, tensors in the
 *       models' [L, heads, d] layout (strided views, no copies);</li>
 *   <li>Stable Diffusion 1.5 at 512x512, first UNet level: self-attention over 4096 tokens,
 *       8 heads, d 40, and cross-attention 4096 x 77 text tokens;</li>
 *   <li>LLaMA-7B: one decode step over 2048 cached keys in F16 (32 heads, d 128), and a causal
 *       512-token prefill.</li>
 * </ul>
 * GFLOP/s counts 4·Lq·Lk·d·heads (Q·Kᵀ and P·V, 2 flops per multiply-add), halved for the
 * causal prefill (about half the score matrix is visible); the decode step counts all 2048 keys
 * (every one is visible), and its GB/s is the K/V bytes read. The note gives the native scratch
 * the call allocates ({@link Attention#scratchBytes}), the only memory the kernel takes.
 */
public final class AttentionBenchmarks {
    private AttentionBenchmarks() {}

    /** Runs every case with the given time budget per case (median of the runs). */
    public static List<BenchResult> run(double secondsPerCase) {
        Timer timer = new Timer(secondsPerCase, 3);
        Tessera.ensureInitialized();
        int poolThreads = Tessera.threads();
        List<BenchResult> results = new ArrayList<>();
        try {
            for (int threads : poolThreads > 1 ? new int[] {1, poolThreads} : new int[] {1}) {
                Tessera.setThreads(threads);
                // The machine's FMA peak in the same run: the yardstick on a shared, noisy machine.
                long[] flops = new long[1];
                double f = timer.median(() -> flops[0] = TesseraNative.ts_bench_fma(20_000_000));
                results.add(BenchResult.of("attention", "fma peak f32 (same run)", Tessera.isa().id(), threads, f, flops[0], 0,
                        "independent FMA chains"));
                results.add(time(timer, "CLIP-L/14-336 self 577, 16h, d64 [L,H,d]", 16, 16, 577, 577, 64, DType.F32, true, false, 0, 1.0));
                results.add(time(timer, "SD1.5 self 4096, 8h, d40", 8, 8, 4096, 4096, 40, DType.F32, false, false, 0, 1.0));
                results.add(time(timer, "SD1.5 cross 4096x77, 8h, d40", 8, 8, 4096, 77, 40, DType.F32, false, false, 0, 1.0));
                results.add(time(timer, "LLaMA-7B decode 1x2048 F16 KV, 32h, d128", 32, 32, 1, 2048, 128, DType.F16, false, true, 2047, 1.0));
                results.add(time(timer, "LLaMA-7B causal prefill 512, 32h, d128", 32, 32, 512, 512, 128, DType.F32, false, true, 0, 0.5));
            }
        } finally {
            Tessera.setThreads(poolThreads);
        }
        return results;
    }

    private static BenchResult time(Timer timer, String name, long heads, long kvHeads, long lq, long lk, long d, DType kvType,
                                    boolean lhd, boolean causal, long kvOffset, double visibleFraction) {
        try (Tensor qBuf = random(1, lhd ? new long[] {lq, heads, d} : new long[] {heads, lq, d});
             Tensor kf = random(2, lhd ? new long[] {lk, kvHeads, d} : new long[] {kvHeads, lk, d});
             Tensor vf = random(3, lhd ? new long[] {lk, kvHeads, d} : new long[] {kvHeads, lk, d});
             Tensor kBuf = kvType == DType.F32 ? null : Ops.convert(kf, kvType);
             Tensor vBuf = kvType == DType.F32 ? null : Ops.convert(vf, kvType);
             Tensor oBuf = Tensor.allocate(DType.F32, lhd ? new long[] {lq, heads, d} : new long[] {heads, lq, d})) {
            Tensor q = lhd ? qBuf.transpose(0, 1) : qBuf;
            Tensor k = kBuf == null ? kf : kBuf, v = vBuf == null ? vf : vBuf;
            if (lhd) {
                k = k.transpose(0, 1);
                v = v.transpose(0, 1);
            }
            Tensor o = lhd ? oBuf.transpose(0, 1) : oBuf;
            Tensor kk = k, vv = v;
            float scale = Attention.defaultScale(d);
            double s = timer.median(() -> Attention.attentionInto(q, kk, vv, null, scale, causal, kvOffset, o));
            double flops = 4.0 * lq * lk * d * heads * visibleFraction;
            double kvBytes = lq == 1 ? 2.0 * kvHeads * lk * d * kvType.elementBytes() : 0;
            long scratch = Attention.scratchBytes(heads, lq, lk, d);
            String note = String.format("%.3f ms, scratch %.1f KiB%s", s * 1e3, scratch / 1024.0,
                    lq == 1 ? ", GB/s = K+V bytes" : causal ? ", flops halved (causal)" : "");
            return BenchResult.of("attention", name, Tessera.isa().id(), Tessera.threads(), s, flops, kvBytes, note);
        }
    }

    private static Tensor random(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(DType.F32, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        }
        return t;
    }

    /** Prints the table: {@code java ... dev.tessera.bench.AttentionBenchmarks [secondsPerCase]}. */
    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        System.out.printf("%-45s %-7s %3s %10s %9s %8s  %s%n", "case", "isa", "thr", "time ms", "GFLOP/s", "GB/s", "note");
        for (BenchResult r : run(seconds)) {
            System.out.printf("%-45s %-7s %3d %10.3f %9.1f %8s  %s%n", r.name(), r.isa(), r.threads(), r.seconds() * 1e3, r.gflops(),
                    Double.isNaN(r.gbps()) ? "" : String.format("%.1f", r.gbps()), r.note());
        }
    }
}
