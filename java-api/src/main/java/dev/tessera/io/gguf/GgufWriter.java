package dev.tessera.io.gguf;

import dev.tessera.io.AtomicFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a GGUF v3 file: metadata in insertion order, then tensor infos, then tensor data.
 *
 * <p>The layout is the one gguf-py and ggml write (and llama.cpp's strict reader requires): tensor
 * offsets are consecutive, each tensor's data is padded with zeros to the alignment
 * ({@code general.alignment} if set, else 32), and the data section starts at the first aligned
 * position after the header. Tensor data is streamed from its memory into the file; nothing is
 * copied onto the heap. The file appears atomically: it is written to a temporary sibling first.
 *
 * <p>Tensors are referenced, not copied, until {@link #write}: keep them open until then.
 */
public final class GgufWriter {
    private final LinkedHashMap<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    private record Entry(String name, long[] ne, Tensor data) {}

    /** Adds a key/value pair; keys are unique, non-empty and at most 65535 UTF-8 bytes. */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        int len = GgufSink.utf8(key).length;
        if (len == 0 || len > GgufParser.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("key must be 1.." + GgufParser.MAX_NAME_BYTES + " UTF-8 bytes, got " + len);
        }
        if (metadata.containsKey(key)) {
            throw new IllegalArgumentException("duplicate metadata key '" + key + "'");
        }
        if (key.equals(GgufParser.ALIGNMENT_KEY)) {
            long a = value instanceof GgufValue.UInt32 u ? u.value() : -1;
            if (a <= 0 || Long.bitCount(a) != 1) {
                throw new IllegalArgumentException(key + " must be a UINT32 power of two, got " + value);
            }
        }
        validateStrings(value);
        metadata.put(key, value);
        return this;
    }

    /** Whether a key was already put. */
    public boolean hasKey(String key) {
        return metadata.containsKey(key);
    }

    public GgufWriter putString(String key, String value) {
        return put(key, new GgufValue.Str(value));
    }

    public GgufWriter putBoolean(String key, boolean value) {
        return put(key, new GgufValue.Bool(value));
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, new GgufValue.UInt32(value));
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, new GgufValue.Int32(value));
    }

    /** {@code bits} is written as an unsigned 64-bit value. */
    public GgufWriter putUInt64(String key, long bits) {
        return put(key, new GgufValue.UInt64(bits));
    }

    public GgufWriter putInt64(String key, long value) {
        return put(key, new GgufValue.Int64(value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, new GgufValue.Float32(value));
    }

    public GgufWriter putFloat64(String key, double value) {
        return put(key, new GgufValue.Float64(value));
    }

    /** Adds every pair of {@code source}, in its order. */
    public GgufWriter putAll(GgufMetadata source) {
        for (Map.Entry<String, GgufValue> e : source.asMap().entrySet()) {
            put(e.getKey(), e.getValue());
        }
        return this;
    }

    /** Sets {@code general.alignment} (a power of two). */
    public GgufWriter alignment(long alignment) {
        return put(GgufParser.ALIGNMENT_KEY, new GgufValue.UInt32(alignment));
    }

    /** The alignment the file will use. */
    public long alignment() {
        return metadata.get(GgufParser.ALIGNMENT_KEY) instanceof GgufValue.UInt32 u ? u.value() : GgufParser.DEFAULT_ALIGNMENT;
    }

    /**
     * Adds a tensor; its type is the tensor's dtype (which needs a ggml id) and its ne the reversed
     * shape (1 to 4 dims; a rank-0 tensor is written as ne = [1]). Any layout is accepted.
     */
    public GgufWriter addTensor(String name, Tensor tensor) {
        Objects.requireNonNull(tensor, "tensor");
        long[] shape = tensor.shape();
        long[] ne = new long[Math.max(shape.length, 1)];
        Arrays.fill(ne, 1);
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return add(name, tensor.dtype(), ne, tensor);
    }

    /**
     * Adds a tensor from raw bytes: {@code data} must hold exactly the packed bytes of
     * {@code ne} (ggml order, 1 to 4 dims) elements of {@code type}.
     */
    public GgufWriter addTensor(String name, DType type, long[] ne, MemorySegment data) {
        Objects.requireNonNull(type, "type");
        long[] n = ne.clone();
        long[] shape = new long[n.length];
        for (int i = 0; i < n.length; i++) {
            shape[i] = n[n.length - 1 - i];
        }
        Tensor t = Tensor.wrap(type, data, shape); // validates the dims and the size lower bound
        if (t.byteSize() != data.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " ne=" + Arrays.toString(n) + " needs "
                    + t.byteSize() + " bytes, the segment has " + data.byteSize());
        }
        return add(name, type, n, t);
    }

    private GgufWriter add(String name, DType type, long[] ne, Tensor data) {
        Objects.requireNonNull(name, "name");
        int len = GgufSink.utf8(name).length;
        if (len > GgufParser.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name longer than " + GgufParser.MAX_NAME_BYTES + " UTF-8 bytes");
        }
        if (!type.hasGgmlId()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " has no ggml type id");
        }
        if (ne.length < 1 || ne.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "': GGUF holds 1 to " + GgufParser.MAX_DIMS
                    + " dims, got " + ne.length);
        }
        if (!tensorNames.add(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        tensors.add(new Entry(name, ne, data));
        return this;
    }

    /** Writes the file, replacing {@code path} if it exists. */
    public void write(Path path) throws IOException {
        long alignment = alignment();
        long[] offsets = new long[tensors.size()];
        long next = 0;
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = next;
            next = Math.addExact(next, GgufParser.alignUp(tensors.get(i).data().byteSize(), alignment));
        }
        AtomicFile.write(path, ch -> {
            GgufSink out = new GgufSink(ch);
            out.u32(GgufParser.MAGIC);
            out.u32(3);
            out.u64(tensors.size());
            out.u64(metadata.size());
            for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                out.string(e.getKey());
                out.u32(e.getValue().type().id());
                out.value(e.getValue());
            }
            for (int i = 0; i < offsets.length; i++) {
                Entry t = tensors.get(i);
                out.string(t.name());
                out.u32(t.ne().length);
                for (long d : t.ne()) {
                    out.u64(d);
                }
                out.u32(t.data().dtype().ggmlId());
                out.u64(offsets[i]);
            }
            if (!tensors.isEmpty()) {
                out.pad(alignment); // ggml pads the header only when tensor data follows
            }
            long dataStart = out.position();
            for (int i = 0; i < offsets.length; i++) {
                if (out.position() != dataStart + offsets[i]) {
                    throw new IllegalStateException("tensor " + i + " at " + out.position() + ", expected " + (dataStart + offsets[i]));
                }
                out.tensor(tensors.get(i).data());
                out.pad(alignment);
            }
            out.flush();
        });
    }

    private static void validateStrings(GgufValue value) {
        if (value instanceof GgufValue.Str s) {
            GgufSink.utf8(s.value());
        } else if (value instanceof GgufArray a && a.elementType() == GgufValueType.STRING) {
            for (String s : (String[]) a.storage()) {
                GgufSink.utf8(s);
            }
        }
    }
}
