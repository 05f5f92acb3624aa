package dev.tessera.io.gguf;

import java.util.Objects;

/**
 * One GGUF metadata value. Scalars are records holding the Java value; unsigned types hold the
 * value in a wider type (or, for u64, the raw bits). Arrays are {@link GgufArray}.
 */
public sealed interface GgufValue
        permits GgufValue.UInt8, GgufValue.Int8, GgufValue.UInt16, GgufValue.Int16, GgufValue.UInt32,
                GgufValue.Int32, GgufValue.Float32, GgufValue.Bool, GgufValue.Str, GgufValue.UInt64,
                GgufValue.Int64, GgufValue.Float64, GgufArray {

    GgufValueType type();

    record UInt8(int value) implements GgufValue {
        public UInt8 {
            if (value < 0 || value > 0xFF) {
                throw new IllegalArgumentException("u8 out of range: " + value);
            }
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.UINT8;
        }
    }

    record Int8(byte value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.INT8;
        }
    }

    record UInt16(int value) implements GgufValue {
        public UInt16 {
            if (value < 0 || value > 0xFFFF) {
                throw new IllegalArgumentException("u16 out of range: " + value);
            }
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.UINT16;
        }
    }

    record Int16(short value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.INT16;
        }
    }

    record UInt32(long value) implements GgufValue {
        public UInt32 {
            if (value < 0 || value > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("u32 out of range: " + value);
            }
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.UINT32;
        }
    }

    record Int32(int value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.INT32;
        }
    }

    record Float32(float value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.FLOAT32;
        }
    }

    record Bool(boolean value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.BOOL;
        }
    }

    record Str(String value) implements GgufValue {
        public Str {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.STRING;
        }
    }

    /** An unsigned 64-bit value; {@code bits} is read as unsigned (see {@link Long#toUnsignedString}). */
    record UInt64(long bits) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.UINT64;
        }

        @Override
        public String toString() {
            return "UInt64[" + Long.toUnsignedString(bits) + "]";
        }
    }

    record Int64(long value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.INT64;
        }
    }

    record Float64(double value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.FLOAT64;
        }
    }

    static GgufValue of(String value) {
        return new Str(value);
    }

    static GgufValue of(boolean value) {
        return new Bool(value);
    }

    static GgufValue of(float value) {
        return new Float32(value);
    }

    static GgufValue of(double value) {
        return new Float64(value);
    }

    static GgufValue of(int value) {
        return new Int32(value);
    }

    static GgufValue of(long value) {
        return new Int64(value);
    }

    /** A u32 (the type GGUF writers use for counts and ids). */
    static GgufValue ofUInt32(long value) {
        return new UInt32(value);
    }
}
