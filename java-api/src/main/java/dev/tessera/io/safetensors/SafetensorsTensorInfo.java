package dev.tessera.io.safetensors;

import dev.tessera.tensor.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name unique tensor name
 * @param dtype element type
 * @param shape dimensions in PyTorch order (outermost first)
 * @param begin start of the data, relative to the data section
 * @param end end (exclusive) of the data, relative to the data section
 */
public record SafetensorsTensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public SafetensorsTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long byteSize() {
        return end - begin;
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafetensorsTensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return "SafetensorsTensorInfo[" + name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")]";
    }
}
