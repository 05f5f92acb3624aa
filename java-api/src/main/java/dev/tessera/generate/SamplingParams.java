package dev.tessera.generate;

/**
 * How the next token is chosen from the logits, as llama.cpp's sampler chain applies them:
 * repetition penalty over the last {@code repeatLastN} tokens, then top-k, top-p and min-p
 * filtering, then temperature, then a draw from the seeded generator. A temperature of 0 or less
 * is greedy (the highest logit after the penalty).
 *
 * @param topK keep the k most likely tokens; 0 keeps all
 * @param topP keep the smallest set of most likely tokens whose probability sum reaches p; 1 keeps all
 * @param minP drop tokens less likely than minP times the most likely one; 0 keeps all
 * @param repeatPenalty divide positive (multiply negative) logits of recent tokens by this; 1 is off
 * @param seed the same seed with the same model and prompt gives the same text
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatLastN, long seed) {
    /** Greedy decoding, no penalty. */
    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 0, 0);

    /** llama.cpp's defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalty). */
    public static SamplingParams defaults(long seed) {
        return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 64, seed);
    }

    public SamplingParams {
        if (Float.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature is NaN");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        }
        if (!(repeatPenalty > 0)) {
            throw new IllegalArgumentException("repeat penalty must be positive, got " + repeatPenalty);
        }
        if (repeatLastN < 0) {
            throw new IllegalArgumentException("repeat-last-n must be >= 0, got " + repeatLastN);
        }
    }

    public boolean greedy() {
        return temperature <= 0;
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, minP, repeatPenalty, repeatLastN, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, s);
    }
}
