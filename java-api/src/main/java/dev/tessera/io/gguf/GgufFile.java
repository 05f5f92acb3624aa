package dev.tessera.io.gguf;

import dev.tessera.io.FieldSpan;
import dev.tessera.io.ModelFormatException;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A GGUF (v2 or v3) file mapped read-only into memory.
 *
 * <p>{@link #open} validates the whole header and rejects, with a {@link ModelFormatException}
 * naming file, field and byte offset: a bad magic; versions other than 2 and 3 (byte-swapped files
 * are recognised); counts, lengths and array sizes that the rest of the file cannot hold (checked
 * before anything is allocated; arrays are capped at 2^30 elements, keys and tensor names at
 * 65535 bytes); empty or duplicate keys; unknown value types; arrays of arrays; malformed UTF-8;
 * a {@code general.alignment} that is not a non-zero power-of-two u32; duplicate tensor names;
 * more than 4 dims; negative dims; unknown ggml types; an {@code ne[0]} that is not a whole number
 * of blocks; byte sizes over 2^63; unaligned offsets; tensor data past the end of the file; and
 * overlapping tensors. Gaps between tensors are accepted (ggml insists on consecutive offsets).
 * Afterwards {@link #tensor(String)} hands out zero-copy {@link Tensor} views into the mapping. The views borrow the mapping: after {@link #close()} any
 * access through them throws {@link IllegalStateException}. Instances are immutable and safe to
 * share between threads.
 */
public final class GgufFile implements AutoCloseable {
    /** Alignment of tensor data when the file has no {@code general.alignment} key. */
    public static final long DEFAULT_ALIGNMENT = GgufParser.DEFAULT_ALIGNMENT;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final long alignment;
    private final long dataStart;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensorInfos;
    private final Map<String, GgufTensorInfo> byName;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, GgufParser.Result r) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = r.version();
        this.alignment = r.alignment();
        this.dataStart = r.dataStart();
        this.metadata = new GgufMetadata(path.toString(), r.metadata());
        this.tensorInfos = List.copyOf(r.tensors());
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensorInfos) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws ModelFormatException if the file is not valid GGUF (message names file, field, offset)
     * @throws IOException if it cannot be read
     */
    public static GgufFile open(Path path) throws IOException {
        return open(path, null);
    }

    /**
     * As {@link #open(Path)}, reporting each header field to {@code layout} as it is parsed (for
     * dump tools and fuzz tests; null for none).
     */
    public static GgufFile open(Path path, Consumer<FieldSpan> layout) throws IOException {
        Objects.requireNonNull(path, "path");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufParser.Result r = GgufParser.parse(new GgufCursor(mapping, path, layout));
            return new GgufFile(path, arena, mapping, r);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    public Path path() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return version;
    }

    /** Alignment of tensor data in bytes ({@code general.alignment}, default 32). */
    public long alignment() {
        return alignment;
    }

    /** File offset of the data section; tensor offsets are relative to it. */
    public long dataStart() {
        return dataStart;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    public boolean hasTensor(String name) {
        return byName.containsKey(name);
    }

    public Optional<GgufTensorInfo> findTensorInfo(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public GgufTensorInfo tensorInfo(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) {
            throw new NoSuchElementException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    /** A zero-copy view of the named tensor, shape in PyTorch order (ggml ne reversed). */
    public Tensor tensor(String name) {
        return tensor(tensorInfo(name));
    }

    /** A zero-copy view of a tensor of this file. */
    public Tensor tensor(GgufTensorInfo info) {
        if (!info.equals(byName.get(info.name()))) {
            throw new IllegalArgumentException(info + " is not a tensor of " + path);
        }
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(path + " is closed");
        }
        MemorySegment data = mapping.asSlice(dataStart + info.offset(), info.byteSize());
        return Tensor.wrap(info.type(), data, info.shape());
    }

    /** Unmaps the file; tensor views of it become unusable. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + " v" + version + ", " + metadata.size() + " keys, " + tensorInfos.size() + " tensors]";
    }
}
