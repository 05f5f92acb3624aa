package dev.tessera.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.Generator;
import dev.tessera.generate.SamplingParams;
import dev.tessera.io.TestFiles;
import dev.tessera.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class LlamaLifecycleTest {
    private static String generate(LlamaModel model, int tokens) {
        try (LlamaSession s = model.newSession(64, 8)) {
            return new Generator(s, Tokenizer.fromGguf(model.file()))
                    .generate("Once upon a time", GenerationParams.of(tokens, SamplingParams.GREEDY), (id, t) -> {}).text();
        }
    }

    /** Resident set size of this process from /proc (Linux), in bytes. */
    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /**
     * 1,000 load/generate/close cycles: after a warm-up (JIT, allocator pools) the resident set must
     * stay flat. RSS is sampled after a GC every 50 cycles; the lowest of the first four samples is
     * compared with the lowest of the last four. The resident set has two levels about 30 MiB apart
     * (heap regions and malloc arenas kept or returned: e.g. 126 and 155 MiB, alternating, then
     * staying at the upper one), so the slack is 64 MiB: a leak of the 1.2 MB file mapping, KV cache
     * or workspace per cycle would add over 1 GB, and any leak of 64 KiB or more per cycle fails.
     */
    @Test
    void loadGenerateCloseCyclesKeepMemoryFlat() throws IOException {
        Path path = TestFiles.stories260K();
        long[] samples = new long[20];
        for (int i = 0; i < 100 + 1000; i++) {
            try (LlamaModel m = LlamaModel.open(path)) {
                generate(m, 4);
            }
            if (i >= 100 && (i - 100) % 50 == 49) {
                System.gc();
                samples[(i - 100) / 50] = rss();
            }
        }
        long first = Math.min(Math.min(samples[0], samples[1]), Math.min(samples[2], samples[3]));
        long last = Math.min(Math.min(samples[16], samples[17]), Math.min(samples[18], samples[19]));
        assertTrue(last - first < 64L << 20, "RSS grew from " + (first >> 20) + " MiB to " + (last >> 20) + " MiB over 1000 cycles: "
                + java.util.Arrays.toString(java.util.Arrays.stream(samples).map(b -> b >> 20).toArray()));
    }

    @Test
    void closingTheModelClosesItsSessionsAndFurtherUseFails() throws IOException {
        LlamaModel m = LlamaModel.open(TestFiles.stories260K());
        LlamaSession s = m.newSession(16, 4);
        s.decode(1, 403);
        m.close();
        assertThrows(IllegalStateException.class, () -> s.decode(407));
        assertThrows(IllegalStateException.class, () -> m.newSession(16, 4));
        m.close(); // idempotent
    }

    @Test
    void severalModelsOnSeveralThreadsGiveTheSingleThreadedText() throws Exception {
        try (LlamaModel a = LlamaModel.open(TestFiles.stories260K()); LlamaModel b = LlamaModel.open(TestFiles.stories260K())) {
            String want = generate(a, 24);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<String>> runs = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    LlamaModel m = i % 2 == 0 ? a : b;
                    runs.add(pool.submit(() -> generate(m, 24)));
                }
                for (Future<String> f : runs) {
                    assertEquals(want, f.get());
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
