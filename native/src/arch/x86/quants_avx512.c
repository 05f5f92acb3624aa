/*
 * quants_avx512.c — quantized dot products for the avx512 level (F + BW + VL + DQ).
 *
 * Same algebra as the avx2 level (quants_avx2.c, quants_k_avx2.c), twice as wide:
 *  - 32-element formats (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1): two blocks per 512-bit vector,
 *    each block's eight int32 lanes scaled by its own d in a [d0 x8 | d1 x8] vector. An odd
 *    last block runs with a zero upper half. AVX-512 has no vpsignb, so the signed formats
 *    use a mask: |w| as the unsigned operand, a negated where w < 0. The 5th bits of
 *    Q5_0/Q5_1 become a 64-bit byte mask (qh of block 0 | qh of block 1 << 32) that adds
 *    or subtracts 16 in one masked byte op.
 *  - K-quants with 16-element groups (Q2_K, Q3_K, Q6_K): two 32-byte parts per vector, so
 *    each 128-bit lane holds one group; vpermw spreads the group's int16 scale over its
 *    lane, and per-half variable shifts pick each part's bits from one broadcast load.
 *  - K-quants with 32-element groups (Q4_K, Q5_K): one 32-byte quant load broadcast to
 *    both halves gives two groups (low | high nibbles, by a per-half shift), matching 64
 *    contiguous activations; Q5_K's 5th bits come in through a byte test mask.
 * AVX512-VNNI is optional within the level: vpdpbusd replaces maddubs + madd in the
 * 32-element formats (for Q4_1/Q5_1, whose codes are unsigned, it takes them directly);
 * those variants carry target("avx512vnni") and are registered only when the CPU reports
 * the bit (a file-wide flag could leak VNNI into the other functions). The K-quants keep
 * maddubs + madd: their per-group int16 scale rides in the madd for free, whereas after
 * vpdpbusd it would cost an extra int32 multiply per vector.
 */
#include <immintrin.h>
#include <string.h>

#include "tessera.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "quants_k_x86.h"
#include "quants_x86.h"
#include "simd_x86.h"

/* The VNNI variants' attribute; tests/test_quants_avx512.c, which also runs this file on an
 * emulation of the AVX-512 intrinsics, defines it empty. */
#ifndef TS_TARGET_AVX512VNNI
#define TS_TARGET_AVX512VNNI __attribute__((target("avx512vnni")))
#endif

/* [d0 in lanes 0..7 | d1 in lanes 8..15]. */
static inline __m512 two_scales(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)), _mm256_set1_ps(d1), 1);
}

static inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

/* Q4_0 codes of one block minus 8. */
static inline __m256i q4_0_levels(const uint8_t *qs) { return _mm256_sub_epi8(nibbles32(qs), _mm256_set1_epi8(8)); }

/* The 5th bits of a Q5_0/Q5_1 pair as a byte mask: bit e = element e of block 0, bit 32 + e
 * = element e of block 1 (the byte order of join256 of the two blocks' codes). */
static inline __mmask64 qh_mask2(const uint8_t *qh0, const uint8_t *qh1) {
    uint32_t u0, u1 = 0;
    memcpy(&u0, qh0, sizeof u0);
    if (qh1) memcpy(&u1, qh1, sizeof u1);
    return (__mmask64)u0 | ((__mmask64)u1 << 32);
}

/* Σ w·a of signed bytes as 16 int32 lanes (4 products each): |w| times a negated where
 * w < 0 (a is never -128, so the negation cannot overflow). */
static inline __m512i dot_i8_madd(__m512i w, __m512i a) {
    const __m512i sa = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(w), _mm512_setzero_si512(), a);
    return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(w), sa), _mm512_set1_epi16(1));
}

TS_TARGET_AVX512VNNI static inline __m512i dot_i8_vnni(__m512i w, __m512i a) {
    const __m512i sa = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(w), _mm512_setzero_si512(), a);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), sa);
}

/* Σ u·a of unsigned codes (< 64, so maddubs cannot saturate) and signed bytes, as 16 int32
 * lanes. */
static inline __m512i dot_u8_madd(__m512i u, __m512i a) {
    return _mm512_madd_epi16(_mm512_maddubs_epi16(u, a), _mm512_set1_epi16(1));
}

TS_TARGET_AVX512VNNI static inline __m512i dot_u8_vnni(__m512i u, __m512i a) {
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, a);
}

/* The 32 signed levels of a Q8_0 block (the Q4_0 counterpart is q4_0_levels). */
static inline __m256i q8_0_levels(const int8_t *qs) { return loadu256(qs); }

/* One body per (weight format, dot flavour) of the formats whose levels need no per-block
 * offset: BLOCK's 32 levels come from LEVELS(qs). An odd last block runs with a zero upper
 * half. */
#define TS_X_0_DOT(NAME, ATTR, DOT, BLOCK, LEVELS)                                                      \
    ATTR static float NAME(int64_t k, const void *vw, const void *va) {                                 \
        const BLOCK *w = vw;                                                                             \
        const ts_block_q8_0 *a = va;                                                                     \
        const int64_t nb = k / 32;                                                                       \
        __m512 acc = _mm512_setzero_ps();                                                                \
        int64_t i = 0;                                                                                   \
        for (; i + 2 <= nb; i += 2) {                                                                    \
            const __m512i qw = join256(LEVELS(w[i].qs), LEVELS(w[i + 1].qs));                            \
            const __m512i qa = join256(loadu256(a[i].qs), loadu256(a[i + 1].qs));                        \
            const __m512 d = two_scales(h2f(w[i].d) * h2f(a[i].d), h2f(w[i + 1].d) * h2f(a[i + 1].d));   \
            acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(DOT(qw, qa)), acc);                              \
        }                                                                                                \
        if (i < nb) {                                                                                    \
            const __m512i qw = _mm512_zextsi256_si512(LEVELS(w[i].qs));                                  \
            const __m512i qa = _mm512_zextsi256_si512(loadu256(a[i].qs));                                \
            acc = _mm512_fmadd_ps(two_scales(h2f(w[i].d) * h2f(a[i].d), 0.0f), _mm512_cvtepi32_ps(DOT(qw, qa)), acc); \
        }                                                                                                \
        return _mm512_reduce_add_ps(acc);                                                                \
    }

TS_X_0_DOT(vec_dot_q8_0_q8_0_avx512, , dot_i8_madd, ts_block_q8_0, q8_0_levels)
TS_X_0_DOT(vec_dot_q8_0_q8_0_avx512vnni, TS_TARGET_AVX512VNNI, dot_i8_vnni, ts_block_q8_0, q8_0_levels)
TS_X_0_DOT(vec_dot_q4_0_q8_0_avx512, , dot_i8_madd, ts_block_q4_0, q4_0_levels)
TS_X_0_DOT(vec_dot_q4_0_q8_0_avx512vnni, TS_TARGET_AVX512VNNI, dot_i8_vnni, ts_block_q4_0, q4_0_levels)

/* Q5_0 levels of a block pair: level = nibble - 16 where the 5th bit is 0, the nibble
 * itself where it is 1. b1 NULL (odd last block): the upper half becomes -16s, harmless
 * because the caller pairs it with zero activations. */
static inline __m512i q5_0_levels2(const ts_block_q5_0 *b0, const ts_block_q5_0 *b1) {
    const __m512i c = b1 ? join256(nibbles32(b0->qs), nibbles32(b1->qs)) : _mm512_zextsi256_si512(nibbles32(b0->qs));
    return _mm512_mask_sub_epi8(c, ~qh_mask2(b0->qh, b1 ? b1->qh : NULL), c, _mm512_set1_epi8(16));
}

#define TS_Q5_0_DOT(NAME, ATTR, DOT)                                                                    \
    ATTR static float NAME(int64_t k, const void *vw, const void *va) {                                 \
        const ts_block_q5_0 *w = vw;                                                                     \
        const ts_block_q8_0 *a = va;                                                                     \
        const int64_t nb = k / 32;                                                                       \
        __m512 acc = _mm512_setzero_ps();                                                                \
        int64_t i = 0;                                                                                   \
        for (; i + 2 <= nb; i += 2) {                                                                    \
            const __m512i qw = q5_0_levels2(w + i, w + i + 1);                                           \
            const __m512i qa = join256(loadu256(a[i].qs), loadu256(a[i + 1].qs));                        \
            const __m512 d = two_scales(h2f(w[i].d) * h2f(a[i].d), h2f(w[i + 1].d) * h2f(a[i + 1].d));   \
            acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(DOT(qw, qa)), acc);                              \
        }                                                                                                \
        if (i < nb) {                                                                                    \
            const __m512i qw = q5_0_levels2(w + i, NULL);                                                \
            const __m512i qa = _mm512_zextsi256_si512(loadu256(a[i].qs));                                \
            acc = _mm512_fmadd_ps(two_scales(h2f(w[i].d) * h2f(a[i].d), 0.0f), _mm512_cvtepi32_ps(DOT(qw, qa)), acc); \
        }                                                                                                \
        return _mm512_reduce_add_ps(acc);                                                                \
    }

TS_Q5_0_DOT(vec_dot_q5_0_q8_0_avx512, , dot_i8_madd)
TS_Q5_0_DOT(vec_dot_q5_0_q8_0_avx512vnni, TS_TARGET_AVX512VNNI, dot_i8_vnni)

/* Unsigned codes of a Q4_1 / Q5_1 block pair (b1 NULL: zero upper half). */
static inline __m512i q4_1_codes2(const ts_block_q4_1 *b0, const ts_block_q4_1 *b1) {
    return b1 ? join256(nibbles32(b0->qs), nibbles32(b1->qs)) : _mm512_zextsi256_si512(nibbles32(b0->qs));
}

static inline __m512i q5_1_codes2(const ts_block_q5_1 *b0, const ts_block_q5_1 *b1) {
    const __m512i c = b1 ? join256(nibbles32(b0->qs), nibbles32(b1->qs)) : _mm512_zextsi256_si512(nibbles32(b0->qs));
    return _mm512_mask_add_epi8(c, qh_mask2(b0->qh, b1 ? b1->qh : NULL), c, _mm512_set1_epi8(16));
}

/* Q4_1·Q8_1 and Q5_1·Q8_1: d·da·Σ code·qa + m·s per block (s = da·Σqa from the quantizer);
 * the m·s terms go to a scalar sum. */
#define TS_MIN_DOT(NAME, ATTR, WT, CODES, DOT)                                                          \
    ATTR static float NAME(int64_t k, const void *vw, const void *va) {                                 \
        const WT *w = vw;                                                                                \
        const ts_block_q8_1 *a = va;                                                                     \
        const int64_t nb = k / 32;                                                                       \
        __m512 acc = _mm512_setzero_ps();                                                                \
        float summ = 0;                                                                                  \
        int64_t i = 0;                                                                                   \
        for (; i + 2 <= nb; i += 2) {                                                                    \
            const __m512i qa = join256(loadu256(a[i].qs), loadu256(a[i + 1].qs));                        \
            const __m512 d = two_scales(h2f(w[i].d) * h2f(a[i].d), h2f(w[i + 1].d) * h2f(a[i + 1].d));   \
            acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(DOT(CODES(w + i, w + i + 1), qa)), acc);         \
            summ += h2f(w[i].m) * h2f(a[i].s) + h2f(w[i + 1].m) * h2f(a[i + 1].s);                       \
        }                                                                                                \
        if (i < nb) {                                                                                    \
            const __m512i qa = _mm512_zextsi256_si512(loadu256(a[i].qs));                                \
            acc = _mm512_fmadd_ps(two_scales(h2f(w[i].d) * h2f(a[i].d), 0.0f), _mm512_cvtepi32_ps(DOT(CODES(w + i, NULL), qa)), acc); \
            summ += h2f(w[i].m) * h2f(a[i].s);                                                           \
        }                                                                                                \
        return _mm512_reduce_add_ps(acc) + summ;                                                         \
    }

TS_MIN_DOT(vec_dot_q4_1_q8_1_avx512, , ts_block_q4_1, q4_1_codes2, dot_u8_madd)
TS_MIN_DOT(vec_dot_q4_1_q8_1_avx512vnni, TS_TARGET_AVX512VNNI, ts_block_q4_1, q4_1_codes2, dot_u8_vnni)
TS_MIN_DOT(vec_dot_q5_1_q8_1_avx512, , ts_block_q5_1, q5_1_codes2, dot_u8_madd)
TS_MIN_DOT(vec_dot_q5_1_q8_1_avx512vnni, TS_TARGET_AVX512VNNI, ts_block_q5_1, q5_1_codes2, dot_u8_vnni)

/* Q4_K·Q8_K: as the avx2 version (codes unsigned into maddubs, per-group scales in madd,
 * the min term from bsums), two groups per step: the 32 quant bytes of groups 2jj/2jj+1
 * broadcast to both halves, the upper half shifted right by 4, so the codes line up with
 * the 64 activations of those groups as stored. */
static float vec_dot_q4_K_q8_K_avx512(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i shift = join256(_mm256_setzero_si256(), _mm256_set1_epi16(4));
    __m512i ctl[4]; /* int16 lane 2jj of each 128-bit lane in the lower half, 2jj+1 in the upper */
    for (int jj = 0; jj < 4; jj++) {
        const int j0 = 2 * jj, j1 = 2 * jj + 1;
        ctl[jj] = join256(_mm256_set1_epi16((short)(((2 * j0 + 1) << 8) | (2 * j0))),
                          _mm256_set1_epi16((short)(((2 * j1 + 1) << 8) | (2 * j1))));
    }
    __m512 acc = _mm512_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256i scm = k4_scales_mins(w[i].scales);
        const __m512i sc = _mm512_broadcast_i32x4(_mm256_castsi256_si128(scm));
        const __m128i pm = k4_min_term(_mm256_extracti128_si256(scm, 1), a[i].bsums);
        __m512i sumi = _mm512_setzero_si512();
        for (int jj = 0; jj < 4; jj++) {
            const __m512i q = _mm512_broadcast_i64x4(loadu256(w[i].qs + 32 * jj));
            const __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(q, shift), low);
            const __m512i qa = _mm512_loadu_si512((const void *)(a[i].qs + 64 * jj));
            const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(codes, qa), _mm512_shuffle_epi8(sc, ctl[jj]));
            sumi = _mm512_add_epi32(sumi, p);
        }
        const __m128 f = k4_factors(&w[i].d, a[i].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(_mm_cvtss_f32(f)), _mm512_cvtepi32_ps(sumi), acc);
        accm = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x55), _mm_cvtepi32_ps(pm), accm);
    }
    return _mm512_reduce_add_ps(acc) - hsum4(accm);
}

/* Q5_K·Q8_K: Q4_K plus the 5th bits. Bit j of qh[l] is the 5th bit of element l of group
 * j; with qh broadcast to both halves, a byte test against [1 << 2jj | 1 << (2jj+1)] marks
 * the codes of groups 2jj / 2jj+1 that get 16 added. */
static float vec_dot_q5_K_q8_K_avx512(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i sixteen = _mm512_set1_epi8(16);
    const __m512i shift = join256(_mm256_setzero_si256(), _mm256_set1_epi16(4));
    __m512i ctl[4], hbit[4];
    for (int jj = 0; jj < 4; jj++) {
        const int j0 = 2 * jj, j1 = 2 * jj + 1;
        ctl[jj] = join256(_mm256_set1_epi16((short)(((2 * j0 + 1) << 8) | (2 * j0))),
                          _mm256_set1_epi16((short)(((2 * j1 + 1) << 8) | (2 * j1))));
        hbit[jj] = join256(_mm256_set1_epi8((char)(1 << j0)), _mm256_set1_epi8((char)(1 << j1)));
    }
    __m512 acc = _mm512_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256i scm = k4_scales_mins(w[i].scales);
        const __m512i sc = _mm512_broadcast_i32x4(_mm256_castsi256_si128(scm));
        const __m128i pm = k4_min_term(_mm256_extracti128_si256(scm, 1), a[i].bsums);
        const __m512i qh = _mm512_broadcast_i64x4(loadu256(w[i].qh));
        __m512i sumi = _mm512_setzero_si512();
        for (int jj = 0; jj < 4; jj++) {
            const __m512i q = _mm512_broadcast_i64x4(loadu256(w[i].qs + 32 * jj));
            __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(q, shift), low);
            codes = _mm512_mask_add_epi8(codes, _mm512_test_epi8_mask(qh, hbit[jj]), codes, sixteen);
            const __m512i qa = _mm512_loadu_si512((const void *)(a[i].qs + 64 * jj));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(codes, qa), _mm512_shuffle_epi8(sc, ctl[jj])));
        }
        const __m128 f = k4_factors(&w[i].d, a[i].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(_mm_cvtss_f32(f)), _mm512_cvtepi32_ps(sumi), acc);
        accm = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x55), _mm_cvtepi32_ps(pm), accm);
    }
    return _mm512_reduce_add_ps(acc) - hsum4(accm);
}

/* For the 16-element-group K-quants: a super-block half n (128 elements) is two vectors, A
 * (parts 0, 1 = elements 0..63 of the half) and B (parts 2, 3), and 128-bit lane j of vector
 * g = 2n + (B) holds group 4g + j. Index vector for vpermw: int16 lane t gets scale 4g + t/8. */
static inline __m512i group_scale_idx(int g) {
    return join256(_mm256_set_m128i(_mm_set1_epi16((short)(4 * g + 1)), _mm_set1_epi16((short)(4 * g))),
                   _mm256_set_m128i(_mm_set1_epi16((short)(4 * g + 3)), _mm_set1_epi16((short)(4 * g + 2))));
}

/* Q6_K·Q8_K: code = 4 low bits (ql) | 2 high bits (qh) << 4, level = code - 32 (applied as
 * -32·Σ sc·bsums). Half n: the 64 ql bytes at 64n are [ql0 | ql1] = the low nibbles of parts
 * 0 | 1 and the high nibbles of parts 2 | 3; qh (32 bytes at 32n, broadcast) supplies bits
 * 0-1 / 2-3 (A) and 4-5 / 6-7 (B), moved to bits 4-5 by per-half shifts. */
static float vec_dot_q6_K_q8_K_avx512(int64_t k, const void *vw, const void *va) {
    const ts_block_q6_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    const __m512i shl_a = join256(_mm256_set1_epi16(4), _mm256_set1_epi16(2));
    const __m512i shr_b = join256(_mm256_setzero_si256(), _mm256_set1_epi16(2));
    __m512i idx[4];
    for (int g = 0; g < 4; g++) idx[g] = group_scale_idx(g);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales));
        const __m256i off = _mm256_madd_epi16(sc16, loadu256(a[i].bsums));
        const __m512i sc = _mm512_zextsi256_si512(sc16);
        __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5)));
        for (int n = 0; n < 2; n++) {
            const __m512i l = _mm512_loadu_si512((const void *)(w[i].ql + 64 * n));
            const __m512i h = _mm512_broadcast_i64x4(loadu256(w[i].qh + 32 * n));
            const __m512i ca = _mm512_or_si512(_mm512_and_si512(l, low), _mm512_and_si512(_mm512_sllv_epi16(h, shl_a), m30));
            const __m512i cb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low),
                                               _mm512_and_si512(_mm512_srlv_epi16(h, shr_b), m30));
            const int8_t *pa = a[i].qs + 128 * n;
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(ca, _mm512_loadu_si512((const void *)pa)),
                                                            _mm512_permutexvar_epi16(idx[2 * n], sc)));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(cb, _mm512_loadu_si512((const void *)(pa + 64))),
                                                            _mm512_permutexvar_epi16(idx[2 * n + 1], sc)));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(a[i].d * h2f(w[i].d)), _mm512_cvtepi32_ps(sumi), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

/* Q3_K·Q8_K: code = 2 low bits (qs) | hmask bit << 2, level = code - 4 (applied as
 * -4·Σ sc·bsums). Half n: qs bytes at 32n (broadcast) give part p in bits 2p..2p+1, taken by
 * per-half shifts [0 | 2] (A) and [4 | 6] (B); the hmask bit of part p is 4n + p, tested as a
 * byte mask that adds 4. The 16 signed 6-bit scales: low nibbles in bytes 0..7, high 2 bits
 * in bytes 8..11. */
static float vec_dot_q3_K_q8_K_avx512(int64_t k, const void *vw, const void *va) {
    const ts_block_q3_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m512i three = _mm512_set1_epi8(3);
    const __m512i four = _mm512_set1_epi8(4);
    const __m512i shr[2] = {join256(_mm256_setzero_si256(), _mm256_set1_epi16(2)),
                            join256(_mm256_set1_epi16(4), _mm256_set1_epi16(6))};
    __m512i idx[4], hbit[4];
    for (int g = 0; g < 4; g++) {
        idx[g] = group_scale_idx(g);
        hbit[g] = join256(_mm256_set1_epi8((char)(1 << (2 * g))), _mm256_set1_epi8((char)(1 << (2 * g + 1))));
    }
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        uint32_t u[3];
        memcpy(u, w[i].scales, sizeof u);
        const uint32_t s0 = (u[0] & 0x0f0f0f0fu) | ((u[2] & 0x03030303u) << 4);
        const uint32_t s1 = (u[1] & 0x0f0f0f0fu) | (((u[2] >> 2) & 0x03030303u) << 4);
        const uint32_t s2 = ((u[0] >> 4) & 0x0f0f0f0fu) | (((u[2] >> 4) & 0x03030303u) << 4);
        const uint32_t s3 = ((u[1] >> 4) & 0x0f0f0f0fu) | (((u[2] >> 6) & 0x03030303u) << 4);
        const __m128i sc8 = _mm_sub_epi8(_mm_setr_epi32((int)s0, (int)s1, (int)s2, (int)s3), _mm_set1_epi8(32));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        const __m256i off = _mm256_madd_epi16(sc16, loadu256(a[i].bsums));
        const __m512i sc = _mm512_zextsi256_si512(sc16);
        __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 2)));
        const __m512i hm = _mm512_broadcast_i64x4(loadu256(w[i].hmask));
        for (int n = 0; n < 2; n++) {
            const __m512i q = _mm512_broadcast_i64x4(loadu256(w[i].qs + 32 * n));
            for (int h = 0; h < 2; h++) {
                const int g = 2 * n + h;
                __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(q, shr[h]), three);
                codes = _mm512_mask_add_epi8(codes, _mm512_test_epi8_mask(hm, hbit[g]), codes, four);
                const __m512i qa = _mm512_loadu_si512((const void *)(a[i].qs + 64 * g));
                sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(codes, qa), _mm512_permutexvar_epi16(idx[g], sc)));
            }
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(a[i].d * h2f(w[i].d)), _mm512_cvtepi32_ps(sumi), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

/* Q2_K·Q8_K: code = 2 bits (part p = bits 2p..2p+1 of qs byte 32n + l, as Q3_K), scale byte:
 * low nibble scale, high nibble min; weight = d·sc·code - dmin·m, the min term from bsums. */
static float vec_dot_q2_K_q8_K_avx512(int64_t k, const void *vw, const void *va) {
    const ts_block_q2_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m512i three = _mm512_set1_epi8(3);
    const __m128i low = _mm_set1_epi8(0x0f);
    const __m512i shr[2] = {join256(_mm256_setzero_si256(), _mm256_set1_epi16(2)),
                            join256(_mm256_set1_epi16(4), _mm256_set1_epi16(6))};
    __m512i idx[4];
    for (int g = 0; g < 4; g++) idx[g] = group_scale_idx(g);
    __m512 acc = _mm512_setzero_ps();
    __m256 accm = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m128i sm = _mm_loadu_si128((const __m128i *)w[i].scales);
        const __m512i sc = _mm512_zextsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(sm, low)));
        const __m256i pm = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), low)), loadu256(a[i].bsums));
        __m512i sumi = _mm512_setzero_si512();
        for (int n = 0; n < 2; n++) {
            const __m512i q = _mm512_broadcast_i64x4(loadu256(w[i].qs + 32 * n));
            for (int h = 0; h < 2; h++) {
                const int g = 2 * n + h;
                const __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(q, shr[h]), three);
                const __m512i qa = _mm512_loadu_si512((const void *)(a[i].qs + 64 * g));
                sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(codes, qa), _mm512_permutexvar_epi16(idx[g], sc)));
            }
        }
        const float da = a[i].d;
        acc = _mm512_fmadd_ps(_mm512_set1_ps(da * h2f(w[i].d)), _mm512_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(da * h2f(w[i].dmin)), _mm256_cvtepi32_ps(pm), accm);
    }
    __m128 m = _mm_add_ps(_mm256_castps256_ps128(accm), _mm256_extractf128_ps(accm, 1));
    return _mm512_reduce_add_ps(acc) - hsum4(m);
}

void ts_register_quants_avx512(struct ts_kernels *k, uint64_t cpu) {
    const int vnni = (cpu & TS_CPU_AVX512VNNI) != 0;
    k->vec_dot[TS_TYPE_Q8_0] = vnni ? vec_dot_q8_0_q8_0_avx512vnni : vec_dot_q8_0_q8_0_avx512;
    k->vec_dot[TS_TYPE_Q4_0] = vnni ? vec_dot_q4_0_q8_0_avx512vnni : vec_dot_q4_0_q8_0_avx512;
    k->vec_dot[TS_TYPE_Q5_0] = vnni ? vec_dot_q5_0_q8_0_avx512vnni : vec_dot_q5_0_q8_0_avx512;
    k->vec_dot[TS_TYPE_Q4_1] = vnni ? vec_dot_q4_1_q8_1_avx512vnni : vec_dot_q4_1_q8_1_avx512;
    k->vec_dot[TS_TYPE_Q5_1] = vnni ? vec_dot_q5_1_q8_1_avx512vnni : vec_dot_q5_1_q8_1_avx512;
    k->vec_dot[TS_TYPE_Q2_K] = vec_dot_q2_K_q8_K_avx512;
    k->vec_dot[TS_TYPE_Q3_K] = vec_dot_q3_K_q8_K_avx512;
    k->vec_dot[TS_TYPE_Q4_K] = vec_dot_q4_K_q8_K_avx512;
    k->vec_dot[TS_TYPE_Q5_K] = vec_dot_q5_K_q8_K_avx512;
    k->vec_dot[TS_TYPE_Q6_K] = vec_dot_q6_K_q8_K_avx512;
}
