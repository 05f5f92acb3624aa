package dev.tessera.bench;

/**
 * One measured case. {@code gflops} and {@code gbps} are NaN where they do not apply;
 * {@code seconds} is the median time of one run of the case.
 */
public record BenchResult(String group, String name, String isa, int threads,
                          double seconds, double gflops, double gbps, String note) {

    public static BenchResult of(String group, String name, String isa, int threads,
                                 double seconds, double flops, double bytes, String note) {
        return new BenchResult(group, name, isa, threads, seconds,
                flops > 0 ? flops / seconds / 1e9 : Double.NaN,
                bytes > 0 ? bytes / seconds / 1e9 : Double.NaN,
                note == null ? "" : note);
    }
}
