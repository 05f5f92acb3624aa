package dev.tessera.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TesseraCliTest {
    private static final String STORIES = Path.of("..", "models", "stories260K.gguf").toString();

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TesseraCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void infoPrintsArchitectureHyperparametersAndTensorTableOfStories260K() {
        Run r = run("info", STORIES);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("GGUF v3"), r.out());
        assertTrue(r.out().contains("architecture: llama"), r.out());
        assertTrue(r.out().matches("(?s).*embedding_length\\s+64\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*attention\\.head_count_kv\\s+4\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.attn_k\\.weight\\s+F32\\s+64 x 32\\s.*"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.4\\.ffn_down\\.weight\\s+F32\\s+172 x 64\\s.*"), r.out());
        assertTrue(r.out().contains("48 tensors"), r.out());
    }

    @Test
    void infoJsonIsOneObjectWithMetadataAndTensors() {
        Run r = run("info", "--json", STORIES);
        assertEquals(0, r.code(), r.err());
        String json = r.out().strip();
        assertTrue(json.startsWith("{\"file\":") && json.endsWith("]}"), json);
        assertTrue(json.contains("\"llama.block_count\":{\"type\":\"UINT32\",\"value\":5}"), json);
        assertTrue(json.contains("{\"name\":\"token_embd.weight\",\"type\":\"F32\",\"ne\":[64,512]"), json);
        assertTrue(json.contains("\"tokenizer.ggml.seperator_token_id\":{\"type\":\"UINT32\",\"value\":4294967295}"), json);
    }

    @Test
    void infoDevicesListsTheCpuAndTheCudaStateWithoutAFile() {
        Run r = run("info", "--devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("cpu: "), r.out());
        // Either devices or "not available (reason)", never a bare line.
        assertTrue(r.out().matches("(?s).*\\ncuda: (not available \\(.+\\)|\\d+ device\\(s\\) via .+)\\s*"), r.out());
        Run j = run("info", "--devices", "--json");
        assertEquals(0, j.code(), j.err());
        assertTrue(j.out().strip().startsWith("{\"cpu\":{\"isa\":") && j.out().contains("\"cuda\":{\"available\":"), j.out());
    }

    @Test
    void deviceOptionNamesWhatIsWrongBeforeLoadingAnything() {
        Run bad = run("generate", "-m", STORIES, "-p", "x", "-n", "1", "--device", "tpu");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--device tpu: expected cpu, cuda or cuda:N"), bad.err());
        Run badIndex = run("generate", "-m", STORIES, "-p", "x", "-n", "1", "--device", "cuda:x");
        assertEquals(2, badIndex.code());
        assertTrue(badIndex.err().contains("expected cuda:N"), badIndex.err());
        Run graphsOnCpu = run("generate", "-m", STORIES, "-p", "x", "-n", "1", "--cuda-graphs");
        assertEquals(2, graphsOnCpu.code());
        assertTrue(graphsOnCpu.err().contains("--cuda-graphs needs --device cuda"), graphsOnCpu.err());
        Run negativePieces = run("generate", "-m", STORIES, "-p", "x", "-n", "1", "--cuda-graph-ops", "-1");
        assertEquals(2, negativePieces.code());
        assertTrue(negativePieces.err().contains("--cuda-graph-ops -1: expected 0 or more"), negativePieces.err());
        if (!dev.tessera.runtime.CudaProbe.probe().available()) {
            Run none = run("generate", "-m", STORIES, "-p", "x", "-n", "1", "--device", "cuda");
            assertEquals(2, none.code());
            assertTrue(none.err().contains("CUDA is not available: "), none.err());
        }
        Run cpu = run("generate", "-m", STORIES, "-p", "Once", "-n", "2", "--temp", "0", "--device", "cpu");
        assertEquals(0, cpu.code(), cpu.err());
    }

    @Test
    void missingFileFailsWithExitOneAndOneLine() {
        Run r = run("info", "does-not-exist.gguf");
        assertEquals(1, r.code());
        assertEquals("tessera: error: no such file: does-not-exist.gguf", r.err().strip());
        assertEquals("", r.out());
    }

    @Test
    void badUsageExitsTwo() {
        assertEquals(2, run("info").code());
        assertEquals(2, run("no-such-command").code());
        assertEquals(2, run().code());
    }

    @Test
    void corruptFileIsAClearErrorAndVerboseAddsTheStackTrace(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.gguf");
        byte[] bytes = Files.readAllBytes(Path.of(STORIES));
        Files.write(bad, java.util.Arrays.copyOf(bytes, 5000));
        Run r = run("info", bad.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("tessera: error: ") && r.err().strip().lines().count() == 1, r.err());
        Run verbose = run("--verbose", "info", bad.toString());
        assertEquals(1, verbose.code());
        assertTrue(verbose.err().contains("\tat "), verbose.err());
    }

    @Test
    void quantizePrintsTheSizeSummaryAndRejectsAnUnknownType(@TempDir Path dir) {
        Path out = dir.resolve("q8.gguf");
        Run r = run("quantize", STORIES, out.toString(), "--type", "q8_0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*\\(q8_0\\): tensor data 1,171,200 -> [0-9,]+ bytes.*"), r.out());
        assertTrue(r.err().contains("blk.0.ffn_down.weight: row length 172 fits no block of Q8_0: kept F32"), r.err());
        assertTrue(Files.exists(out));
        Run bad = run("quantize", STORIES, out.toString(), "--type", "q9_9");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown --type 'q9_9'"), bad.err());
    }

    @Test
    void quantizeVerboseListsEveryTensorWithItsRmseAndAMissingInputExitsWith1(@TempDir Path dir) {
        Path out = dir.resolve("q4.gguf");
        Run r = run("--verbose", "quantize", STORIES, out.toString(), "--type", "Q4_0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.attn_q\\.weight\\s+F32\\s+-> Q4_0\\s+16384\\s+2304\\s+[0-9.e-]+\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.attn_norm\\.weight\\s+F32\\s+-> F32\\s+256\\s+256\\s+-\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\(q4_0\\): tensor data 1,171,200 -> [0-9,]+ bytes \\([0-9.]+ -> [0-9.]+ MiB\\)\\n"), r.out());
        assertTrue(r.err().contains("48/48"), r.err());

        Run missing = run("quantize", dir.resolve("missing.gguf").toString(), out.toString(), "--type", "q4_0");
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("tessera: error: no such file: "), missing.err());

        assertEquals(2, run("quantize", STORIES, out.toString()).code(), "--type is required");
    }

    @Test
    void tokenizePrintsTheIdsOfTheModelsOwnVocabularyAsJson() {
        Run r = run("tokenize", "-m", STORIES, "Once upon a time");
        assertEquals(0, r.code(), r.err());
        String ids = r.out().strip();
        assertTrue(ids.matches("\\[1(,\\d+)+\\]"), ids); // BOS first: the model adds it
        Run noBos = run("tokenize", "-m", STORIES, "--no-bos", "Once upon a time");
        assertEquals(0, noBos.code(), noBos.err());
        assertEquals("[" + ids.substring(3), noBos.out().strip());

        Run pieces = run("tokenize", "-m", STORIES, "--pieces", "Once upon a time");
        assertEquals(0, pieces.code(), pieces.err());
        String json = pieces.out().strip();
        assertTrue(json.startsWith("[{\"id\":1,\"token\":\"<s>\",\"piece\":\"<s>\"},{\"id\":"), json);
        // The pieces after BOS spell the text with SentencePiece's leading space.
        StringBuilder text = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"piece\":\"([^\"]*)\"").matcher(json);
        while (m.find()) {
            text.append(m.group(1));
        }
        assertEquals("<s> Once upon a time", text.toString());
    }

    @Test
    void tokenizeParsesSpecialTokenTextUnlessToldNot() {
        Run special = run("tokenize", "-m", STORIES, "--no-bos", "<s>");
        assertEquals("[1]", special.out().strip(), special.err());
        Run plain = run("tokenize", "-m", STORIES, "--no-bos", "--no-parse-special", "<s>");
        assertEquals(0, plain.code(), plain.err());
        assertTrue(!plain.out().strip().equals("[1]") && !plain.out().contains("[1,"), plain.out());
        assertEquals(2, run("tokenize", "Hello").code()); // -m is required
        Run missing = run("tokenize", "-m", "does-not-exist.gguf", "x");
        assertEquals(1, missing.code());
    }

    @Test
    void generatePrintsOnlyTheContinuationOnStdoutAndSpeedsOnStderr() {
        Run r = run("generate", "-m", STORIES, "-p", "Once upon a time", "-n", "16", "--temp", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith(", there was a little girl named Lily."), r.out());
        assertTrue(!r.out().contains("Once upon a time"), "the prompt is not echoed: " + r.out());
        assertTrue(r.err().contains("tokens/s"), r.err());
        Run again = run("generate", "-m", STORIES, "-p", "Once upon a time", "-n", "16", "--temp", "0");
        assertEquals(r.out(), again.out(), "greedy output is the same run to run");
    }

    @Test
    void generateRejectsBadSamplingSettingsAsUsageErrors() {
        assertEquals(2, run("generate", "-m", STORIES, "-p", "x", "--top-p", "0").code());
        assertEquals(2, run("generate", "-m", STORIES, "-p", "x", "-n", "-3").code());
        Run overflow = run("generate", "-m", STORIES, "-p", "Once upon a time", "-c", "2");
        assertEquals(1, overflow.code());
        assertTrue(overflow.err().contains("context is full"), overflow.err());
    }

    @Test
    void benchModelProfileCountsEveryOpOfEachGeneratedTokenInJsonAndOnStderr() {
        Run r = run("bench-model", "-m", STORIES, "-p", "4", "-n", "3", "-r", "1", "--profile", "--json");
        assertEquals(0, r.code(), r.err());
        String json = r.out().strip();
        assertTrue(json.startsWith("{") && json.endsWith("}") && json.lines().count() == 1, json);
        assertTrue(json.contains("\"generated_tokens\":3"), json);
        // stories260K has 5 layers of 7 matmuls each, plus the output projection: 36 per token
        assertTrue(json.contains("{\"op\":\"MatMul\",\"calls\":108,\"ms_per_token\":"), json);
        assertTrue(r.err().contains("generation profile, 3 tokens"), r.err());
        assertTrue(r.err().contains("MatMul"), r.err());
        Run plain = run("bench-model", "-m", STORIES, "-p", "4", "-n", "3", "-r", "1", "--json");
        assertTrue(!plain.out().contains("generation_profile"), plain.out());
    }

    private static final String TINY_MMPROJ = Path.of("..", "java-api", "src", "test", "resources", "goldens", "llava", "tiny-mmproj.gguf").toString();
    private static final String IMAGE = Path.of("..", "java-api", "src", "test", "resources", "images", "clip", "gradient_640x480.png").toString();

    @Test
    void llavaStreamsTheAnswerAndReportsTimingsOnStderr() {
        Run r = run("llava", "-m", STORIES, "--mmproj", TINY_MMPROJ, "--image", IMAGE, "-p", "What is it?", "-n", "8", "--temp", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(!r.out().isBlank(), r.out());
        assertTrue(r.err().contains("image encode") && r.err().contains("tokens/s"), r.err());
        Run again = run("llava", "-m", STORIES, "--mmproj", TINY_MMPROJ, "--image", IMAGE, "-p", "What is it?", "-n", "8", "--temp", "0");
        assertEquals(r.out(), again.out());
    }

    @Test
    void llavaEmbedImagePrintsOneJsonArrayPerImageToken() {
        Run r = run("llava", "embed-image", "--mmproj", TINY_MMPROJ, "--image", IMAGE);
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, "tiny mmproj: 2x2 patches");
        assertEquals(64, lines[0].split(",").length);
        Run bad = run("llava", "embed-image", "--mmproj", TINY_MMPROJ, "--image", STORIES);
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("tessera: error:"), bad.err());
    }

    @Test
    void aNativeLibraryThatCannotLoadIsOneErrorLineAndExitCodeOneNotAStackTrace(@TempDir Path tmp) throws Exception {
        // A fresh JVM: this one has the library loaded already. The override names a missing file.
        Path stderr = tmp.resolve("err");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-Dtessera.library.path=" + tmp.resolve("missing").resolve("libtessera.so"),
                "-cp", System.getProperty("java.class.path"), TesseraCli.class.getName(),
                "generate", "-m", STORIES, "-p", "Once", "-n", "1")
                .redirectError(stderr.toFile()).redirectOutput(tmp.resolve("out").toFile());
        pb.environment().remove("TESSERA_LIBRARY_PATH");
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out");
        List<String> err = Files.readAllLines(stderr);
        assertEquals(1, p.exitValue(), String.join("\n", err));
        assertEquals(1, err.size(), String.join("\n", err));
        assertTrue(err.get(0).startsWith("tessera: error: ") && err.get(0).contains("does not exist"), err.get(0));
    }
}
