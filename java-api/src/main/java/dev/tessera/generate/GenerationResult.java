package dev.tessera.generate;

/**
 * What a generation produced.
 *
 * @param text the generated text (without the prompt and without a matched stop string)
 * @param tokens the generated tokens, including an end-of-generation token that stopped it
 * @param promptTokens tokens evaluated before the first generated one
 * @param promptNanos time to evaluate them
 * @param generationNanos time from the first sampled token to the end
 */
public record GenerationResult(String text, int[] tokens, int promptTokens, long promptNanos, long generationNanos, StopReason stopReason) {
    /** Why generation ended. */
    public enum StopReason { END_OF_GENERATION, STOP_STRING, MAX_TOKENS, CONTEXT_FULL }

    public GenerationResult {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Prompt tokens per second. */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** Generated tokens per second. */
    public double generationTokensPerSecond() {
        return generationNanos == 0 ? 0 : tokens.length * 1e9 / generationNanos;
    }
}
