package dev.tessera.tensor;

import java.util.Locale;

/**
 * Element types of tensors: the plain numeric types and every ggml block-quantized type.
 *
 * <p>A quantized type packs {@link #blockSize()} consecutive elements of the innermost dimension
 * into {@link #blockBytes()} bytes; a plain type is a "block" of one element. Types Tessera does
 * not compute (IQ*, TQ*, MXFP4, NVFP4, ...) are still listed so a loader can validate sizes.
 * Ids and sizes follow ggml's {@code ggml_type} table.
 */
public enum DType {
    F32(0, 1, 4, "F32"),
    F16(1, 1, 2, "F16"),
    BF16(30, 1, 2, "BF16"),
    F64(28, 1, 8, "F64"),
    I8(24, 1, 1, "I8"),
    I16(25, 1, 2, "I16"),
    I32(26, 1, 4, "I32"),
    I64(27, 1, 8, "I64"),
    /** Unsigned byte; no ggml id (safetensors only). */
    U8(-1, 1, 1, "U8"),
    /** One byte per element, 0 or 1; no ggml id (safetensors only). */
    BOOL(-1, 1, 1, "BOOL"),

    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    IQ1_M(29, 256, 56),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17),
    NVFP4(40, 64, 36),
    Q1_0(41, 128, 18),
    Q2_0(42, 64, 18);

    /** One past the largest ggml id this table knows. */
    private static final int GGML_ID_LIMIT = 43;
    private static final DType[] BY_GGML_ID = new DType[GGML_ID_LIMIT];

    static {
        for (DType t : values()) {
            if (t.ggmlId >= 0) {
                if (BY_GGML_ID[t.ggmlId] != null) {
                    throw new AssertionError("duplicate ggml id " + t.ggmlId);
                }
                BY_GGML_ID[t.ggmlId] = t;
            }
        }
    }

    private final int ggmlId;
    private final int blockSize;
    private final int blockBytes;
    private final String safetensorsName;

    DType(int ggmlId, int blockSize, int blockBytes) {
        this(ggmlId, blockSize, blockBytes, null);
    }

    DType(int ggmlId, int blockSize, int blockBytes, String safetensorsName) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.safetensorsName = safetensorsName;
    }

    /** The ggml_type id, or -1 for a type ggml has no id for ({@link #U8}, {@link #BOOL}). */
    public int ggmlId() {
        return ggmlId;
    }

    public boolean hasGgmlId() {
        return ggmlId >= 0;
    }

    /** Elements per block: 1 for plain types. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block: the element size for plain types. */
    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** True for F32, F16, BF16 and F64. */
    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** Bytes of one element of a plain type. */
    public int elementBytes() {
        if (isQuantized()) {
            throw new UnsupportedOperationException(this + " is block-quantized: " + blockSize + " elements share " + blockBytes + " bytes");
        }
        return blockBytes;
    }

    /** The safetensors dtype string, or null if safetensors cannot hold this type. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /**
     * Bytes that {@code elements} elements occupy.
     *
     * @throws IllegalArgumentException if elements is negative, not a whole number of blocks, or
     *     the size does not fit in a long
     */
    public long byteSize(long elements) {
        if (elements < 0) {
            throw new IllegalArgumentException("element count must be >= 0, got " + elements);
        }
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    this + " stores blocks of " + blockSize + " elements; " + elements + " is not a multiple");
        }
        long blocks = elements / blockSize;
        if (blocks > Long.MAX_VALUE / blockBytes) {
            throw new IllegalArgumentException(elements + " elements of " + this + " overflow a 64-bit byte size");
        }
        return blocks * blockBytes;
    }

    /**
     * The type with the given ggml_type id.
     *
     * @throws IllegalArgumentException for an unknown or removed id
     */
    public static DType fromGgmlId(int id) {
        DType t = id >= 0 && id < GGML_ID_LIMIT ? BY_GGML_ID[id] : null;
        if (t == null) {
            String why = switch (id) {
                case 4, 5 -> " (Q4_2/Q4_3, removed from ggml)";
                case 31, 32, 33 -> " (Q4_0_4_4/4_8/8_8, removed from files)";
                case 36, 37, 38 -> " (IQ4_NL_4_4/4_8/8_8, removed from files)";
                default -> "";
            };
            throw new IllegalArgumentException("unknown ggml type id " + Integer.toUnsignedString(id) + why);
        }
        return t;
    }

    /**
     * The type with the given safetensors dtype name (case-sensitive, e.g. {@code "BF16"}).
     *
     * @throws IllegalArgumentException for a name Tessera does not support
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.safetensorsName != null && t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported safetensors dtype '" + name
                + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
    }

    /** Lower-case name as ggml prints it, e.g. {@code q4_k}. */
    public String ggmlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
