package dev.tessera.model.llava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.GenerationResult;
import dev.tessera.generate.SamplingParams;
import dev.tessera.image.Rgba8Image;
import dev.tessera.io.TestFiles;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny LLaVA of the real layout: a random mmproj in llama.cpp's legacy LLaVA-1.5 format (fc1/fc2
 * stored under swapped names) whose projector outputs stories260K's 64 dims, with stories260K as
 * the language model (tools/goldens/llava_goldens.py, PyTorch float64 reference).
 */
class LlavaModelTest {
    private static final Path MMPROJ = TestFiles.resource("goldens/llava/tiny-mmproj.gguf");

    /**
     * Image embeddings against the reference. The file holds F16 matrices (the reference uses the
     * same rounded values); what remains is that an F16 matrix multiplies activations rounded to F16
     * (2^-11 relative, as ggml does at small M) in 2 blocks and the projector. Outputs reach |15|
     * (mean 3.7); the largest error seen is 5.5e-3, so 1e-3 of the largest value (1.5e-2) bounds it.
     */
    @Test
    void imageEmbeddingsMatchTheReference() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(TestFiles.resource("goldens/llava/tiny-llava.safetensors"));
             LlavaImageEncoder enc = LlavaImageEncoder.load(MMPROJ);
             Tensor pixels = Ops.contiguous(golden.tensor("pixels"));
             Tensor got = enc.encodePixels(pixels)) {
            Tensor want = golden.tensor("image_embeddings");
            assertEquals(4, enc.imageTokens());
            assertEquals(List.of(want.shape(0), want.shape(1)), List.of(got.shape(0), got.shape(1)));
            float[] g = got.toFloatArray();
            float[] w = want.toFloatArray();
            double worst = 0;
            double max = 0;
            for (int i = 0; i < g.length; i++) {
                worst = Math.max(worst, Math.abs(g[i] - w[i]));
                max = Math.max(max, Math.abs(w[i]));
            }
            assertTrue(worst < 1e-3 * max, "max |error| " + worst + " for values up to " + max);
        }
    }

    @Test
    void answersAreGreedyDeterministicAndTheChatKeepsItsCache() throws IOException {
        Rgba8Image image = Rgba8Image.ofRgb(40, 20, gradient(40, 20));
        try (LlavaModel m = LlavaModel.load(TestFiles.stories260K(), MMPROJ)) {
            String first = null;
            for (int run = 0; run < 2; run++) {
                try (LlavaChat chat = m.newChat(512)) {
                    StringBuilder streamed = new StringBuilder();
                    GenerationResult r = chat.ask(image, "What is it?", GenerationParams.of(12, SamplingParams.GREEDY), (id, t) -> streamed.append(t));
                    assertEquals(r.text(), streamed.toString());
                    int afterFirst = chat.session().position();
                    assertTrue(afterFirst > m.imageTokens(), "the image's embeddings are in the cache");
                    chat.ask(null, "And then?", GenerationParams.of(4, SamplingParams.GREEDY), (id, t) -> {});
                    assertTrue(chat.session().position() > afterFirst, "the second turn extends the same cache");
                    if (first == null) {
                        first = r.text();
                    } else {
                        assertEquals(first, r.text());
                    }
                }
            }
        }
    }

    @Test
    void rawPromptsNeedOneImagePerMarker() throws IOException {
        Rgba8Image image = Rgba8Image.ofRgb(8, 8, gradient(8, 8));
        try (LlavaModel m = LlavaModel.load(TestFiles.stories260K(), MMPROJ); LlavaChat chat = m.newChat(128)) {
            assertThrows(IllegalArgumentException.class,
                    () -> chat.raw("USER: <image> and <image>", List.of(image), GenerationParams.of(2, SamplingParams.GREEDY), (id, t) -> {}));
            GenerationResult r = chat.raw("<image>\nOnce upon a time", List.of(image), GenerationParams.of(3, SamplingParams.GREEDY), (id, t) -> {});
            assertEquals(3, r.tokens().length);
        }
    }

    @Test
    void aProjectorOfTheWrongWidthIsRefusedWithBothSizes(@TempDir Path dir) throws IOException {
        Path narrow = dir.resolve("narrow.gguf");
        try (GgufFile in = GgufFile.open(MMPROJ)) {
            GgufWriter w = new GgufWriter();
            for (String key : in.metadata().keys()) {
                w.put(key, in.metadata().get(key));
            }
            for (GgufTensorInfo t : in.tensorInfos()) {
                Tensor x = in.tensor(t);
                if (t.name().equals("mm.2.weight") || t.name().equals("mm.2.bias")) {
                    x = x.slice(0, 0, 32);
                }
                w.addTensor(t.name(), x);
            }
            w.write(narrow);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlavaModel.load(TestFiles.stories260K(), narrow));
        assertTrue(e.getMessage().contains("projects to 32 dims") && e.getMessage().contains("embedding length is 64"), e.getMessage());
    }

    @Test
    void imagesArePaddedToASquareOfTheMeanColourAsLlava15Does() {
        Rgba8Image wide = Rgba8Image.ofRgb(5, 2, gradient(5, 2));
        Rgba8Image sq = LlavaImageEncoder.padToSquare(wide, new float[] {0.48145466f, 0.4578275f, 0.40821073f});
        assertEquals(5, sq.width());
        assertEquals(5, sq.height());
        // (5 - 2) / 2 = 1 row of padding above: (122, 116, 104) = int(mean * 255).
        assertEquals(List.of(122, 116, 104), List.of(sq.get(0, 0, 0), sq.get(0, 0, 1), sq.get(0, 0, 2)));
        assertEquals(wide.get(3, 0, 0), sq.get(3, 1, 0));
        assertEquals(wide.get(4, 1, 1), sq.get(4, 2, 1));
        assertEquals(List.of(122, 116, 104), List.of(sq.get(2, 4, 0), sq.get(2, 4, 1), sq.get(2, 4, 2)));
    }

    private static byte[] gradient(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                rgb[i] = (byte) (x * 255 / Math.max(1, w - 1));
                rgb[i + 1] = (byte) (y * 255 / Math.max(1, h - 1));
                rgb[i + 2] = (byte) 128;
            }
        }
        return rgb;
    }
}
