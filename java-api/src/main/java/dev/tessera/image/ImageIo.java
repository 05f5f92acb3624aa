package dev.tessera.image;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reading images (PNG, JPEG, BMP, GIF through javax.imageio) into {@link Rgba8Image} the way
 * Pillow decodes them, and writing PNGs.
 *
 * <p>Decoding keeps the file's own sample values, as Pillow does: no colour management (an
 * embedded ICC profile is ignored), greyscale is replicated to R=G=B (not gamma-converted as
 * {@link BufferedImage#getRGB} would), 16-bit RGB samples keep their high byte. The Pillow mode
 * is inferred: palette PNG/GIF and 1-bit images become {@link Rgba8Image.Mode#PALETTE}; a GIF
 * whose palette is exactly the grey ramp (Pillow opens those as "L") and 2/4-bit greyscale PNGs
 * become RGB; images with an alpha channel RGBA. JPEG is decoded by the JDK's decoder; on the
 * baseline 4:2:0 and 4:4:4 JPEGs tested it gives exactly libjpeg's (Pillow 9.4's) pixels, but
 * other JPEG variants (progressive, CMYK, unusual sampling) are not checked and CMYK ones are
 * refused by the JDK. Known differences from Pillow: a tRNS colour key on an RGB/greyscale PNG may come back as alpha from the JDK (Pillow
 * keeps such images opaque); 16-bit greyscale PNGs (Pillow mode "I;16") take the high byte here.
 * Only the first frame of an animated GIF is read (as CLIP does).
 */
public final class ImageIo {

    private ImageIo() {}

    /**
     * Largest image read, in pixels (2^28, about 16k x 16k): a guard against decompression bombs
     * and the 2 GiB limit of the RGBA array, checked from the file header before decoding.
     */
    public static final long MAX_PIXELS = 1L << 28;

    /** How the values of a float image map to 0..255. */
    public enum Range {
        /** 0 is black, 1 is white. */
        ZERO_TO_ONE,
        /** -1 is black, 1 is white (diffusion model outputs). */
        MINUS_ONE_TO_ONE
    }

    // ------------------------------------------------------------------ reading

    /**
     * Decodes {@code file}. A missing file gives {@link NoSuchFileException}; a file that is not
     * a PNG/JPEG/BMP/GIF, or is truncated or corrupt, an {@link IOException} naming the file.
     */
    public static Rgba8Image read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "image file not found");
        if (Files.isDirectory(file)) throw new IOException(file + ": is a directory, not an image");
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Decodes an image from {@code in}; {@code name} is used in error messages. */
    public static Rgba8Image read(InputStream in, String name) throws IOException {
        Objects.requireNonNull(in, "in");
        try (ImageInputStream iis = ImageIO.createImageInputStream(in)) {
            if (iis == null) throw new IOException(name + ": cannot open an image stream");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new IOException(name + ": not a supported image (PNG, JPEG, BMP or GIF expected)");
            }
            ImageReader reader = readers.next();
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            try {
                reader.setInput(iis, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    // Checked from the header, before the decoder allocates the raster.
                    throw new TooLargeException(name + ": image is " + reader.getWidth(0) + "x" + reader.getHeight(0)
                            + ", over the " + MAX_PIXELS + "-pixel limit");
                }
                BufferedImage image = reader.read(0);
                return convert(image, format, name);
            } catch (TooLargeException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                // The JDK readers throw IIOException, EOFException or even IndexOutOfBounds on damaged files.
                throw new IOException(name + ": cannot decode " + format.toUpperCase(Locale.ROOT)
                        + " image (truncated or corrupt?): " + e.getMessage(), e);
            } finally {
                reader.dispose();
            }
        }
    }

    static Rgba8Image convert(BufferedImage image, String format, String name) throws IOException {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 4)];
        if (cm instanceof IndexColorModel icm) {
            int bits = icm.getPixelSize();
            boolean grayRamp = isGrayRamp(icm);
            Rgba8Image.Mode mode;
            if (format.equals("gif") && isIdentityGray(icm)) mode = Rgba8Image.Mode.RGB; // Pillow "L"
            else if (format.equals("png") && grayRamp && bits > 1 && bits < 8) mode = Rgba8Image.Mode.RGB; // "L;2/4"
            else mode = Rgba8Image.Mode.PALETTE;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int idx = row[x];
                    int o = (y * w + x) * 4;
                    out[o] = (byte) icm.getRed(idx);
                    out[o + 1] = (byte) icm.getGreen(idx);
                    out[o + 2] = (byte) icm.getBlue(idx);
                    out[o + 3] = (byte) 255; // convert("RGB") ignores palette transparency
                }
            }
            return Rgba8Image.wrap(w, h, mode, out);
        }
        int csType = cm.getColorSpace().getType();
        boolean alpha = cm.hasAlpha();
        Rgba8Image.Mode mode = alpha ? Rgba8Image.Mode.RGBA : Rgba8Image.Mode.RGB;
        boolean raw = !cm.isAlphaPremultiplied()
                && (csType == ColorSpace.TYPE_GRAY || csType == ColorSpace.TYPE_RGB)
                && raster.getNumBands() == cm.getNumComponents();
        if (!raw) {
            // Other colour spaces (or premultiplied rasters): let the JDK convert to sRGB.
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = image.getRGB(x, y);
                    int o = (y * w + x) * 4;
                    out[o] = (byte) (argb >>> 16);
                    out[o + 1] = (byte) (argb >>> 8);
                    out[o + 2] = (byte) argb;
                    out[o + 3] = alpha ? (byte) (argb >>> 24) : (byte) 255;
                }
            }
            return Rgba8Image.wrap(w, h, mode, out);
        }
        int colorBands = csType == ColorSpace.TYPE_GRAY ? 1 : 3;
        int[] shift = new int[raster.getNumBands()];
        for (int b = 0; b < shift.length; b++) {
            int size = raster.getSampleModel().getSampleSize(b);
            if (size > 16 || raster.getTransferType() == DataBuffer.TYPE_FLOAT
                    || raster.getTransferType() == DataBuffer.TYPE_DOUBLE) {
                throw new IOException(name + ": unsupported sample format (" + size + "-bit band " + b + ")");
            }
            shift[b] = Math.max(0, size - 8); // 16-bit: keep the high byte, as Pillow's RGB;16B
        }
        int bands = raster.getNumBands();
        int[] px = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, px);
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 4;
                int p = x * bands;
                if (colorBands == 1) {
                    byte g = (byte) scale8(px[p], raster.getSampleModel().getSampleSize(0));
                    out[o] = g;
                    out[o + 1] = g;
                    out[o + 2] = g;
                } else {
                    out[o] = (byte) (px[p] >>> shift[0]);
                    out[o + 1] = (byte) (px[p + 1] >>> shift[1]);
                    out[o + 2] = (byte) (px[p + 2] >>> shift[2]);
                }
                out[o + 3] = alpha ? (byte) scale8(px[p + colorBands], raster.getSampleModel().getSampleSize(colorBands))
                        : (byte) 255;
            }
        }
        return Rgba8Image.wrap(w, h, mode, out);
    }

    /** A sample of {@code bits} bits to 8 bits: high byte when wider, replicated when narrower. */
    private static int scale8(int v, int bits) {
        if (bits == 8) return v;
        if (bits > 8) return v >>> (bits - 8);
        return v * 255 / ((1 << bits) - 1);
    }

    private static boolean isIdentityGray(IndexColorModel icm) {
        for (int i = 0; i < icm.getMapSize(); i++) {
            if (icm.getRed(i) != i || icm.getGreen(i) != i || icm.getBlue(i) != i) return false;
        }
        return true;
    }

    private static boolean isGrayRamp(IndexColorModel icm) {
        int n = icm.getMapSize();
        if (n < 2) return false;
        for (int i = 0; i < n; i++) {
            int v = i * 255 / (n - 1);
            if (icm.getRed(i) != v || icm.getGreen(i) != v || icm.getBlue(i) != v) return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes an F32 {@code [3, H, W]} tensor (any strides) as an 8-bit RGB PNG. Values are mapped
     * by {@code range} to 0..255, rounded to nearest and clamped; NaN becomes 0.
     */
    public static void writePng(Tensor chw, Range range, Path file) throws IOException {
        Objects.requireNonNull(chw, "chw");
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(file, "file");
        if (chw.dtype() != DType.F32) {
            throw new IllegalArgumentException("writePng needs an F32 tensor, got " + chw.dtype());
        }
        if (chw.rank() != 3 || chw.shape(0) != 3) {
            throw new IllegalArgumentException("writePng needs shape [3, H, W], got " + java.util.Arrays.toString(chw.shape()));
        }
        if (chw.shape(1) > Integer.MAX_VALUE / 4 || chw.shape(2) > Integer.MAX_VALUE / 4
                || chw.shape(1) * chw.shape(2) > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("image " + chw.shape(2) + "x" + chw.shape(1) + " too large for PNG output");
        }
        int h = (int) chw.shape(1);
        int w = (int) chw.shape(2);
        byte[] rgb = new byte[w * h * 3];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float v = chw.getFloat(c, y, x);
                    float unit = range == Range.ZERO_TO_ONE ? v : (v + 1f) * 0.5f;
                    int q = Float.isNaN(unit) ? 0 : Math.round(Math.min(1f, Math.max(0f, unit)) * 255f);
                    rgb[(y * w + x) * 3 + c] = (byte) q;
                }
            }
        }
        writePng(rgb, w, h, file);
    }

    /** Writes interleaved 8-bit RGB ({@code width * height * 3} bytes, row-major) as a PNG. */
    public static void writePng(byte[] rgb, int width, int height, Path file) throws IOException {
        Objects.requireNonNull(rgb, "rgb");
        Objects.requireNonNull(file, "file");
        Rgba8Image img = Rgba8Image.ofRgb(width, height, rgb);
        writePng(img, file);
    }

    /** Writes an image as PNG: RGB for opaque modes, RGBA when the image is {@link Rgba8Image.Mode#RGBA}. */
    public static void writePng(Rgba8Image image, Path file) throws IOException {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(file, "file");
        boolean alpha = image.mode() == Rgba8Image.Mode.RGBA;
        int w = image.width();
        int h = image.height();
        BufferedImage bi = new BufferedImage(w, h, alpha ? BufferedImage.TYPE_4BYTE_ABGR : BufferedImage.TYPE_3BYTE_BGR);
        byte[] src = image.data();
        int[] row = new int[w * (alpha ? 4 : 3)];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int s = (y * w + x) * 4;
                int d = x * (alpha ? 4 : 3);
                row[d] = src[s] & 0xff;
                row[d + 1] = src[s + 1] & 0xff;
                row[d + 2] = src[s + 2] & 0xff;
                if (alpha) row[d + 3] = src[s + 3] & 0xff;
            }
            bi.getRaster().setPixels(0, y, w, 1, row);
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (OutputStream out = Files.newOutputStream(file)) {
            if (!ImageIO.write(bi, "png", out)) throw new IOException("no PNG writer available for " + file);
        }
    }

    /** An image whose header declares more than {@link #MAX_PIXELS} pixels. */
    public static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException(String message) {
            super(message);
        }
    }
}
