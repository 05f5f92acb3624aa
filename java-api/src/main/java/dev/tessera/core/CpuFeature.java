package dev.tessera.core;

import dev.tessera.bindings.TesseraNative;
import java.util.EnumSet;
import java.util.Set;

/** CPU features the native library detected (and the OS enabled). */
public enum CpuFeature {
    SSE3(TesseraNative.TS_CPU_SSE3),
    AVX(TesseraNative.TS_CPU_AVX),
    AVX2(TesseraNative.TS_CPU_AVX2),
    F16C(TesseraNative.TS_CPU_F16C),
    FMA(TesseraNative.TS_CPU_FMA),
    AVX512F(TesseraNative.TS_CPU_AVX512F),
    AVX512BW(TesseraNative.TS_CPU_AVX512BW),
    AVX512VL(TesseraNative.TS_CPU_AVX512VL),
    AVX512VNNI(TesseraNative.TS_CPU_AVX512VNNI),
    AVX512BF16(TesseraNative.TS_CPU_AVX512BF16),
    AVX512FP16(TesseraNative.TS_CPU_AVX512FP16),
    AVXVNNI(TesseraNative.TS_CPU_AVXVNNI),
    AMX_TILE(TesseraNative.TS_CPU_AMX_TILE),
    AMX_INT8(TesseraNative.TS_CPU_AMX_INT8),
    AMX_BF16(TesseraNative.TS_CPU_AMX_BF16),
    /** Linux granted this process the AMX tile state (without it AMX instructions fault). */
    AMX_PERMITTED(TesseraNative.TS_CPU_AMX_PERMITTED),
    NEON(TesseraNative.TS_CPU_NEON),
    DOTPROD(TesseraNative.TS_CPU_DOTPROD),
    FP16_ARITH(TesseraNative.TS_CPU_FP16_ARITH);

    private final long bit;

    CpuFeature(long bit) {
        this.bit = bit;
    }

    static Set<CpuFeature> fromBits(long bits) {
        EnumSet<CpuFeature> set = EnumSet.noneOf(CpuFeature.class);
        for (CpuFeature f : values()) {
            if ((bits & f.bit) != 0) {
                set.add(f);
            }
        }
        return set;
    }
}
