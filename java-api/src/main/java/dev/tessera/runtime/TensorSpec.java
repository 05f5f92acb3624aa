package dev.tessera.runtime;

import dev.tessera.tensor.DType;
import java.util.Arrays;

/** The type and shape (PyTorch order) of a value in a graph. */
public record TensorSpec(DType dtype, long[] shape) {
    public TensorSpec {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype is null");
        }
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dim in " + Arrays.toString(shape));
            }
        }
        if (shape.length > 0 && dtype.isQuantized() && shape[shape.length - 1] % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("last dim " + shape[shape.length - 1] + " of a " + dtype
                    + " value is not a multiple of its block size " + dtype.blockSize());
        }
    }

    public static TensorSpec of(DType dtype, long... shape) {
        return new TensorSpec(dtype, shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes of a contiguous tensor of this spec. */
    public long byteSize() {
        return dtype.byteSize(numel());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
