package dev.tessera.image;

import java.util.Objects;

/**
 * Resizing that reproduces Pillow 9.x's {@code Image.resize(size, Image.BICUBIC)} bit for bit,
 * because CLIP's embeddings were computed from images resized that way.
 *
 * <p>Facts of Pillow's algorithm (src/libImaging/Resample.c), re-implemented here:
 * separable convolution, vertical coefficients computed first, the horizontal pass over only
 * the source rows the vertical pass will read, then the vertical pass. The kernel is the cubic
 * convolution with a = -0.5 and support 2, widened by the scale when downsizing (antialias):
 * for output index i, {@code center = (i + 0.5) * scale}, the taps are
 * {@code (int)(center - support + 0.5)} to {@code (int)(center + support + 0.5)} clamped to the
 * image, weights {@code filter((x - center + 0.5) / filterscale)} normalised to sum 1 in double,
 * then converted to fixed point with 22 fraction bits ({@code PRECISION_BITS = 32 - 8 - 2})
 * rounding half away from zero. Each pass accumulates {@code pixel * coefficient} in an int
 * seeded with one half (1 << 21), shifts right by 22 and clamps to 0..255, so the intermediate
 * image is rounded to uint8 between the passes. A pass whose size does not change is skipped.
 *
 * <p>Per mode, as {@code Image.resize}: RGBA is premultiplied ({@code c * a / 255} rounded as
 * Pillow's MULDIV255), resized on all four channels and un-premultiplied
 * ({@code min(255, 255 * c / a)} with integer division, colours kept where a is 0 or 255);
 * palette images are resized NEAREST (Pillow forces it for "P" and "1"), sampling source index
 * {@code floor(a * (i + 0.5))} with the position accumulated in double as Pillow does. Equal
 * sizes return a copy untouched.
 */
public final class PilResize {

    private PilResize() {}

    static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double SUPPORT = 2.0;

    /** Pillow's {@code image.resize((width, height), Image.BICUBIC)} for this image's mode. */
    public static Rgba8Image resizeBicubic(Rgba8Image image, int width, int height) {
        Objects.requireNonNull(image, "image");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        if (width == image.width() && height == image.height()) {
            return Rgba8Image.wrap(width, height, image.mode(), image.data().clone());
        }
        return switch (image.mode()) {
            case PALETTE -> Rgba8Image.wrap(width, height, image.mode(),
                    nearest(image.data(), image.width(), image.height(), width, height));
            case RGB -> Rgba8Image.wrap(width, height, image.mode(),
                    bicubic(image.data(), image.width(), image.height(), width, height, false));
            case RGBA -> {
                byte[] pre = premultiply(image.data());
                byte[] out = bicubic(pre, image.width(), image.height(), width, height, true);
                unpremultiply(out);
                yield Rgba8Image.wrap(width, height, image.mode(), out);
            }
        };
    }

    // ------------------------------------------------------------------ alpha

    /** Pillow's MULDIV255: round(a * b / 255) by two shifts. */
    private static int mulDiv255(int a, int b) {
        int tmp = a * b + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    static byte[] premultiply(byte[] rgba) {
        byte[] out = new byte[rgba.length];
        for (int i = 0; i < rgba.length; i += 4) {
            int a = rgba[i + 3] & 0xff;
            out[i] = (byte) mulDiv255(rgba[i] & 0xff, a);
            out[i + 1] = (byte) mulDiv255(rgba[i + 1] & 0xff, a);
            out[i + 2] = (byte) mulDiv255(rgba[i + 2] & 0xff, a);
            out[i + 3] = (byte) a;
        }
        return out;
    }

    static void unpremultiply(byte[] rgba) {
        for (int i = 0; i < rgba.length; i += 4) {
            int a = rgba[i + 3] & 0xff;
            if (a == 0 || a == 255) continue;
            for (int c = 0; c < 3; c++) {
                int v = 255 * (rgba[i + c] & 0xff) / a;
                rgba[i + c] = (byte) Math.min(v, 255);
            }
        }
    }

    // ------------------------------------------------------------------ nearest

    private static byte[] nearest(byte[] src, int inW, int inH, int outW, int outH) {
        int[] xin = nearestTable(inW, outW);
        int[] yin = nearestTable(inH, outH);
        byte[] out = new byte[outW * outH * 4];
        for (int y = 0; y < outH; y++) {
            int srcRow = yin[y] * inW;
            for (int x = 0; x < outW; x++) {
                System.arraycopy(src, (srcRow + xin[x]) * 4, out, (y * outW + x) * 4, 4);
            }
        }
        return out;
    }

    /** Source index per output index: the position starts at a/2 and grows by a in double. */
    private static int[] nearestTable(int inSize, int outSize) {
        double a = (double) inSize / outSize;
        double pos = a * 0.5;
        int[] t = new int[outSize];
        for (int i = 0; i < outSize; i++) {
            int v = pos < 0.0 ? -1 : (int) pos;
            // Pillow leaves pixels outside the source untouched (zero); the scale keeps them inside.
            t[i] = Math.min(Math.max(v, 0), inSize - 1);
            pos += a;
        }
        return t;
    }

    // ------------------------------------------------------------------ bicubic

    /** Cubic convolution kernel with a = -0.5, evaluated in the same operation order as Pillow. */
    static double bicubicFilter(double x) {
        final double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /** Fixed-point coefficients of one axis: per output index its first tap, tap count and weights. */
    record Coeffs(int ksize, int[] bounds, int[] k) {}

    static Coeffs precompute(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = SUPPORT * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        if ((long) outSize * ksize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("resize " + inSize + " -> " + outSize + " needs too many coefficients");
        }
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] w = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double v = bicubicFilter((x + xmin - center + 0.5) * ss);
                w[x] = v;
                ww += v;
            }
            for (int x = 0; x < xmax; x++) {
                double v = ww != 0.0 ? w[x] / ww : w[x];
                kk[xx * ksize + x] = v < 0
                        ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                        : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    private static int clip8(int ss) {
        int v = ss >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /**
     * Two-pass fixed-point bicubic over 4-byte pixels. {@code withAlpha} resamples the fourth
     * channel too; otherwise it is set to 255 (Pillow's RGB images carry no alpha).
     */
    static byte[] bicubic(byte[] src, int inW, int inH, int outW, int outH, boolean withAlpha) {
        int channels = withAlpha ? 4 : 3;
        boolean needH = outW != inW;
        boolean needV = outH != inH;
        Coeffs vert = precompute(inH, outH);
        int yFirst = vert.bounds()[0];
        int yLast = vert.bounds()[outH * 2 - 2] + vert.bounds()[outH * 2 - 1];

        byte[] cur = src;
        int curW = inW;
        int rowOffset = 0; // first source row held by `cur`
        if (needH) {
            Coeffs hor = precompute(inW, outW);
            int rows = yLast - yFirst;
            byte[] tmp = new byte[outW * rows * 4];
            int ksize = hor.ksize();
            int[] hk = hor.k();
            int[] hb = hor.bounds();
            for (int yy = 0; yy < rows; yy++) {
                int inRow = (yy + yFirst) * inW * 4;
                int outRow = yy * outW * 4;
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = hb[xx * 2];
                    int xmax = hb[xx * 2 + 1];
                    int kb = xx * ksize;
                    for (int c = 0; c < channels; c++) {
                        int ss = 1 << (PRECISION_BITS - 1);
                        int p = inRow + xmin * 4 + c;
                        for (int x = 0; x < xmax; x++, p += 4) {
                            ss += (src[p] & 0xff) * hk[kb + x];
                        }
                        tmp[outRow + xx * 4 + c] = (byte) clip8(ss);
                    }
                    if (!withAlpha) tmp[outRow + xx * 4 + 3] = (byte) 255;
                }
            }
            cur = tmp;
            curW = outW;
            rowOffset = yFirst;
        }
        if (!needV) {
            if (cur == src) {
                return src.clone();
            }
            return cur;
        }
        byte[] out = new byte[outW * outH * 4];
        int ksize = vert.ksize();
        int[] vk = vert.k();
        int[] vb = vert.bounds();
        int stride = curW * 4;
        for (int yy = 0; yy < outH; yy++) {
            int ymin = vb[yy * 2] - rowOffset;
            int ymax = vb[yy * 2 + 1];
            int kb = yy * ksize;
            int outRow = yy * outW * 4;
            for (int xx = 0; xx < curW; xx++) {
                for (int c = 0; c < channels; c++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    int p = (ymin * curW + xx) * 4 + c;
                    for (int y = 0; y < ymax; y++, p += stride) {
                        ss += (cur[p] & 0xff) * vk[kb + y];
                    }
                    out[outRow + xx * 4 + c] = (byte) clip8(ss);
                }
                if (!withAlpha) out[outRow + xx * 4 + 3] = (byte) 255;
            }
        }
        return out;
    }
}
