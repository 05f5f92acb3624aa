package dev.tessera.model.llava;

import dev.tessera.generate.GenerationParams;
import dev.tessera.generate.GenerationResult;
import dev.tessera.generate.Generator;
import dev.tessera.generate.TokenListener;
import dev.tessera.image.Rgba8Image;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A conversation about images with LLaVA-1.5's template (conversation "llava_v1" of the original
 * repository): {@code {system} USER: <image>\n{question} ASSISTANT:}, later turns
 * {@code  USER: {question} ASSISTANT:} after the previous reply's {@code </s>}. The KV cache is kept
 * between turns, so an image is encoded and evaluated once; any turn may bring a new image.
 *
 * <p>Text around an image is tokenized in separate pieces, BOS only before the first piece of the
 * conversation (as both the original LLaVA and llama.cpp do). Confined to one thread; close it to
 * free the KV cache.
 */
public final class LlavaChat implements AutoCloseable {
    /** LLaVA-1.5's system prompt. */
    public static final String SYSTEM = "A chat between a curious human and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the human's questions.";
    /** Where an image's embeddings go in a raw prompt. */
    public static final String IMAGE_MARKER = "<image>";

    private final LlavaModel model;
    private final LlamaSession session;
    private final Generator generator;
    private final List<Integer> history = new ArrayList<>();
    private int unevaluated = -1;
    private long imageNanos;

    LlavaChat(LlavaModel model, LlamaSession session) {
        this.model = model;
        this.session = session;
        this.generator = new Generator(session, model.tokenizer());
    }

    public LlamaSession session() {
        return session;
    }

    /** Time spent encoding images in the last call. */
    public long imageEncodeNanos() {
        return imageNanos;
    }

    /** Asks about an image (or, with image null, continues the conversation) and streams the answer. */
    public GenerationResult ask(Rgba8Image image, String question, GenerationParams params, TokenListener listener) {
        boolean first = session.position() == 0 && unevaluated < 0;
        String turn = (first ? SYSTEM : "") + " USER: " + (image != null ? IMAGE_MARKER + "\n" : "") + question.strip() + " ASSISTANT:";
        return raw(turn, image == null ? List.of() : List.of(image), params.withStopStrings(concat(params.stopStrings(), List.of("</s>"))),
                listener);
    }

    /**
     * Uses the prompt as written: each {@value #IMAGE_MARKER} takes the next image's embeddings, text
     * pieces are tokenized with special-token parsing, BOS only at the start of the conversation.
     *
     * @throws IllegalArgumentException if markers and images do not pair up
     * @throws dev.tessera.model.llama.ContextOverflowException if the prompt does not fit
     */
    public GenerationResult raw(String prompt, List<Rgba8Image> images, GenerationParams params, TokenListener listener) {
        String[] pieces = prompt.split(java.util.regex.Pattern.quote(IMAGE_MARKER), -1);
        if (pieces.length - 1 != images.size()) {
            throw new IllegalArgumentException("the prompt has " + (pieces.length - 1) + " " + IMAGE_MARKER + " markers for "
                    + images.size() + " images");
        }
        imageNanos = 0;
        long t0 = System.nanoTime();
        float[] logits = null;
        if (unevaluated >= 0) {
            logits = session.decode(unevaluated);
            history.add(unevaluated);
            unevaluated = -1;
        }
        for (int i = 0; i < pieces.length; i++) {
            if (!pieces[i].isEmpty()) {
                int[] ids = model.tokenizer().encode(pieces[i], session.position() == 0, true);
                if (ids.length > 0) {
                    logits = session.decode(ids);
                    for (int id : ids) {
                        history.add(id);
                    }
                }
            } else if (i == 0 && session.position() == 0 && model.tokenizer().addsBos()) {
                logits = session.decode(model.tokenizer().bosId());
                history.add(model.tokenizer().bosId());
            }
            if (i < images.size()) {
                long e0 = System.nanoTime();
                try (Tensor emb = model.encodeImage(images.get(i))) {
                    imageNanos += System.nanoTime() - e0;
                    logits = session.decodeEmbeddings(emb);
                }
                for (int k = 0; k < model.imageTokens(); k++) {
                    history.add(-1); // image positions: no token to penalise
                }
            }
        }
        if (logits == null) {
            throw new IllegalArgumentException("empty prompt");
        }
        int[] past = history.stream().mapToInt(Integer::intValue).toArray();
        GenerationResult r = generator.continueFrom(logits.clone(), past, System.nanoTime() - t0 - imageNanos, params, listener);
        int[] out = r.tokens();
        for (int k = 0; k < out.length - 1; k++) {
            history.add(out[k]);
        }
        unevaluated = out.length == 0 ? -1 : out[out.length - 1];
        return r;
    }

    /** A one-sentence description of the image. */
    public GenerationResult caption(Rgba8Image image, GenerationParams params, TokenListener listener) {
        return ask(image, "Describe this image in one sentence.", params, listener);
    }

    /** The answer to a question about the image. */
    public GenerationResult answer(Rgba8Image image, String question, GenerationParams params, TokenListener listener) {
        return ask(image, question, params, listener);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Override
    public void close() {
        session.close();
    }
}
