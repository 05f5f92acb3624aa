package dev.tessera.bench;

import dev.tessera.core.Tessera;
import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CpuBackend;
import dev.tessera.generate.Sampler;
import dev.tessera.image.Rgba8Image;
import dev.tessera.model.llama.LlamaModel;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.model.llava.LlavaModel;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * LLaVA speed and memory: image encode time (preprocessing, vision tower, projector), prefill of
 * a prompt with the image's embeddings, and decode tokens/s; peak resident set and how much of it
 * is anonymous (the mapped weights are file-backed and never copied).
 */
public final class LlavaBenchmark {
    public record Result(String model, int threads, int imageTokens, double imageEncodeSeconds, int prefillPositions,
                         double prefillPerSecond, int generated, double generatedPerSecond, long peakRss, long rssAnon, long rssFile) {}

    private LlavaBenchmark() {}

    public static Result run(Path llm, Path mmproj, int textTokens, int generate) throws IOException {
        return run(llm, mmproj, textTokens, generate, CpuBackend.INSTANCE);
    }

    /** As above, the models on backend (the projector stays on the CPU). */
    public static Result run(Path llm, Path mmproj, int textTokens, int generate, Backend backend) throws IOException {
        Tessera.ensureInitialized();
        GenerationBenchmark.resetPeakRss();
        try (LlavaModel m = LlavaModel.load(llm, mmproj, backend)) {
            m.encodeImage(Rgba8Image.ofRgb(8, 8, new byte[8 * 8 * 3])).close(); // warm-up: compiles the graph, uploads the weights
            byte[] rgb = new byte[640 * 480 * 3];
            java.util.SplittableRandom r = new java.util.SplittableRandom(3);
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = (byte) r.nextInt(256);
            }
            Rgba8Image image = Rgba8Image.ofRgb(640, 480, rgb);
            long t0 = System.nanoTime();
            Tensor emb = m.encodeImage(image);
            long t1 = System.nanoTime();
            int vocab = m.languageModel().config().vocabSize();
            int[] text = new int[textTokens];
            for (int i = 0; i < textTokens; i++) {
                text[i] = 3 + r.nextInt(vocab - 3);
            }
            int prefill;
            long t2;
            long t3;
            long t4;
            try (emb; LlamaSession s = m.languageModel().newSession(textTokens + m.imageTokens() + generate + 8, LlamaModel.DEFAULT_BATCH_SIZE)) {
                t2 = System.nanoTime();
                s.decode(text);
                float[] logits = s.decodeEmbeddings(emb);
                t3 = System.nanoTime();
                prefill = s.position();
                for (int i = 0; i < generate; i++) {
                    logits = s.decode(Sampler.argmax(logits));
                }
                t4 = System.nanoTime();
            }
            long[] mem = GenerationBenchmark.memory();
            return new Result(llm.getFileName() + " + " + mmproj.getFileName(), Tessera.threads(), m.imageTokens(), (t1 - t0) * 1e-9,
                    prefill, prefill * 1e9 / (t3 - t2), generate, generate * 1e9 / (t4 - t3), mem[0], mem[1], mem[2]);
        }
    }
}
