/*
 * quants_avx2.c — quantized-format kernels for the avx2 level (AVX2 + FMA + F16C).
 *
 * Dot products of 8-bit pairs use the maddubs sign trick: |w| as unsigned times
 * sign(w)·a as signed gives w·a in int16 pairs (no overflow: activations come from our
 * Q8 quantizer, which never writes -128), madd with ones widens to int32, and each block's
 * sum is scaled in float. Blocks are summed in a different order from the reference, so
 * results agree to float rounding, not bit for bit. The Q8_0 and Q8_1 activation quantizers
 * are bit-identical to the reference for finite inputs (same float ops, roundf emulated).
 * Codes that are unsigned by construction (Q4_1, Q5_1) skip the sign trick. K-quants are
 * in quants_k_avx2.c.
 */
#include <immintrin.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_quants.h"
#include "quants_x86.h"
#include "simd_x86.h"

/* Σ w·a over 32 int8 pairs, as 8 int32 partial sums converted to float. */
static inline __m256 dot_i8x32(__m256i w, __m256i a) {
    const __m256i aw = _mm256_sign_epi8(w, w);
    const __m256i sa = _mm256_sign_epi8(a, w);
    const __m256i p16 = _mm256_maddubs_epi16(aw, sa);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

static float vec_dot_q8_0_q8_0_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q8_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / 32;
    /* Two accumulators: consecutive blocks do not wait on each other's FMA. */
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        const __m256 d0 = _mm256_set1_ps(h2f(w[i].d) * h2f(a[i].d));
        const __m256 d1 = _mm256_set1_ps(h2f(w[i + 1].d) * h2f(a[i + 1].d));
        acc0 = _mm256_fmadd_ps(d0, dot_i8x32(_mm256_loadu_si256((const __m256i *)w[i].qs),
                                             _mm256_loadu_si256((const __m256i *)a[i].qs)), acc0);
        acc1 = _mm256_fmadd_ps(d1, dot_i8x32(_mm256_loadu_si256((const __m256i *)w[i + 1].qs),
                                             _mm256_loadu_si256((const __m256i *)a[i + 1].qs)), acc1);
    }
    for (; i < nb; i++) {
        const __m256 d = _mm256_set1_ps(h2f(w[i].d) * h2f(a[i].d));
        acc0 = _mm256_fmadd_ps(d, dot_i8x32(_mm256_loadu_si256((const __m256i *)w[i].qs),
                                            _mm256_loadu_si256((const __m256i *)a[i].qs)), acc0);
    }
    return hsum8(_mm256_add_ps(acc0, acc1));
}

/* One Q4_0 block: acc + d·da·Σ (code-8)·qa. Bytes 0..15 of the codes are the low nibbles
 * (elements 0..15), bytes 16..31 the high nibbles (16..31). */
static inline __m256 q4_0_step(const ts_block_q4_0 *w, const ts_block_q8_0 *a, __m256 acc) {
    const __m256 d = _mm256_set1_ps(h2f(w->d) * h2f(a->d));
    const __m128i q = _mm_loadu_si128((const __m128i *)w->qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    const __m256i qw = _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
    return _mm256_fmadd_ps(d, dot_i8x32(qw, _mm256_loadu_si256((const __m256i *)a->qs)), acc);
}

/* Two blocks per iteration into two named accumulators: an accumulator array indexed by
 * i & 1 made GCC keep it in memory, so every FMA waited on a store-to-load round trip. */
static float vec_dot_q4_0_q8_0_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / 32;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        acc0 = q4_0_step(w + i, a + i, acc0);
        acc1 = q4_0_step(w + i + 1, a + i + 1, acc1);
    }
    if (i < nb) acc0 = q4_0_step(w + i, a + i, acc0);
    return hsum8(_mm256_add_ps(acc0, acc1));
}

/* Plain-type dots: 32 elements per step in four independent FMA chains. */
static inline __m256 load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
static inline __m256 load_bf16x8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

#define TS_PLAIN_DOT(NAME, T, LOAD, SCALAR)                                                     \
    static float NAME(int64_t k, const void *vw, const void *va) {                              \
        const T *w = vw;                                                                         \
        const T *a = va;                                                                         \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        int64_t i = 0;                                                                           \
        for (; i + 32 <= k; i += 32)                                                             \
            for (int j = 0; j < 4; j++) acc[j] = _mm256_fmadd_ps(LOAD(w + i + 8 * j), LOAD(a + i + 8 * j), acc[j]); \
        for (; i + 8 <= k; i += 8) acc[0] = _mm256_fmadd_ps(LOAD(w + i), LOAD(a + i), acc[0]);  \
        float sum = hsum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))); \
        for (; i < k; i++) sum += SCALAR(w[i]) * SCALAR(a[i]);                                    \
        return sum;                                                                              \
    }

static inline float f32_id(float x) { return x; }
static inline float bf16_scalar(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
TS_PLAIN_DOT(vec_dot_f32_avx2, float, _mm256_loadu_ps, f32_id)
TS_PLAIN_DOT(vec_dot_f16_avx2, uint16_t, load_f16x8, h2f)
TS_PLAIN_DOT(vec_dot_bf16_avx2, uint16_t, load_bf16x8, bf16_scalar)

/* roundf (half away from zero) of 8 lanes, exactly: truncate |v|, add one where the
 * dropped fraction is >= 0.5 (the subtraction is exact), restore the sign. */
static inline __m256i roundf_epi32(__m256 v) {
    const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    const __m256 mag = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
    const __m256 t = _mm256_round_ps(mag, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(mag, t), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 r = _mm256_add_ps(t, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
    return _mm256_cvttps_epi32(_mm256_or_ps(r, sign));
}

/* Symmetric 8-bit step shared by Q8_0 and Q8_1 (the reference's ts_q8_block): writes the
 * 32 levels, returns the f32 d and, in *sum, the levels' sum as eight int32 lanes. */
static inline float q8_block_avx2(const float *x, int8_t *qs, __m256i *sum) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; j++) {
        v[j] = _mm256_loadu_ps(x + 8 * j);
        amax = _mm256_max_ps(amax, _mm256_and_ps(v[j], abs_mask));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127;
    const float id = d ? 1.0f / d : 0.0f;
    if (id > FLT_MAX) {
        /* amax < ~3.7e-37: 1/d overflows and every product is ±inf or NaN. The reference's
         * (int8_t)roundf(...) of those is undefined in C; x86 builds give 0, so write 0
         * (cvttps2dq would give INT_MIN, packed to -128). */
        memset(qs, 0, 32);
        *sum = _mm256_setzero_si256();
        return d;
    }
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int j = 0; j < 4; j++) q[j] = roundf_epi32(_mm256_mul_ps(v[j], vid));
    /* int32 -> int8: packs work within 128-bit lanes, so undo the interleave last. */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, p);
    *sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    return d;
}

static void quantize_row_q8_0_avx2(const float *x, void *vy, int64_t k) {
    ts_block_q8_0 *y = vy;
    const int64_t nb = k / 32;
    __m256i sum;
    for (int64_t i = 0; i < nb; i++, x += 32) y[i].d = _cvtss_sh(q8_block_avx2(x, y[i].qs, &sum), _MM_FROUND_TO_NEAREST_INT);
}

/* Q8_1 adds s = half(d·Σq) with the f32 d, as the reference. */
static void quantize_row_q8_1_avx2(const float *x, void *vy, int64_t k) {
    ts_block_q8_1 *y = vy;
    const int64_t nb = k / 32;
    for (int64_t i = 0; i < nb; i++, x += 32) {
        __m256i s8;
        const float d = q8_block_avx2(x, y[i].qs, &s8);
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
        s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        y[i].s = _cvtss_sh((float)_mm_cvtsi128_si32(s) * d, _MM_FROUND_TO_NEAREST_INT);
    }
}


/* Σ code·a of unsigned codes (< 64) and signed activations, as 8 float lanes. */
static inline __m256 dot_u8x32(__m256i w, __m256i a) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)));
}

/* Q4_1·Q8_1 and Q5_1·Q8_1: d·da·Σ code·qa + m·s per block (s = da·Σqa from the quantizer);
 * the m·s terms go to a scalar sum per accumulator. */
static inline __m256 q4_1_step(const ts_block_q4_1 *w, const ts_block_q8_1 *a, __m256 acc, float *summ) {
    const __m256 d = _mm256_set1_ps(h2f(w->d) * h2f(a->d));
    *summ += h2f(w->m) * h2f(a->s);
    return _mm256_fmadd_ps(d, dot_u8x32(nibbles32(w->qs), _mm256_loadu_si256((const __m256i *)a->qs)), acc);
}

static inline __m256 q5_1_step(const ts_block_q5_1 *w, const ts_block_q8_1 *a, __m256 acc, float *summ) {
    const __m256 d = _mm256_set1_ps(h2f(w->d) * h2f(a->d));
    const __m256i q = _mm256_or_si256(nibbles32(w->qs), _mm256_and_si256(bits32(w->qh), _mm256_set1_epi8(0x10)));
    *summ += h2f(w->m) * h2f(a->s);
    return _mm256_fmadd_ps(d, dot_u8x32(q, _mm256_loadu_si256((const __m256i *)a->qs)), acc);
}

/* Q5_0·Q8_0: level = code - 16, i.e. the nibble with 0xf0 or-ed in where the 5th bit is 0
 * (two's complement of nibble - 16), then the signed dot. */
static inline __m256 q5_0_step(const ts_block_q5_0 *w, const ts_block_q8_0 *a, __m256 acc) {
    const __m256 d = _mm256_set1_ps(h2f(w->d) * h2f(a->d));
    const __m256i q = _mm256_or_si256(nibbles32(w->qs), _mm256_andnot_si256(bits32(w->qh), _mm256_set1_epi8((char)0xf0)));
    return _mm256_fmadd_ps(d, dot_i8x32(q, _mm256_loadu_si256((const __m256i *)a->qs)), acc);
}

#define TS_MIN_DOT(NAME, WT, STEP)                                                   \
    static float NAME(int64_t k, const void *vw, const void *va) {                   \
        const WT *w = vw;                                                             \
        const ts_block_q8_1 *a = va;                                                  \
        const int64_t nb = k / 32;                                                    \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                \
        float summ0 = 0, summ1 = 0;                                                   \
        int64_t i = 0;                                                                \
        for (; i + 2 <= nb; i += 2) {                                                 \
            acc0 = STEP(w + i, a + i, acc0, &summ0);                                  \
            acc1 = STEP(w + i + 1, a + i + 1, acc1, &summ1);                          \
        }                                                                             \
        if (i < nb) acc0 = STEP(w + i, a + i, acc0, &summ0);                          \
        return hsum8(_mm256_add_ps(acc0, acc1)) + (summ0 + summ1);                    \
    }
TS_MIN_DOT(vec_dot_q4_1_q8_1_avx2, ts_block_q4_1, q4_1_step)
TS_MIN_DOT(vec_dot_q5_1_q8_1_avx2, ts_block_q5_1, q5_1_step)

static float vec_dot_q5_0_q8_0_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / 32;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        acc0 = q5_0_step(w + i, a + i, acc0);
        acc1 = q5_0_step(w + i + 1, a + i + 1, acc1);
    }
    if (i < nb) acc0 = q5_0_step(w + i, a + i, acc0);
    return hsum8(_mm256_add_ps(acc0, acc1));
}

void ts_register_quants_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->vec_dot[TS_TYPE_Q8_0] = vec_dot_q8_0_q8_0_avx2;
    k->vec_dot[TS_TYPE_Q4_0] = vec_dot_q4_0_q8_0_avx2;
    k->quantize_row[TS_TYPE_Q8_0] = quantize_row_q8_0_avx2;
    k->vec_dot[TS_TYPE_F32] = vec_dot_f32_avx2;
    k->vec_dot[TS_TYPE_F16] = vec_dot_f16_avx2;
    k->vec_dot[TS_TYPE_BF16] = vec_dot_bf16_avx2;
    k->vec_dot[TS_TYPE_Q4_1] = vec_dot_q4_1_q8_1_avx2;
    k->vec_dot[TS_TYPE_Q5_0] = vec_dot_q5_0_q8_0_avx2;
    k->vec_dot[TS_TYPE_Q5_1] = vec_dot_q5_1_q8_1_avx2;
    k->quantize_row[TS_TYPE_Q8_1] = quantize_row_q8_1_avx2;
}
