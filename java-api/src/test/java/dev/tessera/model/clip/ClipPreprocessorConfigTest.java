package dev.tessera.model.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Image mean/std of a Hugging Face folder come from its preprocessor_config.json when present. */
class ClipPreprocessorConfigTest {
    private static final String CONFIG = "{\"vision_config\": {\"image_size\": 32, \"patch_size\": 8, \"hidden_size\": 64,"
            + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"intermediate_size\": 128}}";

    @Test
    void meanAndStdAreReadAndMissingKeysKeepOpenAisValues() {
        ClipConfig c = ClipConfig.fromHfJson(CONFIG);
        ClipConfig p = c.withPreprocessorJson("{\"image_mean\": [0.5, 0.5, 0.5], \"crop_size\": 32}");
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, p.vision().mean());
        assertArrayEquals(c.vision().std(), p.vision().std());
    }

    @Test
    void malformedValuesAreRejected() {
        ClipConfig c = ClipConfig.fromHfJson(CONFIG);
        assertThrows(IllegalArgumentException.class, () -> c.withPreprocessorJson("{\"image_std\": [0.5, 0.5]}"));
        assertThrows(IllegalArgumentException.class, () -> c.withPreprocessorJson("{\"image_std\": [0.5, 0, 0.5]}"));
        assertThrows(IllegalArgumentException.class, () -> c.withPreprocessorJson("[1, 2]"));
    }
}
