package dev.tessera.io.safetensors;

import dev.tessera.io.AtomicFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a safetensors file. Tensors are laid out back to back, largest element size first (then
 * in insertion order), and the JSON header is padded with spaces to a multiple of 8, so every
 * tensor starts at a file offset aligned to its element size, as the reference writer arranges.
 * Tensor data is streamed from memory; the file appears atomically.
 *
 * <p>Tensors are referenced, not copied, until {@link #write}: keep them open until then.
 */
public final class SafetensorsWriter {
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    public SafetensorsWriter putMetadata(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        utf8(key);
        utf8(value);
        if (metadata.putIfAbsent(key, value) != null) {
            throw new IllegalArgumentException("duplicate metadata key '" + key + "'");
        }
        return this;
    }

    /** Adds a tensor of any layout; its dtype must exist in safetensors (no quantized types). */
    public SafetensorsWriter add(String name, Tensor tensor) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tensor, "tensor");
        utf8(name);
        if (name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + name + "' is reserved for the metadata map");
        }
        if (tensor.dtype().safetensorsName() == null) {
            throw new IllegalArgumentException("tensor '" + name + "': safetensors cannot hold " + tensor.dtype());
        }
        if (tensors.putIfAbsent(name, tensor) != null) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        return this;
    }

    /** Adds a tensor from raw bytes: {@code data} must hold exactly the packed elements of {@code shape}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        Tensor t = Tensor.wrap(dtype, data, shape);
        if (t.byteSize() != data.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + t + " needs " + t.byteSize()
                    + " bytes, the segment has " + data.byteSize());
        }
        return add(name, t);
    }

    /** Writes the file, replacing {@code path} if it exists. */
    public void write(Path path) throws IOException {
        List<Map.Entry<String, Tensor>> order = new ArrayList<>(tensors.entrySet());
        // Stable sort: larger elements first keeps every tensor naturally aligned.
        order.sort(Comparator.comparingInt((Map.Entry<String, Tensor> e) -> -e.getValue().dtype().blockBytes()));

        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append(quote(SafetensorsFile.METADATA_KEY)).append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                json.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : order) {
            Tensor t = e.getValue();
            long end = Math.addExact(offset, t.byteSize());
            json.append(json.length() > 1 ? "," : "").append(quote(e.getKey()))
                    .append(":{\"dtype\":").append(quote(t.dtype().safetensorsName())).append(",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] unpadded = utf8(json.toString());
        byte[] header = Arrays.copyOf(unpadded, (unpadded.length + 7) / 8 * 8);
        Arrays.fill(header, unpadded.length, header.length, (byte) ' ');
        if (header.length > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("header of " + header.length + " bytes exceeds the safetensors limit of "
                    + SafetensorsFile.MAX_HEADER_BYTES);
        }
        byte[] headerBytes = header;
        AtomicFile.write(path, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length);
            while (len.hasRemaining()) {
                ch.write(len);
            }
            ByteBuffer h = ByteBuffer.wrap(headerBytes);
            while (h.hasRemaining()) {
                ch.write(h);
            }
            for (Map.Entry<String, Tensor> e : order) {
                e.getValue().writeTo(ch);
            }
        });
    }

    /** A JSON string literal; non-ASCII characters are written as UTF-8. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Strict UTF-8: strings with lone surrogates cannot be written. */
    private static byte[] utf8(String s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid Unicode (lone surrogate): " + s, e);
        }
    }
}
