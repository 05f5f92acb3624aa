package dev.tessera.tokenizer;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufMetadata;
import java.util.Objects;

/**
 * A tokenizer built from the {@code tokenizer.ggml.*} metadata of a GGUF file, producing the same
 * token ids as llama.cpp for the same vocabulary.
 *
 * <p>Supported {@code tokenizer.ggml.model} values: {@code llama} (SentencePiece BPE driven by
 * token scores, with byte fallback), {@code gpt2} (byte-level BPE driven by merge ranks, with the
 * pre-tokenizer named by {@code tokenizer.ggml.pre}) and {@code bert} (WordPiece). Any other model,
 * or an unknown pre-tokenizer name, is rejected with an {@link IllegalArgumentException}; there is no
 * silent fallback. A missing {@code tokenizer.ggml.pre} means {@code default}, as in llama.cpp.
 *
 * <p>Instances are immutable and thread-safe; {@link #streamDecoder(boolean)} hands out a stateful
 * decoder per generation stream.
 */
public interface Tokenizer {

    /** Reads the tokenizer of an open GGUF file. */
    static Tokenizer fromGguf(GgufFile file) {
        Objects.requireNonNull(file, "file");
        return fromMetadata(file.metadata(), file.path().toString());
    }

    /**
     * Builds a tokenizer from GGUF metadata.
     *
     * @param source names the file in error messages
     * @throws IllegalArgumentException for missing or malformed tokenizer keys, an unknown model or pre-tokenizer
     */
    static Tokenizer fromMetadata(GgufMetadata metadata, String source) {
        Objects.requireNonNull(metadata, "metadata");
        return new GgufTokenizer(metadata, source == null ? "<metadata>" : source);
    }

    /** {@code tokenizer.ggml.model}: "llama", "gpt2" or "bert". */
    String model();

    /** The pre-tokenizer in use ("default" when the file names none). */
    String preTokenizer();

    int vocabSize();

    /** Special token ids; -1 where the vocabulary has none. */
    int bosId();

    int eosId();

    int unkId();

    int padId();

    /** Whether {@code encode(text, true, ..)} prepends BOS / appends EOS. */
    boolean addsBos();

    boolean addsEos();

    /** True for tokens that end generation (EOS, EOT, EOM and the end-of-turn tokens llama.cpp recognises by text). */
    boolean isEog(int id);

    /** True for control and unknown tokens (rendered only when asked to). */
    boolean isControl(int id);

    /**
     * Tokenizes {@code text}.
     *
     * @param addSpecial add BOS/EOS (and SEP for WordPiece) as the metadata asks
     * @param parseSpecial turn control-token text such as {@code <s>} into that token; user-defined
     *     tokens are always matched, as in llama.cpp
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** {@code encode(text, true, false)}. */
    default int[] encode(String text) {
        return encode(text, true, false);
    }

    /** The token's text as stored in the vocabulary (e.g. {@code ▁Hello}, {@code Ġworld}, {@code <0x0A>}). */
    String token(int id);

    /**
     * The bytes this token stands for in decoded text. Control/unknown tokens give their text when
     * {@code special} is true, else nothing.
     */
    byte[] pieceBytes(int id, boolean special);

    /** {@link #pieceBytes(int, boolean) pieceBytes(id, true)} as text; a partial UTF-8 sequence shows as U+FFFD. */
    String piece(int id);

    /** {@code decode(ids, false, false)}. */
    default String decode(int[] ids) {
        return decode(ids, false, false);
    }

    /**
     * Detokenizes as llama.cpp does: pieces concatenated, the space added by the SentencePiece
     * prefix rule removed from the first piece, and (for vocabularies that ask for it) the
     * "clean up tokenization spaces" rules applied.
     *
     * @param removeSpecial drop a leading BOS / trailing EOS that the tokenizer would have added
     * @param unparseSpecial render control tokens as their text (else they give nothing)
     */
    String decode(int[] ids, boolean removeSpecial, boolean unparseSpecial);

    /**
     * A new decoder for a token stream that emits text only at complete UTF-8 boundaries.
     *
     * @param startOfText true when the stream starts the text (as in {@link #decode(int[])}: the
     *     SentencePiece prefix space of the first piece is dropped); false when it continues text
     *     that came before, e.g. the tokens generated after a prompt
     */
    StreamDecoder streamDecoder(boolean startOfText);
}
