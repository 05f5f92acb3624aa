package dev.tessera.io.gguf;

import dev.tessera.io.FieldSpan.Kind;
import dev.tessera.io.ModelFormatException;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses a GGUF v2/v3 header. Every count and length is checked against the bytes left before
 * anything is allocated for it, so hostile files fail with {@link ModelFormatException}, never with
 * an {@link OutOfMemoryError}.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    /** ggml's cap on array elements. */
    static final long MAX_ARRAY_ELEMENTS = 1L << 30;
    /** Keys and tensor names: ggml allows 63-byte names, other writers (sd.cpp) longer ones. */
    static final long MAX_NAME_BYTES = 65535;
    static final int MAX_DIMS = 4;
    static final long DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** Key length, a one-byte key, value type, a one-byte value. */
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;
    /** Name length, n_dims, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;

    record Result(int version, long alignment, long dataStart, LinkedHashMap<String, GgufValue> metadata,
                  List<GgufTensorInfo> tensors) {}

    private final GgufCursor c;

    private GgufParser(GgufCursor c) {
        this.c = c;
    }

    static Result parse(GgufCursor cursor) throws ModelFormatException {
        return new GgufParser(cursor).parse();
    }

    private Result parse() throws ModelFormatException {
        int magic = c.i32("magic", Kind.MAGIC);
        if (magic != MAGIC) {
            throw c.error("magic", 0, "not a GGUF file: starts with " + hex4(magic) + ", expected \"GGUF\"");
        }
        long version = c.u32("version", Kind.VERSION);
        if (version != 2 && version != 3) {
            String why;
            if ((version & 0xFFFF) == 0 && version != 0) {
                why = "version " + hexU32(version) + " looks byte-swapped: big-endian GGUF is not supported";
            } else if (version == 1) {
                why = "GGUF v1 (32-bit counts) is not supported; convert the model again";
            } else {
                why = "unsupported GGUF version " + version + " (supported: 2, 3)";
            }
            throw c.error("version", 4, why);
        }
        long tensorCount = count("tensor_count", MIN_TENSOR_INFO_BYTES, "tensor info");
        long kvCount = count("kv_count", MIN_KV_BYTES, "key/value pair");

        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        Map<String, Long> kvIndex = new HashMap<>();
        long alignment = DEFAULT_ALIGNMENT;
        for (long i = 0; i < kvCount; i++) {
            long at = c.position();
            c.scope("kv[" + i + "]");
            String key = c.string("key", MAX_NAME_BYTES);
            if (key.isEmpty()) {
                throw c.error("key", at, "empty key");
            }
            c.scope("kv[" + i + "] '" + key + "'");
            Long first = kvIndex.putIfAbsent(key, i);
            if (first != null) {
                throw c.error("key", at, "duplicate key (first defined by kv[" + first + "])");
            }
            long typeAt = c.position();
            GgufValueType type = valueType("value type", typeAt, c.u32("value type", Kind.TYPE));
            long valueAt = c.position();
            GgufValue value = type == GgufValueType.ARRAY ? array() : scalar(type, "value");
            if (key.equals(ALIGNMENT_KEY)) {
                alignment = alignment(value, valueAt);
            }
            kv.put(key, value);
        }

        int n = (int) tensorCount; // count() bounded it by the file size / 24
        List<GgufTensorInfo> infos = new ArrayList<>(Math.min(n, 4096));
        Map<String, Integer> names = new HashMap<>();
        long[] offsetAt = new long[n];
        for (int i = 0; i < n; i++) {
            long at = c.position();
            c.scope("tensor_info[" + i + "]");
            String name = c.string("name", MAX_NAME_BYTES);
            c.scope("tensor_info[" + i + "] '" + name + "'");
            Integer first = names.putIfAbsent(name, i);
            if (first != null) {
                throw c.error("name", at, "duplicate tensor name (first defined by tensor_info[" + first + "])");
            }
            long dimsAt = c.position();
            long nDims = c.u32("n_dims", Kind.DIMENSION);
            if (nDims > MAX_DIMS) {
                throw c.error("n_dims", dimsAt, "n_dims " + nDims + " exceeds the maximum of " + MAX_DIMS);
            }
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < ne.length; d++) {
                ne[d] = c.i64("ne[" + d + "]", Kind.DIMENSION);
                if (ne[d] < 0) {
                    throw c.error("ne[" + d + "]", dimsAt + 4 + 8L * d,
                            "dimension " + Long.toUnsignedString(ne[d]) + " is negative as a signed 64-bit value");
                }
            }
            long typeAt = c.position();
            long typeId = c.u32("type", Kind.TYPE);
            DType type;
            try {
                type = DType.fromGgmlId((int) typeId);
            } catch (IllegalArgumentException e) {
                throw c.error("type", typeAt, e.getMessage());
            }
            if (!type.hasGgmlId() || type.ggmlId() != typeId) {
                throw c.error("type", typeAt, "unknown ggml type id " + typeId);
            }
            offsetAt[i] = c.position();
            long offset = c.i64("offset", Kind.OFFSET);

            long ne0 = ne.length == 0 ? 1 : ne[0];
            if (ne0 % type.blockSize() != 0) {
                throw c.error("ne[0]", dimsAt + 4, "ne[0] = " + ne0 + " is not a multiple of the " + type
                        + " block size " + type.blockSize());
            }
            long byteSize;
            try {
                byteSize = type.byteSize(Tensor.numelOf(ne)); // the count Tensor.wrap will accept
            } catch (IllegalArgumentException e) {
                throw c.error("ne", dimsAt + 4, "dimensions " + Arrays.toString(ne) + " of " + type
                        + " overflow a 64-bit byte size");
            }
            if (offset < 0) {
                throw c.error("offset", offsetAt[i], "offset " + Long.toUnsignedString(offset) + " is negative as a signed 64-bit value");
            }
            if (offset % alignment != 0) {
                throw c.error("offset", offsetAt[i], "offset " + offset + " is not a multiple of the alignment " + alignment);
            }
            infos.add(new GgufTensorInfo(name, type, ne, offset, byteSize));
        }

        c.scope("");
        long dataStart = alignUp(c.position(), alignment);
        checkPlacement(infos, offsetAt, dataStart);
        return new Result((int) version, alignment, dataStart, kv, infos);
    }

    /** A u64 count, non-negative and small enough that its items could fit in the bytes left. */
    private long count(String field, int minItemBytes, String item) throws ModelFormatException {
        long at = c.position();
        long n = c.i64(field, Kind.COUNT);
        if (n < 0 || n > c.remaining() / minItemBytes) {
            throw c.error(field, at, field + " " + Long.toUnsignedString(n) + " is impossible: each " + item
                    + " needs at least " + minItemBytes + " bytes and only " + c.remaining() + " remain");
        }
        return n;
    }

    private GgufValueType valueType(String field, long at, long id) throws ModelFormatException {
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) {
            throw c.error(field, at, "unknown value type " + id);
        }
        return t;
    }

    private GgufValue scalar(GgufValueType type, String field) throws ModelFormatException {
        return switch (type) {
            case UINT8 -> new GgufValue.UInt8(c.u8(field, Kind.VALUE));
            case INT8 -> new GgufValue.Int8((byte) c.u8(field, Kind.VALUE));
            case UINT16 -> new GgufValue.UInt16(c.i16(field, Kind.VALUE) & 0xFFFF);
            case INT16 -> new GgufValue.Int16(c.i16(field, Kind.VALUE));
            case UINT32 -> new GgufValue.UInt32(c.u32(field, Kind.VALUE));
            case INT32 -> new GgufValue.Int32(c.i32(field, Kind.VALUE));
            case FLOAT32 -> new GgufValue.Float32(c.f32(field, Kind.VALUE));
            // ggml reads any non-zero byte as true.
            case BOOL -> new GgufValue.Bool(c.u8(field, Kind.VALUE) != 0);
            case STRING -> new GgufValue.Str(c.string(field, Long.MAX_VALUE));
            case UINT64 -> new GgufValue.UInt64(c.i64(field, Kind.VALUE));
            case INT64 -> new GgufValue.Int64(c.i64(field, Kind.VALUE));
            case FLOAT64 -> new GgufValue.Float64(c.f64(field, Kind.VALUE));
            case ARRAY -> throw new AssertionError();
        };
    }

    private GgufArray array() throws ModelFormatException {
        long typeAt = c.position();
        GgufValueType et = valueType("array element type", typeAt, c.u32("array element type", Kind.TYPE));
        if (et == GgufValueType.ARRAY) {
            throw c.error("array element type", typeAt, "arrays of arrays are not supported");
        }
        long countAt = c.position();
        long n = c.i64("array length", Kind.COUNT);
        if (n < 0 || n > MAX_ARRAY_ELEMENTS) {
            throw c.error("array length", countAt, "array length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_ARRAY_ELEMENTS + " elements");
        }
        if (n > c.remaining() / et.minEncodedBytes()) {
            throw c.error("array length", countAt, "truncated: " + n + " " + et + " elements need at least "
                    + n * et.minEncodedBytes() + " bytes but only " + c.remaining() + " remain");
        }
        int count = (int) n;
        Object data = switch (et) {
            case UINT8, INT8 -> bulk(ValueLayout.JAVA_BYTE, new byte[count]);
            case UINT16, INT16 -> bulk(GgufCursor.I16, new short[count]);
            case UINT32, INT32 -> bulk(GgufCursor.I32, new int[count]);
            case UINT64, INT64 -> bulk(GgufCursor.I64, new long[count]);
            case FLOAT32 -> bulk(GgufCursor.F32, new float[count]);
            case FLOAT64 -> bulk(GgufCursor.F64, new double[count]);
            case BOOL -> {
                byte[] raw = bulk(ValueLayout.JAVA_BYTE, new byte[count]);
                boolean[] b = new boolean[count];
                for (int i = 0; i < count; i++) {
                    b[i] = raw[i] != 0;
                }
                yield b;
            }
            case STRING -> {
                String[] s = new String[count];
                for (int i = 0; i < count; i++) {
                    c.element(i);
                    s[i] = c.string("string", Long.MAX_VALUE);
                }
                c.element(-1);
                yield s;
            }
            case ARRAY -> throw new AssertionError();
        };
        return new GgufArray(et, data);
    }

    private <A> A bulk(ValueLayout layout, A array) throws ModelFormatException {
        c.bulk(layout, array, java.lang.reflect.Array.getLength(array), "elements");
        return array;
    }

    private long alignment(GgufValue value, long at) throws ModelFormatException {
        if (!(value instanceof GgufValue.UInt32 u)) {
            throw c.error("value", at, ALIGNMENT_KEY + " must be UINT32, got " + value.type());
        }
        long a = u.value();
        if (a == 0 || Long.bitCount(a) != 1) {
            throw c.error("value", at, "alignment " + a + " is not a non-zero power of two");
        }
        return a;
    }

    /** Every tensor lies inside the file, and no two tensors share bytes. */
    private void checkPlacement(List<GgufTensorInfo> infos, long[] offsetAt, long dataStart) throws ModelFormatException {
        long size = c.size();
        long[] start = new long[infos.size()];
        for (int i = 0; i < infos.size(); i++) {
            GgufTensorInfo t = infos.get(i);
            long end;
            try {
                start[i] = Math.addExact(dataStart, t.offset());
                end = Math.addExact(start[i], t.byteSize());
            } catch (ArithmeticException e) {
                end = Long.MAX_VALUE;
            }
            if (end > size) {
                c.scope("tensor_info[" + i + "] '" + t.name() + "'");
                throw c.error("offset", offsetAt[i], "data of " + t.byteSize() + " bytes at offset " + t.offset()
                        + " (file byte " + Long.toUnsignedString(dataStart + t.offset()) + ") extends past the end of the file ("
                        + size + " bytes, data section starts at " + dataStart + ")");
            }
        }
        Integer[] order = new Integer[infos.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(start[a], start[b]));
        int prev = -1;
        for (int i : order) {
            if (infos.get(i).byteSize() == 0) {
                continue;
            }
            if (prev >= 0 && start[i] < start[prev] + infos.get(prev).byteSize()) {
                GgufTensorInfo t = infos.get(i);
                GgufTensorInfo p = infos.get(prev);
                c.scope("tensor_info[" + i + "] '" + t.name() + "'");
                throw c.error("offset", offsetAt[i], "data [" + t.offset() + ", " + (t.offset() + t.byteSize())
                        + ") overlaps tensor '" + p.name() + "' [" + p.offset() + ", " + (p.offset() + p.byteSize()) + ")");
            }
            prev = i;
        }
    }

    static long alignUp(long pos, long alignment) {
        return (pos + alignment - 1) / alignment * alignment;
    }

    private static String hex4(int v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int b = (v >>> (8 * i)) & 0xFF;
            sb.append(String.format("%02X ", b));
        }
        return sb.toString().trim();
    }

    private static String hexU32(long v) {
        return String.format("0x%08X", v);
    }
}
