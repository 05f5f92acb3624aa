/*
 * ts_fp16.h — scalar IEEE binary16 and bfloat16 conversions (static inline).
 *
 * These are the reference semantics every SIMD kernel must reproduce bit for bit:
 *  - float -> half / bfloat16 rounds to nearest, ties to even, independent of the FPU
 *    rounding mode and of FTZ/DAZ (pure integer arithmetic, so a JVM or a caller that
 *    changed MXCSR/FPCR cannot change our results);
 *  - overflow rounds to infinity (as IEEE requires), subnormals are produced and read;
 *  - NaN stays NaN: the result is quieted and keeps the top payload bits, which is what
 *    x86 F16C/AVX-512 (vcvtps2ph/vcvtph2ps, vcvtneps2bf16) and AArch64 FCVT do, so the
 *    scalar and SIMD paths agree even on NaN bit patterns. A NaN is never truncated into
 *    an infinity (the classic bug of "bf16 = f32 >> 16").
 */
#ifndef TS_FP16_H
#define TS_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ts_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float ts_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* binary16 -> float: exact for every non-NaN input. */
static inline float ts_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) {
        /* inf keeps man == 0; NaN is quieted (bit 22) like vcvtph2ps / FCVT do. */
        return ts_bits_f32(sign | 0x7f800000u | (man ? 0x00400000u | (man << 13) : 0));
    }
    if (exp == 0) {
        if (man == 0) return ts_bits_f32(sign);
        /* Subnormal: value = man * 2^-24. Normalise so the leading 1 sits at bit 10. */
        int shift = 0;
        while ((man & 0x400u) == 0) { man <<= 1; shift++; }
        man &= 0x3ffu;
        /* The leading bit was at 10 - shift, i.e. value 2^(-14 - shift) * 1.man. */
        return ts_bits_f32(sign | ((uint32_t)(127 - 14 - shift) << 23) | (man << 13));
    }
    return ts_bits_f32(sign | ((exp + (127 - 15)) << 23) | (man << 13));
}

/* float -> binary16, round to nearest even. */
static inline uint16_t ts_f32_to_f16(float f) {
    uint32_t x = ts_f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: quiet it, keep the top 9 payload bits */
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax >= 0x477ff000u) /* >= 65520 (incl. inf) rounds to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (ax >= 0x38800000u) { /* normal half: rebias the exponent, round off 13 bits */
        uint32_t r = ax - 0x38000000u;
        r += 0xfffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13)); /* a carry into the exponent is correct */
    }
    if (ax < 0x33000000u) /* below 2^-25 (half of the smallest subnormal): +-0 */
        return sign;
    /* Subnormal half in units of 2^-24: value = m * 2^(e - 150) = (m >> (126 - e)) units.
     * A carry out of the 10 bits yields 0x400, the smallest normal, which is right. */
    uint32_t e = ax >> 23;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e; /* 14..24 */
    uint32_t r = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

/* bfloat16 -> float: exact, NaN payloads are kept as they are. */
static inline float ts_bf16_to_f32(uint16_t h) {
    return ts_bits_f32((uint32_t)h << 16);
}

/* float -> bfloat16, round to nearest even; NaN is quieted (bit 6) and never becomes inf.
 * Finite values above the largest bfloat16 round to inf as RNE requires. f32 subnormals
 * are rounded, not flushed (unlike raw vcvtneps2bf16, whose SIMD callers fix that up). */
static inline uint16_t ts_f32_to_bf16(float f) {
    uint32_t x = ts_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x0040u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

#endif /* TS_FP16_H */
