/*
 * ts_quants_fp16.h — private half/bfloat16 helpers of the quantization reference layer.
 *
 * Why a private copy: ts_quants.c must build on its own while the core conversion headers
 * (ts_fp.h / ts_fp16.h) are still settling; the lead may replace these with the core
 * ones once they are final. Semantics are the same as the core's and as ggml's
 * GGML_FP32_TO_FP16 for every finite value and infinity:
 *  - float -> half: round to nearest, ties to even, subnormals produced, >= 65520 -> inf;
 *  - half -> float: exact;
 *  - NaN -> a quiet NaN (payload details never matter for quantized blocks).
 * Pure integer arithmetic, so MXCSR rounding/FTZ modes set by a host cannot change them.
 */
#ifndef TS_QUANTS_FP16_H
#define TS_QUANTS_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ts_q_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float ts_q_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float ts_q_h2f(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;
    if (e == 0x1f) /* inf / NaN (quieted) */
        return ts_q_float(sign | 0x7f800000u | (m ? 0x00400000u | (m << 13) : 0u));
    if (e == 0) {
        if (m == 0) return ts_q_float(sign);
        /* subnormal: m * 2^-24, exact in float */
        float v = (float)m * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    return ts_q_float(sign | ((e + 112u) << 23) | (m << 13));
}

static inline uint16_t ts_q_f2h(float f) {
    uint32_t x = ts_q_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  /* rounds to >= 65536: inf */
    if (a >= 0x38800000u) {                                    /* normal half range */
        uint32_t r = a - 0x38000000u;                          /* rebias exponent 127 -> 15 */
        r += 0xfffu + ((r >> 13) & 1u);                        /* RNE on the 13 dropped bits */
        return (uint16_t)(sign | (r >> 13));                   /* mantissa carry is correct */
    }
    if (a < 0x33000000u) return sign;                          /* < 2^-25: rounds to zero */
    /* subnormal half: units of 2^-24 */
    uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, sh = 126u - e; /* 14..24 */
    uint32_t r = m >> sh, rem = m & ((1u << sh) - 1u), half = 1u << (sh - 1u);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

static inline float ts_q_bf2f(uint16_t h) { return ts_q_float((uint32_t)h << 16); }

static inline uint16_t ts_q_f2bf(float f) {
    uint32_t x = ts_q_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x0040u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);                                             /* RNE */
    return (uint16_t)(x >> 16);
}

#endif /* TS_QUANTS_FP16_H */
