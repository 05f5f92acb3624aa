package dev.tessera.image;

import java.util.Objects;

/**
 * An 8-bit image held as interleaved RGBA bytes (alpha 255 where the source had none), plus
 * the {@link Mode} Pillow would give the same file, since that mode decides how Pillow (and so
 * CLIP's preprocessing) resizes it. Immutable: the accessors hand out copies.
 */
public final class Rgba8Image {

    /** How Pillow would hold the file; greyscale folds into RGB / RGBA (same arithmetic per channel). */
    public enum Mode {
        /** Pillow "RGB" or "L": bicubic on the colour channels. */
        RGB,
        /** Pillow "RGBA" or "LA": premultiplied by alpha for the resize, then un-premultiplied. */
        RGBA,
        /** Pillow "P" or "1": Pillow resizes these with NEAREST whatever filter is asked. */
        PALETTE
    }

    private final int width;
    private final int height;
    private final Mode mode;
    private final byte[] rgba;

    private Rgba8Image(int width, int height, Mode mode, byte[] rgba) {
        this.width = width;
        this.height = height;
        this.mode = mode;
        this.rgba = rgba;
    }

    private static void checkSize(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if ((long) width * height > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("image " + width + "x" + height + " is too large (over 2^29 pixels)");
        }
    }

    /** An image over a copy of {@code rgba} (4 bytes a pixel, row-major). */
    public static Rgba8Image ofRgba(int width, int height, Mode mode, byte[] rgba) {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(rgba, "rgba");
        checkSize(width, height);
        if (rgba.length != width * height * 4) {
            throw new IllegalArgumentException("RGBA data of a " + width + "x" + height + " image needs "
                    + (width * height * 4) + " bytes, got " + rgba.length);
        }
        return new Rgba8Image(width, height, mode, rgba.clone());
    }

    /** An opaque {@link Mode#RGB} image from interleaved RGB bytes (3 a pixel, row-major). */
    public static Rgba8Image ofRgb(int width, int height, byte[] rgb) {
        Objects.requireNonNull(rgb, "rgb");
        checkSize(width, height);
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("RGB data of a " + width + "x" + height + " image needs "
                    + (width * height * 3) + " bytes, got " + rgb.length);
        }
        byte[] out = new byte[width * height * 4];
        for (int i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
            out[j] = rgb[i];
            out[j + 1] = rgb[i + 1];
            out[j + 2] = rgb[i + 2];
            out[j + 3] = (byte) 255;
        }
        return new Rgba8Image(width, height, Mode.RGB, out);
    }

    /** Takes ownership of {@code rgba} without copying (package use only). */
    static Rgba8Image wrap(int width, int height, Mode mode, byte[] rgba) {
        checkSize(width, height);
        return new Rgba8Image(width, height, mode, rgba);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public Mode mode() {
        return mode;
    }

    /** Channel {@code c} (0 R, 1 G, 2 B, 3 A) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        Objects.checkIndex(x, width);
        Objects.checkIndex(y, height);
        Objects.checkIndex(c, 4);
        return rgba[(y * width + x) * 4 + c] & 0xff;
    }

    /** A copy of the interleaved RGBA bytes. */
    public byte[] toRgba() {
        return rgba.clone();
    }

    /** Interleaved RGB bytes, alpha dropped: what Pillow's {@code convert("RGB")} gives. */
    public byte[] toRgb() {
        byte[] out = new byte[width * height * 3];
        for (int i = 0, j = 0; j < out.length; i += 4, j += 3) {
            out[j] = rgba[i];
            out[j + 1] = rgba[i + 1];
            out[j + 2] = rgba[i + 2];
        }
        return out;
    }

    /** The same pixels as an opaque RGB image (alpha dropped, as {@code convert("RGB")}). */
    public Rgba8Image toRgbImage() {
        byte[] out = rgba.clone();
        for (int i = 3; i < out.length; i += 4) out[i] = (byte) 255;
        return new Rgba8Image(width, height, Mode.RGB, out);
    }

    /** The {@code w x h} window at ({@code left}, {@code top}); it must lie inside the image. */
    public Rgba8Image crop(int left, int top, int w, int h) {
        if (left < 0 || top < 0 || w <= 0 || h <= 0 || (long) left + w > width || (long) top + h > height) {
            throw new IllegalArgumentException("crop " + w + "x" + h + " at (" + left + ", " + top
                    + ") does not fit a " + width + "x" + height + " image");
        }
        byte[] out = new byte[w * h * 4];
        for (int y = 0; y < h; y++) {
            System.arraycopy(rgba, ((top + y) * width + left) * 4, out, y * w * 4, w * 4);
        }
        return new Rgba8Image(w, h, mode, out);
    }

    /** Package access to the backing array (not copied). */
    byte[] data() {
        return rgba;
    }

    @Override
    public String toString() {
        return "Rgba8Image[" + width + "x" + height + ", " + mode + "]";
    }
}
