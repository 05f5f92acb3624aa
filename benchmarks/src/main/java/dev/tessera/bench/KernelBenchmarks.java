package dev.tessera.bench;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
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

    public KernelBenchmarks(double secondsPerCase) {
        this.timer = new Timer(secondsPerCase, 3);
    }

    public List<BenchResult> run() {
        List<BenchResult> results = new ArrayList<>();
        Tessera.ensureInitialized();
        results.addAll(downcalls());
        results.addAll(conversions());
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
