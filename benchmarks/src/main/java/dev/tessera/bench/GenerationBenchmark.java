package dev.tessera.bench;

import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.Tessera;
import dev.tessera.generate.Sampler;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.model.llama.LlamaModel;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CpuBackend;
import dev.tessera.runtime.CudaBackend;
import dev.tessera.runtime.Profile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * llama-bench-style speed of a LLaMA GGUF model: prompt evaluation (batched) and generation (one
 * token at a time, greedy) in tokens per second, the memory bound of generation (weight bytes read
 * per token over the measured read bandwidth), and the process's memory: peak resident set, and how
 * much of it is anonymous (heap, caches) versus file-backed (the weight mapping).
 */
public final class GenerationBenchmark {
    /**
     * @param weightBytesPerToken bytes of every matrix a generated token reads (the token embedding
     *     contributes one row)
     * @param boundTokensPerSecond readBandwidth / weightBytesPerToken
     * @param generationProfile per-op times of generating generatedTokens tokens in one more run
     *     after the timed ones, or null when not asked for
     * @param graphs on CUDA with graphs on, the backend's graph counters after the last run, whose
     *     last graph was a generated token's (its nodes: the kernels and copies of a decode step);
     *     else null
     */
    public record Result(String model, String device, int threads, int promptTokens, double promptTokensPerSecond, int generatedTokens,
                         double generatedTokensPerSecond, long weightBytesPerToken, double readBandwidth,
                         double boundTokensPerSecond, long peakRss, long rssAnon, long rssFile, Profile generationProfile,
                         CudaBackend.GraphStats graphs) {}

    private GenerationBenchmark() {}

    public static Result run(Path modelPath, int promptTokens, int generatedTokens, int repetitions) throws IOException {
        return run(modelPath, promptTokens, generatedTokens, repetitions, CpuBackend.INSTANCE, false);
    }

    /**
     * As above on backend. On a GPU the bound uses the device's copy bandwidth (bytes read and
     * written per second), measured in the same run, instead of the host's read bandwidth. With
     * profile, one more run after the timed ones profiles the generation (the timed runs stay
     * without the profiler's clock reads).
     */
    public static Result run(Path modelPath, int promptTokens, int generatedTokens, int repetitions, Backend backend, boolean profile)
            throws IOException {
        Tessera.ensureInitialized();
        CudaBackend cuda = backend instanceof CudaBackend c ? c : null;
        double bandwidth = cuda != null ? cuda.copyBandwidth(1L << 30) : readBandwidth();
        resetPeakRss(); // the bandwidth probe's 512 MiB buffer is not the model's memory
        try (LlamaModel model = LlamaModel.open(modelPath, backend)) {
            int vocab = model.config().vocabSize();
            int[] prompt = new int[promptTokens];
            java.util.SplittableRandom r = new java.util.SplittableRandom(1);
            for (int i = 0; i < promptTokens; i++) {
                prompt[i] = r.nextInt(vocab);
            }
            long bestPrompt = Long.MAX_VALUE;
            long bestGen = Long.MAX_VALUE;
            int ctx = promptTokens + generatedTokens + 1;
            Profile generationProfile = null;
            // the first run warms up (JIT, page cache); the last, when asked for, is the profiled one
            for (int rep = 0; rep < repetitions + 1 + (profile ? 1 : 0); rep++) {
                boolean profiled = rep == repetitions + 1;
                try (LlamaSession s = model.newSession(ctx, Math.min(LlamaModel.DEFAULT_BATCH_SIZE, Math.max(1, promptTokens)))) {
                    long t0 = System.nanoTime();
                    float[] logits = s.decode(prompt);
                    s.setProfiling(profiled);
                    long t1 = System.nanoTime();
                    for (int i = 0; i < generatedTokens; i++) {
                        logits = s.decode(Sampler.argmax(logits));
                    }
                    long t2 = System.nanoTime();
                    if (profiled) {
                        generationProfile = s.profile();
                    } else if (rep > 0) {
                        bestPrompt = Math.min(bestPrompt, t1 - t0);
                        bestGen = Math.min(bestGen, t2 - t1);
                    }
                }
            }
            long perToken = 0;
            for (GgufTensorInfo t : model.file().tensorInfos()) {
                perToken += t.name().equals("token_embd.weight") ? t.byteSize() / vocab : t.byteSize();
            }
            if (!model.file().hasTensor("output.weight")) {
                perToken += model.file().tensorInfo("token_embd.weight").byteSize();
            }
            long[] mem = memory();
            String device = cuda == null ? "cpu"
                    : cuda.name() + " " + cuda.deviceName() + (cuda.graphs() ? " (" + cuda.graphsDescription() + ")" : "");
            CudaBackend.GraphStats graphs = cuda != null && cuda.graphs() ? cuda.graphStats() : null;
            return new Result(modelPath.getFileName().toString(), device, Tessera.threads(), promptTokens, promptTokens * 1e9 / bestPrompt,
                    generatedTokens, generatedTokens * 1e9 / bestGen, perToken, bandwidth, bandwidth / perToken, mem[0], mem[1], mem[2],
                    generationProfile, graphs);
        }
    }

    /** Read bandwidth over 512 MiB on the pool, bytes/s (best of 3). */
    static double readBandwidth() {
        long bytes = 512L << 20;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1);
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                TesseraNative.ts_bench_read(buf, bytes);
                best = Math.min(best, System.nanoTime() - t0);
            }
            return bytes * 1e9 / best;
        }
    }

    /** Resets the kernel's peak-RSS mark (Linux: "5" to /proc/self/clear_refs); best effort. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException e) {
            // Not Linux, or not permitted: the peak then includes the probe buffer.
        }
    }

    /** {VmHWM, RssAnon, RssFile} in bytes from /proc/self/status (zeros where unavailable). */
    static long[] memory() throws IOException {
        long[] m = new long[3];
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return m;
        }
        for (String line : Files.readAllLines(status)) {
            int i = line.startsWith("VmHWM:") ? 0 : line.startsWith("RssAnon:") ? 1 : line.startsWith("RssFile:") ? 2 : -1;
            if (i >= 0) {
                m[i] = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return m;
    }
}
