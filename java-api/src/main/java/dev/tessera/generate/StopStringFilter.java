package dev.tessera.generate;

import java.util.List;

/**
 * Holds back streamed text that might be the start of a stop string, and cuts the text at the
 * first stop string found. Not thread-safe.
 */
final class StopStringFilter {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopStringFilter(List<String> stops) {
        this.stops = stops;
    }

    /** Adds text; returns what can be released now. After a stop string, {@link #stopped()} is true. */
    String push(String text) {
        if (stopped) {
            return "";
        }
        pending.append(text);
        int cut = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        if (cut >= 0) {
            stopped = true;
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        String held = pending.toString();
        int keep = 0;
        for (String s : stops) {
            keep = Math.max(keep, longestSuffixThatPrefixes(held, s));
        }
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    /** Text still held back (when generation ends for another reason). */
    String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }

    boolean stopped() {
        return stopped;
    }

    private static int longestSuffixThatPrefixes(String text, String stop) {
        int max = Math.min(stop.length() - 1, text.length());
        for (int len = max; len > 0; len--) {
            if (text.regionMatches(text.length() - len, stop, 0, len)) {
                return len;
            }
        }
        return 0;
    }
}
