package dev.tessera.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 2.9f, 0.0f};

    @Test
    void greedyPicksTheHighestLogit() {
        assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(LOGITS, new int[0], 0));
    }

    @Test
    void repetitionPenaltyDemotesRecentTokens() {
        SamplingParams p = new SamplingParams(0f, 0, 1f, 0f, 1.2f, 4, 0);
        // 3.0 / 1.2 = 2.5 < 2.9: token 4 wins once token 1 was just seen.
        assertEquals(4, new Sampler(p).sample(LOGITS, new int[] {1}, 1));
        // A token seen outside the last-n window is not penalised.
        assertEquals(1, new Sampler(p).sample(LOGITS, new int[] {1, 5, 5, 5, 5}, 5));
    }

    @Test
    void sameSeedSameDrawsDifferentSeedDifferentDraws() {
        SamplingParams p = new SamplingParams(1.5f, 0, 1f, 0f, 1f, 0, 1234);
        int[] a = draws(new Sampler(p), 200);
        int[] b = draws(new Sampler(p), 200);
        int[] c = draws(new Sampler(p.withSeed(99)), 200);
        assertArrayEquals(a, b);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    @Test
    void topKKeepsOnlyTheKMostLikely() {
        Set<Integer> seen = seen(new SamplingParams(5f, 2, 1f, 0f, 1f, 0, 7), 500);
        assertEquals(Set.of(1, 4), seen);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // Probabilities at T=1: token 1 ~0.37, 4 ~0.33, 2 ~0.22 ... top-p 0.6 keeps {1, 4}.
        Set<Integer> seen = seen(new SamplingParams(1f, 0, 0.6f, 0f, 1f, 0, 7), 500);
        assertEquals(Set.of(1, 4), seen);
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        // p(2)/p(1) = e^-0.5 ~ 0.61, p(0)/p(1) = e^-2 ~ 0.14: min-p 0.5 keeps {1, 4, 2}.
        Set<Integer> seen = seen(new SamplingParams(1f, 0, 1f, 0.5f, 1f, 0, 7), 2000);
        assertEquals(Set.of(1, 2, 4), seen);
    }

    @Test
    void temperatureNearZeroBehavesGreedily() {
        Set<Integer> seen = seen(new SamplingParams(0.01f, 0, 1f, 0f, 1f, 0, 3), 200);
        assertEquals(Set.of(1), seen);
    }

    @Test
    void drawsFollowTheSoftmaxDistribution() {
        float[] logits = {0f, (float) Math.log(3)}; // p = 0.25, 0.75
        Sampler s = new Sampler(new SamplingParams(1f, 0, 1f, 0f, 1f, 0, 11));
        int ones = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            ones += s.sample(logits, null, 0);
        }
        // Binomial σ = sqrt(n·p·q) ≈ 61: 5σ bounds.
        assertTrue(Math.abs(ones - 0.75 * n) < 5 * 61.3, "drew token 1 " + ones + " times of " + n);
    }

    @Test
    void invalidParamsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, -1, 1f, 0f, 1f, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 0f, 0f, 1f, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, 1.5f, 1f, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, 0f, 0f, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Float.NaN, 0, 1f, 0f, 1f, 0, 0));
    }

    private static int[] draws(Sampler s, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(LOGITS, null, 0);
        }
        return out;
    }

    private static Set<Integer> seen(SamplingParams p, int n) {
        Sampler s = new Sampler(p);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            seen.add(s.sample(LOGITS, null, 0));
        }
        return seen;
    }
}
