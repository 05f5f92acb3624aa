package dev.tessera.model.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.image.ImageIo;
import dev.tessera.io.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ImageIndex on the tiny random CLIP (see ClipModelTest) over a folder of random images. */
class ImageIndexTest {

    private static List<Path> writeImages(Path dir, int n) throws IOException {
        Random r = new Random(11);
        List<Path> out = new ArrayList<>();
        Files.createDirectories(dir.resolve("sub"));
        for (int i = 0; i < n; i++) {
            int w = 20 + r.nextInt(40);
            int h = 20 + r.nextInt(40);
            byte[] rgb = new byte[w * h * 3];
            r.nextBytes(rgb);
            Path p = (i % 3 == 0 ? dir.resolve("sub") : dir).resolve(String.format("img%02d.png", i));
            ImageIo.writePng(rgb, w, h, p);
            out.add(p);
        }
        return out;
    }

    @Test
    void buildSearchSaveLoad(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("images");
        List<Path> images = writeImages(dir, 21); // more than one batch of 16
        Files.writeString(dir.resolve("broken.jpg"), "not a jpeg");
        Files.writeString(dir.resolve("notes.txt"), "ignored: not an image name");
        try (ClipModel tiny = ClipModel.load(TestFiles.resource("goldens/clip/tiny/config.json").getParent());
             ClipModel model = ClipModelTest.fullVocabulary(tiny, 5)) {
            AtomicInteger calls = new AtomicInteger();
            int[] lastDone = {0};
            ImageIndex.BuildResult r = ImageIndex.build(model, "model-path", dir, 2, (done, total) -> {
                calls.incrementAndGet();
                assertEquals(22, total);
                assertTrue(done > lastDone[0]);
                lastDone[0] = done;
            });
            assertEquals(2, calls.get());
            assertEquals(22, lastDone[0]);
            assertEquals(1, r.skipped().size(), r.skipped().toString());
            assertTrue(r.skipped().getFirst().contains("broken.jpg"), r.skipped().getFirst());
            ImageIndex idx = r.index();
            assertEquals(21, idx.size());
            assertEquals(32, idx.dim());
            // an image's own embedding finds it first, with cosine 1
            Path probe = images.get(7);
            List<ImageIndex.Hit> hits = idx.search(model.embedImage(probe), 3);
            assertEquals(3, hits.size());
            assertEquals(probe.toAbsolutePath().normalize(), hits.getFirst().image());
            assertEquals(1.0, hits.getFirst().score(), 1e-5);
            assertTrue(hits.get(0).score() >= hits.get(1).score() && hits.get(1).score() >= hits.get(2).score());
            List<ImageIndex.Hit> all = idx.search(model.embedImage(probe), 100);
            assertEquals(21, all.size());
            List<ImageIndex.Hit> text = idx.search(model, "a red car", 5);
            assertEquals(5, text.size());
            float[] q = model.embedText("a red car");
            // the batched, parallel build scores as embedding each image alone does
            for (ImageIndex.Hit h : text) {
                assertEquals(ClipModel.dot(q, model.embedImage(h.image())), h.score(), 1e-5);
            }
            Path file = tmp.resolve("idx.bin");
            idx.save(file);
            ImageIndex back = ImageIndex.load(file);
            assertEquals("model-path", back.modelPath());
            assertEquals(idx.images(), back.images());
            List<ImageIndex.Hit> again = back.search(q, 5);
            for (int i = 0; i < 5; i++) {
                assertEquals(text.get(i), again.get(i));
            }
            assertThrows(IllegalArgumentException.class, () -> idx.search(q, 0));
            assertThrows(IllegalArgumentException.class, () -> idx.search(new float[3], 1));
            byte[] bytes = Files.readAllBytes(file);
            Files.write(tmp.resolve("cut.bin"), java.util.Arrays.copyOf(bytes, bytes.length - 10));
            assertThrows(IOException.class, () -> ImageIndex.load(tmp.resolve("cut.bin")));
            Files.writeString(tmp.resolve("junk.bin"), "hello world, not an index");
            IOException e = assertThrows(IOException.class, () -> ImageIndex.load(tmp.resolve("junk.bin")));
            assertTrue(e.getMessage().contains("not a Tessera CLIP image index"), e.getMessage());
            Path empty = Files.createDirectories(tmp.resolve("empty"));
            assertThrows(IllegalArgumentException.class, () -> ImageIndex.build(model, null, empty, 1, null));
        }
    }

    @Test
    void bufferedImageAndFileGiveTheSameEmbedding(@TempDir Path tmp) throws IOException {
        int w = 45;
        int h = 37;
        byte[] rgb = new byte[w * h * 3];
        new Random(2).nextBytes(rgb);
        Path file = tmp.resolve("x.png");
        ImageIo.writePng(rgb, w, h, file);
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                img.setRGB(x, y, (rgb[o] & 0xff) << 16 | (rgb[o + 1] & 0xff) << 8 | (rgb[o + 2] & 0xff));
            }
        }
        try (ClipModel model = ClipModel.load(TestFiles.resource("goldens/clip/tiny/config.json").getParent())) {
            float[] a = model.embedImage(file);
            float[] b = model.embedImage(img);
            org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, 0f);
            assertEquals(1.0, ClipModel.dot(a, a), 1e-5);
            IOException e = assertThrows(IOException.class, () -> model.embedImage(tmp.resolve("missing.png")));
            assertTrue(e.getMessage().contains("missing.png"), e.getMessage());
        }
    }
}
