package dev.tessera.cli;

import dev.tessera.bench.BenchResult;
import dev.tessera.bench.KernelBenchmarks;
import dev.tessera.core.CpuFeature;
import dev.tessera.core.Isa;
import dev.tessera.core.Tessera;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera bench}: kernel micro-benchmarks on this machine. */
@Command(name = "bench", description = "Benchmark the native kernels on this machine.")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print the results as one JSON object.")
    boolean json;

    @Option(names = {"-t", "--threads"}, description = "Pool size for the all-threads cases (default: one per core).")
    int threads;

    @Option(names = "--isa", description = "Highest kernel level to use (scalar, avx2, avx512, amx, neon, dotprod).")
    String isa;

    @Option(names = "--seconds", description = "Time budget per case in seconds (default: ${DEFAULT-VALUE}).", defaultValue = "0.5")
    double seconds;

    @Option(names = "--large", paramLabel = "GIB", defaultValue = "0",
            description = "Also run a Q4_0 matvec over GIB GiB of weights (memory-bound; e.g. 2).")
    double largeGib;

    @Option(names = "--ops", description = "Also run the attention and convolution cases (CLIP, SD1.5, LLaMA shapes).")
    boolean ops;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (seconds <= 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--seconds must be positive");
        }
        if (threads < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 0");
        }
        Tessera.init(threads, isa == null ? null : Isa.fromId(isa));
        PrintWriter err = spec.commandLine().getErr();
        err.printf("tessera bench: %s, best kernel level %s, %d threads; cpu: %s%n", Tessera.nativeVersion(),
                Tessera.isa().id(), Tessera.threads(),
                Tessera.cpuFeatures().stream().map(CpuFeature::name).collect(Collectors.joining(" ")));
        err.flush();
        if (largeGib < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--large must be >= 0");
        }
        List<BenchResult> results = new java.util.ArrayList<>(new KernelBenchmarks(seconds, (long) (largeGib * (1L << 30))).run());
        if (ops) {
            results.addAll(dev.tessera.bench.AttentionBenchmarks.run(seconds));
            results.addAll(dev.tessera.bench.ConvBenchmarks.run(seconds));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? toJson(results) : toTable(results));
        out.flush();
        return TesseraCli.EXIT_OK;
    }

    private static String toTable(List<BenchResult> results) {
        StringBuilder s = new StringBuilder(String.format("%-10s %-44s %-7s %3s %12s %9s %9s  %s%n",
                "group", "case", "isa", "thr", "time", "GFLOP/s", "GB/s", "note"));
        for (BenchResult r : results) {
            s.append(String.format("%-10s %-44s %-7s %3d %12s %9s %9s  %s%n", r.group(), r.name(), r.isa(), r.threads(),
                    time(r.seconds()), num(r.gflops()), num(r.gbps()), r.note()));
        }
        return s.toString().stripTrailing();
    }

    private static String time(double s) {
        if (s < 1e-6) {
            return String.format("%.2f ns", s * 1e9);
        }
        return s < 1e-3 ? String.format("%.2f us", s * 1e6) : String.format("%.3f ms", s * 1e3);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.2f", v);
    }

    private static String toJson(List<BenchResult> results) {
        JsonWriter j = new JsonWriter().beginObject();
        j.name("native_version").value(Tessera.nativeVersion()).name("isa_best").value(Tessera.bestIsa().id());
        j.name("cpu_features").beginArray();
        Tessera.cpuFeatures().forEach(f -> j.value(f.name()));
        j.endArray().name("results").beginArray();
        for (BenchResult r : results) {
            j.beginObject().name("group").value(r.group()).name("name").value(r.name()).name("isa").value(r.isa())
                    .name("threads").value(r.threads()).name("seconds").value(r.seconds())
                    .name("gflops").value(r.gflops()).name("gbps").value(r.gbps()).name("note").value(r.note()).endObject();
        }
        return j.endArray().endObject().toString();
    }
}
