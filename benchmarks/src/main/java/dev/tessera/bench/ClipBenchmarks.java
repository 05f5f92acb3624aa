package dev.tessera.bench;

import dev.tessera.core.Tessera;
import dev.tessera.image.ClipImagePreprocessor;
import dev.tessera.model.clip.ClipConfig;
import dev.tessera.model.clip.ClipModel;
import dev.tessera.model.clip.ClipTokenizer;
import dev.tessera.ops.Nn;
import dev.tessera.ops.Ops;
import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CpuBackend;
import dev.tessera.runtime.CudaBackend;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * CLIP throughput with random weights of the real shapes (FORMATS.md §5.1): images/s of the vision
 * tower (preprocessed pixels in, projected embeddings out) and texts/s of the text tower (77-token
 * contexts), at batch 1 and 16, with the linear-layer matrices in F16, Q8_0 or Q4_0 (embeddings,
 * norms and biases F32, patch conv F16). The note gives the process's peak RSS so far
 * (VmHWM; it only grows, so read it per shape in run order).
 *
 * <p>Run: {@code java -cp ... dev.tessera.bench.ClipBenchmarks [--shapes B/32,L/14] [--types F16,Q8_0,Q4_0]
 * [--batches 1,16] [--seconds S] [--profile]} (--profile: per-op times on stderr).
 */
public final class ClipBenchmarks {
    private ClipBenchmarks() {}

    /** ViT-B/32 (224 px) or ViT-L/14 (224 px) with its text tower. */
    public static ClipConfig shape(String name) {
        float[] mean = ClipImagePreprocessor.OPENAI_MEAN.clone();
        float[] std = ClipImagePreprocessor.OPENAI_STD.clone();
        Nn.Activation q = Nn.Activation.QUICK_GELU;
        return switch (name) {
            case "B/32" -> new ClipConfig(new ClipConfig.Vision(224, 32, 768, 12, 12, 3072, 1e-5f, q, mean, std),
                    new ClipConfig.Text(49408, 77, 512, 12, 8, 2048, 1e-5f, q, -1), 512);
            case "L/14" -> new ClipConfig(new ClipConfig.Vision(224, 14, 1024, 24, 16, 4096, 1e-5f, q, mean, std),
                    new ClipConfig.Text(49408, 77, 768, 12, 12, 3072, 1e-5f, q, -1), 768);
            default -> throw new IllegalArgumentException("unknown CLIP shape " + name + " (B/32 or L/14)");
        };
    }

    /** A model of this shape with random weights, matrices of the given type. */
    public static ClipModel randomModel(ClipConfig c, DType matrixType, long seed) {
        return randomModel(c, matrixType, seed, CpuBackend.INSTANCE);
    }

    /** As above, running on backend. */
    public static ClipModel randomModel(ClipConfig c, DType matrixType, long seed, Backend backend) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        try {
            ClipConfig.Vision v = c.vision();
            int w = v.width();
            t.put("v.class_embd", random(r, 0.5, w));
            try (Tensor patch = random(r, 0.05, w, 3, v.patchSize(), v.patchSize())) {
                t.put("v.patch_embd.weight", Ops.convert(patch, DType.F16));
            }
            t.put("v.position_embd.weight", random(r, 0.1, v.tokens(), w));
            norm(r, t, "v.pre_ln", w);
            layers(r, t, 'v', v.blocks(), w, v.ffn(), matrixType);
            norm(r, t, "v.post_ln", w);
            t.put("visual_projection.weight", matrix(r, c.projectionDim(), w, matrixType));
            ClipConfig.Text x = c.text();
            try (Tensor tok = random(r, 0.1, x.vocabSize(), x.width())) {
                t.put("t.token_embd.weight", Ops.convert(tok, DType.F16));
            }
            t.put("t.position_embd.weight", random(r, 0.1, x.contextLength(), x.width()));
            layers(r, t, 't', x.blocks(), x.width(), x.ffn(), matrixType);
            norm(r, t, "t.post_ln", x.width());
            t.put("text_projection.weight", matrix(r, c.projectionDim(), x.width(), matrixType));
            return ClipModel.fromTensors(c, t, (float) Math.log(100), backend);
        } finally {
            t.values().forEach(Tensor::close);
        }
    }

    private static void layers(SplittableRandom r, Map<String, Tensor> t, char tower, int n, int w, int ffn, DType type) {
        for (int i = 0; i < n; i++) {
            String b = tower + ".blk." + i + ".";
            for (String p : new String[] {"attn_q", "attn_k", "attn_v", "attn_out"}) {
                t.put(b + p + ".weight", matrix(r, w, w, type));
                t.put(b + p + ".bias", random(r, 0.02, w));
            }
            norm(r, t, b + "ln1", w);
            norm(r, t, b + "ln2", w);
            t.put(b + "ffn_up.weight", matrix(r, ffn, w, type));
            t.put(b + "ffn_up.bias", random(r, 0.02, ffn));
            t.put(b + "ffn_down.weight", matrix(r, w, ffn, type));
            t.put(b + "ffn_down.bias", random(r, 0.02, w));
        }
    }

    private static void norm(SplittableRandom r, Map<String, Tensor> t, String name, int w) {
        Tensor weight = random(r, 0.1, w);
        for (long i = 0; i < w; i++) {
            weight.setFloat(weight.getFloat(i) + 1, i);
        }
        t.put(name + ".weight", weight);
        t.put(name + ".bias", random(r, 0.02, w));
    }

    private static Tensor matrix(SplittableRandom r, int rows, int cols, DType type) {
        try (Tensor f = random(r, 1 / Math.sqrt(cols), rows, cols)) {
            return type == DType.F32 ? Ops.contiguous(f) : type.isQuantized() ? Ops.quantize(f, type) : Ops.convert(f, type);
        }
    }

    private static Tensor random(SplittableRandom r, double scale, long... shape) {
        Tensor t = Tensor.allocate(DType.F32, shape);
        MemorySegment s = t.segment();
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            // uniform with the given standard deviation: cheap and enough for timing
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((r.nextDouble() * 2 - 1) * scale * 1.7320508));
        }
        return t;
    }

    /** Runs every shape × type × batch: one images/s and one texts/s result each. */
    public static List<BenchResult> run(List<String> shapes, List<DType> types, int[] batches, double seconds, boolean profile) {
        return run(shapes, types, batches, seconds, profile, CpuBackend.INSTANCE);
    }

    /** As above on backend (on a GPU the "isa" column names the device). */
    public static List<BenchResult> run(List<String> shapes, List<DType> types, int[] batches, double seconds, boolean profile,
            Backend backend) {
        Tessera.ensureInitialized();
        Timer timer = new Timer(seconds, 2);
        int threads = Tessera.threads();
        String isa = backend.hostAccessible() ? Tessera.isa().id() : backend.name();
        int[] prompt = ClipTokenizer.load().encodeContext("a photo of a cat.");
        List<BenchResult> out = new ArrayList<>();
        for (String shape : shapes) {
            ClipConfig c = shape(shape);
            for (DType type : types) {
                try (ClipModel m = randomModel(c, type, 42, backend)) {
                    m.setProfiling(profile);
                    int s = c.vision().imageSize();
                    for (int b : batches) {
                        try (Tensor px = random(new SplittableRandom(b), 1.0, b, 3, s, s)) {
                            double sec = timer.median(() -> m.imageFeatures(px));
                            out.add(BenchResult.of("clip", "ViT-" + shape + " image " + type + " batch " + b, isa, threads, sec, 0, 0,
                                    String.format(Locale.ROOT, "%.2f images/s, peak RSS %s", b / sec, peakRss())));
                        }
                        int[][] ids = new int[b][];
                        for (int i = 0; i < b; i++) {
                            ids[i] = prompt;
                        }
                        double sec = timer.median(() -> m.textFeatures(ids));
                        out.add(BenchResult.of("clip", "ViT-" + shape + " text " + type + " batch " + b, isa, threads, sec, 0, 0,
                                String.format(Locale.ROOT, "%.2f texts/s, peak RSS %s", b / sec, peakRss())));
                    }
                    if (profile) {
                        System.err.println("ViT-" + shape + " " + type + ", every run above:\n" + m.profile().format());
                    }
                }
            }
        }
        return out;
    }

    /** VmHWM from /proc/self/status, or "n/a" off Linux. */
    static String peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return line.substring(6).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
        return "n/a";
    }

    public static void main(String[] args) {
        List<String> shapes = List.of("B/32", "L/14");
        List<DType> types = List.of(DType.F16, DType.Q8_0, DType.Q4_0);
        int[] batches = {1, 16};
        double seconds = 2;
        boolean profile = false;
        String device = "cpu";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--shapes" -> shapes = List.of(args[++i].split(","));
                case "--types" -> {
                    List<DType> ts = new ArrayList<>();
                    for (String s : args[++i].split(",")) {
                        ts.add(DType.valueOf(s.strip().toUpperCase(Locale.ROOT)));
                    }
                    types = ts;
                }
                case "--batches" -> {
                    String[] p = args[++i].split(",");
                    batches = new int[p.length];
                    for (int j = 0; j < p.length; j++) {
                        batches[j] = Integer.parseInt(p[j].strip());
                    }
                }
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--profile" -> profile = true;
                case "--device" -> device = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (!device.equals("cpu") && !device.equals("cuda")) {
            throw new IllegalArgumentException("--device must be cpu or cuda, got " + device);
        }
        try (CudaBackend cuda = device.equals("cuda") ? Backend.cuda() : null) {
            Backend backend = cuda != null ? cuda : CpuBackend.INSTANCE;
            for (BenchResult r : run(shapes, types, batches, seconds, profile, backend)) {
                System.out.printf(Locale.ROOT, "%-40s %-8s %2d threads  %9.2f ms  %s%n", r.name(), r.isa(), r.threads(), r.seconds() * 1e3,
                        r.note());
            }
        }
    }
}
