/*
 * quants_avx512.c — quantized dot products for the avx512 level (F + BW + VL + DQ).
 *
 * Same algebra as the avx2 level (quants_avx2.c, quants_k_avx2.c), twice as wide:
 *  - Q8_0 and Q4_0: two 32-element blocks per 512-bit vector, each block's eight int32
 *    lanes scaled by its own d in a [d0 x8 | d1 x8] vector. AVX-512 has no vpsignb, so
 *    the sign trick uses a mask: |w| as the unsigned operand, a negated where w < 0.
 *  - Q4_K: one 32-byte quant load broadcast to both halves gives two 32-groups (low
 *    nibbles | high nibbles, by a per-half shift), matching 64 contiguous activations.
 * AVX512-VNNI is optional within the level: vpdpbusd replaces maddubs + madd in the
 * Q8_0/Q4_0 dots; those variants carry target("avx512vnni") and are registered only when
 * the CPU reports the bit (a file-wide flag could leak VNNI into the other functions).
 */
#include <immintrin.h>
#include <string.h>

#include "tessera.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "quants_k_x86.h"

/* The VNNI variants' attribute; tests/test_quants_avx512_emu.c, which runs this file on an
 * emulation of the AVX-512 intrinsics, defines it empty. */
#ifndef TS_TARGET_AVX512VNNI
#define TS_TARGET_AVX512VNNI __attribute__((target("avx512vnni")))
#endif

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* [d0 in lanes 0..7 | d1 in lanes 8..15]. */
static inline __m512 two_scales(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)), _mm256_set1_ps(d1), 1);
}

static inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

static inline __m256i loadu256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* Q4_0 codes of one block minus 8, elements in order (low nibbles then high nibbles). */
static inline __m256i q4_0_levels(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    const __m256i c = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
    return _mm256_sub_epi8(c, _mm256_set1_epi8(8));
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

/* One body per (format, dot flavour). An odd last block runs with a zero upper half. */
#define TS_Q8_0_DOT(NAME, ATTR, DOT)                                                                    \
    ATTR static float NAME(int64_t k, const void *vw, const void *va) {                                 \
        const ts_block_q8_0 *w = vw;                                                                     \
        const ts_block_q8_0 *a = va;                                                                     \
        const int64_t nb = k / 32;                                                                       \
        __m512 acc = _mm512_setzero_ps();                                                                \
        int64_t i = 0;                                                                                   \
        for (; i + 2 <= nb; i += 2) {                                                                    \
            const __m512i qw = join256(loadu256(w[i].qs), loadu256(w[i + 1].qs));                        \
            const __m512i qa = join256(loadu256(a[i].qs), loadu256(a[i + 1].qs));                        \
            const __m512 d = two_scales(h2f(w[i].d) * h2f(a[i].d), h2f(w[i + 1].d) * h2f(a[i + 1].d));   \
            acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(DOT(qw, qa)), acc);                              \
        }                                                                                                \
        if (i < nb) {                                                                                    \
            const __m512i qw = _mm512_zextsi256_si512(loadu256(w[i].qs));                                \
            const __m512i qa = _mm512_zextsi256_si512(loadu256(a[i].qs));                                \
            acc = _mm512_fmadd_ps(two_scales(h2f(w[i].d) * h2f(a[i].d), 0.0f), _mm512_cvtepi32_ps(DOT(qw, qa)), acc); \
        }                                                                                                \
        return _mm512_reduce_add_ps(acc);                                                                \
    }

#define TS_Q4_0_DOT(NAME, ATTR, DOT)                                                                    \
    ATTR static float NAME(int64_t k, const void *vw, const void *va) {                                 \
        const ts_block_q4_0 *w = vw;                                                                     \
        const ts_block_q8_0 *a = va;                                                                     \
        const int64_t nb = k / 32;                                                                       \
        __m512 acc = _mm512_setzero_ps();                                                                \
        int64_t i = 0;                                                                                   \
        for (; i + 2 <= nb; i += 2) {                                                                    \
            const __m512i qw = join256(q4_0_levels(w[i].qs), q4_0_levels(w[i + 1].qs));                  \
            const __m512i qa = join256(loadu256(a[i].qs), loadu256(a[i + 1].qs));                        \
            const __m512 d = two_scales(h2f(w[i].d) * h2f(a[i].d), h2f(w[i + 1].d) * h2f(a[i + 1].d));   \
            acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(DOT(qw, qa)), acc);                              \
        }                                                                                                \
        if (i < nb) {                                                                                    \
            const __m512i qw = _mm512_zextsi256_si512(q4_0_levels(w[i].qs));                             \
            const __m512i qa = _mm512_zextsi256_si512(loadu256(a[i].qs));                                \
            acc = _mm512_fmadd_ps(two_scales(h2f(w[i].d) * h2f(a[i].d), 0.0f), _mm512_cvtepi32_ps(DOT(qw, qa)), acc); \
        }                                                                                                \
        return _mm512_reduce_add_ps(acc);                                                                \
    }

TS_Q8_0_DOT(vec_dot_q8_0_q8_0_avx512, , dot_i8_madd)
TS_Q8_0_DOT(vec_dot_q8_0_q8_0_avx512vnni, TS_TARGET_AVX512VNNI, dot_i8_vnni)
TS_Q4_0_DOT(vec_dot_q4_0_q8_0_avx512, , dot_i8_madd)
TS_Q4_0_DOT(vec_dot_q4_0_q8_0_avx512vnni, TS_TARGET_AVX512VNNI, dot_i8_vnni)

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
    return _mm512_reduce_add_ps(acc) - hsum128_ps(accm);
}

void ts_register_quants_avx512(struct ts_kernels *k, uint64_t cpu) {
    const int vnni = (cpu & TS_CPU_AVX512VNNI) != 0;
    k->vec_dot[TS_TYPE_Q8_0] = vnni ? vec_dot_q8_0_q8_0_avx512vnni : vec_dot_q8_0_q8_0_avx512;
    k->vec_dot[TS_TYPE_Q4_0] = vnni ? vec_dot_q4_0_q8_0_avx512vnni : vec_dot_q4_0_q8_0_avx512;
    k->vec_dot[TS_TYPE_Q4_K] = vec_dot_q4_K_q8_K_avx512;
}
