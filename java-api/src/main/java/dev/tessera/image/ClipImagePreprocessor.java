package dev.tessera.image;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * OpenAI CLIP's image preprocessing: {@code Resize(size, BICUBIC)}, {@code CenterCrop(size)},
 * {@code convert("RGB")}, {@code ToTensor()}, {@code Normalize(mean, std)}, reproduced exactly.
 *
 * <ul>
 *   <li>Resize: the shorter side becomes {@code size}, the longer {@code (int)(size * long / short)}
 *       (torchvision's rule for an int size), resampled as Pillow's BICUBIC ({@link PilResize}),
 *       in the image's own mode: CLIP resizes before converting, so RGBA images are resized
 *       premultiplied and palette images NEAREST, as Pillow does.</li>
 *   <li>CenterCrop: offsets {@code round((h - size) / 2.0)} with Python's round (half to even).</li>
 *   <li>convert("RGB"): alpha is dropped, not composited over a background.</li>
 *   <li>ToTensor + Normalize: {@code ((float) v / 255f - mean[c]) / std[c]} in float, CHW.</li>
 * </ul>
 * Instances are immutable and thread-safe.
 */
public final class ClipImagePreprocessor {

    /** OpenAI's CLIP normalisation mean (R, G, B). */
    public static final float[] OPENAI_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    /** OpenAI's CLIP normalisation standard deviation (R, G, B). */
    public static final float[] OPENAI_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    /** Tensor memory is little-endian F32. */
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final int size;
    private final float[] mean;
    private final float[] std;

    /** OpenAI's preprocessing for input resolution {@code size} (224 for ViT-B/32, 336 for ViT-L/14@336px). */
    public ClipImagePreprocessor(int size) {
        this(size, OPENAI_MEAN, OPENAI_STD);
    }

    public ClipImagePreprocessor(int size, float[] mean, float[] std) {
        if (size <= 0) throw new IllegalArgumentException("size must be positive, got " + size);
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values (R, G, B), got " + mean.length + " and " + std.length);
        }
        for (int c = 0; c < 3; c++) {
            if (!Float.isFinite(mean[c]) || !Float.isFinite(std[c]) || std[c] == 0f) {
                throw new IllegalArgumentException("mean/std must be finite and std non-zero, channel " + c
                        + ": mean " + mean[c] + ", std " + std[c]);
            }
        }
        this.size = size;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    public int size() {
        return size;
    }

    /** torchvision's Resize(size) output for a {@code width x height} image: {@code {newWidth, newHeight}}. */
    public static int[] resizedSize(int width, int height, int size) {
        if (width <= 0 || height <= 0 || size <= 0) {
            throw new IllegalArgumentException("sizes must be positive: " + width + "x" + height + ", size " + size);
        }
        boolean portrait = width <= height;
        long shortSide = portrait ? width : height;
        long longSide = portrait ? height : width;
        // Python: int(size * long / short), the product exact, one correctly rounded division.
        double newLongD = (double) (size * longSide) / (double) shortSide;
        if (newLongD >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("image " + width + "x" + height + " is too elongated to resize to " + size);
        }
        int newLong = (int) newLongD;
        return portrait ? new int[] {size, newLong} : new int[] {newLong, size};
    }

    /** Step 1: the resize (image still in its own mode). */
    public Rgba8Image resize(Rgba8Image image) {
        int[] wh = resizedSize(image.width(), image.height(), size);
        return PilResize.resizeBicubic(image, wh[0], wh[1]);
    }

    /** Step 2: torchvision's CenterCrop(size) on an image at least {@code size} on each side. */
    public Rgba8Image centerCrop(Rgba8Image image) {
        return centerCrop(image, size);
    }

    public static Rgba8Image centerCrop(Rgba8Image image, int size) {
        Objects.requireNonNull(image, "image");
        if (image.width() < size || image.height() < size) {
            // torchvision would pad; after Resize(size) this cannot happen, so refuse rather than guess.
            throw new IllegalArgumentException("centerCrop(" + size + ") needs an image at least that large, got "
                    + image.width() + "x" + image.height());
        }
        int top = (int) Math.rint((image.height() - size) / 2.0);
        int left = (int) Math.rint((image.width() - size) / 2.0);
        return image.crop(left, top, size, size);
    }

    /** Steps 3-5 on a {@code size x size} image: CHW floats, normalised. */
    public float[] normalize(Rgba8Image cropped) {
        Objects.requireNonNull(cropped, "cropped");
        int w = cropped.width();
        int h = cropped.height();
        byte[] px = cropped.data();
        float[] out = new float[3 * w * h];
        int plane = w * h;
        for (int c = 0; c < 3; c++) {
            float m = mean[c];
            float s = std[c];
            for (int i = 0; i < plane; i++) {
                float v = (float) (px[i * 4 + c] & 0xff) / 255f;
                out[c * plane + i] = (v - m) / s;
            }
        }
        return out;
    }

    /** The whole pipeline as a float array, CHW {@code [3, size, size]}. */
    public float[] preprocessToArray(Rgba8Image image) {
        return normalize(centerCrop(resize(image)));
    }

    /** The whole pipeline: an owning F32 tensor {@code [3, size, size]} (close it when done). */
    public Tensor preprocess(Rgba8Image image) {
        return Tensor.of(preprocessToArray(image), 3, size, size);
    }

    /** Reads {@code file} ({@link ImageIo#read}) and preprocesses it. */
    public Tensor preprocess(Path file) throws IOException {
        return preprocess(ImageIo.read(file));
    }

    /** A batch {@code [N, 3, size, size]} of the given images, in order. */
    public Tensor preprocessBatch(List<Rgba8Image> images) {
        Objects.requireNonNull(images, "images");
        if (images.isEmpty()) throw new IllegalArgumentException("preprocessBatch needs at least one image");
        long per = 3L * size * size;
        Tensor batch = Tensor.allocate(DType.F32, images.size(), 3, size, size);
        try {
            MemorySegment seg = batch.segment();
            for (int i = 0; i < images.size(); i++) {
                float[] one = preprocessToArray(Objects.requireNonNull(images.get(i), "images[" + i + "]"));
                MemorySegment.copy(one, 0, seg, F32_LE, i * per * Float.BYTES, one.length);
            }
        } catch (RuntimeException | Error e) {
            batch.close();
            throw e;
        }
        return batch;
    }

    /** Reads and preprocesses each file into one {@code [N, 3, size, size]} batch. */
    public Tensor preprocessFiles(List<Path> files) throws IOException {
        Objects.requireNonNull(files, "files");
        List<Rgba8Image> images = new java.util.ArrayList<>(files.size());
        for (Path f : files) images.add(ImageIo.read(f));
        return preprocessBatch(images);
    }
}
