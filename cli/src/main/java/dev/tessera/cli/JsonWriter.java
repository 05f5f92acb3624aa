package dev.tessera.cli;

/** Minimal JSON text builder for {@code --json} output: callers emit values in order. */
final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    private boolean needComma;

    JsonWriter beginObject() {
        comma();
        out.append('{');
        needComma = false;
        return this;
    }

    JsonWriter endObject() {
        out.append('}');
        needComma = true;
        return this;
    }

    JsonWriter beginArray() {
        comma();
        out.append('[');
        needComma = false;
        return this;
    }

    JsonWriter endArray() {
        out.append(']');
        needComma = true;
        return this;
    }

    JsonWriter name(String name) {
        comma();
        string(name);
        out.append(':');
        needComma = false;
        return this;
    }

    JsonWriter value(String s) {
        comma();
        if (s == null) {
            out.append("null");
        } else {
            string(s);
        }
        needComma = true;
        return this;
    }

    JsonWriter value(long v) {
        comma();
        out.append(v);
        needComma = true;
        return this;
    }

    /** An unsigned 64-bit value. */
    JsonWriter unsignedValue(long bits) {
        comma();
        out.append(Long.toUnsignedString(bits));
        needComma = true;
        return this;
    }

    JsonWriter value(double v) {
        comma();
        // JSON has no NaN or infinity.
        out.append(Double.isFinite(v) ? Double.toString(v) : "null");
        needComma = true;
        return this;
    }

    JsonWriter value(boolean v) {
        comma();
        out.append(v);
        needComma = true;
        return this;
    }

    private void comma() {
        if (needComma) {
            out.append(',');
        }
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c) && !validSurrogate(s, i)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
