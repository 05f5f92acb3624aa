package dev.tessera.generate;

import dev.tessera.model.llama.LlamaSession;
import dev.tessera.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * A multi-turn conversation that keeps its KV cache between turns: each {@link #send} evaluates only
 * the new turn's tokens. Confined to one thread.
 */
public final class ChatSession {
    private final LlamaSession session;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Generator generator;
    private final List<ChatTemplate.Message> history = new ArrayList<>();
    private final String system;
    /** The last reply's final token, not yet evaluated (generation never needs its logits). */
    private int unevaluated = -1;

    public ChatSession(LlamaSession session, Tokenizer tokenizer, ChatTemplate template, String systemPrompt) {
        this.session = session;
        this.tokenizer = tokenizer;
        this.template = template;
        this.generator = new Generator(session, tokenizer);
        this.system = systemPrompt;
        if (session.position() != 0) {
            throw new IllegalArgumentException("a chat needs a fresh session (position 0), got position " + session.position());
        }
    }

    /** The turns so far (system prompt first, if any). */
    public List<ChatTemplate.Message> history() {
        return List.copyOf(history);
    }

    /** Sends a user message and streams the reply; returns it. */
    public GenerationResult send(String userMessage, GenerationParams params, TokenListener listener) {
        List<ChatTemplate.Message> turn = new ArrayList<>();
        boolean first = history.isEmpty();
        if (first && system != null && !system.isBlank()) {
            turn.add(new ChatTemplate.Message(ChatTemplate.Role.SYSTEM, system));
        }
        turn.add(new ChatTemplate.Message(ChatTemplate.Role.USER, userMessage));
        String text = template.render(turn, true, first);
        // Only the first chunk gets the BOS the vocabulary adds; later turns carry their own markers.
        int[] tokens = tokenizer.encode(text, first && !text.startsWith("<s>"), true);
        if (unevaluated >= 0) {
            int[] withLast = new int[tokens.length + 1];
            withLast[0] = unevaluated;
            System.arraycopy(tokens, 0, withLast, 1, tokens.length);
            tokens = withLast;
        }
        List<String> stops = new ArrayList<>(params.stopStrings());
        stops.addAll(template.stopStrings());
        GenerationResult r = generator.generate(tokens, params.withStopStrings(stops), listener);
        int[] out = r.tokens();
        unevaluated = out.length == 0 ? -1 : out[out.length - 1];
        history.addAll(turn);
        history.add(new ChatTemplate.Message(ChatTemplate.Role.ASSISTANT, r.text()));
        return r;
    }
}
