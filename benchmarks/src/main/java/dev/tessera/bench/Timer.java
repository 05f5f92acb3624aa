package dev.tessera.bench;

import java.util.Arrays;

/** Times a task: warm-up runs, then repeated runs until a time budget is spent; reports the median. */
public final class Timer {
    private final double minSeconds;
    private final int minRuns;

    public Timer(double minSeconds, int minRuns) {
        if (minSeconds <= 0 || minRuns < 1) {
            throw new IllegalArgumentException("need a positive time budget and at least one run");
        }
        this.minSeconds = minSeconds;
        this.minRuns = minRuns;
    }

    /** Median seconds of one call of {@code task}. */
    public double median(Runnable task) {
        task.run(); // warm-up: page faults, JIT, caches
        double[] samples = new double[16];
        int n = 0;
        long start = System.nanoTime();
        while (n < minRuns || (System.nanoTime() - start) < minSeconds * 1e9) {
            long t0 = System.nanoTime();
            task.run();
            double dt = (System.nanoTime() - t0) * 1e-9;
            if (n == samples.length) {
                samples = Arrays.copyOf(samples, n * 2);
            }
            samples[n++] = dt;
            if (n >= 1_000_000) {
                break;
            }
        }
        double[] sorted = Arrays.copyOf(samples, n);
        Arrays.sort(sorted);
        return sorted[n / 2];
    }
}
