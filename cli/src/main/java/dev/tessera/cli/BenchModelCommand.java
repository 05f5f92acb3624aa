package dev.tessera.cli;

import dev.tessera.bench.GenerationBenchmark;
import dev.tessera.bench.SyntheticLlama;
import dev.tessera.core.Tessera;
import dev.tessera.runtime.Profile;
import dev.tessera.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code tessera bench-model -m M.gguf -p 128 -n 64}: prompt and generation speed of a LLaMA model,
 * as llama-bench reports them, with the memory bound and the process's memory use.
 */
@Command(name = "bench-model", description = "Prompt and generation tokens/s of a LLaMA GGUF model, its memory bound and memory use.")
final class BenchModelCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model (written first with --synthetic if missing).")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "128", paramLabel = "N", description = "Prompt tokens (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "32", paramLabel = "N", description = "Generated tokens (default ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "2", paramLabel = "N", description = "Timed runs after a warm-up; the best counts (default ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Threads; 0 = one per core.")
    int threads;

    @Option(names = "--synthetic", paramLabel = "SHAPE", description = "Write a random-weight model of this shape to -m first if it does not exist: llama-7b.")
    String synthetic;

    @Option(names = "--type", defaultValue = "q4_0", paramLabel = "TYPE", description = "Weight type of a --synthetic model (default ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--mmproj", paramLabel = "FILE",
            description = "Benchmark LLaVA instead: this mmproj (written first with --synthetic if missing) in front of -m.")
    Path mmproj;

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @Option(names = "--profile", description = "Time per op type of the generation in one more run after the timed ones, to stderr "
            + "(and in --json). On a GPU an op's time is its enqueueing; waiting for the device shows as (outputs, wait).")
    boolean profile;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (promptTokens < 1 || genTokens < 1 || repetitions < 1) {
            throw new ParameterException(spec.commandLine(), "-p, -n and -r must be >= 1");
        }
        Tessera.init(threads, null);
        if (synthetic != null && !Files.exists(model)) {
            if (!synthetic.equals("llama-7b")) {
                throw new ParameterException(spec.commandLine(), "unknown --synthetic shape '" + synthetic + "' (known: llama-7b)");
            }
            DType t;
            try {
                t = DType.valueOf(type.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "unknown --type '" + type + "'");
            }
            err.printf("writing a random-weight %s model in %s to %s ...%n", synthetic, t, model);
            err.flush();
            long t0 = System.nanoTime();
            SyntheticLlama.write(model, SyntheticLlama.Shape.LLAMA_7B, t);
            err.printf("written: %.2f GiB in %.1f s%n", Files.size(model) / (double) (1L << 30), (System.nanoTime() - t0) * 1e-9);
        }
        if (mmproj != null) {
            if (synthetic != null && !Files.exists(mmproj)) {
                err.printf("writing a random-weight LLaVA-1.5-7B mmproj (ViT-L/14-336, F16) to %s ...%n", mmproj);
                err.flush();
                dev.tessera.bench.SyntheticMmproj.write(mmproj, dev.tessera.bench.SyntheticMmproj.Shape.LLAVA15_7B);
            }
            dev.tessera.bench.LlavaBenchmark.Result r;
            try (DeviceOption.Opened opened = device.open(spec.commandLine())) {
                r = dev.tessera.bench.LlavaBenchmark.run(model, mmproj, promptTokens, genTokens, opened.backend());
            }
            if (json) {
                out.println(new JsonWriter().beginObject().name("model").value(r.model()).name("threads").value(r.threads())
                        .name("image_tokens").value(r.imageTokens()).name("image_encode_seconds").value(r.imageEncodeSeconds())
                        .name("prefill_positions").value(r.prefillPositions()).name("prefill_per_second").value(r.prefillPerSecond())
                        .name("generated_tokens").value(r.generated()).name("generated_tokens_per_second").value(r.generatedPerSecond())
                        .name("peak_rss_bytes").value(r.peakRss()).name("rss_anon_bytes").value(r.rssAnon()).name("rss_file_bytes").value(r.rssFile())
                        .endObject());
            } else {
                out.printf("%s, %d threads: image encode %.2f s (%d tokens), prefill %d positions at %.1f/s, decode %.2f tokens/s, "
                        + "peak RSS %.0f MiB (anonymous %.0f MiB, file %.0f MiB)%n", r.model(), r.threads(), r.imageEncodeSeconds(),
                        r.imageTokens(), r.prefillPositions(), r.prefillPerSecond(), r.generatedPerSecond(), r.peakRss() / 1048576.0,
                        r.rssAnon() / 1048576.0, r.rssFile() / 1048576.0);
            }
            out.flush();
            return TesseraCli.EXIT_OK;
        }
        GenerationBenchmark.Result r;
        try (DeviceOption.Opened opened = device.open(spec.commandLine())) {
            err.printf("benchmarking %s on %s: %d prompt tokens, %d generated, best of %d, %d threads%n", model, opened.description(),
                    promptTokens, genTokens, repetitions, Tessera.threads());
            err.flush();
            r = GenerationBenchmark.run(model, promptTokens, genTokens, repetitions, opened.backend(), profile);
        }
        Profile p = r.generationProfile();
        if (p != null) {
            err.printf("generation profile, %d tokens (%.3f ms per token in all):%n%s", r.generatedTokens(),
                    p.totalNanos() / 1e6 / r.generatedTokens(), p.format());
            err.flush();
        }
        if (json) {
            JsonWriter j = new JsonWriter().beginObject()
                    .name("model").value(r.model()).name("device").value(r.device()).name("threads").value(r.threads())
                    .name("prompt_tokens").value(r.promptTokens()).name("prompt_tokens_per_second").value(r.promptTokensPerSecond())
                    .name("generated_tokens").value(r.generatedTokens()).name("generated_tokens_per_second").value(r.generatedTokensPerSecond())
                    .name("weight_bytes_per_token").value(r.weightBytesPerToken()).name("read_bandwidth_bytes_per_second").value(r.readBandwidth())
                    .name("bound_tokens_per_second").value(r.boundTokensPerSecond())
                    .name("peak_rss_bytes").value(r.peakRss()).name("rss_anon_bytes").value(r.rssAnon()).name("rss_file_bytes").value(r.rssFile());
            if (r.graphs() != null) {
                j.name("cuda_graphs").beginObject().name("launches").value(r.graphs().launches()).name("updated_in_place")
                        .value(r.graphs().updates()).name("instantiated").value(r.graphs().builds())
                        .name("nodes_per_generated_token").value(r.graphs().lastNodes()).endObject();
            }
            if (p != null) {
                j.name("generation_profile").beginArray();
                for (Profile.Entry e : p.entries()) {
                    j.beginObject().name("op").value(e.op()).name("calls").value(e.calls()).name("ms_per_token")
                            .value(e.nanos() / 1e6 / r.generatedTokens()).endObject();
                }
                j.endArray();
            }
            out.println(j.endObject());
        } else {
            out.printf("%-28s %-8s %3s %10s %10s %10s %12s %8s %9s %9s%n", "model", "device", "thr", "pp t/s", "tg t/s", "bound t/s", "bytes/token",
                    "% bound", "peak RSS", "anon RSS");
            out.printf("%-28s %-8s %3d %10.1f %10.2f %10.2f %12s %7.0f%% %8.0fM %8.0fM%n", r.model(),
                    r.device().startsWith("cuda") ? r.device().substring(0, r.device().indexOf(' ')) : r.device(), r.threads(), r.promptTokensPerSecond(),
                    r.generatedTokensPerSecond(), r.boundTokensPerSecond(), String.format("%,d", r.weightBytesPerToken()),
                    100 * r.generatedTokensPerSecond() / r.boundTokensPerSecond(), r.peakRss() / 1048576.0, r.rssAnon() / 1048576.0);
        }
        out.flush();
        return TesseraCli.EXIT_OK;
    }
}
