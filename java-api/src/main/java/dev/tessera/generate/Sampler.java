package dev.tessera.generate;

import java.util.SplittableRandom;

/**
 * Picks tokens from logits according to {@link SamplingParams}. Keeps its own scratch arrays and
 * random stream: one sampler per generation, confined to one thread.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private float[] work = new float[0];
    private int[] order = new int[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * The next token for these logits (not modified) given the tokens so far (history[0..historyLength)).
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        int n = logits.length;
        if (n == 0) {
            throw new IllegalArgumentException("no logits");
        }
        if (work.length != n) {
            work = new float[n];
            order = new int[n];
        }
        System.arraycopy(logits, 0, work, 0, n);
        applyPenalty(history, historyLength);
        if (params.greedy()) {
            return argmax(work);
        }
        // Candidates sorted by logit, descending; top-k first bounds the sort.
        int k = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        int count = topK(k);
        // Probabilities at temperature 1 for the top-p / min-p cuts (llama.cpp applies them first).
        float max = work[order[0]];
        double sum = 0;
        double[] p = new double[count];
        for (int i = 0; i < count; i++) {
            p[i] = Math.exp(work[order[i]] - max);
            sum += p[i];
        }
        int keep = count;
        if (params.topP() < 1) {
            double acc = 0;
            for (int i = 0; i < count; i++) {
                acc += p[i] / sum;
                if (acc >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            double floor = params.minP() * p[0];
            int m = 1;
            while (m < keep && p[m] >= floor) {
                m++;
            }
            keep = m;
        }
        // Temperature, then a draw.
        double t = params.temperature();
        double total = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((work[order[i]] - max) / t);
            total += p[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= p[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    private void applyPenalty(int[] history, int historyLength) {
        float penalty = params.repeatPenalty();
        if (penalty == 1f || params.repeatLastN() == 0 || history == null) {
            return;
        }
        int from = Math.max(0, historyLength - params.repeatLastN());
        // Each distinct token is penalised once, however often it occurred.
        java.util.BitSet seen = new java.util.BitSet(work.length);
        for (int i = from; i < historyLength; i++) {
            int id = history[i];
            if (id >= 0 && id < work.length && !seen.get(id)) {
                seen.set(id);
                work[id] = work[id] > 0 ? work[id] / penalty : work[id] * penalty;
            }
        }
    }

    /** Puts the k highest logits' ids first in order[], sorted descending; returns k. */
    private int topK(int k) {
        int n = work.length;
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (k < n) {
            // Partial selection: a min-heap of the best k.
            int[] heap = new int[k];
            int size = 0;
            for (int i = 0; i < n; i++) {
                if (size < k) {
                    heap[size++] = i;
                    siftUp(heap, size - 1);
                } else if (better(i, heap[0])) {
                    heap[0] = i;
                    siftDown(heap, 0, size);
                }
            }
            System.arraycopy(heap, 0, order, 0, k);
        }
        sortDescending(k);
        return k;
    }

    /** Higher logit first; ties by lower id so results do not depend on the selection order. */
    private boolean better(int a, int b) {
        return work[a] > work[b] || (work[a] == work[b] && a < b);
    }

    private void siftUp(int[] h, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (better(h[parent], h[i])) {
                int t = h[parent];
                h[parent] = h[i];
                h[i] = t;
                i = parent;
            } else {
                return;
            }
        }
    }

    private void siftDown(int[] h, int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            int worst = i;
            if (l < size && better(h[worst], h[l])) {
                worst = l;
            }
            if (l + 1 < size && better(h[worst], h[l + 1])) {
                worst = l + 1;
            }
            if (worst == i) {
                return;
            }
            int t = h[worst];
            h[worst] = h[i];
            h[i] = t;
            i = worst;
        }
    }

    private void sortDescending(int k) {
        Integer[] boxed = new Integer[k];
        for (int i = 0; i < k; i++) {
            boxed[i] = order[i];
        }
        java.util.Arrays.sort(boxed, (a, b) -> better(a, b) ? -1 : better(b, a) ? 1 : 0);
        for (int i = 0; i < k; i++) {
            order[i] = boxed[i];
        }
    }

    /** Index of the largest value; the lowest index among equals. */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
