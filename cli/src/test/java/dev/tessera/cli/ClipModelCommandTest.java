package dev.tessera.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.image.ImageIo;
import dev.tessera.model.clip.ClipConfig;
import dev.tessera.model.clip.ClipModel;
import dev.tessera.model.clip.ClipTokenizer;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tessera clip embed / classify on the tiny random CLIP of java-api's goldens, re-saved as GGUF with a
 * random token table of the real vocabulary size so that real prompts can be tokenised.
 */
class ClipModelCommandTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path image;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TesseraCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void makeModel() throws IOException {
        try (ClipModel tiny = ClipModel.load(Path.of("../java-api/src/test/resources/goldens/clip/tiny"))) {
            ClipConfig c = tiny.config();
            ClipConfig.Text t = c.text();
            ClipConfig.Text full = new ClipConfig.Text(ClipTokenizer.VOCAB_SIZE, t.contextLength(), t.width(), t.blocks(), t.heads(),
                    t.ffn(), t.eps(), t.act(), -1);
            Map<String, Tensor> m = new LinkedHashMap<>(tiny.tensors());
            Random r = new Random(3);
            float[] table = new float[ClipTokenizer.VOCAB_SIZE * t.width()];
            for (int i = 0; i < table.length; i++) {
                table[i] = (float) r.nextGaussian();
            }
            try (Tensor tok = Tensor.of(table, ClipTokenizer.VOCAB_SIZE, t.width())) {
                m.put("t.token_embd.weight", tok);
                try (ClipModel fullModel = ClipModel.fromTensors(new ClipConfig(c.vision(), full, c.projectionDim()), m, tiny.logitScale())) {
                    model = tmp.resolve("tiny.gguf");
                    fullModel.writeGguf(model, "tiny");
                }
            }
        }
        byte[] rgb = new byte[40 * 48 * 3];
        new Random(5).nextBytes(rgb);
        image = tmp.resolve("img.png");
        ImageIo.writePng(rgb, 40, 48, image);
    }

    private static float[] parse(String json) {
        String s = json.strip();
        assertTrue(s.startsWith("[") && s.endsWith("]"), s);
        String[] parts = s.substring(1, s.length() - 1).split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.parseFloat(parts[i]);
        }
        return v;
    }

    @Test
    void embedPrintsTheNormalisedEmbedding() throws IOException {
        Run img = run("clip", "embed", "-m", model.toString(), "--image", image.toString());
        assertEquals(0, img.code(), img.err());
        float[] e = parse(img.out());
        Run txt = run("clip", "embed", "-m", model.toString(), "--text", "a photo of a cat");
        assertEquals(0, txt.code(), txt.err());
        float[] t = parse(txt.out());
        assertEquals(32, e.length);
        assertEquals(32, t.length);
        double n = 0;
        for (float x : t) {
            n += x * x;
        }
        assertEquals(1.0, n, 1e-5);
        try (ClipModel m = ClipModel.load(model)) {
            float[] expected = m.embedImage(image);
            for (int i = 0; i < e.length; i++) {
                assertEquals(expected[i], e[i], 0f);
            }
        }
    }

    @Test
    void classifyRanksLabels() {
        Run r = run("clip", "classify", "-m", model.toString(), "--image", image.toString(), "--labels", "cat, dog,car", "--json");
        assertEquals(0, r.code(), r.err());
        String out = r.out().strip();
        assertTrue(out.startsWith("[{\"label\":"), out);
        for (String l : new String[] {"\"cat\"", "\"dog\"", "\"car\""}) {
            assertTrue(out.contains(l), out);
        }
        Run table = run("clip", "classify", "-m", model.toString(), "--image", image.toString(), "--labels", "cat,dog");
        assertEquals(0, table.code(), table.err());
        assertEquals(2, table.out().strip().split("\n").length, table.out());
    }

    @Test
    void badInputsGiveClearErrors() throws IOException {
        Run empty = run("clip", "classify", "-m", model.toString(), "--image", image.toString(), "--labels", " , ");
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("no labels"), empty.err());
        Path notImage = tmp.resolve("notes.png");
        Files.writeString(notImage, "not an image");
        Run bad = run("clip", "embed", "-m", model.toString(), "--image", notImage.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("notes.png"), bad.err());
        Run missing = run("clip", "embed", "-m", model.toString(), "--image", tmp.resolve("nope.jpg").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.jpg"), missing.err());
        Run both = run("clip", "embed", "-m", model.toString(), "--image", image.toString(), "--text", "x");
        assertEquals(2, both.code());
        Run noModel = run("clip", "embed", "-m", tmp.resolve("none.gguf").toString(), "--text", "x");
        assertEquals(1, noModel.code());
        assertTrue(noModel.err().contains("none.gguf"), noModel.err());
    }

    @Test
    void indexThenSearch() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        Random r = new Random(9);
        for (int i = 0; i < 5; i++) {
            byte[] rgb = new byte[36 * 36 * 3];
            r.nextBytes(rgb);
            ImageIo.writePng(rgb, 36, 36, dir.resolve("p" + i + ".png"));
        }
        Files.writeString(dir.resolve("bad.png"), "garbage");
        Path idx = tmp.resolve("photos.idx");
        Run index = run("clip", "index", "-m", model.toString(), "--dir", dir.toString(), "-o", idx.toString(), "--threads", "2");
        assertEquals(0, index.code(), index.err());
        assertTrue(index.out().contains("indexed 5 images (1 skipped)"), index.out());
        assertTrue(index.err().contains("indexing [") && index.err().contains("6/6"), index.err());
        assertTrue(index.err().contains("warning: skipped") && index.err().contains("bad.png"), index.err());
        Run search = run("clip", "search", "--index", idx.toString(), "-q", "a red car", "-k", "3");
        assertEquals(0, search.code(), search.err());
        String[] lines = search.out().strip().split("\n");
        assertEquals(3, lines.length, search.out());
        double prev = Double.MAX_VALUE;
        for (String line : lines) {
            String[] parts = line.strip().split("\\s+", 2);
            double score = Double.parseDouble(parts[0]);
            assertTrue(score <= prev, search.out());
            prev = score;
            assertTrue(parts[1].endsWith(".png") && parts[1].contains("photos"), line);
        }
        Run noDir = run("clip", "index", "-m", model.toString(), "--dir", tmp.resolve("nodir").toString(), "-o", idx.toString());
        assertEquals(1, noDir.code());
        Run badIdx = run("clip", "search", "--index", model.toString(), "-q", "x");
        assertEquals(1, badIdx.code());
        assertTrue(badIdx.err().contains("not a Tessera CLIP image index"), badIdx.err());
    }
}
