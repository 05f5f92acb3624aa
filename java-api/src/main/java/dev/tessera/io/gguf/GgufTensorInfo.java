package dev.tessera.io.gguf;

import dev.tessera.tensor.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's entry in a GGUF header.
 *
 * @param name unique tensor name
 * @param type element type
 * @param ne dimensions in ggml order ({@code ne[0]} innermost); {@link #shape()} is the reverse
 * @param offset byte offset of the data relative to the file's data section
 * @param byteSize bytes of data
 */
public record GgufTensorInfo(String name, DType type, long[] ne, long offset, long byteSize) {
    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Dimensions in PyTorch order (outermost first): {@code ne} reversed. */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = ne[ne.length - 1 - i];
        }
        return s;
    }

    public int nDims() {
        return ne.length;
    }

    public long numel() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(ne, t.ne)
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(ne), offset, byteSize);
    }

    @Override
    public String toString() {
        return "GgufTensorInfo[" + name + " " + type + " ne=" + Arrays.toString(ne) + " offset=" + offset
                + " bytes=" + byteSize + "]";
    }
}
