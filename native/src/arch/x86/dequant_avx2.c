/*
 * dequant_avx2.c — block -> F32 row dequantizers for the avx2 level.
 *
 * ts_matmul widens quantized weights to F32 for its SGEMM path (M large), where a scalar
 * dequantizer would cost a third of the multiply's time for some types. Every output is
 * bit-identical to the reference in ts_quants.c: the levels are extracted with byte
 * operations, and each float is formed with the same multiplies and adds in the same
 * order (this file is built with -ffp-contract=off so none of them fuses into an FMA).
 * The per-group scales are computed in scalar code, as the reference does.
 */
#include <immintrin.h>

#include "ts_dispatch.h"
#include "ts_quants.h"
#include "quants_x86.h"
#include "simd_x86.h"

/* 16 levels (signed bytes) -> y[0..15] = level * d (also the K-quants' d * level: the product
 * commutes bit for bit). */
static inline void put16_mul(float *y, __m128i lv, float d) {
    const __m256 vd = _mm256_set1_ps(d);
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lv)), vd));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lv, 8))), vd));
}

/* 16 levels -> y = d * level - m. */
static inline void put16_mul_sub(float *y, __m128i lv, float d, float m) {
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lv))), vm));
    _mm256_storeu_ps(y + 8, _mm256_sub_ps(_mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lv, 8)))), vm));
}

/* 16 levels -> y = level * d + m. */
static inline void put16_mul_add(float *y, __m128i lv, float d, float m) {
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    _mm256_storeu_ps(y, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lv)), vd), vm));
    _mm256_storeu_ps(y + 8, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lv, 8))), vd), vm));
}

static inline __m128i lo128(__m256i v) { return _mm256_castsi256_si128(v); }
static inline __m128i hi128(__m256i v) { return _mm256_extracti128_si256(v, 1); }

/* The 5th bit of Q5_0/Q5_1 element i as 0x10 in byte i. */
static inline __m256i bit4_from_bits32(const uint8_t *qh) { return _mm256_and_si256(bits32(qh), _mm256_set1_epi8(0x10)); }

/* 32 levels of one legacy block -> y[0..31]: level * d, or level * d + m for the types with a min. */
static inline void put32_mul(float *y, __m256i lv, float d) {
    put16_mul(y, lo128(lv), d);
    put16_mul(y + 16, hi128(lv), d);
}

static inline void put32_mul_add(float *y, __m256i lv, float d, float m) {
    put16_mul_add(y, lo128(lv), d, m);
    put16_mul_add(y + 16, hi128(lv), d, m);
}

static void dequantize_row_q4_0_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q4_0 *x = vx;
    for (int64_t i = 0; i < k / 32; i++, y += 32)
        put32_mul(y, _mm256_sub_epi8(nibbles32(x[i].qs), _mm256_set1_epi8(8)), h2f(x[i].d));
}

static void dequantize_row_q4_1_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q4_1 *x = vx;
    for (int64_t i = 0; i < k / 32; i++, y += 32) put32_mul_add(y, nibbles32(x[i].qs), h2f(x[i].d), h2f(x[i].m));
}

static void dequantize_row_q5_0_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q5_0 *x = vx;
    for (int64_t i = 0; i < k / 32; i++, y += 32) {
        const __m256i q = _mm256_or_si256(nibbles32(x[i].qs), bit4_from_bits32(x[i].qh));
        put32_mul(y, _mm256_sub_epi8(q, _mm256_set1_epi8(16)), h2f(x[i].d));
    }
}

static void dequantize_row_q5_1_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q5_1 *x = vx;
    for (int64_t i = 0; i < k / 32; i++, y += 32)
        put32_mul_add(y, _mm256_or_si256(nibbles32(x[i].qs), bit4_from_bits32(x[i].qh)), h2f(x[i].d), h2f(x[i].m));
}

static void dequantize_row_q8_0_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q8_0 *x = vx;
    for (int64_t i = 0; i < k / 32; i++, y += 32) put32_mul(y, _mm256_loadu_si256((const __m256i *)x[i].qs), h2f(x[i].d));
}

/* Bits sh..sh+1 of 32 bytes (Q2_K/Q3_K low bits: element 32j + l is (qs[32n + l] >> sh) & 3). */
static inline __m256i crumbs32(const uint8_t *q, int sh) {
    return _mm256_and_si256(_mm256_srl_epi16(_mm256_loadu_si256((const __m256i *)q), _mm_cvtsi32_si128(sh)),
                            _mm256_set1_epi8(3));
}

static void dequantize_row_q2_K_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q2_K *x = vx;
    for (int64_t i = 0; i < k / TS_QK_K; i++) {
        const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
        for (int j = 0; j < 8; j++, y += 32) { /* 32 elements: groups 2j and 2j+1 */
            const __m256i lv = crumbs32(x[i].qs + 32 * (j >> 2), 2 * (j & 3));
            const uint8_t s0 = x[i].scales[2 * j], s1 = x[i].scales[2 * j + 1];
            put16_mul_sub(y, lo128(lv), d * (s0 & 15), dmin * (s0 >> 4));
            put16_mul_sub(y + 16, hi128(lv), d * (s1 & 15), dmin * (s1 >> 4));
        }
    }
}

static void dequantize_row_q3_K_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q3_K *x = vx;
    for (int64_t i = 0; i < k / TS_QK_K; i++) {
        const float d = h2f(x[i].d);
        const __m256i hmask = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        for (int j = 0; j < 8; j++, y += 32) {
            const __m256i low = crumbs32(x[i].qs + 32 * (j >> 2), 2 * (j & 3));
            const __m256i hb = _mm256_and_si256(_mm256_srl_epi16(hmask, _mm_cvtsi32_si128(j)), _mm256_set1_epi8(1));
            /* low + 4·hb - 4 */
            const __m256i lv = _mm256_sub_epi8(_mm256_add_epi8(low, _mm256_slli_epi16(hb, 2)), _mm256_set1_epi8(4));
            put16_mul(y, lo128(lv), d * ts_q3k_scale(x[i].scales, 2 * j));
            put16_mul(y + 16, hi128(lv), d * ts_q3k_scale(x[i].scales, 2 * j + 1));
        }
    }
}

static void dequantize_row_q4_K_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q4_K *x = vx;
    for (int64_t i = 0; i < k / TS_QK_K; i++) {
        const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
        for (int j = 0; j < 8; j++, y += 32) {
            int sc, m;
            ts_k4_get(x[i].scales, j, &sc, &m);
            const float dl = d * sc, ml = dmin * m;
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * (j >> 1)));
            const __m256i lv = _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(4 * (j & 1))), _mm256_set1_epi8(15));
            put16_mul_sub(y, lo128(lv), dl, ml);
            put16_mul_sub(y + 16, hi128(lv), dl, ml);
        }
    }
}

static void dequantize_row_q5_K_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q5_K *x = vx;
    for (int64_t i = 0; i < k / TS_QK_K; i++) {
        const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)x[i].qh);
        for (int j = 0; j < 8; j++, y += 32) {
            int sc, m;
            ts_k4_get(x[i].scales, j, &sc, &m);
            const float dl = d * sc, ml = dmin * m;
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * (j >> 1)));
            const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(4 * (j & 1))), _mm256_set1_epi8(15));
            const __m256i hb = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(j)), _mm256_set1_epi8(1));
            const __m256i lv = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 4));
            put16_mul_sub(y, lo128(lv), dl, ml);
            put16_mul_sub(y + 16, hi128(lv), dl, ml);
        }
    }
}

static void dequantize_row_q6_K_avx2(const void *vx, float *y, int64_t k) {
    const ts_block_q6_K *x = vx;
    for (int64_t i = 0; i < k / TS_QK_K; i++) {
        const float d = h2f(x[i].d);
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = x[i].ql + 64 * n;
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * n));
            for (int part = 0; part < 4; part++, y += 32) {
                /* element 128n + 32·part + l: nibble of ql[l (+32 for odd parts)], 2 high bits from qh[l] */
                const __m256i lo8 = _mm256_loadu_si256((const __m256i *)(ql + 32 * (part & 1)));
                const __m256i nib = _mm256_and_si256(_mm256_srl_epi16(lo8, _mm_cvtsi32_si128(4 * (part >> 1))), _mm256_set1_epi8(15));
                const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * part)), _mm256_set1_epi8(3));
                const __m256i lv = _mm256_sub_epi8(_mm256_or_si256(nib, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
                const int s = 8 * n + 2 * part;
                put16_mul(y, lo128(lv), d * x[i].scales[s]);
                put16_mul(y + 16, hi128(lv), d * x[i].scales[s + 1]);
            }
        }
    }
}

void ts_register_dequant_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->dequantize_row[TS_TYPE_Q4_0] = dequantize_row_q4_0_avx2;
    k->dequantize_row[TS_TYPE_Q4_1] = dequantize_row_q4_1_avx2;
    k->dequantize_row[TS_TYPE_Q5_0] = dequantize_row_q5_0_avx2;
    k->dequantize_row[TS_TYPE_Q5_1] = dequantize_row_q5_1_avx2;
    k->dequantize_row[TS_TYPE_Q8_0] = dequantize_row_q8_0_avx2;
    k->dequantize_row[TS_TYPE_Q2_K] = dequantize_row_q2_K_avx2;
    k->dequantize_row[TS_TYPE_Q3_K] = dequantize_row_q3_K_avx2;
    k->dequantize_row[TS_TYPE_Q4_K] = dequantize_row_q4_K_avx2;
    k->dequantize_row[TS_TYPE_Q5_K] = dequantize_row_q5_K_avx2;
    k->dequantize_row[TS_TYPE_Q6_K] = dequantize_row_q6_K_avx2;
}
