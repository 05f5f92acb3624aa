package dev.tessera.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Time spent per op type while profiling was on (see {@link CompiledGraph#setProfiling}). */
public final class Profile {
    /** Totals of one op type. */
    public record Entry(String op, long calls, long nanos) {}

    private final Map<String, long[]> totals = new LinkedHashMap<>();

    void add(String op, long nanos) {
        add(op, 1, nanos);
    }

    /** One entry for calls ops run together (a step of several matmuls). */
    void add(String op, long calls, long nanos) {
        long[] t = totals.computeIfAbsent(op, k -> new long[2]);
        t[0] += calls;
        t[1] += nanos;
    }

    /** Merges another profile into this one (e.g. several graphs of one model). */
    public void addAll(Profile other) {
        other.totals.forEach((op, t) -> {
            long[] mine = totals.computeIfAbsent(op, k -> new long[2]);
            mine[0] += t[0];
            mine[1] += t[1];
        });
    }

    /** Nanoseconds over every entry. */
    public long totalNanos() {
        long all = 0;
        for (long[] t : totals.values()) {
            all += t[1];
        }
        return all;
    }

    public void clear() {
        totals.clear();
    }

    /** Entries, most time first. */
    public List<Entry> entries() {
        List<Entry> list = new ArrayList<>();
        totals.forEach((op, t) -> list.add(new Entry(op, t[0], t[1])));
        list.sort(Comparator.comparingLong(Entry::nanos).reversed());
        return list;
    }

    /** A table: op, calls, total ms, share of the total. */
    public String format() {
        long all = totalNanos();
        StringBuilder sb = new StringBuilder(String.format("%-18s %8s %10s %6s%n", "op", "calls", "ms", "%"));
        for (Entry e : entries()) {
            sb.append(String.format("%-18s %8d %10.2f %5.1f%%%n", e.op(), e.calls(), e.nanos() / 1e6, all == 0 ? 0 : 100.0 * e.nanos() / all));
        }
        return sb.toString();
    }
}
