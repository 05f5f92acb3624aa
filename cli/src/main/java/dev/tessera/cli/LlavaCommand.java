package dev.tessera.cli;

import dev.tessera.core.Tessera;
import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.GenerationResult;
import dev.tessera.generate.SamplingParams;
import dev.tessera.image.ImageIo;
import dev.tessera.image.Rgba8Image;
import dev.tessera.model.llava.LlavaChat;
import dev.tessera.model.llava.LlavaImageEncoder;
import dev.tessera.model.llava.LlavaModel;
import dev.tessera.tensor.Tensor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code tessera llava -m llm.gguf --mmproj mmproj.gguf --image photo.jpg -p "What is in this picture?"}:
 * streams the answer to stdout; image-encode time, time to first token and speeds go to stderr.
 */
@Command(name = "llava", description = "Ask LLaVA about an image: the answer streams to stdout, timings to stderr.",
        subcommands = LlavaCommand.EmbedImage.class)
final class LlavaCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "Language model GGUF.")
    Path model;

    @Option(names = "--mmproj", paramLabel = "FILE", description = "Vision encoder + projector GGUF (llama.cpp's mmproj).")
    Path mmproj;

    @Option(names = "--image", paramLabel = "FILE", description = "Image (PNG, JPEG, BMP, GIF); repeat for several with --raw.")
    List<Path> images = new ArrayList<>();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The question (or, with --raw, the whole prompt).")
    String prompt;

    @Option(names = "--raw", description = "Use the prompt as written: <image> marks where each image goes, no template.")
    boolean raw;

    @Option(names = "--interactive", description = "Keep asking: read further questions from stdin, one per line (empty line ends).")
    boolean interactive;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "256", paramLabel = "N", description = "Most tokens per answer (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temp", defaultValue = "0.2", paramLabel = "T", description = "Temperature; 0 = greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = {"-s", "--seed"}, defaultValue = "-1", paramLabel = "SEED", description = "Random seed; -1 picks one.")
    long seed;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "2048", paramLabel = "N", description = "Context size (default ${DEFAULT-VALUE}).")
    int contextSize;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Threads; 0 = one per core.")
    int threads;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (model == null || mmproj == null) {
            throw new ParameterException(spec.commandLine(), "missing -m/--model or --mmproj");
        }
        if (prompt == null && !interactive) {
            throw new ParameterException(spec.commandLine(), "missing -p/--prompt");
        }
        if (!raw && images.size() > 1) {
            throw new ParameterException(spec.commandLine(), "several --image need --raw with one <image> marker each");
        }
        if (threads > 0) {
            Tessera.setThreads(threads);
        }
        List<Rgba8Image> pics = new ArrayList<>();
        for (Path p : images) {
            pics.add(ImageIo.read(p));
        }
        SamplingParams sampling = SamplingParams.defaults(seed == -1 ? System.nanoTime() : seed).withTemperature(temperature);
        GenerationParams params = GenerationParams.of(maxTokens, sampling);
        long t0 = System.nanoTime();
        try (DeviceOption.Opened opened = device.open(spec.commandLine()); LlavaModel m = LlavaModel.load(model, mmproj, opened.backend());
                LlavaChat chat = m.newChat(contextSize)) {
            err.printf("loaded in %.0f ms: %d image tokens, LM %d layers, dim %d%n", (System.nanoTime() - t0) / 1e6, m.imageTokens(),
                    m.languageModel().config().blockCount(), m.languageModel().config().embeddingLength());
            String question = prompt;
            Rgba8Image image = pics.isEmpty() ? null : pics.get(0);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                if (question == null) {
                    err.print("> ");
                    err.flush();
                    question = in.readLine();
                    if (question == null || question.isBlank()) {
                        break;
                    }
                }
                long start = System.nanoTime();
                long[] first = {0};
                GenerationResult r = raw ? chat.raw(question, pics, params, (id, text) -> {
                    first[0] = first[0] == 0 ? System.nanoTime() : first[0];
                    out.print(text);
                    out.flush();
                }) : chat.ask(image, question, params, (id, text) -> {
                    first[0] = first[0] == 0 ? System.nanoTime() : first[0];
                    out.print(text);
                    out.flush();
                });
                out.println();
                out.flush();
                err.printf("image encode %.0f ms, time to first token %.0f ms, prompt %d positions (%.1f/s), %d tokens at %.2f tokens/s%n",
                        chat.imageEncodeNanos() / 1e6, (first[0] - start) / 1e6, r.promptTokens(), r.promptTokensPerSecond(),
                        r.tokens().length, r.generationTokensPerSecond());
                err.flush();
                if (!interactive) {
                    break;
                }
                question = null;
                image = null; // the image stays in the conversation's cache
                pics = List.of();
                raw = false;
            }
        }
        return TesseraCli.EXIT_OK;
    }

    /** {@code tessera llava embed-image --mmproj M --image I}: the projected image embeddings, one JSON array per image token. */
    @Command(name = "embed-image", description = "Print the projected embeddings of an image, one JSON array per image token.")
    static final class EmbedImage implements Callable<Integer> {
        @Option(names = "--mmproj", required = true, paramLabel = "FILE", description = "Vision encoder + projector GGUF.")
        Path mmproj;

        @Option(names = "--image", required = true, paramLabel = "FILE", description = "Image file.")
        Path image;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (LlavaImageEncoder m = LlavaImageEncoder.load(mmproj); Tensor emb = m.encodeImage(image)) {
                float[] v = emb.toFloatArray();
                int width = (int) emb.shape(1);
                for (int r = 0; r < emb.shape(0); r++) {
                    JsonWriter j = new JsonWriter().beginArray();
                    for (int c = 0; c < width; c++) {
                        j.value(v[r * width + c]);
                    }
                    out.println(j.endArray());
                }
            }
            out.flush();
            return TesseraCli.EXIT_OK;
        }
    }
}
