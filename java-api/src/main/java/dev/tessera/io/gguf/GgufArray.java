package dev.tessera.io.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A GGUF array value: elements of one scalar type (arrays of arrays are not supported, as in
 * ggml). Elements are kept in a primitive array, so a 128k-entry vocabulary costs what its values
 * cost, not an object per element. Unsigned elements hold raw bits (u8 in a byte, u32 in an int).
 */
public final class GgufArray implements GgufValue {
    private final GgufValueType elementType;
    /** byte[] (u8, i8), boolean[], short[] (u16, i16), int[] (u32, i32), long[] (u64, i64), float[], double[], String[]. */
    private final Object data;
    private final int size;

    /** Takes ownership of {@code data}, which must be the storage array of {@code elementType}. */
    GgufArray(GgufValueType elementType, Object data) {
        this.elementType = elementType;
        this.data = data;
        this.size = switch (data) {
            case byte[] a -> a.length;
            case boolean[] a -> a.length;
            case short[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case String[] a -> a.length;
            default -> throw new IllegalArgumentException("not an array storage: " + data.getClass());
        };
        if (storageClass(elementType) != data.getClass()) {
            throw new IllegalArgumentException(elementType + " elements cannot be stored in " + data.getClass().getSimpleName());
        }
    }

    static Class<?> storageClass(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8 -> byte[].class;
            case BOOL -> boolean[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case STRING -> String[].class;
            case ARRAY -> throw new IllegalArgumentException("arrays of arrays are not supported");
        };
    }

    // ------------------------------------------------------------ factories (they copy their input)

    public static GgufArray ofUInt8(byte... values) {
        return new GgufArray(GgufValueType.UINT8, values.clone());
    }

    public static GgufArray ofInt8(byte... values) {
        return new GgufArray(GgufValueType.INT8, values.clone());
    }

    public static GgufArray ofUInt16(short... values) {
        return new GgufArray(GgufValueType.UINT16, values.clone());
    }

    public static GgufArray ofInt16(short... values) {
        return new GgufArray(GgufValueType.INT16, values.clone());
    }

    /** u32 elements given as raw bits ({@code -1} is 0xFFFFFFFF). */
    public static GgufArray ofUInt32(int... values) {
        return new GgufArray(GgufValueType.UINT32, values.clone());
    }

    public static GgufArray ofInt32(int... values) {
        return new GgufArray(GgufValueType.INT32, values.clone());
    }

    /** u64 elements given as raw bits. */
    public static GgufArray ofUInt64(long... values) {
        return new GgufArray(GgufValueType.UINT64, values.clone());
    }

    public static GgufArray ofInt64(long... values) {
        return new GgufArray(GgufValueType.INT64, values.clone());
    }

    public static GgufArray ofFloat32(float... values) {
        return new GgufArray(GgufValueType.FLOAT32, values.clone());
    }

    public static GgufArray ofFloat64(double... values) {
        return new GgufArray(GgufValueType.FLOAT64, values.clone());
    }

    public static GgufArray ofBool(boolean... values) {
        return new GgufArray(GgufValueType.BOOL, values.clone());
    }

    public static GgufArray ofStrings(String... values) {
        String[] copy = values.clone();
        for (String s : copy) {
            Objects.requireNonNull(s, "string element is null");
        }
        return new GgufArray(GgufValueType.STRING, copy);
    }

    public static GgufArray ofStrings(List<String> values) {
        return ofStrings(values.toArray(String[]::new));
    }

    // ------------------------------------------------------------ access

    @Override
    public GgufValueType type() {
        return GgufValueType.ARRAY;
    }

    public GgufValueType elementType() {
        return elementType;
    }

    public int size() {
        return size;
    }

    /** Element {@code i} as a scalar value. */
    public GgufValue get(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case UINT8 -> new UInt8(((byte[]) data)[i] & 0xFF);
            case INT8 -> new Int8(((byte[]) data)[i]);
            case UINT16 -> new UInt16(((short[]) data)[i] & 0xFFFF);
            case INT16 -> new Int16(((short[]) data)[i]);
            case UINT32 -> new UInt32(((int[]) data)[i] & 0xFFFF_FFFFL);
            case INT32 -> new Int32(((int[]) data)[i]);
            case UINT64 -> new UInt64(((long[]) data)[i]);
            case INT64 -> new Int64(((long[]) data)[i]);
            case FLOAT32 -> new Float32(((float[]) data)[i]);
            case FLOAT64 -> new Float64(((double[]) data)[i]);
            case BOOL -> new Bool(((boolean[]) data)[i]);
            case STRING -> new Str(((String[]) data)[i]);
            case ARRAY -> throw new AssertionError();
        };
    }

    /**
     * Element {@code i} of an integer array as a long.
     *
     * @throws IllegalStateException if the elements are not integers, or a u64 exceeds {@link Long#MAX_VALUE}
     */
    public long getLong(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case UINT8 -> ((byte[]) data)[i] & 0xFF;
            case INT8 -> ((byte[]) data)[i];
            case UINT16 -> ((short[]) data)[i] & 0xFFFF;
            case INT16 -> ((short[]) data)[i];
            case UINT32 -> ((int[]) data)[i] & 0xFFFF_FFFFL;
            case INT32 -> ((int[]) data)[i];
            case INT64 -> ((long[]) data)[i];
            case UINT64 -> {
                long v = ((long[]) data)[i];
                if (v < 0) {
                    throw new IllegalStateException("u64 element " + i + " = " + Long.toUnsignedString(v) + " does not fit in a long");
                }
                yield v;
            }
            default -> throw new IllegalStateException("array of " + elementType + " has no integer elements");
        };
    }

    /** Element {@code i} of a FLOAT32 or FLOAT64 array. */
    public double getDouble(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case FLOAT32 -> ((float[]) data)[i];
            case FLOAT64 -> ((double[]) data)[i];
            default -> throw new IllegalStateException("array of " + elementType + " has no float elements");
        };
    }

    public String getString(int i) {
        Objects.checkIndex(i, size);
        return strings()[i];
    }

    public boolean getBoolean(int i) {
        Objects.checkIndex(i, size);
        if (elementType != GgufValueType.BOOL) {
            throw new IllegalStateException("array of " + elementType + " has no bool elements");
        }
        return ((boolean[]) data)[i];
    }

    /** The elements of a STRING array (an unmodifiable list). */
    public List<String> toStringList() {
        return List.of(strings());
    }

    /** The elements of a FLOAT32 array (FLOAT64 is narrowed). */
    public float[] toFloatArray() {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) data).clone();
            case FLOAT64 -> {
                double[] d = (double[]) data;
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                yield f;
            }
            default -> throw new IllegalStateException("array of " + elementType + " has no float elements");
        };
    }

    /** The elements of an integer array as longs (u64 above {@link Long#MAX_VALUE} is rejected). */
    public long[] toLongArray() {
        long[] out = new long[size];
        for (int i = 0; i < size; i++) {
            out[i] = getLong(i);
        }
        return out;
    }

    /** The elements of an integer array as ints; every value must fit (u32 0xFFFFFFFF does not). */
    public int[] toIntArray() {
        if (elementType == GgufValueType.INT32) {
            return ((int[]) data).clone();
        }
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            long v = getLong(i);
            if (v != (int) v) {
                throw new IllegalStateException(elementType + " element " + i + " = " + v + " does not fit in an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** A copy of the storage array (see the class comment for its type). */
    public Object toPrimitiveArray() {
        return switch (data) {
            case byte[] a -> a.clone();
            case boolean[] a -> a.clone();
            case short[] a -> a.clone();
            case int[] a -> a.clone();
            case long[] a -> a.clone();
            case float[] a -> a.clone();
            case double[] a -> a.clone();
            case String[] a -> a.clone();
            default -> throw new AssertionError();
        };
    }

    /** The storage array itself, for the writer (never handed out). */
    Object storage() {
        return data;
    }

    private String[] strings() {
        if (elementType != GgufValueType.STRING) {
            throw new IllegalStateException("array of " + elementType + " has no string elements");
        }
        return (String[]) data;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType
                && Arrays.deepEquals(new Object[] {data}, new Object[] {a.data});
    }

    @Override
    public int hashCode() {
        return 31 * elementType.hashCode() + Arrays.deepHashCode(new Object[] {data});
    }

    /** E.g. {@code GgufArray[STRING x 32000]}, with the elements for short arrays. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GgufArray[").append(elementType).append(" x ").append(size);
        if (size <= 8) {
            sb.append(": ");
            for (int i = 0; i < size; i++) {
                sb.append(i == 0 ? "" : ", ").append(text(get(i)));
            }
        }
        return sb.append(']').toString();
    }

    /** A value as a short literal, e.g. {@code 7}, {@code "llama"}, {@code true}. */
    static String text(GgufValue v) {
        return switch (v) {
            case UInt8 x -> Integer.toString(x.value());
            case Int8 x -> Byte.toString(x.value());
            case UInt16 x -> Integer.toString(x.value());
            case Int16 x -> Short.toString(x.value());
            case UInt32 x -> Long.toString(x.value());
            case Int32 x -> Integer.toString(x.value());
            case UInt64 x -> Long.toUnsignedString(x.bits());
            case Int64 x -> Long.toString(x.value());
            case Float32 x -> Float.toString(x.value());
            case Float64 x -> Double.toString(x.value());
            case Bool x -> Boolean.toString(x.value());
            case Str x -> '"' + x.value() + '"';
            case GgufArray a -> a.toString();
        };
    }
}
