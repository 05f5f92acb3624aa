package dev.tessera.core;

import dev.tessera.bindings.TesseraNative;
import java.util.Locale;

/** Kernel levels the native library can run; a level also uses the kernels of those below it. */
public enum Isa {
    SCALAR(TesseraNative.TS_ISA_SCALAR),
    AVX2(TesseraNative.TS_ISA_AVX2),
    AVX512(TesseraNative.TS_ISA_AVX512),
    AMX(TesseraNative.TS_ISA_AMX),
    NEON(TesseraNative.TS_ISA_NEON),
    DOTPROD(TesseraNative.TS_ISA_DOTPROD);

    private final int code;

    Isa(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The name the native library and {@code -Dtessera.isa} use, e.g. {@code avx2}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Isa fromCode(int code) {
        for (Isa isa : values()) {
            if (isa.code == code) {
                return isa;
            }
        }
        throw new IllegalArgumentException("unknown kernel level code " + code);
    }

    public static Isa fromId(String id) {
        for (Isa isa : values()) {
            if (isa.id().equals(id.trim().toLowerCase(Locale.ROOT))) {
                return isa;
            }
        }
        throw new IllegalArgumentException("unknown kernel level '" + id + "' (expected one of scalar, avx2, avx512, amx, neon, dotprod)");
    }
}
