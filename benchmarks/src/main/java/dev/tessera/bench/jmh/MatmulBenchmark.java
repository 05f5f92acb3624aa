package dev.tessera.bench.jmh;

import dev.tessera.core.Tessera;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Ops.matmulInto with 4096x4096 weights of each type: M = 1 (decode, a matvec) and M = 512
 * (prefill). Reports time per call on the whole pool; GFLOP/s = 2·4096·4096·M / time
 * (BENCHMARKS.md derives it). Weights, input and output are made once per trial in setup,
 * so the measured method is the matmul alone (its activation quantization included, as in
 * every real call). Narrow it with JMH's -p, e.g. {@code ci/bench-jmh.sh MatmulBenchmark -p m=512
 * -p type=Q8_0,Q4_0}: types without a SIMD dot on this level (Q4_K/Q6_K until their AVX2
 * dots land) run the scalar reference, seconds to minutes per call at M = 512.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MatmulBenchmark {
    static final int N = 4096;
    static final int K = 4096;

    @Param({"F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;

    @Param({"1", "512"})
    public int m;

    private Tensor w;
    private Tensor x;
    private Tensor y;

    @Setup(Level.Trial)
    public void setup() {
        Tessera.ensureInitialized();
        DType dtype = DType.valueOf(type);
        try (Tensor wf = gaussian(N, K, 1)) {
            w = dtype == DType.F16 ? Ops.convert(wf, dtype) : Ops.quantize(wf, dtype);
        }
        x = gaussian(m, K, 2);
        y = Tensor.allocate(DType.F32, m, N);
        Ops.matmulInto(w, x, y); // fail in setup, not in the first measured call
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        w.close();
        x.close();
        y.close();
    }

    @Benchmark
    public Tensor matmul() {
        Ops.matmulInto(w, x, y);
        return y;
    }

    private static Tensor gaussian(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            // sum of 4 uniforms: near-gaussian without the cost of nextGaussian on 16 Mi values
            v[i] = (float) ((r.nextDouble() + r.nextDouble() + r.nextDouble() + r.nextDouble() - 2.0) * 1.7320508);
        }
        return Tensor.of(v, rows, cols);
    }
}
