/*
 * ops_avx2.c — AVX2/FMA row kernels of the ops family: RMSNorm, LayerNorm, softmax and the
 * activations/GLUs. Reductions use float vector accumulators (the scalar references use
 * double); exp is a polynomial with ~2 ulp error and erf the Abramowitz-Stegun 7.1.26
 * approximation (|error| < 1.5e-7), so results differ from the references by a few ulp
 * (test_ops_levels.c bounds it). Tails go through the same vector code on a padded copy,
 * so every element of a row is computed the same way.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "tessera.h"
#include "ts_dispatch.h"
#include "simd_x86.h"

/* Loads m < 8 floats (the rest `fill`) without reading past the row. */
static inline __m256 load_tail(const float *p, int64_t m, float fill) {
    float b[8];
    for (int i = 0; i < 8; i++) b[i] = fill;
    memcpy(b, p, (size_t)m * 4);
    return _mm256_loadu_ps(b);
}

static inline void store_tail(float *p, __m256 v, int64_t m) {
    float b[8];
    _mm256_storeu_ps(b, v);
    memcpy(p, b, (size_t)m * 4);
}

/* e^x: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n in the exponent.
 * Below ln(FLT_MIN) the result is 0 (so exp(-inf) = 0); above ~88.37 it saturates at
 * ~2.4e38 instead of overflowing (callers only divide by it); NaN stays NaN. */
static inline __m256 exp8(__m256 x) {
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q); /* min/max would turn NaN into a bound */
    const __m256 x0 = x;
    const __m256 lo = _mm256_set1_ps(-87.33654475f), hi = _mm256_set1_ps(88.37626266f);
    const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 v = _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
    return _mm256_blendv_ps(v, x0, nan);
}

/* x * sigmoid(k x) = x / (1 + e^(-k x)). */
static inline __m256 xsigmoid8(__m256 x, float k) {
    const __m256 e = exp8(_mm256_mul_ps(x, _mm256_set1_ps(-k)));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static inline __m256 silu8(__m256 x) { return xsigmoid8(x, 1.0f); }
static inline __m256 quick_gelu8(__m256 x) { return xsigmoid8(x, 1.702f); }

/* 0.5 x (1 + tanh(u)) = x - x / (1 + e^(2u)): no cancellation near tanh = -1. */
static inline __m256 gelu_tanh8(__m256 x) {
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.79788456080286536f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
    const __m256 e = exp8(_mm256_add_ps(u, u));
    return _mm256_sub_ps(x, _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e)));
}

/* 0.5 x (1 + erf(x / sqrt2)). With z = |x|/sqrt2 and A&S 7.1.26, erfc(z) = q(t) e^(-z^2),
 * so 1 + erf = 2 - erfc for x >= 0 and erfc(z) for x < 0 (no cancellation there). */
static inline __m256 gelu8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(0.70710678118654752f));
    const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), z, _mm256_set1_ps(1.0f)));
    __m256 q = _mm256_set1_ps(1.061405429f);
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-1.453152027f));
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(1.421413741f));
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-0.284496736f));
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(0.254829592f));
    q = _mm256_mul_ps(q, t);
    const __m256 erfc = _mm256_mul_ps(q, exp8(_mm256_mul_ps(_mm256_xor_ps(z, sign), z)));
    const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 onep = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), erfc), erfc, neg);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), onep);
}

#define TS_DEF_ACT8(name, f)                                                                  \
    static void name##_row_avx2(float *y, const float *x, int64_t n) {                        \
        int64_t i = 0;                                                                        \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));       \
        if (i < n) store_tail(y + i, f(load_tail(x + i, n - i, 0.0f)), n - i);               \
    }                                                                                         \
    static void name##_glu_avx2(float *y, const float *g, const float *u, int64_t n) {        \
        int64_t i = 0;                                                                        \
        for (; i + 8 <= n; i += 8)                                                            \
            _mm256_storeu_ps(y + i, _mm256_mul_ps(f(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i))); \
        if (i < n)                                                                            \
            store_tail(y + i, _mm256_mul_ps(f(load_tail(g + i, n - i, 0.0f)), load_tail(u + i, n - i, 0.0f)), n - i); \
    }
TS_DEF_ACT8(gelu, gelu8)
TS_DEF_ACT8(gelu_tanh, gelu_tanh8)
TS_DEF_ACT8(quick_gelu, quick_gelu8)
TS_DEF_ACT8(silu, silu8)

/* Sum of (x - c)^2 over the row, four independent accumulators. */
static float sum_sq_dev(const float *x, int64_t n, float c) {
    const __m256 cv = _mm256_set1_ps(c);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), cv), d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), cv);
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), cv), d3 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), cv);
        a0 = _mm256_fmadd_ps(d0, d0, a0);
        a1 = _mm256_fmadd_ps(d1, d1, a1);
        a2 = _mm256_fmadd_ps(d2, d2, a2);
        a3 = _mm256_fmadd_ps(d3, d3, a3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), cv);
        a0 = _mm256_fmadd_ps(d, d, a0);
    }
    if (i < n) {
        __m256 d = _mm256_sub_ps(load_tail(x + i, n - i, c), cv); /* padding contributes 0 */
        a0 = _mm256_fmadd_ps(d, d, a0);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* Sum of (x - c) over the row: with c near the mean the terms are small and exact
 * (Sterbenz), so a row with a large common offset loses no precision. */
static float sum_dev(const float *x, int64_t n, float c) {
    const __m256 cv = _mm256_set1_ps(c);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_sub_ps(_mm256_loadu_ps(x + i), cv));
        a1 = _mm256_add_ps(a1, _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), cv));
        a2 = _mm256_add_ps(a2, _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), cv));
        a3 = _mm256_add_ps(a3, _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), cv));
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_add_ps(a0, _mm256_sub_ps(_mm256_loadu_ps(x + i), cv));
    if (i < n) a0 = _mm256_add_ps(a0, _mm256_sub_ps(load_tail(x + i, n - i, c), cv));
    return hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* y = ((x - c) - m) * r [* w] [+ b]: the mean kept as c (an element, so x - c is exact for
 * nearby values) plus a small correction m, which a single float could not hold as well. */
static void apply_norm(float *y, const float *x, const float *w, const float *b, int64_t n, float c, float m0, float r) {
    const __m256 cv = _mm256_set1_ps(c), mv = _mm256_set1_ps(m0), rv = _mm256_set1_ps(r);
    int64_t i = 0;
    for (; i < n; i += 8) {
        const int64_t m = n - i < 8 ? n - i : 8;
        __m256 v = _mm256_sub_ps(m == 8 ? _mm256_loadu_ps(x + i) : load_tail(x + i, m, 0.0f), cv);
        v = _mm256_mul_ps(_mm256_sub_ps(v, mv), rv);
        if (w) v = _mm256_mul_ps(v, m == 8 ? _mm256_loadu_ps(w + i) : load_tail(w + i, m, 0.0f));
        if (b) v = _mm256_add_ps(v, m == 8 ? _mm256_loadu_ps(b + i) : load_tail(b + i, m, 0.0f));
        if (m == 8) _mm256_storeu_ps(y + i, v);
        else store_tail(y + i, v, m);
    }
}

static void rms_norm_row_avx2(float *y, const float *x, const float *w, int64_t n, float eps) {
    const float ss = sum_sq_dev(x, n, 0.0f);
    apply_norm(y, x, w, NULL, n, 0.0f, 0.0f, 1.0f / sqrtf(ss / (float)n + eps));
}

static void layer_norm_row_avx2(float *y, const float *x, const float *w, const float *b, int64_t n, float eps) {
    /* Shifted by c = x[0]: deviations from the mean are m + (x - c - m) with m small. */
    const float c = x[0];
    const float m0 = sum_dev(x, n, c) / (float)n;
    const __m256 cv = _mm256_set1_ps(c), mv = _mm256_set1_ps(m0);
    __m256 s1 = _mm256_setzero_ps(), s2 = s1;
    for (int64_t i = 0; i < n; i += 8) {
        const int64_t m = n - i < 8 ? n - i : 8;
        __m256 d = _mm256_sub_ps(_mm256_sub_ps(m == 8 ? _mm256_loadu_ps(x + i) : load_tail(x + i, m, c), cv), mv);
        if (m < 8) d = _mm256_and_ps(d, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)m),
                                                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))));
        s1 = _mm256_add_ps(s1, d);
        s2 = _mm256_fmadd_ps(d, d, s2);
    }
    /* Corrected two-pass: subtract the residual mean of the deviations. */
    const float d1 = hsum8(s1) / (float)n;
    float var = hsum8(s2) / (float)n - d1 * d1;
    if (var < 0.0f) var = 0.0f;
    apply_norm(y, x, w, b, n, c, m0 + d1, 1.0f / sqrtf(var + eps));
}

static void softmax_row_avx2(float *y, const float *x, const float *mask, int64_t n, float scale) {
    const __m256 sv = _mm256_set1_ps(scale);
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int64_t i;
    /* v = x * scale + mask, written to y (y may be x: each element is read before written). */
    for (i = 0; i < n; i += 8) {
        const int64_t m = n - i < 8 ? n - i : 8;
        __m256 v = _mm256_mul_ps(m == 8 ? _mm256_loadu_ps(x + i) : load_tail(x + i, m, -INFINITY), sv);
        if (mask) v = _mm256_add_ps(v, m == 8 ? _mm256_loadu_ps(mask + i) : load_tail(mask + i, m, 0.0f));
        if (m < 8) v = _mm256_blendv_ps(v, _mm256_set1_ps(-INFINITY), _mm256_castsi256_ps(_mm256_cmpgt_epi32(
                                                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                                         _mm256_set1_epi32((int)m - 1))));
        mx = _mm256_max_ps(mx, v);
        if (m == 8) _mm256_storeu_ps(y + i, v);
        else store_tail(y + i, v, m);
    }
    const float M = hmax8(mx);
    if (M == -INFINITY) {
        memset(y, 0, (size_t)n * 4);
        return;
    }
    const __m256 Mv = _mm256_set1_ps(M);
    __m256 acc = _mm256_setzero_ps();
    for (i = 0; i < n; i += 8) {
        const int64_t m = n - i < 8 ? n - i : 8;
        __m256 e = exp8(_mm256_sub_ps(m == 8 ? _mm256_loadu_ps(y + i) : load_tail(y + i, m, -INFINITY), Mv));
        acc = _mm256_add_ps(acc, e);
        if (m == 8) _mm256_storeu_ps(y + i, e);
        else store_tail(y + i, e, m);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / hsum8(acc));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    for (; i < n; i++) y[i] *= _mm256_cvtss_f32(inv);
}

void ts_register_ops_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->rms_norm_row = rms_norm_row_avx2;
    k->layer_norm_row = layer_norm_row_avx2;
    k->softmax_row = softmax_row_avx2;
    k->act_row[TS_ACT_GELU] = gelu_row_avx2;
    k->act_row[TS_ACT_GELU_TANH] = gelu_tanh_row_avx2;
    k->act_row[TS_ACT_QUICK_GELU] = quick_gelu_row_avx2;
    k->act_row[TS_ACT_SILU] = silu_row_avx2;
    k->glu_row[TS_ACT_GELU] = gelu_glu_avx2;
    k->glu_row[TS_ACT_GELU_TANH] = gelu_tanh_glu_avx2;
    k->glu_row[TS_ACT_QUICK_GELU] = quick_gelu_glu_avx2;
    k->glu_row[TS_ACT_SILU] = silu_glu_avx2;
}
