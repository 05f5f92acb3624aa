package dev.tessera.core;

import dev.tessera.bindings.TesseraNative;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * The native runtime: kernel level, thread pool, version. Everything in the Java API calls
 * {@link #ensureInitialized()} before its first downcall, so explicit {@link #init} is only
 * needed to choose settings. Defaults come from system properties:
 * {@code tessera.threads} (pool size, default one per core) and {@code tessera.isa}
 * (kernel level: scalar, avx2, avx512, amx, neon, dotprod; default the best this CPU has,
 * or the TESSERA_ISA environment variable).
 */
public final class Tessera {
    private static volatile boolean initialized;

    private Tessera() {}

    /** Initialises with the system-property defaults unless already initialised. */
    public static void ensureInitialized() {
        if (!initialized) {
            synchronized (Tessera.class) {
                if (!initialized) {
                    start(Integer.getInteger("tessera.threads", 0), System.getProperty("tessera.isa"));
                }
            }
        }
    }

    /**
     * (Re)initialises the runtime with the given pool size (0 = one per core) and kernel
     * level (null = the default). Not to be called while other threads run kernels.
     */
    public static synchronized void init(int threads, Isa isa) {
        start(threads, isa == null ? System.getProperty("tessera.isa") : isa.id());
    }

    private static void start(int threads, String isa) {
        if (threads < 0) {
            throw new IllegalArgumentException("thread count must be >= 0, got " + threads);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = isa == null || isa.isBlank() ? MemorySegment.NULL : arena.allocateFrom(isa.trim());
            check(TesseraNative.ts_init(threads, name));
        }
        initialized = true;
    }

    /** Stops the thread pool; the next kernel call initialises again with the defaults. */
    public static synchronized void shutdown() {
        if (initialized) {
            initialized = false;
            check(TesseraNative.ts_shutdown());
        }
    }

    /** The active kernel level. */
    public static Isa isa() {
        ensureInitialized();
        return Isa.fromCode(TesseraNative.ts_isa());
    }

    /** The best kernel level this CPU supports. */
    public static Isa bestIsa() {
        return Isa.fromCode(TesseraNative.ts_isa_best());
    }

    /** Every level this CPU can run, from scalar up to the best (for tests and benchmarks). */
    public static java.util.List<Isa> supportedIsas() {
        Isa best = bestIsa();
        return java.util.Arrays.stream(Isa.values())
                .filter(i -> i == Isa.SCALAR || (sameFamily(i, best) && i.code() <= best.code()))
                .toList();
    }

    private static boolean sameFamily(Isa a, Isa b) {
        return (a.code() >= 10) == (b.code() >= 10) && b != Isa.SCALAR;
    }

    public static Set<CpuFeature> cpuFeatures() {
        return CpuFeature.fromBits(TesseraNative.ts_cpu_features());
    }

    public static int threads() {
        ensureInitialized();
        return TesseraNative.ts_n_threads();
    }

    /** Resizes the thread pool; 0 means one thread per core. */
    public static void setThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("thread count must be >= 0, got " + threads);
        }
        ensureInitialized();
        check(TesseraNative.ts_set_threads(threads));
    }

    /** Version of the native library. */
    public static String nativeVersion() {
        return TesseraNative.ts_version().reinterpret(256).getString(0);
    }

    /** Throws the calling thread's native error message when status is not TS_OK. */
    public static void check(int status) {
        if (status != TesseraNative.TS_OK) {
            String message = TesseraNative.ts_last_error().reinterpret(1024).getString(0);
            throw new TesseraException(status, message.isEmpty() ? "native call failed with status " + status : message);
        }
    }
}
