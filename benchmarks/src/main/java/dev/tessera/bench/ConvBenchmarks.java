package dev.tessera.bench;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.ops.Conv2d;
import dev.tessera.ops.Conv2d.Pair;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Convolution benchmarks on the active kernel level: the Stable Diffusion UNet 3x3 320->320
 * layer at 64x64 (F32 and F16 weights), the VAE decoder's 3x3 512->512 at 128x128, ViT-B/32
 * patch embedding (224x224, 3->768, 32x32 stride 32), and the F32 GEMM 1024^3 (run as a 1x1
 * convolution with 1024 channels over 32x32 pixels, which is exactly that GEMM). GFLOP/s
 * counts 2·N·Cout·OH·OW·(Cin/groups)·kh·kw; the note gives the scratch ts_conv2d allocates.
 * The GEMM and the UNet layer also run on one thread, for the per-thread efficiency; two
 * cases of llama.cpp's CONV_2D perf suite (no padding) allow a comparison on the same machine.
 */
public final class ConvBenchmarks {
    private ConvBenchmarks() {}

    private record Case(String name, int n, int cin, int h, int w, int cout, int k, int stride, int pad, DType wType) {
        double flops() {
            long oh = (h + 2L * pad - k) / stride + 1;
            long ow = (w + 2L * pad - k) / stride + 1;
            return 2.0 * n * cout * oh * ow * (double) cin * k * k;
        }
    }

    /** Runs every case with the given time budget per case; restores the pool size after. */
    public static List<BenchResult> run(double secondsPerCase) {
        Timer timer = new Timer(secondsPerCase, 3);
        Tessera.ensureInitialized();
        int pool = Tessera.threads();
        String isa = Tessera.isa().id();
        List<Case> cases = List.of(
                new Case("sgemm 1024^3 (1x1 conv)", 1, 1024, 32, 32, 1024, 1, 1, 0, DType.F32),
                new Case("UNet 3x3 320->320 64x64", 1, 320, 64, 64, 320, 3, 1, 1, DType.F32),
                new Case("UNet 3x3 320->320 64x64 F16 w", 1, 320, 64, 64, 320, 3, 1, 1, DType.F16),
                new Case("VAE 3x3 512->512 128x128", 1, 512, 128, 128, 512, 3, 1, 1, DType.F32),
                new Case("ViT-B/32 patchify 224 3->768", 1, 3, 224, 224, 768, 32, 32, 0, DType.F32),
                // two of llama.cpp's test-backend-ops CONV_2D perf cases, for a same-machine comparison
                new Case("ggml case 58x58x32 3x3 32->64", 1, 32, 58, 58, 64, 3, 1, 0, DType.F32),
                new Case("ggml case 16x16x128 N8 3x3 128->512", 8, 128, 16, 16, 512, 3, 1, 0, DType.F32));
        List<BenchResult> results = new ArrayList<>();
        try {
            for (Case c : cases) {
                boolean oneThreadToo = pool > 1 && (c.name().startsWith("sgemm") || c.name().equals("UNet 3x3 320->320 64x64"));
                for (int threads : oneThreadToo ? new int[] {1, pool} : new int[] {pool}) {
                    Tessera.setThreads(threads);
                    results.add(measure(timer, c, isa, threads));
                }
            }
        } finally {
            Tessera.setThreads(pool);
        }
        return results;
    }

    private static BenchResult measure(Timer timer, Case c, String isa, int threads) {
        try (Tensor x = random(1, c.n(), c.cin(), c.h(), c.w());
             Tensor wf = random(2, c.cout(), c.cin(), c.k(), c.k());
             Tensor w = c.wType() == DType.F16 ? dev.tessera.ops.Ops.convert(wf, DType.F16) : wf.view();
             Tensor bias = random(3, c.cout())) {
            Pair stride = Pair.of(c.stride());
            Pair pad = Pair.of(c.pad());
            Pair one = Pair.of(1);
            try (Tensor y = Tensor.allocate(DType.F32, Conv2d.outputShape(x, w, bias, stride, pad, one, 1))) {
                double s = timer.median(() -> Conv2d.conv2dInto(x, w, bias, stride, pad, one, 1, y));
                long scratch = TesseraNative.ts_conv2d_scratch_bytes(c.wType() == DType.F16 ? TesseraNative.TS_TYPE_F16
                        : TesseraNative.TS_TYPE_F32, c.n(), c.cin(), c.h(), c.w(), c.cout(), c.k(), c.k(), c.stride(),
                        c.stride(), c.pad(), c.pad(), 1, 1, 1);
                return BenchResult.of("conv", c.name(), isa, threads, s, c.flops(), 0,
                        String.format("scratch %.1f MiB", scratch / 1048576.0));
            }
        }
    }

    private static Tensor random(long seed, long... shape) {
        Tensor t = Tensor.allocate(DType.F32, shape);
        MemorySegment m = t.segment();
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.numel(); i++) {
            m.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (r.nextDouble() * 2 - 1));
        }
        return t;
    }

    /** Prints the results, one line per case (for running the conv cases alone). */
    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        for (BenchResult b : run(seconds)) {
            System.out.printf("%-32s %-7s %2d threads  %9.2f ms  %7.1f GFLOP/s  %s%n", b.name(), b.isa(), b.threads(),
                    b.seconds() * 1e3, b.gflops(), b.note());
        }
    }
}
