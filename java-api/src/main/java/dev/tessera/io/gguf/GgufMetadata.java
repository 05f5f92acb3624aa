package dev.tessera.io.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order, with typed getters.
 *
 * <p>Getters without a default throw {@link NoSuchElementException} for a missing key; every getter
 * throws {@link IllegalArgumentException} when the value has another type or does not fit the
 * requested Java type. Both messages name the file and the key. Integer getters accept any GGUF
 * integer type (writers differ: counts are often u32 where the spec suggests u64).
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValue> values;

    /** @param source names the file in error messages */
    GgufMetadata(String source, LinkedHashMap<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(values);
    }

    /** An unmodifiable ordered view: key → value. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public int size() {
        return values.size();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public GgufValue get(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new NoSuchElementException(source + ": no metadata key '" + key + "'");
        }
        return v;
    }

    public String getString(String key) {
        return string(key, get(key));
    }

    public String getString(String key, String defaultValue) {
        GgufValue v = values.get(key);
        return v == null ? defaultValue : string(key, v);
    }

    /** Any integer type; u64 values above {@link Long#MAX_VALUE} are rejected. */
    public long getLong(String key) {
        return integer(key, get(key));
    }

    public long getLong(String key, long defaultValue) {
        GgufValue v = values.get(key);
        return v == null ? defaultValue : integer(key, v);
    }

    /** Any integer type whose value fits in an int. */
    public int getInt(String key) {
        return toInt(key, getLong(key));
    }

    public int getInt(String key, int defaultValue) {
        GgufValue v = values.get(key);
        return v == null ? defaultValue : toInt(key, integer(key, v));
    }

    /** FLOAT32, or FLOAT64 narrowed to float. */
    public float getFloat(String key) {
        return (float) floating(key, get(key));
    }

    public float getFloat(String key, float defaultValue) {
        GgufValue v = values.get(key);
        return v == null ? defaultValue : (float) floating(key, v);
    }

    /** FLOAT32 or FLOAT64. */
    public double getDouble(String key) {
        return floating(key, get(key));
    }

    public boolean getBoolean(String key) {
        return bool(key, get(key));
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        GgufValue v = values.get(key);
        return v == null ? defaultValue : bool(key, v);
    }

    public GgufArray getArray(String key) {
        if (get(key) instanceof GgufArray a) {
            return a;
        }
        throw wrongType(key, "ARRAY");
    }

    public List<String> getStringArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw wrongType(key, "ARRAY of STRING");
        }
        return a.toStringList();
    }

    /** An array of FLOAT32 (or FLOAT64, narrowed). */
    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        if (!a.elementType().isFloat()) {
            throw wrongType(key, "ARRAY of FLOAT32");
        }
        return a.toFloatArray();
    }

    /** An array of any integer type whose values fit in an int. */
    public int[] getIntArray(String key) {
        GgufArray a = getArray(key);
        if (!a.elementType().isInteger()) {
            throw wrongType(key, "ARRAY of integers");
        }
        try {
            return a.toIntArray();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(source + ": metadata key '" + key + "': " + e.getMessage(), e);
        }
    }

    /** An array of any integer type (u64 values above {@link Long#MAX_VALUE} are rejected). */
    public long[] getLongArray(String key) {
        GgufArray a = getArray(key);
        if (!a.elementType().isInteger()) {
            throw wrongType(key, "ARRAY of integers");
        }
        try {
            return a.toLongArray();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(source + ": metadata key '" + key + "': " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GgufMetadata{");
        boolean first = true;
        for (Map.Entry<String, GgufValue> e : values.entrySet()) {
            sb.append(first ? "" : ", ").append(e.getKey()).append('=').append(GgufArray.text(e.getValue()));
            first = false;
        }
        return sb.append('}').toString();
    }

    // ------------------------------------------------------------ conversions

    private String string(String key, GgufValue v) {
        if (v instanceof GgufValue.Str s) {
            return s.value();
        }
        throw wrongType(key, "STRING");
    }

    private long integer(String key, GgufValue v) {
        return switch (v) {
            case GgufValue.UInt8 x -> x.value();
            case GgufValue.Int8 x -> x.value();
            case GgufValue.UInt16 x -> x.value();
            case GgufValue.Int16 x -> x.value();
            case GgufValue.UInt32 x -> x.value();
            case GgufValue.Int32 x -> x.value();
            case GgufValue.Int64 x -> x.value();
            case GgufValue.UInt64 x -> {
                if (x.bits() < 0) {
                    throw new IllegalArgumentException(source + ": metadata key '" + key + "' = "
                            + Long.toUnsignedString(x.bits()) + " (UINT64) does not fit in a long");
                }
                yield x.bits();
            }
            default -> throw wrongType(key, "an integer");
        };
    }

    private int toInt(String key, long v) {
        if (v != (int) v) {
            throw new IllegalArgumentException(source + ": metadata key '" + key + "' = " + v + " does not fit in an int");
        }
        return (int) v;
    }

    private double floating(String key, GgufValue v) {
        return switch (v) {
            case GgufValue.Float32 x -> x.value();
            case GgufValue.Float64 x -> x.value();
            default -> throw wrongType(key, "FLOAT32 or FLOAT64");
        };
    }

    private boolean bool(String key, GgufValue v) {
        if (v instanceof GgufValue.Bool b) {
            return b.value();
        }
        throw wrongType(key, "BOOL");
    }

    private IllegalArgumentException wrongType(String key, String expected) {
        GgufValue v = values.get(key);
        String actual = v instanceof GgufArray a ? "ARRAY of " + a.elementType() : String.valueOf(v.type());
        return new IllegalArgumentException(source + ": metadata key '" + key + "' is " + actual + ", expected " + expected);
    }
}
