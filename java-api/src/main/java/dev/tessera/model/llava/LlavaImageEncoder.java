package dev.tessera.model.llava;

import dev.tessera.image.ClipImagePreprocessor;
import dev.tessera.image.ImageIo;
import dev.tessera.image.Rgba8Image;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.model.clip.ClipModel;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The image half of LLaVA-1.5, from an mmproj GGUF (llama.cpp's layout, FORMATS.md §4): CLIP vision
 * tower and MLP projector. Follows the original LLaVA where llama.cpp differs: every stored vision
 * block runs (the file already dropped the tower's last one), the class token comes first and is
 * dropped after the tower, the projector's GELU is exact, images are padded to a square of the mean
 * colour before CLIP's resize. Closing releases the file.
 */
public final class LlavaImageEncoder implements AutoCloseable {
    private final ClipModel vision;
    private final GgufFile mmproj;
    private final LlavaProjector projector;

    private LlavaImageEncoder(ClipModel vision, GgufFile mmproj) {
        this.vision = vision;
        this.mmproj = mmproj;
        if (!vision.hasVision()) {
            throw new IllegalArgumentException("mmproj has no vision encoder");
        }
        this.projector = LlavaProjector.from(mmproj, vision.config().vision().width());
    }

    /**
     * @throws IOException if the file cannot be read or is not valid GGUF
     * @throws IllegalArgumentException if it is not an LLaVA mmproj this library can run (named)
     */
    public static LlavaImageEncoder load(Path mmprojPath) throws IOException {
        return load(mmprojPath, dev.tessera.runtime.CpuBackend.INSTANCE);
    }

    /** As {@link #load(Path)}, the vision tower running on backend (the projector runs on the CPU). */
    public static LlavaImageEncoder load(Path mmprojPath, dev.tessera.runtime.Backend backend) throws IOException {
        ClipModel vision = ClipModel.load(mmprojPath, backend);
        GgufFile mm = null;
        try {
            mm = GgufFile.open(mmprojPath);
            return new LlavaImageEncoder(vision, mm);
        } catch (IOException | RuntimeException e) {
            if (mm != null) {
                mm.close();
            }
            vision.close();
            throw e;
        }
    }

    public ClipModel visionModel() {
        return vision;
    }

    /** Embeddings per image (the tower's patches, e.g. 576 for ViT-L/14-336). */
    public int imageTokens() {
        return vision.config().vision().grid() * vision.config().vision().grid();
    }

    /** Width of the embeddings: the language model's embedding length. */
    public int outputWidth() {
        return projector.outputWidth();
    }

    public Tensor encodeImage(Path file) throws IOException {
        return encodeImage(ImageIo.read(file));
    }

    /** The image's embeddings F32 [imageTokens, outputWidth], a new tensor the caller closes. */
    public Tensor encodeImage(Rgba8Image image) {
        try (Tensor pixels = preprocess(image)) {
            return encodePixels(pixels);
        }
    }

    /** Embeddings of preprocessed pixels F32 [3, size, size]. */
    public Tensor encodePixels(Tensor pixels) {
        int layers = vision.config().vision().blocks();
        int tokens = vision.config().vision().tokens();
        try (Tensor hidden = vision.visionHiddenState(pixels.reshape(1, pixels.shape(0), pixels.shape(1), pixels.shape(2)), layers);
             Tensor patches = Ops.contiguous(hidden.select(0, 0).slice(0, 1, tokens))) {
            return projector.project(patches);
        }
    }

    /** LLaVA-1.5's "pad" preprocessing: the image centred on a square of the mean colour, then CLIP's. */
    public Tensor preprocess(Rgba8Image image) {
        ClipImagePreprocessor p = vision.preprocessor();
        return p.preprocess(padToSquare(image.toRgbImage(), vision.config().vision().mean()));
    }

    /** Pastes the image centred ((side - size) / 2, integer division) on a square of colour (int)(mean * 255). */
    static Rgba8Image padToSquare(Rgba8Image rgb, float[] mean) {
        int w = rgb.width();
        int h = rgb.height();
        if (w == h) {
            return rgb;
        }
        int side = Math.max(w, h);
        byte[] src = rgb.toRgb();
        byte[] dst = new byte[side * side * 3];
        for (int i = 0; i < side * side; i++) {
            for (int c = 0; c < 3; c++) {
                dst[3 * i + c] = (byte) (int) (mean[c] * 255);
            }
        }
        int x0 = (side - w) / 2;
        int y0 = (side - h) / 2;
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, y * w * 3, dst, ((y + y0) * side + x0) * 3, w * 3);
        }
        return Rgba8Image.ofRgb(side, side, dst);
    }

    @Override
    public void close() {
        try {
            vision.close();
        } finally {
            mmproj.close();
        }
    }
}
