package dev.tessera.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.TestFiles;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * LLaVA's way into the language model: token ids, then image embeddings fed as input embeddings,
 * then more ids, in one session. Checked against the PyTorch float64 forward of the same sequence
 * (tools/goldens/llava_goldens.py) at every position after the image.
 */
class LlamaEmbeddingsInputTest {
    @Test
    void tokensThenEmbeddingsThenTokensGiveThePyTorchLogits() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(TestFiles.resource("goldens/llava/tiny-llava.safetensors"));
             LlamaModel model = LlamaModel.open(TestFiles.stories260K());
             LlamaSession s = model.newSession(64, 8)) {
            int[] before = golden.tensor("tokens_before").segment().toArray(ValueLayout.JAVA_INT_UNALIGNED);
            int[] after = golden.tensor("tokens_after").segment().toArray(ValueLayout.JAVA_INT_UNALIGNED);
            Tensor want = golden.tensor("logits");
            try (Tensor image = dev.tessera.ops.Ops.contiguous(golden.tensor("image_embeddings"))) {
                s.decode(before);
                float[] got = s.decodeEmbeddings(image);
                int pos = before.length + (int) image.shape(0) - 1;
                assertClose(want, pos, got);
                for (int i = 0; i < after.length; i++) {
                    got = s.decode(after[i]);
                    assertClose(want, pos + 1 + i, got);
                }
                assertEquals(want.shape(0), s.position());
            }
        }
    }

    /** Same bound as the token-only test: 1% of the logit range (F16 KV cache), same argmax. */
    private static void assertClose(Tensor want, int pos, float[] got) {
        double worst = 0;
        double range = 0;
        int best = 0;
        int bestWant = 0;
        for (int v = 0; v < got.length; v++) {
            float w = want.getFloat(pos, v);
            worst = Math.max(worst, Math.abs(w - got[v]));
            range = Math.max(range, Math.abs(w));
            best = got[v] > got[best] ? v : best;
            bestWant = w > want.getFloat(pos, bestWant) ? v : bestWant;
        }
        assertEquals(bestWant, best, "argmax at position " + pos);
        assertTrue(worst <= 0.01 * range, "position " + pos + ": max error " + worst + " vs range " + range);
    }
}
