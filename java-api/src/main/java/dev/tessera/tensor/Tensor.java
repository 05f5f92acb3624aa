package dev.tessera.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A strided, typed view of native memory.
 *
 * <p>{@link #shape()} is in PyTorch order: {@code shape[0]} is the outermost dimension, the last
 * one the innermost (ggml's {@code ne} reversed). {@link #strides()} are in <em>bytes</em>. For a
 * block-quantized {@link DType} the last dimension is a multiple of the block size and its stride is
 * the block's byte size: blocks are the unit of addressing there, not elements.
 *
 * <p>Ownership: a tensor made by {@link #allocate(DType, long...)} or {@link #of(float[], long...)}
 * owns a shared arena and {@link #close()} frees it. Every other tensor (views, {@link #wrap wrapped}
 * segments, tensors of a model file, tensors allocated in a caller's arena) borrows memory: closing
 * it does nothing, and using it after its memory was freed throws {@link IllegalStateException}
 * (the FFM API checks liveness on every access, so a stale view can never read freed memory).
 *
 * <p>Views ({@link #view()}, {@link #reshape}, {@link #slice}, {@link #select}, {@link #permute},
 * {@link #transpose}) share memory and never copy. Multi-byte values are little-endian, as in
 * GGUF and safetensors files.
 */
public final class Tensor implements AutoCloseable {
    /** Alignment of memory from {@link #allocate}: a cache line, enough for any SIMD load. */
    public static final long ALLOCATION_ALIGNMENT = 64;

    // Unaligned layouts: file-backed tensors (safetensors) need not be naturally aligned.
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long numel;
    private final MemorySegment segment;
    /** Non-null only for a tensor that owns its memory. */
    private final Arena arena;

    private Tensor(DType dtype, long[] shape, long[] strides, long numel, MemorySegment segment, Arena arena) {
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.numel = numel;
        this.segment = segment;
        this.arena = arena;
    }

    // ---------------------------------------------------------------- creation

    /** A zero-filled contiguous tensor that owns its memory; {@link #close()} frees it. */
    public static Tensor allocate(DType dtype, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = shape.clone();
        long numel = checkShape(dtype, s);
        long bytes = dtype.byteSize(numel);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(bytes, ALLOCATION_ALIGNMENT);
            return new Tensor(dtype, s, contiguousStrides(dtype, s), numel, seg, arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A zero-filled contiguous tensor in the caller's arena. The tensor does not own the arena:
     * the memory lives until the arena is closed, and {@link #close()} on the tensor does nothing.
     */
    public static Tensor allocate(Arena arena, DType dtype, long... shape) {
        Objects.requireNonNull(arena, "arena");
        Objects.requireNonNull(dtype, "dtype");
        long[] s = shape.clone();
        long numel = checkShape(dtype, s);
        MemorySegment seg = arena.allocate(dtype.byteSize(numel), ALLOCATION_ALIGNMENT);
        return new Tensor(dtype, s, contiguousStrides(dtype, s), numel, seg, null);
    }

    /**
     * An owning F32 tensor holding a copy of {@code data}. With no shape the tensor is 1-D of
     * {@code data.length}; otherwise the shape's element count must equal {@code data.length}.
     */
    public static Tensor of(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        long[] s = shape.length == 0 ? new long[] {data.length} : shape;
        long numel = checkShape(DType.F32, s.clone());
        if (numel != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(s) + " holds " + numel + " elements but data has " + data.length);
        }
        Tensor t = allocate(DType.F32, s);
        MemorySegment.copy(data, 0, t.segment, F32, 0, data.length);
        return t;
    }

    /** A contiguous, non-owning tensor over the start of {@code segment}. */
    public static Tensor wrap(DType dtype, MemorySegment segment, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = shape.clone();
        long numel = checkShape(dtype, s);
        long bytes = dtype.byteSize(numel);
        if (bytes > segment.byteSize()) {
            throw new IllegalArgumentException(dtype + " " + Arrays.toString(s) + " needs " + bytes
                    + " bytes but the segment has " + segment.byteSize());
        }
        return new Tensor(dtype, s, contiguousStrides(dtype, s), numel, segment.asSlice(0, bytes), null);
    }

    /**
     * A non-owning tensor over {@code segment} with explicit byte strides (all {@code >= 0}; for a
     * quantized type the last stride must equal the block's byte size).
     */
    public static Tensor wrap(DType dtype, MemorySegment segment, long[] shape, long[] strides) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = shape.clone();
        long[] st = strides.clone();
        long numel = checkShape(dtype, s);
        if (st.length != s.length) {
            throw new IllegalArgumentException("shape has " + s.length + " dims but strides has " + st.length);
        }
        for (int d = 0; d < st.length; d++) {
            if (st[d] < 0) {
                throw new IllegalArgumentException("stride " + d + " is negative: " + st[d]);
            }
        }
        if (dtype.isQuantized() && st[st.length - 1] != dtype.blockBytes()) {
            throw new IllegalArgumentException(dtype + " needs contiguous blocks in the last dim: stride "
                    + dtype.blockBytes() + ", got " + st[st.length - 1]);
        }
        long span = span(dtype, s, st);
        if (span > segment.byteSize()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(s) + " with strides " + Arrays.toString(st)
                    + " spans " + span + " bytes but the segment has " + segment.byteSize());
        }
        return new Tensor(dtype, s, st, numel, segment.asSlice(0, span), null);
    }

    // ---------------------------------------------------------------- properties

    public DType dtype() {
        return dtype;
    }

    public int rank() {
        return shape.length;
    }

    /** The shape in PyTorch order (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    public long shape(int dim) {
        return shape[checkDim(dim)];
    }

    /** Byte strides (a copy); for a quantized type the last one is the block stride. */
    public long[] strides() {
        return strides.clone();
    }

    public long stride(int dim) {
        return strides[checkDim(dim)];
    }

    public long numel() {
        return numel;
    }

    /** Bytes the elements take when packed contiguously. */
    public long byteSize() {
        return dtype.byteSize(numel);
    }

    /** The memory from the first element to the end of the last one (exactly {@link #byteSize()} if contiguous). */
    public MemorySegment segment() {
        return segment;
    }

    /** Whether this tensor owns its memory (and {@link #close()} frees it). */
    public boolean ownsMemory() {
        return arena != null;
    }

    /** Row-major packed: every stride equals the contiguous one (dims of size 1 are ignored). */
    public boolean isContiguous() {
        if (numel == 0) {
            return true;
        }
        long expected = dtype.blockBytes();
        for (int d = shape.length - 1; d >= 0; d--) {
            long units = d == shape.length - 1 ? shape[d] / dtype.blockSize() : shape[d];
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= units;
        }
        return true;
    }

    // ---------------------------------------------------------------- views

    /** A non-owning alias of this tensor with the same layout. */
    public Tensor view() {
        return new Tensor(dtype, shape, strides, numel, segment, null);
    }

    /** Same as {@link #reshape} (PyTorch's name for a reshape that never copies). */
    public Tensor view(long... newShape) {
        return reshape(newShape);
    }

    /**
     * The same elements under a new shape, sharing memory. One dim may be -1 (inferred). Works
     * whenever the layout allows it without a copy (always for contiguous tensors); otherwise throws
     * {@link IllegalArgumentException}.
     */
    public Tensor reshape(long... newShape) {
        long[] s = inferShape(newShape);
        long n = checkShape(dtype, s);
        if (n != numel) {
            throw new IllegalArgumentException("cannot reshape " + this + " (" + numel + " elements) to "
                    + Arrays.toString(s) + " (" + n + " elements)");
        }
        long[] st;
        if (numel <= 1 || isContiguous()) {
            st = contiguousStrides(dtype, s);
        } else {
            st = viewStrides(s);
            if (st == null) {
                throw new IllegalArgumentException("cannot reshape " + this + " to " + Arrays.toString(s)
                        + " without copying: the strides do not allow it");
            }
        }
        return new Tensor(dtype, s, st, numel, segment.asSlice(0, span(dtype, s, st)), null);
    }

    /** Elements {@code start} (inclusive) to {@code end} (exclusive) of {@code dim}. */
    public Tensor slice(int dim, long start, long end) {
        checkDim(dim);
        if (start < 0 || end > shape[dim] || start > end) {
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") out of bounds for dim " + dim
                    + " of size " + shape[dim] + " in " + this);
        }
        long units = start;
        if (dtype.isQuantized() && dim == shape.length - 1) {
            if (start % dtype.blockSize() != 0 || end % dtype.blockSize() != 0) {
                throw new IllegalArgumentException("slice [" + start + ", " + end + ") of the last dim of " + this
                        + " must start and end on a block boundary (" + dtype.blockSize() + " elements)");
            }
            units = start / dtype.blockSize();
        }
        long[] s = shape.clone();
        s[dim] = end - start;
        return derived(s, strides.clone(), units * strides[dim]);
    }

    /** The sub-tensor at {@code index} of {@code dim}; the result has one dim fewer. */
    public Tensor select(int dim, long index) {
        checkDim(dim);
        if (dtype.isQuantized() && dim == shape.length - 1) {
            throw new IllegalArgumentException("cannot select in the last dim of " + this + ": its elements are packed in blocks");
        }
        if (index < 0 || index >= shape[dim]) {
            throw new IndexOutOfBoundsException("index " + index + " out of bounds for dim " + dim + " of size "
                    + shape[dim] + " in " + this);
        }
        long[] s = new long[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (d != dim) {
                s[j] = shape[d];
                st[j++] = strides[d];
            }
        }
        return derived(s, st, index * strides[dim]);
    }

    /** Reorders the dims: result dim i is this tensor's dim {@code dims[i]}. */
    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute needs " + shape.length + " dims for " + this + ", got "
                    + Arrays.toString(dims));
        }
        boolean[] seen = new boolean[dims.length];
        long[] s = new long[dims.length];
        long[] st = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = dims[i];
            if (d < 0 || d >= dims.length || seen[d]) {
                throw new IllegalArgumentException(Arrays.toString(dims) + " is not a permutation of 0.." + (dims.length - 1));
            }
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        if (dtype.isQuantized() && dims[dims.length - 1] != dims.length - 1) {
            throw new IllegalArgumentException("cannot move the last dim of " + this + ": its elements are packed in blocks");
        }
        return new Tensor(dtype, s, st, numel, segment, null);
    }

    /** Swaps two dims. */
    public Tensor transpose(int a, int b) {
        checkDim(a);
        checkDim(b);
        int[] p = new int[shape.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = i;
        }
        p[a] = b;
        p[b] = a;
        return permute(p);
    }

    // ---------------------------------------------------------------- element access

    /** The value at {@code index} of an F32, F16, BF16 or F64 tensor, as a float. */
    public float getFloat(long... index) {
        long off = offsetOf(index);
        return switch (dtype) {
            case F32 -> segment.get(F32, off);
            case F16 -> Float.float16ToFloat(segment.get(I16, off));
            case BF16 -> Float.intBitsToFloat(segment.get(I16, off) << 16);
            case F64 -> (float) segment.get(F64, off);
            default -> throw notFloat("getFloat");
        };
    }

    /** Stores {@code value} at {@code index}, rounding to nearest-even for F16 and BF16. */
    public void setFloat(float value, long... index) {
        long off = offsetOf(index);
        switch (dtype) {
            case F32 -> segment.set(F32, off, value);
            case F16 -> segment.set(I16, off, Float.floatToFloat16(value));
            case BF16 -> segment.set(I16, off, toBf16(value));
            case F64 -> segment.set(F64, off, value);
            default -> throw notFloat("setFloat");
        }
    }

    /** All elements in row-major order of this view's shape, converted to float. */
    public float[] toFloatArray() {
        if (!dtype.isFloatingPoint()) {
            throw notFloat("toFloatArray");
        }
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(this + " has too many elements for a Java array");
        }
        float[] out = new float[(int) numel];
        if (numel == 0) {
            return out;
        }
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(segment, F32, 0, out, 0, out.length);
            return out;
        }
        long[] idx = new long[shape.length];
        long off = 0;
        for (int n = 0; n < out.length; n++) {
            out[n] = switch (dtype) {
                case F32 -> segment.get(F32, off);
                case F16 -> Float.float16ToFloat(segment.get(I16, off));
                case BF16 -> Float.intBitsToFloat(segment.get(I16, off) << 16);
                default -> (float) segment.get(F64, off);
            };
            for (int d = shape.length - 1; d >= 0; d--) { // odometer step, last dim fastest
                off += strides[d];
                if (++idx[d] < shape[d]) {
                    break;
                }
                off -= strides[d] * shape[d];
                idx[d] = 0;
            }
        }
        return out;
    }

    /**
     * Writes the elements to {@code channel} packed in row-major order (the bytes a contiguous
     * tensor of this shape holds). Contiguous tensors are written straight from memory; strided
     * ones are gathered through a small staging buffer.
     */
    public void writeTo(WritableByteChannel channel) throws IOException {
        if (numel == 0) {
            return;
        }
        if (isContiguous()) {
            writeFully(channel, segment);
            return;
        }
        int rank = shape.length;
        // The innermost contiguous run: a whole last-dim row if its blocks are packed, else one element.
        boolean rowRuns = strides[rank - 1] == dtype.blockBytes();
        long runBytes = rowRuns ? shape[rank - 1] / dtype.blockSize() * dtype.blockBytes() : dtype.blockBytes();
        int outer = rowRuns ? rank - 1 : rank;
        long runs = 1;
        for (int d = 0; d < outer; d++) {
            runs *= shape[d];
        }
        int capacity = 1 << 20;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment stage = scratch.allocate(capacity);
            long filled = 0;
            long[] idx = new long[outer];
            long off = 0;
            for (long r = 0; r < runs; r++) {
                if (filled + runBytes > capacity) {
                    writeFully(channel, stage.asSlice(0, filled));
                    filled = 0;
                }
                if (runBytes > capacity) {
                    writeFully(channel, segment.asSlice(off, runBytes));
                } else {
                    MemorySegment.copy(segment, off, stage, filled, runBytes);
                    filled += runBytes;
                }
                for (int d = outer - 1; d >= 0; d--) { // odometer over the outer dims
                    off += strides[d];
                    if (++idx[d] < shape[d]) {
                        break;
                    }
                    off -= strides[d] * shape[d];
                    idx[d] = 0;
                }
            }
            writeFully(channel, stage.asSlice(0, filled));
        }
    }

    private static void writeFully(WritableByteChannel channel, MemorySegment data) throws IOException {
        final long chunk = 1L << 30; // a ByteBuffer holds at most 2 GiB
        for (long off = 0; off < data.byteSize(); off += chunk) {
            ByteBuffer buf = data.asSlice(off, Math.min(chunk, data.byteSize() - off)).asByteBuffer();
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        }
    }

    /** Frees the memory if this tensor owns it; otherwise does nothing. Idempotent. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** E.g. {@code Tensor[F32 2x3]}, plus the byte strides when not contiguous. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor[").append(dtype).append(' ');
        if (shape.length == 0) {
            sb.append("scalar");
        }
        for (int d = 0; d < shape.length; d++) {
            sb.append(d == 0 ? "" : "x").append(shape[d]);
        }
        if (!isContiguous()) {
            sb.append(" strides=");
            for (int d = 0; d < strides.length; d++) {
                sb.append(d == 0 ? "" : ",").append(strides[d]);
            }
        }
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Elements in a tensor of this shape: 0 if any dim is 0 (whatever the others), else the
     * product of the dims. The same count whatever the dim order, so readers (ggml order) and
     * tensors (PyTorch order) agree on what is valid.
     *
     * @throws IllegalArgumentException for a negative dim or a count above {@link Long#MAX_VALUE}
     */
    public static long numelOf(long... shape) {
        boolean empty = false;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException("dim " + d + " of shape " + Arrays.toString(shape) + " is negative");
            }
            empty |= shape[d] == 0;
        }
        if (empty) {
            return 0;
        }
        long n = 1;
        for (long d : shape) {
            if (Math.multiplyHigh(n, d) != 0 || n * d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^63 elements");
            }
            n *= d;
        }
        return n;
    }

    /**
     * Packed row-major byte strides for a valid shape. They cannot overflow for a non-empty tensor
     * (each is at most its byte size); for an empty one they saturate, as they never address memory.
     */
    static long[] contiguousStrides(DType dtype, long[] shape) {
        long[] st = new long[shape.length];
        long stride = dtype.blockBytes();
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = stride;
            long units = d == shape.length - 1 ? shape[d] / dtype.blockSize() : shape[d];
            stride = multiplyOrMax(stride, Math.max(units, 1)); // a 0 dim keeps outer strides distinct
        }
        return st;
    }

    /** Validates a shape and returns its element count. */
    private static long checkShape(DType dtype, long[] shape) {
        long n = numelOf(shape);
        if (dtype.isQuantized()) {
            if (shape.length == 0) {
                throw new IllegalArgumentException(dtype + " tensors need at least one dim");
            }
            if (shape[shape.length - 1] % dtype.blockSize() != 0) {
                throw new IllegalArgumentException("last dim of " + dtype + " shape " + Arrays.toString(shape)
                        + " must be a multiple of the block size " + dtype.blockSize());
            }
        }
        try {
            dtype.byteSize(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " overflows a 64-bit byte size");
        }
        return n;
    }

    /** Bytes from the first element to the end of the last one; 0 if empty. */
    private static long span(DType dtype, long[] shape, long[] strides) {
        long last = 0;
        try {
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] == 0) {
                    return 0;
                }
                long units = d == shape.length - 1 ? shape[d] / dtype.blockSize() : shape[d];
                last = Math.addExact(last, Math.multiplyExact(units - 1, strides[d]));
            }
            return Math.addExact(last, dtype.blockBytes());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " with strides "
                    + Arrays.toString(strides) + " spans more than 2^63 bytes");
        }
    }

    private Tensor derived(long[] s, long[] st, long offset) {
        long n = 1;
        for (long v : s) {
            n *= v;
        }
        MemorySegment seg = n == 0 ? segment.asSlice(0, 0) : segment.asSlice(offset, span(dtype, s, st));
        return new Tensor(dtype, s, st, n, seg, null);
    }

    private int checkDim(int dim) {
        if (dim < 0 || dim >= shape.length) {
            throw new IllegalArgumentException("dim " + dim + " out of range for rank-" + shape.length + " " + this);
        }
        return dim;
    }

    private long[] inferShape(long[] newShape) {
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int d = 0; d < s.length; d++) {
            if (s[d] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("only one dim can be -1 in " + Arrays.toString(newShape));
                }
                infer = d;
            } else if (s[d] < 0) {
                throw new IllegalArgumentException("dim " + d + " of shape " + Arrays.toString(newShape) + " is negative");
            } else {
                known = s[d] == 0 || known == 0 ? 0 : multiplyOrMax(known, s[d]);
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException("cannot infer the -1 dim of " + Arrays.toString(newShape)
                        + " for " + numel + " elements");
            }
            s[infer] = numel / known;
        }
        return s;
    }

    private static long multiplyOrMax(long a, long b) {
        long r = a * b;
        return Math.multiplyHigh(a, b) != 0 || r < 0 ? Long.MAX_VALUE : r;
    }

    /**
     * Strides for {@code newShape} over this non-contiguous layout, or null if a copy would be
     * needed. Works in units of blocks along the last dim (elements for plain types): runs of dims
     * that are contiguous with each other are split or merged, never reordered.
     */
    private long[] viewStrides(long[] newShape) {
        int bs = dtype.blockSize();
        long[] oldShape = shape.clone();
        long[] target = newShape.clone();
        oldShape[oldShape.length - 1] /= bs;
        if (target.length == 0) {
            return null;
        }
        target[target.length - 1] /= bs; // checkShape made it a multiple of bs
        long[] out = new long[target.length];
        int vd = target.length - 1;
        long base = strides[strides.length - 1];
        long tensorN = 1;
        long viewN = 1;
        for (int td = oldShape.length - 1; td >= 0; td--) {
            tensorN *= oldShape[td];
            boolean chunkEnds = td == 0 || (oldShape[td - 1] != 1 && strides[td - 1] != tensorN * base);
            if (chunkEnds) {
                while (vd >= 0 && (viewN < tensorN || target[vd] == 1)) {
                    out[vd] = viewN * base;
                    viewN *= target[vd];
                    vd--;
                }
                if (viewN != tensorN) {
                    return null;
                }
                if (td > 0) {
                    base = strides[td - 1];
                    tensorN = 1;
                    viewN = 1;
                }
            }
        }
        return vd == -1 ? out : null;
    }

    private long offsetOf(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(this + " needs " + shape.length + " indices, got " + index.length);
        }
        if (dtype.isQuantized()) {
            throw notFloat("element access");
        }
        long off = 0;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + index[d] + " out of bounds for dim " + d + " of size "
                        + shape[d] + " in " + this);
            }
            off += index[d] * strides[d];
        }
        return off;
    }

    private UnsupportedOperationException notFloat(String what) {
        return new UnsupportedOperationException(what + " needs an F32, F16, BF16 or F64 tensor, not " + this);
    }

    /** f32 → bf16 with round-to-nearest-even; NaN stays a (quiet) NaN. */
    private static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
