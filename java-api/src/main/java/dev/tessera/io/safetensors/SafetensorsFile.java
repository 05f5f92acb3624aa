package dev.tessera.io.safetensors;

import dev.tessera.io.FieldSpan;
import dev.tessera.io.FieldSpan.Kind;
import dev.tessera.io.ModelFormatException;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A safetensors file mapped read-only: an 8-byte little-endian header length, a JSON header
 * (tensor name → dtype, shape, data_offsets; optional {@code __metadata__} string map), then the
 * data. {@link #tensor(String)} returns zero-copy views into the mapping, valid until
 * {@link #close()}.
 *
 * <p>Rejected with {@link ModelFormatException}: a header length beyond the file or above
 * {@value #MAX_HEADER_BYTES} bytes, malformed JSON or UTF-8, duplicate names, missing or mistyped
 * fields, unsupported dtypes, {@code begin > end}, offsets past the data, a byte length other than
 * numel × dtype size, and overlapping tensors. Gaps between tensors are accepted.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's cap on the JSON header. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** More dims than any framework supports: a sanity cap so a forged shape stays small. */
    static final int MAX_RANK = 64;
    static final String METADATA_KEY = "__metadata__";
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final long headerLength;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensorInfo> tensors;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, long headerLength,
                            Map<String, String> metadata, Map<String, SafetensorsTensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.headerLength = headerLength;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    public static SafetensorsFile open(Path path) throws IOException {
        return open(path, null);
    }

    /** As {@link #open(Path)}, reporting header fields to {@code layout} (null for none). */
    public static SafetensorsFile open(Path path, Consumer<FieldSpan> layout) throws IOException {
        Objects.requireNonNull(path, "path");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(path, arena, mapping, layout);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment mapping, Consumer<FieldSpan> layout)
            throws ModelFormatException {
        long size = mapping.byteSize();
        if (size < 8) {
            throw new ModelFormatException(path, "header length", 0,
                    "file has " + size + " bytes; it must start with an 8-byte header length");
        }
        long n = mapping.get(U64, 0);
        emit(layout, "header length", 0, 8, Kind.LENGTH);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new ModelFormatException(path, "header length", 0, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n > size - 8) {
            throw new ModelFormatException(path, "header length", 0, "header length " + n
                    + " exceeds the " + (size - 8) + " bytes after it");
        }
        byte[] header = mapping.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        long dataLength = size - 8 - n;
        HeaderParser p = new HeaderParser(new JsonCursor(header, 8, path), dataLength, layout);
        p.parse();
        return new SafetensorsFile(path, arena, mapping, n, p.metadata, p.tensors);
    }

    private static void emit(Consumer<FieldSpan> layout, String field, long at, long len, Kind kind) {
        if (layout != null) {
            layout.accept(new FieldSpan(field, at, len, kind));
        }
    }

    /** Reads the header JSON into tensor infos, validating them against the data section. */
    private static final class HeaderParser {
        private final JsonCursor j;
        private final long dataLength;
        private final Consumer<FieldSpan> layout;
        final Map<String, String> metadata = new LinkedHashMap<>();
        final Map<String, SafetensorsTensorInfo> tensors = new LinkedHashMap<>();
        private final Map<String, Long> offsetsAt = new LinkedHashMap<>();
        private boolean sawMetadata;

        HeaderParser(JsonCursor j, long dataLength, Consumer<FieldSpan> layout) {
            this.j = j;
            this.dataLength = dataLength;
            this.layout = layout;
        }

        void parse() throws ModelFormatException {
            j.expect('{', "header");
            if (!j.consume('}')) {
                do {
                    long at = j.offset();
                    String name = j.string("tensor name");
                    j.expect(':', "tensor '" + name + "'");
                    if (name.equals(METADATA_KEY)) {
                        if (sawMetadata) {
                            throw j.error(METADATA_KEY, at, "duplicate " + METADATA_KEY);
                        }
                        sawMetadata = true;
                        metadata();
                    } else {
                        if (tensors.containsKey(name)) {
                            throw j.error("tensor '" + name + "'", at, "duplicate tensor name");
                        }
                        tensors.put(name, tensor(name));
                    }
                } while (j.consume(','));
                j.expect('}', "header");
            }
            j.expectEnd("header");
            checkOverlaps();
        }

        private void metadata() throws ModelFormatException {
            j.expect('{', METADATA_KEY);
            if (j.consume('}')) {
                return;
            }
            do {
                long at = j.offset();
                String key = j.string(METADATA_KEY + " key");
                String field = METADATA_KEY + " '" + key + "'";
                j.expect(':', field);
                if (j.peek() != '"') {
                    throw j.error(field, j.offset(), METADATA_KEY + " values must be strings");
                }
                String value = j.string(field);
                if (metadata.putIfAbsent(key, value) != null) {
                    throw j.error(field, at, "duplicate " + METADATA_KEY + " key");
                }
            } while (j.consume(','));
            j.expect('}', METADATA_KEY);
        }

        private SafetensorsTensorInfo tensor(String name) throws ModelFormatException {
            String field = "tensor '" + name + "'";
            long at = j.offset();
            j.expect('{', field);
            String dtypeName = null;
            long[] shape = null;
            long[] offsets = null;
            long dtypeAt = -1;
            long shapeAt = -1;
            long offsetsAt = -1;
            if (!j.consume('}')) {
                do {
                    long keyAt = j.offset();
                    String key = j.string(field + " key");
                    j.expect(':', field + " " + key);
                    switch (key) {
                        case "dtype" -> {
                            duplicate(dtypeName, field, key, keyAt);
                            dtypeAt = j.offset();
                            dtypeName = j.string(field + " dtype");
                            emit(layout, field + " dtype", j.tokenStart(), j.tokenEnd() - j.tokenStart(), Kind.TYPE);
                        }
                        case "shape" -> {
                            duplicate(shape, field, key, keyAt);
                            shapeAt = j.offset();
                            shape = integers(field + " shape", MAX_RANK, Kind.DIMENSION);
                        }
                        case "data_offsets" -> {
                            duplicate(offsets, field, key, keyAt);
                            offsetsAt = j.offset();
                            offsets = integers(field + " data_offsets", 2, Kind.OFFSET);
                        }
                        default -> j.skipValue(field + " " + key, 2); // unknown keys are ignored, as the reference does
                    }
                } while (j.consume(','));
                j.expect('}', field);
            }
            if (dtypeName == null || shape == null || offsets == null) {
                String missing = dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets";
                throw j.error(field, at, "missing \"" + missing + "\"");
            }
            DType dtype;
            try {
                dtype = DType.fromSafetensorsName(dtypeName);
            } catch (IllegalArgumentException e) {
                throw j.error(field + " dtype", dtypeAt, e.getMessage());
            }
            if (offsets.length != 2) {
                throw j.error(field + " data_offsets", offsetsAt, "expected [begin, end], got " + offsets.length + " numbers");
            }
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end) {
                throw j.error(field + " data_offsets", offsetsAt, "begin " + begin + " > end " + end);
            }
            if (end > dataLength) {
                throw j.error(field + " data_offsets", offsetsAt, "end " + end + " exceeds the data section ("
                        + dataLength + " bytes)");
            }
            long bytes;
            try {
                bytes = dtype.byteSize(Tensor.numelOf(shape)); // the count Tensor.wrap will accept
            } catch (IllegalArgumentException e) {
                throw j.error(field + " shape", shapeAt, "shape " + Arrays.toString(shape) + " overflows a 64-bit byte size");
            }
            if (end - begin != bytes) {
                throw j.error(field + " data_offsets", offsetsAt, dtype + " " + Arrays.toString(shape) + " needs " + bytes
                        + " bytes but data_offsets [" + begin + ", " + end + ") hold " + (end - begin));
            }
            this.offsetsAt.put(name, offsetsAt);
            return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
        }

        private void duplicate(Object seen, String field, String key, long at) throws ModelFormatException {
            if (seen != null) {
                throw j.error(field + " " + key, at, "duplicate \"" + key + "\"");
            }
        }

        /** A JSON array of at most {@code max} non-negative integers. */
        private long[] integers(String field, int max, Kind kind) throws ModelFormatException {
            long at = j.offset();
            j.expect('[', field);
            long[] out = new long[0];
            if (j.consume(']')) {
                return out;
            }
            int n = 0;
            do {
                if (n == max) {
                    throw j.error(field, at, "more than " + max + " numbers");
                }
                long v = j.nonNegativeLong(field + "[" + n + "]");
                emit(layout, field + "[" + n + "]", j.tokenStart(), j.tokenEnd() - j.tokenStart(), kind);
                if (n == out.length) {
                    out = Arrays.copyOf(out, Math.max(4, n * 2));
                }
                out[n++] = v;
            } while (j.consume(','));
            j.expect(']', field);
            return Arrays.copyOf(out, n);
        }

        private void checkOverlaps() throws ModelFormatException {
            List<SafetensorsTensorInfo> sorted = new ArrayList<>();
            for (SafetensorsTensorInfo t : tensors.values()) {
                if (t.byteSize() > 0) {
                    sorted.add(t);
                }
            }
            sorted.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            for (int i = 1; i < sorted.size(); i++) {
                SafetensorsTensorInfo prev = sorted.get(i - 1);
                SafetensorsTensorInfo t = sorted.get(i);
                if (t.begin() < prev.end()) {
                    throw j.error("tensor '" + t.name() + "' data_offsets", offsetsAt.get(t.name()), "data ["
                            + t.begin() + ", " + t.end() + ") overlaps tensor '" + prev.name() + "' [" + prev.begin()
                            + ", " + prev.end() + ")");
                }
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Bytes of the JSON header (including its padding). */
    public long headerLength() {
        return headerLength;
    }

    /** File offset of the data section; data_offsets are relative to it. */
    public long dataStart() {
        return 8 + headerLength;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    /** The {@code __metadata__} map (empty if absent), in file order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor infos in header order. */
    public List<SafetensorsTensorInfo> tensorInfos() {
        return List.copyOf(tensors.values());
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    public Optional<SafetensorsTensorInfo> findTensorInfo(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    public SafetensorsTensorInfo tensorInfo(String name) {
        SafetensorsTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    /** A zero-copy view of the named tensor. */
    public Tensor tensor(String name) {
        SafetensorsTensorInfo t = tensorInfo(name);
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(path + " is closed");
        }
        return Tensor.wrap(t.dtype(), mapping.asSlice(dataStart() + t.begin(), t.byteSize()), t.shape());
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
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
