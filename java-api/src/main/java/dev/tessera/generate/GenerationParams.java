package dev.tessera.generate;

import java.util.List;

/**
 * When generation stops and how tokens are drawn.
 *
 * @param maxTokens most tokens to generate
 * @param stopStrings generation ends when the text produced contains one; it is not part of the output
 * @param stopAtEndOfGeneration end at the model's end-of-generation tokens (EOS, end of turn)
 */
public record GenerationParams(int maxTokens, SamplingParams sampling, List<String> stopStrings, boolean stopAtEndOfGeneration) {
    public GenerationParams {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling params are null");
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty stop string");
            }
        }
    }

    public static GenerationParams of(int maxTokens, SamplingParams sampling) {
        return new GenerationParams(maxTokens, sampling, List.of(), true);
    }

    public GenerationParams withStopStrings(List<String> stops) {
        return new GenerationParams(maxTokens, sampling, stops, stopAtEndOfGeneration);
    }
}
