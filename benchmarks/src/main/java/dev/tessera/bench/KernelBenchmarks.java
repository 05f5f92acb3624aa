package dev.tessera.bench;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel micro-benchmarks behind {@code tessera bench}: downcall overhead, and the
 * conversion kernels on every kernel level this CPU runs, on one thread and on the pool.
 * Later kernels (matmul, attention, conv) add their cases here.
 */
public final class KernelBenchmarks {
    private static final long CALLS = 2_000_000;
    private final Timer timer;

    private final long largeBytes;

    /**
     * @param largeBytes weight bytes of the larger-than-cache Q4_0 matvec case (0 leaves it out)
     */
    public KernelBenchmarks(double secondsPerCase, long largeBytes) {
        this.timer = new Timer(secondsPerCase, 3);
        this.largeBytes = largeBytes;
    }

    public List<BenchResult> run() {
        List<BenchResult> results = new ArrayList<>();
        Tessera.ensureInitialized();
        results.addAll(machineLimits());
        results.addAll(downcalls());
        results.addAll(conversions());
        results.addAll(matmuls());
        if (largeBytes > 0) {
            results.add(largeMatvec(largeBytes));
        }
        return results;
    }

    /**
     * The machine's limits, measured by the same library: read bandwidth over 256 MiB (far
     * beyond the caches) and FMA throughput with the active level's widest vectors.
     */
    List<BenchResult> machineLimits() {
        List<BenchResult> results = new ArrayList<>();
        int poolThreads = Tessera.threads();
        String isa = Tessera.isa().id();
        final long bytes = 256L << 20;
        final long iters = 20_000_000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(bytes, 64);
            buffer.fill((byte) 1); // touch every page before timing
            for (int threads : poolThreads > 1 ? new int[] {1, poolThreads} : new int[] {1}) {
                Tessera.setThreads(threads);
                double s = timer.median(() -> TesseraNative.ts_bench_read(buffer, bytes));
                results.add(BenchResult.of("machine", "read bandwidth", isa, threads, s, 0, bytes, "256 MiB streaming sum"));
                long[] flops = new long[1];
                double f = timer.median(() -> flops[0] = TesseraNative.ts_bench_fma(iters));
                results.add(BenchResult.of("machine", "fma peak f32", isa, threads, f, flops[0], 0, "independent FMA chains"));
            }
        } finally {
            Tessera.setThreads(poolThreads);
        }
        return results;
    }

    /** Cost of one downcall into an empty native function, with and without critical linking. */
    List<BenchResult> downcalls() {
        MethodHandle plain = Linker.nativeLinker().downcallHandle(TesseraNative.ts_noop$ADDR, TesseraNative.ts_noop$DESC);
        String isa = Tessera.isa().id();
        double critical = timer.median(() -> {
            for (long i = 0; i < CALLS; i++) {
                TesseraNative.ts_noop();
            }
        }) / CALLS;
        double nonCritical = timer.median(() -> {
            try {
                for (long i = 0; i < CALLS; i++) {
                    plain.invokeExact();
                }
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }) / CALLS;
        return List.of(
                BenchResult.of("downcall", "ts_noop critical", isa, 1, critical, 0, 0, String.format("%.1f ns/call", critical * 1e9)),
                BenchResult.of("downcall", "ts_noop plain", isa, 1, nonCritical, 0, 0, String.format("%.1f ns/call", nonCritical * 1e9)));
    }

    /** F32 <-> F16/BF16 over 16 Mi elements (64 MiB of F32: beyond the caches, so memory-bound). */
    List<BenchResult> conversions() {
        final long n = 16L << 20;
        List<BenchResult> results = new ArrayList<>();
        Isa restore = Tessera.isa();
        int poolThreads = Tessera.threads();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f32 = arena.allocate(n * 4, 64);
            MemorySegment half = arena.allocate(n * 2, 64);
            for (long i = 0; i < n; i++) {
                f32.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i * 1e-3) * 100f);
            }
            for (Isa isa : Tessera.supportedIsas()) {
                for (int threads : poolThreads > 1 ? new int[] {1, poolThreads} : new int[] {1}) {
                    Tessera.init(threads, isa);
                    results.add(convert("f32->f16", isa, threads, half, TesseraNative.TS_TYPE_F16, f32, TesseraNative.TS_TYPE_F32, n));
                    results.add(convert("f16->f32", isa, threads, f32, TesseraNative.TS_TYPE_F32, half, TesseraNative.TS_TYPE_F16, n));
                    results.add(convert("f32->bf16", isa, threads, half, TesseraNative.TS_TYPE_BF16, f32, TesseraNative.TS_TYPE_F32, n));
                    results.add(convert("bf16->f32", isa, threads, f32, TesseraNative.TS_TYPE_F32, half, TesseraNative.TS_TYPE_BF16, n));
                }
            }
        } finally {
            Tessera.init(poolThreads, restore);
        }
        return results;
    }

    /**
     * Matvec 4096x4096 (M = 1, decode) and matmul with M = 512 (prefill) per weight type, on 1
     * thread and on the pool. GB/s counts the weight bytes read per call.
     */
    List<BenchResult> matmuls() {
        final int n = 4096, k = 4096;
        List<BenchResult> results = new ArrayList<>();
        int poolThreads = Tessera.threads();
        Isa isa = Tessera.isa();
        try (Tensor wf = random(n, k, 1); Tensor x1 = random(1, k, 2); Tensor x512 = random(512, k, 3);
             Tensor y1 = Tensor.allocate(DType.F32, 1, n); Tensor y512 = Tensor.allocate(DType.F32, 512, n)) {
            for (DType type : List.of(DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K)) {
                try (Tensor w = type == DType.F16 ? Ops.convert(wf, type) : Ops.quantize(wf, type)) {
                    for (int threads : poolThreads > 1 ? new int[] {1, poolThreads} : new int[] {1}) {
                        Tessera.setThreads(threads);
                        double s = timer.median(() -> Ops.matmulInto(w, x1, y1));
                        results.add(BenchResult.of("matmul", "matvec " + type, isa.id(), threads, s,
                                2.0 * n * k, w.byteSize(), "4096x4096, M=1"));
                    }
                    for (int threads : poolThreads > 1 ? new int[] {1, poolThreads} : new int[] {1}) {
                        Tessera.setThreads(threads);
                        double s = timer.median(() -> Ops.matmulInto(w, x512, y512));
                        results.add(BenchResult.of("matmul", "matmul " + type, isa.id(), threads, s,
                                2.0 * n * k * 512, w.byteSize(), "4096x4096, M=512"));
                    }
                }
            }
        } finally {
            Tessera.setThreads(poolThreads);
        }
        return results;
    }

    /**
     * Q4_0 matvec over a weight set far larger than the caches, where memory bandwidth rules.
     * The blocks are random bytes with a fixed small scale: quantizing gigabytes of floats
     * would only slow the benchmark down, and the kernel's work does not depend on values.
     */
    BenchResult largeMatvec(long bytes) {
        final int k = 4096;
        final long rowBytes = DType.Q4_0.byteSize(k);
        final long n = bytes / rowBytes;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = arena.allocate(n * rowBytes, 64);
            java.util.SplittableRandom r = new java.util.SplittableRandom(5);
            for (long off = 0; off + 8 <= w.byteSize(); off += 8) {
                w.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, off, r.nextLong());
            }
            short scale = Float.floatToFloat16(0.01f);
            for (long b = 0; b < w.byteSize(); b += DType.Q4_0.blockBytes()) {
                w.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
            }
            Tensor weights = Tensor.wrap(DType.Q4_0, w, n, k);
            try (Tensor x = random(1, k, 4); Tensor y = Tensor.allocate(DType.F32, 1, n)) {
                double s = timer.median(() -> Ops.matmulInto(weights, x, y));
                return BenchResult.of("matmul", "matvec Q4_0 large", Tessera.isa().id(), Tessera.threads(), s,
                        2.0 * n * k, n * rowBytes, String.format("%d x %d, %.2f GiB of weights", n, k, n * rowBytes / (double) (1L << 30)));
            }
        }
    }

    private static Tensor random(int rows, int cols, long seed) {
        java.util.Random r = new java.util.Random(seed);
        Tensor t = Tensor.allocate(DType.F32, rows, cols);
        for (long i = 0; i < (long) rows * cols; i++) {
            t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        }
        return t;
    }

    private BenchResult convert(String name, Isa isa, int threads, MemorySegment dst, int dstType,
                                MemorySegment src, int srcType, long n) {
        double s = timer.median(() -> Tessera.check(TesseraNative.ts_convert(dst, dstType, src, srcType, n)));
        long bytes = n * (elementBytes(dstType) + elementBytes(srcType));
        return BenchResult.of("convert", name, isa.id(), threads, s, 0, bytes, "16 Mi elements, read+write bytes");
    }

    private static long elementBytes(int type) {
        return type == TesseraNative.TS_TYPE_F32 ? 4 : 2;
    }
}
