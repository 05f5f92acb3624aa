package dev.tessera.generate;

import dev.tessera.model.llama.ContextOverflowException;
import dev.tessera.model.llama.LlamaSession;
import dev.tessera.tokenizer.StreamDecoder;
import dev.tessera.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Text generation on a session: evaluates the prompt in batches, then samples one token at a time,
 * streaming each to a listener, until an end-of-generation token, a stop string, the token limit,
 * or a full context. Confined to the session's thread.
 */
public final class Generator {
    private final LlamaSession session;
    private final Tokenizer tokenizer;

    public Generator(LlamaSession session, Tokenizer tokenizer) {
        this.session = session;
        this.tokenizer = tokenizer;
        if (tokenizer.vocabSize() != session.model().config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " tokens, the model "
                    + session.model().config().vocabSize());
        }
    }

    /** Tokenizes text (adding BOS as the vocabulary asks) and generates from it. */
    public GenerationResult generate(String prompt, GenerationParams params, TokenListener listener) {
        return generate(tokenizer.encode(prompt, true, false), params, listener);
    }

    /**
     * Appends the (non-empty) prompt tokens to whatever the session holds and generates. The last
     * generated token is not evaluated (nothing needs its logits); a caller that continues the
     * conversation feeds it first, as {@link ChatSession} does.
     *
     * @throws ContextOverflowException if the prompt itself does not fit; running out of room while
     *     generating ends generation with {@link GenerationResult.StopReason#CONTEXT_FULL} instead
     */
    public GenerationResult generate(int[] prompt, GenerationParams params, TokenListener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        long t0 = System.nanoTime();
        float[] logits = session.decode(prompt);
        return continueFrom(logits, prompt, System.nanoTime() - t0, params, listener);
    }

    /**
     * Generates from logits the session already produced (e.g. after a prompt that ends with image
     * embeddings). history: the context so far, for the repetition penalty; promptNanos is reported
     * as the prompt time.
     */
    public GenerationResult continueFrom(float[] logits, int[] history, long promptNanos, GenerationParams params, TokenListener listener) {
        long t1 = System.nanoTime();
        Sampler sampler = new Sampler(params.sampling());
        int[] past = Arrays.copyOf(history, history.length + params.maxTokens());
        int historyLength = history.length;
        StreamDecoder decoder = tokenizer.streamDecoder(false); // text continues the prompt: keep its leading space
        StopStringFilter stops = new StopStringFilter(params.stopStrings());
        StringBuilder text = new StringBuilder();
        int[] generated = new int[params.maxTokens()];
        int count = 0;
        GenerationResult.StopReason reason = GenerationResult.StopReason.MAX_TOKENS;
        while (count < params.maxTokens()) {
            int token = sampler.sample(logits, past, historyLength);
            generated[count++] = token;
            past[historyLength++] = token;
            if (params.stopAtEndOfGeneration() && tokenizer.isEog(token)) {
                String rest = stops.push(decoder.finish());
                text.append(rest);
                listener.onToken(token, rest);
                reason = GenerationResult.StopReason.END_OF_GENERATION;
                break;
            }
            String piece = stops.push(decoder.next(token));
            text.append(piece);
            listener.onToken(token, piece);
            if (stops.stopped()) {
                reason = GenerationResult.StopReason.STOP_STRING;
                break;
            }
            if (count == params.maxTokens()) {
                break;
            }
            if (session.position() >= session.contextSize()) {
                reason = GenerationResult.StopReason.CONTEXT_FULL;
                break;
            }
            logits = session.decode(token);
        }
        if (reason != GenerationResult.StopReason.STOP_STRING && reason != GenerationResult.StopReason.END_OF_GENERATION) {
            String rest = stops.push(decoder.finish());
            rest += stops.stopped() ? "" : stops.flush();
            if (!rest.isEmpty()) {
                text.append(rest);
                listener.onToken(-1, rest);
            }
        }
        long t2 = System.nanoTime();
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), history.length, promptNanos, t2 - t1, reason);
    }
}
