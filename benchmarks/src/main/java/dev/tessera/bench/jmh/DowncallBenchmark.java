package dev.tessera.bench.jmh;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Cost of crossing into C: an empty kernel, linked critical (as generated) and plain. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DowncallBenchmark {
    private static final MethodHandle NOOP_PLAIN =
            Linker.nativeLinker().downcallHandle(TesseraNative.ts_noop$ADDR, TesseraNative.ts_noop$DESC);
    private static final MethodHandle NOOP_ARGS_PLAIN =
            Linker.nativeLinker().downcallHandle(TesseraNative.ts_noop_args$ADDR, TesseraNative.ts_noop_args$DESC);

    private MemorySegment buffer;

    @Setup
    public void setup() {
        Tessera.ensureInitialized();
        buffer = Arena.ofAuto().allocate(64);
    }

    @Benchmark
    public void noopCritical() {
        TesseraNative.ts_noop();
    }

    @Benchmark
    public void noopPlain() throws Throwable {
        NOOP_PLAIN.invokeExact();
    }

    @Benchmark
    public long argsCritical() {
        return TesseraNative.ts_noop_args(buffer, 7);
    }

    @Benchmark
    public long argsPlain() throws Throwable {
        return (long) NOOP_ARGS_PLAIN.invokeExact(buffer, 7L);
    }
}
