package dev.tessera.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.TestFiles;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Files written by llama.cpp's own tools: the reader must accept them and see what they hold. */
class GgufRealFilesTest {
    @Test
    void stories260KHasTheLlamaHyperparameters() throws IOException {
        try (GgufFile f = GgufFile.open(TestFiles.stories260K())) {
            GgufMetadata m = f.metadata();
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals("llama", m.getString("general.architecture"));
            assertEquals(64, m.getInt("llama.embedding_length"));
            assertEquals(5, m.getInt("llama.block_count"));
            assertEquals(8, m.getInt("llama.attention.head_count"));
            assertEquals(4, m.getInt("llama.attention.head_count_kv"));
            assertEquals(128, m.getInt("llama.context_length"));
            assertEquals(172, m.getInt("llama.feed_forward_length"));
            assertEquals(8, m.getInt("llama.rope.dimension_count"));
            assertEquals(1e-5f, m.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(2, m.getInt("tokenizer.ggml.eos_token_id"));
            assertEquals(0xFFFF_FFFFL, m.getLong("tokenizer.ggml.padding_token_id")); // "no token" as u32
            assertEquals(19, m.size());
        }
    }

    @Test
    void stories260KHasThe512TokenVocabulary() throws IOException {
        try (GgufFile f = GgufFile.open(TestFiles.stories260K())) {
            GgufMetadata m = f.metadata();
            List<String> tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(512, tokens.size());
            assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>", "<0x01>"), tokens.subList(0, 5));
            assertEquals(List.of("\u2581t", "he", "\u2581a"), tokens.subList(259, 262));
            float[] scores = m.getFloatArray("tokenizer.ggml.scores");
            assertEquals(512, scores.length);
            assertEquals(-41f, scores[300]);
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertArrayEquals(new int[] {2, 3, 3, 6, 6}, java.util.Arrays.copyOf(types, 5));
        }
    }

    @Test
    void stories260KTensorShapesAreGgmlNeReversed() throws IOException {
        try (GgufFile f = GgufFile.open(TestFiles.stories260K())) {
            assertEquals(3 + 5 * 9, f.tensorInfos().size());
            assertEquals(14176, f.dataStart());
            GgufTensorInfo emb = f.tensorInfo("token_embd.weight");
            assertArrayEquals(new long[] {64, 512}, emb.ne());
            assertArrayEquals(new long[] {512, 64}, emb.shape());
            assertEquals(DType.F32, emb.type());
            assertArrayEquals(new long[] {64, 32}, f.tensorInfo("blk.0.attn_k.weight").ne());
            assertArrayEquals(new long[] {32, 64}, f.tensor("blk.0.attn_k.weight").shape());
            assertArrayEquals(new long[] {172, 64}, f.tensorInfo("blk.4.ffn_down.weight").ne());
            assertArrayEquals(new long[] {64, 172}, f.tensor("blk.0.ffn_down.weight").shape());
            assertArrayEquals(new long[] {64}, f.tensor("output_norm.weight").shape());
            for (GgufTensorInfo t : f.tensorInfos()) {
                assertEquals(DType.F32, t.type(), t.name());
                assertEquals(0, t.offset() % 32, t.name());
            }
            assertFalse(f.hasTensor("rope_freqs.weight"));
        }
    }

    @Test
    void stories260KTensorViewsReadTheFileBytes() throws IOException {
        // Expected values were read with Python's struct module at data_start + offset.
        try (GgufFile f = GgufFile.open(TestFiles.stories260K())) {
            Tensor emb = f.tensor("token_embd.weight");
            assertFalse(emb.ownsMemory());
            assertEquals(-0.29474878311157227f, emb.getFloat(0, 0));
            assertEquals(-0.424032598733902f, emb.getFloat(511, 63));
            Tensor k = f.tensor("blk.0.attn_k.weight");
            assertEquals(0.2161301076412201f, k.getFloat(0, 0));
            assertEquals(-0.14113907516002655f, k.getFloat(1, 2));
            assertEquals(-0.05123535171151161f, f.tensor("blk.0.ffn_down.weight").getFloat(5, 100));
            float[] norm = f.tensor("output_norm.weight").toFloatArray();
            assertArrayEquals(new float[] {2.4583089351654053f, 1.3673226833343506f, 1.7504382133483887f},
                    java.util.Arrays.copyOf(norm, 3));
            // Zero copy: the view's memory is the mapping at data_start + offset.
            assertEquals(f.tensor("output_norm.weight").segment().address() - emb.segment().address(),
                    f.tensorInfo("output_norm.weight").offset());
        }
    }

    @Test
    void tensorViewsBecomeUnusableAfterClose() throws IOException {
        Tensor emb;
        GgufFile f = GgufFile.open(TestFiles.stories260K());
        emb = f.tensor("token_embd.weight");
        f.close();
        f.close();
        assertThrows(IllegalStateException.class, () -> emb.getFloat(0, 0));
        assertThrows(IllegalStateException.class, () -> f.tensor("token_embd.weight"));
    }

    @Test
    void llamaSpmVocabularyHasTokensScoresAndTypes() throws IOException {
        try (GgufFile f = GgufFile.open(TestFiles.llamaSpmVocab())) {
            GgufMetadata m = f.metadata();
            assertTrue(f.tensorInfos().isEmpty());
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            assertEquals("default", m.getString("tokenizer.ggml.pre"));
            List<String> tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(32000, tokens.size());
            assertEquals(32000, m.getInt("llama.vocab_size"));
            assertEquals("<s>", tokens.get(1));
            assertEquals("<0x0A>", tokens.get(13));
            assertEquals("\u2581\u2581", tokens.get(259));
            assertEquals("\u7ed9", tokens.get(31999)); // multi-byte UTF-8 decoded
            assertEquals(32000, m.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(-241f, m.getFloatArray("tokenizer.ggml.scores")[500]);
            assertEquals(GgufValueType.INT32, m.getArray("tokenizer.ggml.token_type").elementType());
            assertEquals(6, m.getArray("tokenizer.ggml.token_type").getLong(3)); // <0x00> is BYTE
            assertTrue(m.getBoolean("tokenizer.ggml.add_bos_token"));
            assertFalse(m.getBoolean("tokenizer.ggml.add_eos_token"));
            assertFalse(m.contains("tokenizer.ggml.merges"));
        }
    }

    @Test
    void gpt2VocabularyHasTokensAndMerges() throws IOException {
        try (GgufFile f = GgufFile.open(TestFiles.gpt2Vocab())) {
            GgufMetadata m = f.metadata();
            assertTrue(f.tensorInfos().isEmpty());
            assertEquals("gpt2", m.getString("general.architecture"));
            assertEquals("gpt2", m.getString("tokenizer.ggml.model"));
            assertEquals("gpt-2", m.getString("tokenizer.ggml.pre"));
            List<String> tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(50257, tokens.size());
            assertEquals("!", tokens.get(0));
            assertEquals("\u0120", tokens.get(220));
            assertEquals("<|endoftext|>", tokens.get(50256));
            List<String> merges = m.getStringArray("tokenizer.ggml.merges");
            assertEquals(50000, merges.size());
            assertEquals(List.of("\u0120 t", "\u0120 a", "h e"), merges.subList(0, 3));
            assertEquals("\u0120g azed", merges.get(49999));
            assertEquals(50256, m.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(3, m.getIntArray("tokenizer.ggml.token_type")[50256]);
        }
    }
}
