package dev.tessera.cli;

import dev.tessera.core.Tessera;
import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.GenerationResult;
import dev.tessera.generate.Generator;
import dev.tessera.generate.SamplingParams;
import dev.tessera.model.llama.LlamaModel;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code tessera generate -m M.gguf -p PROMPT -n N}: streams the generated text (not the prompt) to
 * stdout; load time and prompt / generation speed go to stderr.
 */
@Command(name = "generate", description = "Generate text with a LLaMA-family GGUF model; the text goes to stdout as it comes, speeds to stderr.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "Prompt text (BOS is added as the vocabulary asks).")
    String prompt;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", paramLabel = "N", description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temp", defaultValue = "0.8", paramLabel = "T", description = "Temperature; 0 = greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "Top-k, 0 = off (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "Top-p, 1 = off (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P", description = "Min-p, 0 = off (default ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "X", description = "Repetition penalty, 1 = off (default ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", paramLabel = "N", description = "Tokens the penalty looks back over (default ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, defaultValue = "-1", paramLabel = "SEED", description = "Random seed; -1 picks one and prints it (default).")
    long seed;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", paramLabel = "N", description = "Context size; 0 = the model's, capped at 4096.")
    int contextSize;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "512", paramLabel = "N", description = "Prompt positions per batch (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Threads; 0 = one per core.")
    int threads;

    @Option(names = {"-r", "--reverse-prompt"}, paramLabel = "TEXT", description = "Stop when this text is generated (repeatable).")
    List<String> stops = List.of();

    @Option(names = "--ignore-eos", description = "Keep generating past end-of-generation tokens.")
    boolean ignoreEos;

    @Option(names = "--profile", description = "Print the time per op type to stderr at the end.")
    boolean profile;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (maxTokens < 0) {
            throw new ParameterException(spec.commandLine(), "-n must be >= 0");
        }
        if (threads > 0) {
            Tessera.setThreads(threads);
        }
        long usedSeed = seed == -1 ? System.nanoTime() ^ 0x9E3779B97F4A7C15L : seed;
        SamplingParams sampling;
        try {
            sampling = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, usedSeed);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        long t0 = System.nanoTime();
        try (DeviceOption.Opened opened = device.open(spec.commandLine()); LlamaModel m = LlamaModel.open(model, opened.backend())) {
            Tokenizer tokenizer = Tokenizer.fromGguf(m.file());
            int ctx = contextSize > 0 ? contextSize : Math.min(m.config().contextLength(), 4096);
            try (LlamaSession session = m.newSession(ctx, batchSize)) {
                session.setProfiling(profile);
                err.printf("loaded %s in %.0f ms: %d layers, dim %d, vocab %d, context %d, %s, %d threads, seed %d%n", model,
                        (System.nanoTime() - t0) / 1e6, m.config().blockCount(), m.config().embeddingLength(),
                        m.config().vocabSize(), ctx, opened.description(), Tessera.threads(), usedSeed);
                err.flush();
                GenerationParams params = new GenerationParams(maxTokens, sampling, stops, !ignoreEos);
                GenerationResult r = new Generator(session, tokenizer).generate(prompt, params, (token, text) -> {
                    out.print(text);
                    out.flush();
                });
                out.println();
                out.flush();
                err.printf("prompt: %d tokens in %.1f ms (%.1f tokens/s); generated: %d tokens in %.1f ms (%.1f tokens/s); stop: %s%n",
                        r.promptTokens(), r.promptNanos() / 1e6, r.promptTokensPerSecond(), r.tokens().length,
                        r.generationNanos() / 1e6, r.generationTokensPerSecond(), r.stopReason().name().toLowerCase());
                if (profile) {
                    err.print(session.profile().format());
                }
                err.flush();
            }
        }
        return TesseraCli.EXIT_OK;
    }
}
