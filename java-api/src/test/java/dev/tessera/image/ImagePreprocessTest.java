package dev.tessera.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Golden checks against Pillow 9.4 + torch, made by tools/goldens/clip_image_goldens.py. */
class ImagePreprocessTest {

    /** Golden name to test image file. */
    private static final Map<String, String> FILES = Map.of(
            "CLIP", "CLIP.png",
            "rgba_37x23", "rgba_37x23.png",
            "gradient_640x480", "gradient_640x480.png",
            "strip_1x300", "strip_1x300.png",
            "gray_50x40", "gray_50x40.png",
            "palette_45x31", "palette_45x31.png",
            "rgb_37x23_bmp", "rgb_37x23.bmp",
            "palette_45x31_gif", "palette_45x31.gif",
            "photo_97x61_jpg", "photo_97x61.jpg");

    static Path resource(String path) {
        try {
            var url = ImagePreprocessTest.class.getResource(path);
            if (url == null) throw new AssertionError("missing test resource " + path);
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    static Path image(String name) {
        return resource("/images/clip/" + FILES.get(name));
    }

    private static byte[] bytes(Tensor t) {
        assertEquals(DType.U8, t.dtype());
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    /** Names in a golden file that carry the given suffix. */
    private static List<String> names(SafetensorsFile f, String suffix) {
        List<String> out = new ArrayList<>();
        for (var info : f.tensorInfos()) {
            if (info.name().endsWith(suffix)) out.add(info.name().substring(0, info.name().length() - suffix.length()));
        }
        return out;
    }

    private static void assertSameBytes(String what, byte[] want, byte[] got) {
        assertEquals(want.length, got.length, what + ": size");
        int diff = 0;
        int maxAbs = 0;
        int first = -1;
        for (int i = 0; i < want.length; i++) {
            int d = Math.abs((want[i] & 0xff) - (got[i] & 0xff));
            if (d != 0) {
                if (first < 0) first = i;
                diff++;
                maxAbs = Math.max(maxAbs, d);
            }
        }
        assertEquals(0, diff, what + ": " + diff + " of " + want.length + " samples differ from Pillow (max |d| "
                + maxAbs + ", first at byte " + first + ")");
    }

    private static Rgba8Image.Mode pillowMode(String pilMode) {
        return switch (pilMode) {
            case "RGB", "L" -> Rgba8Image.Mode.RGB;
            case "RGBA", "LA" -> Rgba8Image.Mode.RGBA;
            case "P", "1" -> Rgba8Image.Mode.PALETTE;
            default -> throw new AssertionError("unexpected Pillow mode " + pilMode);
        };
    }

    @Test
    void decodingMatchesPillowForLosslessFormats() throws IOException {
        try (SafetensorsFile g = SafetensorsFile.open(resource("/goldens/clip/preprocess_224.safetensors"))) {
            List<String> decoded = names(g, ".decoded");
            assertTrue(decoded.size() >= 7 && decoded.contains("photo_97x61_jpg"), decoded.toString());
            for (String name : decoded) {
                Rgba8Image img = ImageIo.read(image(name));
                assertEquals(pillowMode(g.metadata().get(name + ".mode")), img.mode(), name + " mode");
                assertSameBytes(name + " decoded", bytes(g.tensor(name + ".decoded")), img.toRgb());
            }
        }
    }

    @Test
    void resizeMatchesPillowBicubicExactly() throws IOException {
        ClipImagePreprocessor pre = new ClipImagePreprocessor(224);
        try (SafetensorsFile g = SafetensorsFile.open(resource("/goldens/clip/preprocess_224.safetensors"))) {
            List<String> resized = names(g, ".resized");
            assertTrue(resized.containsAll(List.of("CLIP", "rgba_37x23", "gradient_640x480", "gray_50x40", "palette_45x31")),
                    resized.toString());
            for (String name : resized) {
                Rgba8Image out = pre.resize(ImageIo.read(image(name)));
                long[] shape = g.tensorInfo(name + ".resized").shape();
                assertEquals(shape[0], out.height(), name + " height");
                assertEquals(shape[1], out.width(), name + " width");
                assertSameBytes(name + " resized", bytes(g.tensor(name + ".resized")), out.toRgb());
            }
        }
    }

    @Test
    void croppedPixelsMatchAtBothResolutions() throws IOException {
        for (int size : new int[] {224, 336}) {
            ClipImagePreprocessor pre = new ClipImagePreprocessor(size);
            try (SafetensorsFile g = SafetensorsFile.open(resource("/goldens/clip/preprocess_" + size + ".safetensors"))) {
                List<String> cropped = names(g, ".cropped");
                assertTrue(cropped.size() >= 2, cropped.toString());
                for (String name : cropped) {
                    Rgba8Image out = pre.centerCrop(pre.resize(ImageIo.read(image(name))));
                    assertSameBytes(name + " cropped @" + size, bytes(g.tensor(name + ".cropped")), out.toRgb());
                }
            }
        }
    }

    @Test
    void normalisedTensorsMatchTorchWithin1e6() throws IOException {
        for (int size : new int[] {224, 336}) {
            ClipImagePreprocessor pre = new ClipImagePreprocessor(size);
            try (SafetensorsFile g = SafetensorsFile.open(resource("/goldens/clip/preprocess_" + size + ".safetensors"));
                    Tensor got = pre.preprocess(image("CLIP"))) {
                float[] want = g.tensor("CLIP.pixels").toFloatArray();
                assertArrayEquals(new long[] {3, size, size}, got.shape());
                float[] have = got.toFloatArray();
                double max = 0;
                for (int i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - have[i]));
                assertTrue(max <= 1e-6, "max |diff| " + max + " at size " + size);
            }
        }
    }

    @Test
    void batchStacksSingleResults() throws IOException {
        ClipImagePreprocessor pre = new ClipImagePreprocessor(224);
        List<Path> files = List.of(image("rgba_37x23"), image("gradient_640x480"));
        try (Tensor batch = pre.preprocessFiles(files)) {
            assertArrayEquals(new long[] {2, 3, 224, 224}, batch.shape());
            float[] all = batch.toFloatArray();
            for (int i = 0; i < files.size(); i++) {
                float[] one = pre.preprocessToArray(ImageIo.read(files.get(i)));
                assertArrayEquals(one, Arrays.copyOfRange(all, i * one.length, (i + 1) * one.length));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> pre.preprocessBatch(List.of()));
    }

    @Test
    void outputSizeAndCropFollowTorchvision() {
        assertArrayEquals(new int[] {635, 224}, ClipImagePreprocessor.resizedSize(2162, 762, 224));
        assertArrayEquals(new int[] {224, 67200}, ClipImagePreprocessor.resizedSize(1, 300, 224));
        assertArrayEquals(new int[] {360, 224}, ClipImagePreprocessor.resizedSize(37, 23, 224));
        assertArrayEquals(new int[] {224, 224}, ClipImagePreprocessor.resizedSize(500, 500, 224));
        // Python's round() is half-to-even: (225-224)/2 = 0.5 -> 0, (227-224)/2 = 1.5 -> 2.
        Rgba8Image wide = Rgba8Image.ofRgb(227, 225, ramp(227, 225));
        Rgba8Image c = ClipImagePreprocessor.centerCrop(wide, 224);
        assertEquals(wide.get(2, 0, 0), c.get(0, 0, 0));
        assertEquals(wide.get(2, 0, 1), c.get(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> ClipImagePreprocessor.centerCrop(wide, 226));
        assertThrows(IllegalArgumentException.class, () -> new ClipImagePreprocessor(0));
        assertThrows(IllegalArgumentException.class, () -> new ClipImagePreprocessor(224, new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> new ClipImagePreprocessor(224, new float[3], new float[] {1, 0, 1}));
    }

    private static byte[] ramp(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                rgb[(y * w + x) * 3] = (byte) x;
                rgb[(y * w + x) * 3 + 1] = (byte) y;
                rgb[(y * w + x) * 3 + 2] = (byte) (x ^ y);
            }
        }
        return rgb;
    }

    @Test
    void sameSizeResizeIsACopyEvenWithAlpha() {
        byte[] rgba = {10, 20, 30, 7, (byte) 200, 100, 50, (byte) 255};
        Rgba8Image img = Rgba8Image.ofRgba(2, 1, Rgba8Image.Mode.RGBA, rgba);
        assertArrayEquals(rgba, PilResize.resizeBicubic(img, 2, 1).toRgba());
    }

    @Test
    void badFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.png");
        NoSuchFileException nsf = assertThrows(NoSuchFileException.class, () -> ImageIo.read(missing));
        assertTrue(nsf.getMessage().contains("nope.png"), nsf.getMessage());

        Path text = resource("/images/clip/not_an_image.png");
        IOException e1 = assertThrows(IOException.class, () -> ImageIo.read(text));
        assertTrue(e1.getMessage().contains("not_an_image.png") && e1.getMessage().contains("not a supported image"),
                e1.getMessage());

        Path truncated = resource("/images/clip/truncated.png");
        IOException e2 = assertThrows(IOException.class, () -> ImageIo.read(truncated));
        assertTrue(e2.getMessage().contains("truncated.png"), e2.getMessage());

        Path empty = Files.createFile(dir.resolve("empty.jpg"));
        IOException e3 = assertThrows(IOException.class, () -> ImageIo.read(empty));
        assertTrue(e3.getMessage().contains("empty.jpg"), e3.getMessage());

        IOException e4 = assertThrows(IOException.class, () -> ImageIo.read(dir));
        assertTrue(e4.getMessage().contains("directory"), e4.getMessage());

        ClipImagePreprocessor pre = new ClipImagePreprocessor(224);
        assertThrows(IOException.class, () -> pre.preprocess(text));
    }

    @Test
    void hugeDeclaredSizeIsRefusedBeforeDecoding(@TempDir Path dir) throws IOException {
        // A PNG signature and an IHDR declaring 100000 x 100000 RGB pixels, no image data.
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
        ihdr.put(new byte[] {'I', 'H', 'D', 'R'}).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        png.write(java.nio.ByteBuffer.allocate(4).putInt(13).array());
        png.write(ihdr.array());
        png.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        Path bomb = dir.resolve("bomb.png");
        Files.write(bomb, png.toByteArray());
        IOException e = assertThrows(ImageIo.TooLargeException.class, () -> ImageIo.read(bomb));
        assertTrue(e.getMessage().contains("bomb.png") && e.getMessage().contains("100000x100000"), e.getMessage());
    }

    @Test
    void jpegLoadsAndPreprocesses(@TempDir Path dir) throws IOException {
        // The JDK's JPEG decoder is not libjpeg: only shape and closeness are checked here.
        Rgba8Image src = Rgba8Image.ofRgb(64, 48, ramp(64, 48));
        var bi = new java.awt.image.BufferedImage(64, 48, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                bi.setRGB(x, y, (src.get(x, y, 0) << 16) | (src.get(x, y, 1) << 8) | src.get(x, y, 2));
            }
        }
        Path jpg = dir.resolve("ramp.jpg");
        assertTrue(javax.imageio.ImageIO.write(bi, "jpeg", jpg.toFile()));
        Rgba8Image back = ImageIo.read(jpg);
        assertEquals(64, back.width());
        assertEquals(48, back.height());
        assertEquals(Rgba8Image.Mode.RGB, back.mode());
        long err = 0;
        for (int y = 0; y < 48; y++) for (int x = 0; x < 64; x++) err += Math.abs(back.get(x, y, 1) - src.get(x, y, 1));
        assertTrue(err / (64.0 * 48) < 8, "mean JPEG error " + err / (64.0 * 48));
        try (Tensor t = new ClipImagePreprocessor(224).preprocess(jpg)) {
            assertArrayEquals(new long[] {3, 224, 224}, t.shape());
        }
    }

    @Test
    void writePngRoundTrips(@TempDir Path dir) throws IOException {
        byte[] rgb = ramp(5, 3);
        Path p = dir.resolve("out/rgb.png");
        ImageIo.writePng(rgb, 5, 3, p);
        Rgba8Image back = ImageIo.read(p);
        assertEquals(Rgba8Image.Mode.RGB, back.mode());
        assertArrayEquals(rgb, back.toRgb());

        float[] chw = new float[3 * 2 * 2];
        float[] values = {-1f, -0.5f, 0f, 1f};
        for (int c = 0; c < 3; c++) for (int i = 0; i < 4; i++) chw[c * 4 + i] = values[i];
        try (Tensor t = Tensor.of(chw, 3, 2, 2)) {
            Path signed = dir.resolve("signed.png");
            ImageIo.writePng(t, ImageIo.Range.MINUS_ONE_TO_ONE, signed);
            assertArrayEquals(new int[] {0, 64, 128, 255}, channel(ImageIo.read(signed), 0));
            Path unit = dir.resolve("unit.png");
            ImageIo.writePng(t, ImageIo.Range.ZERO_TO_ONE, unit);
            assertArrayEquals(new int[] {0, 0, 0, 255}, channel(ImageIo.read(unit), 2));
            // A permuted (non-contiguous) view is written by logical index.
            try (Tensor hwc = Tensor.of(chw, 2, 2, 3)) {
                Path perm = dir.resolve("perm.png");
                ImageIo.writePng(hwc.permute(2, 0, 1), ImageIo.Range.MINUS_ONE_TO_ONE, perm);
                assertEquals(2, ImageIo.read(perm).width());
            }
        }
        try (Tensor bad = Tensor.of(new float[8], 2, 2, 2)) {
            assertThrows(IllegalArgumentException.class, () -> ImageIo.writePng(bad, ImageIo.Range.ZERO_TO_ONE, dir.resolve("x.png")));
        }
        assertThrows(IllegalArgumentException.class, () -> ImageIo.writePng(new byte[5], 2, 1, dir.resolve("y.png")));
    }

    private static int[] channel(Rgba8Image img, int c) {
        int[] out = new int[img.width() * img.height()];
        for (int y = 0; y < img.height(); y++) for (int x = 0; x < img.width(); x++) out[y * img.width() + x] = img.get(x, y, c);
        return out;
    }
}
