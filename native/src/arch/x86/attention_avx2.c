/*
 * attention_avx2.c — fused attention with AVX2 + FMA (+ F16C for an F16 K/V cache).
 *
 * A work item is a tile of up to BQ = 48 queries of one head; keys go by blocks of BK = 64
 * (up to 80 for the last one).
 * Tiles of 4 queries or more take the GEMM-shaped path:
 *   - Q·scale staged once per tile (rows padded with zeros to a multiple of 6);
 *   - per key block: K transposed to Kt [d x SK] with 8x8 register transposes (F16
 *     converted on the way), so S = Q·Kᵀ is a register-blocked 6 x 16 product (broadcast
 *     one q element, two 8-key loads, 12 FMAs);
 *   - online softmax per row (running max m, running sum l, acc rescaled by exp(m_old - m_new));
 *   - acc += P·V as a 6 x 16 product over the block's keys (V packed, F16 converted, once per block).
 * Tiles of 1..3 queries (decode, the last tile of odd lengths) take a row path that is
 * bandwidth-shaped: 8 keys' dot products at once reduced with hadd, then P·V 4 keys at a
 * time with the accumulator chunk loaded once. Shapes with d % 8 != 0 go to the scalar tile.
 *
 * exp: exp256 below, Cody-Waite range reduction and a degree-6 Taylor polynomial on
 * |r| <= ln2/2: relative error under 2.5e-7 (truncation 1.2e-7 plus rounding); inputs
 * below -87.3 (including -inf) give exactly 0. Arguments are <= 0 (scores minus their max).
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "tessera.h"
#include "ts_dispatch.h"
#include "simd_x86.h"

#define BQ 48
#define BK 64
/* Key block capacity: a block may take up to 16 keys more than BK, so a short tail (lk = 77)
 * joins the block before it instead of paying a block's fixed costs for a few keys. */
#define SK (BK + 16)
#define RB 6

/* exp(x) for x <= 0 (softmax arguments are s - max): n = round(x·log2 e) by the 1.5·2^23
 * trick (the integer lands in the low mantissa bits, which also give 2^n after a shift),
 * r = x - n·ln2 in two parts, e^r by a degree-6 polynomial. */
static inline __m256 exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654475f), magic = _mm256_set1_ps(12582912.0f);
    __m256 tiny = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(x, lo);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504089f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127)), 23);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(tiny, p);
}

/* 8 elements of a K/V row from element c: F32 or F16. */
static inline __attribute__((always_inline)) __m256 ld8(const char *row, int f16, int64_t c) {
    if (f16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * c)));
    return _mm256_loadu_ps((const float *)(row + 4 * c));
}

/* Scratch layout (floats): qs [BQ x d], kt [d x SK], vs [SK x d], s [BQ x SK], acc [BQ x d],
 * m [BQ], l [BQ]. d is a multiple of 8, so every part stays 32-byte aligned. */
static int64_t scratch_floats_avx2(int64_t d) {
    int64_t own = 3 * BQ * d + 2 * SK * d + BQ * SK + 2 * BQ;
    int64_t ref = ts_attn_scratch_floats_scalar(d);
    return own > ref ? own : ref;
}

/* Adds the mask, hides keys from vis on, and folds the block's scores s [nkp] of one row
 * into the running m, l, acc; leaves P = exp(s - m_new) in s (0 for hidden keys). */
static void softmax_row(float *s, int64_t nk, int64_t nkp, int64_t vis, const float *mrow, float *m, float *l, float *acc,
                        int64_t d) {
    if (vis > nk) vis = nk;
    if (vis < 0) vis = 0;
    int64_t j = 0;
    __m256 mx = _mm256_set1_ps(-INFINITY);
    if (mrow) {
        for (; j + 8 <= vis; j += 8) {
            __m256 x = _mm256_add_ps(_mm256_loadu_ps(s + j), _mm256_loadu_ps(mrow + j));
            _mm256_storeu_ps(s + j, x);
            mx = _mm256_max_ps(mx, x);
        }
    } else {
        for (; j + 8 <= vis; j += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
    }
    /* The partial vector: the tail of the visible keys (plus mask), the rest hidden. */
    for (int64_t t = j; t < nkp; t++) s[t] = t < vis ? s[t] + (mrow ? mrow[t] : 0.0f) : -INFINITY;
    for (; j < nkp; j += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
    float bmax = hmax8(mx);
    if (bmax == -INFINITY) { /* nothing visible in this block: P = 0 */
        for (j = 0; j < nkp; j += 8) _mm256_storeu_ps(s + j, _mm256_setzero_ps());
        return;
    }
    float mnew = bmax > *m ? bmax : *m;
    if (mnew != *m) {
        float alpha = expf(*m - mnew); /* 0 when m was -inf (acc and l are 0 then) */
        *l *= alpha;
        __m256 av = _mm256_set1_ps(alpha);
        for (int64_t c = 0; c < d; c += 8) _mm256_storeu_ps(acc + c, _mm256_mul_ps(_mm256_loadu_ps(acc + c), av));
    }
    __m256 mv = _mm256_set1_ps(mnew), sum = _mm256_setzero_ps();
    for (j = 0; j < nkp; j += 8) {
        __m256 p = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
        _mm256_storeu_ps(s + j, p);
        sum = _mm256_add_ps(sum, p);
    }
    *l += hsum8(sum);
    *m = mnew;
}

/* ---- GEMM-shaped path ---------------------------------------------------------------- */

/* Kt[c][j] = K[k0 + j][c] for j < nk, 0 for nk <= j < nkp (nkp a multiple of 8). */
static inline __attribute__((always_inline)) void transpose_k(float *kt, const char *kb, int64_t k_rs, int f16, int64_t nk,
                                                              int64_t nkp, int64_t d) {
    for (int64_t jg = 0; jg < nkp; jg += 8) {
        for (int64_t cg = 0; cg < d; cg += 8) {
            __m256 r[8];
            for (int t = 0; t < 8; t++) r[t] = jg + t < nk ? ld8(kb + (jg + t) * k_rs, f16, cg) : _mm256_setzero_ps();
            __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *o = kt + cg * SK + jg;
            _mm256_storeu_ps(o + 0 * SK, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(o + 1 * SK, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(o + 2 * SK, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(o + 3 * SK, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(o + 4 * SK, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(o + 5 * SK, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(o + 6 * SK, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(o + 7 * SK, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    }
}

/* s[r][0..16) = sum_c qs[r][c] · kt[c][0..16) for 6 rows (row strides d and SK). */
static inline void qk_6x16(const float *qs, int64_t d, const float *kt, float *s) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    for (int64_t c = 0; c < d; c++) {
        __m256 k0 = _mm256_loadu_ps(kt + c * SK), k1 = _mm256_loadu_ps(kt + c * SK + 8), q;
        q = _mm256_broadcast_ss(qs + 0 * d + c); a00 = _mm256_fmadd_ps(q, k0, a00); a01 = _mm256_fmadd_ps(q, k1, a01);
        q = _mm256_broadcast_ss(qs + 1 * d + c); a10 = _mm256_fmadd_ps(q, k0, a10); a11 = _mm256_fmadd_ps(q, k1, a11);
        q = _mm256_broadcast_ss(qs + 2 * d + c); a20 = _mm256_fmadd_ps(q, k0, a20); a21 = _mm256_fmadd_ps(q, k1, a21);
        q = _mm256_broadcast_ss(qs + 3 * d + c); a30 = _mm256_fmadd_ps(q, k0, a30); a31 = _mm256_fmadd_ps(q, k1, a31);
        q = _mm256_broadcast_ss(qs + 4 * d + c); a40 = _mm256_fmadd_ps(q, k0, a40); a41 = _mm256_fmadd_ps(q, k1, a41);
        q = _mm256_broadcast_ss(qs + 5 * d + c); a50 = _mm256_fmadd_ps(q, k0, a50); a51 = _mm256_fmadd_ps(q, k1, a51);
    }
    _mm256_storeu_ps(s + 0 * SK, a00); _mm256_storeu_ps(s + 0 * SK + 8, a01);
    _mm256_storeu_ps(s + 1 * SK, a10); _mm256_storeu_ps(s + 1 * SK + 8, a11);
    _mm256_storeu_ps(s + 2 * SK, a20); _mm256_storeu_ps(s + 2 * SK + 8, a21);
    _mm256_storeu_ps(s + 3 * SK, a30); _mm256_storeu_ps(s + 3 * SK + 8, a31);
    _mm256_storeu_ps(s + 4 * SK, a40); _mm256_storeu_ps(s + 4 * SK + 8, a41);
    _mm256_storeu_ps(s + 5 * SK, a50); _mm256_storeu_ps(s + 5 * SK + 8, a51);
}

/* acc[r][0..16) += sum_j s[r][j] · V[j][0..16) for 6 rows; V rows F32 at vr, stride v_rs bytes. */
static inline void pv_6x16(const float *s, const char *vr, int64_t v_rs, int64_t nk, float *acc, int64_t d) {
    __m256 a00 = _mm256_loadu_ps(acc + 0 * d), a01 = _mm256_loadu_ps(acc + 0 * d + 8);
    __m256 a10 = _mm256_loadu_ps(acc + 1 * d), a11 = _mm256_loadu_ps(acc + 1 * d + 8);
    __m256 a20 = _mm256_loadu_ps(acc + 2 * d), a21 = _mm256_loadu_ps(acc + 2 * d + 8);
    __m256 a30 = _mm256_loadu_ps(acc + 3 * d), a31 = _mm256_loadu_ps(acc + 3 * d + 8);
    __m256 a40 = _mm256_loadu_ps(acc + 4 * d), a41 = _mm256_loadu_ps(acc + 4 * d + 8);
    __m256 a50 = _mm256_loadu_ps(acc + 5 * d), a51 = _mm256_loadu_ps(acc + 5 * d + 8);
    for (int64_t j = 0; j < nk; j++) {
        const float *v = (const float *)(vr + j * v_rs);
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), p;
        p = _mm256_broadcast_ss(s + 0 * SK + j); a00 = _mm256_fmadd_ps(p, v0, a00); a01 = _mm256_fmadd_ps(p, v1, a01);
        p = _mm256_broadcast_ss(s + 1 * SK + j); a10 = _mm256_fmadd_ps(p, v0, a10); a11 = _mm256_fmadd_ps(p, v1, a11);
        p = _mm256_broadcast_ss(s + 2 * SK + j); a20 = _mm256_fmadd_ps(p, v0, a20); a21 = _mm256_fmadd_ps(p, v1, a21);
        p = _mm256_broadcast_ss(s + 3 * SK + j); a30 = _mm256_fmadd_ps(p, v0, a30); a31 = _mm256_fmadd_ps(p, v1, a31);
        p = _mm256_broadcast_ss(s + 4 * SK + j); a40 = _mm256_fmadd_ps(p, v0, a40); a41 = _mm256_fmadd_ps(p, v1, a41);
        p = _mm256_broadcast_ss(s + 5 * SK + j); a50 = _mm256_fmadd_ps(p, v0, a50); a51 = _mm256_fmadd_ps(p, v1, a51);
    }
    _mm256_storeu_ps(acc + 0 * d, a00); _mm256_storeu_ps(acc + 0 * d + 8, a01);
    _mm256_storeu_ps(acc + 1 * d, a10); _mm256_storeu_ps(acc + 1 * d + 8, a11);
    _mm256_storeu_ps(acc + 2 * d, a20); _mm256_storeu_ps(acc + 2 * d + 8, a21);
    _mm256_storeu_ps(acc + 3 * d, a30); _mm256_storeu_ps(acc + 3 * d + 8, a31);
    _mm256_storeu_ps(acc + 4 * d, a40); _mm256_storeu_ps(acc + 4 * d + 8, a41);
    _mm256_storeu_ps(acc + 5 * d, a50); _mm256_storeu_ps(acc + 5 * d + 8, a51);
}

/* The same for 8 columns (the odd 8 of d = 40, 80, ...). */
static inline void pv_6x8(const float *s, const char *vr, int64_t v_rs, int64_t nk, float *acc, int64_t d) {
    __m256 a0 = _mm256_loadu_ps(acc + 0 * d), a1 = _mm256_loadu_ps(acc + 1 * d), a2 = _mm256_loadu_ps(acc + 2 * d);
    __m256 a3 = _mm256_loadu_ps(acc + 3 * d), a4 = _mm256_loadu_ps(acc + 4 * d), a5 = _mm256_loadu_ps(acc + 5 * d);
    for (int64_t j = 0; j < nk; j++) {
        __m256 v0 = _mm256_loadu_ps((const float *)(vr + j * v_rs));
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + 0 * SK + j), v0, a0);
        a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + 1 * SK + j), v0, a1);
        a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + 2 * SK + j), v0, a2);
        a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + 3 * SK + j), v0, a3);
        a4 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + 4 * SK + j), v0, a4);
        a5 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + 5 * SK + j), v0, a5);
    }
    _mm256_storeu_ps(acc + 0 * d, a0); _mm256_storeu_ps(acc + 1 * d, a1); _mm256_storeu_ps(acc + 2 * d, a2);
    _mm256_storeu_ps(acc + 3 * d, a3); _mm256_storeu_ps(acc + 4 * d, a4); _mm256_storeu_ps(acc + 5 * d, a5);
}

static void tile_gemm(const ts_attn_args *a, int64_t h, int64_t q0, int64_t nq, float *scratch) {
    const int64_t d = a->d;
    const int f16 = a->kv_type == TS_TYPE_F16;
    const int64_t kvh = h / (a->n_heads / a->n_kv_heads);
    const char *kbase = a->k + kvh * a->k_hs, *vbase = a->v + kvh * a->v_hs;
    float *qs = scratch, *kt = qs + BQ * d, *vs = kt + SK * d, *s = vs + SK * d, *acc = s + BQ * SK, *m = acc + BQ * d, *l = m + BQ;
    const int64_t np = (nq + RB - 1) / RB * RB;
    const __m256 sc = _mm256_set1_ps(a->scale);
    for (int64_t i = 0; i < np; i++) {
        float *qr = qs + i * d, *ar = acc + i * d;
        const float *src = (const float *)((const char *)a->q + h * a->q_hs + (q0 + i) * a->q_rs);
        for (int64_t c = 0; c < d; c += 8) {
            _mm256_storeu_ps(qr + c, i < nq ? _mm256_mul_ps(_mm256_loadu_ps(src + c), sc) : _mm256_setzero_ps());
            _mm256_storeu_ps(ar + c, _mm256_setzero_ps());
        }
        m[i] = -INFINITY;
        l[i] = 0.0f;
    }
    /* Keys any row of the tile may see. */
    int64_t kend = a->lk;
    if (a->causal) {
        int64_t last = a->kv_offset + q0 + nq - 1;
        kend = last < 0 ? 0 : (last + 1 < a->lk ? last + 1 : a->lk);
    }
    for (int64_t k0 = 0, nk; k0 < kend; k0 += nk) {
        nk = kend - k0 <= SK ? kend - k0 : BK;
        const int64_t nkp = (nk + 15) / 16 * 16;
        if (f16) transpose_k(kt, kbase + k0 * a->k_rs, a->k_rs, 1, nk, nkp, d);
        else transpose_k(kt, kbase + k0 * a->k_rs, a->k_rs, 0, nk, nkp, d);
        for (int64_t ib = 0; ib < np; ib += RB)
            for (int64_t jb = 0; jb < nkp; jb += 16) qk_6x16(qs + ib * d, d, kt + jb, s + ib * SK + jb);
        for (int64_t i = 0; i < np; i++) {
            float *sr = s + i * SK;
            if (i >= nq) { /* padding rows: no contribution */
                for (int64_t j = 0; j < nkp; j++) sr[j] = 0.0f;
                continue;
            }
            int64_t vis = a->causal ? a->kv_offset + q0 + i - k0 + 1 : nk;
            const float *mrow = a->mask ? (const float *)((const char *)a->mask + (q0 + i) * a->mask_rs) + k0 : NULL;
            softmax_row(sr, nk, nkp, vis, mrow, m + i, l + i, acc + i * d, d);
        }
        /* V staged packed once per block (F16 converted), reused by every row of the tile: with
         * an [L x heads x d] layout its rows sit heads·d·4 bytes apart, often a multiple of
         * 4 KiB, and the P·V loop would walk one L1 set. */
        const char *vsrc = vbase + k0 * a->v_rs;
        for (int64_t j = 0; j < nk; j++) {
            if (f16)
                for (int64_t c = 0; c < d; c += 8) _mm256_storeu_ps(vs + j * d + c, ld8(vsrc + j * a->v_rs, 1, c));
            else
                for (int64_t c = 0; c < d; c += 8) _mm256_storeu_ps(vs + j * d + c, ld8(vsrc + j * a->v_rs, 0, c));
        }
        const char *vr = (const char *)vs;
        const int64_t v_rs = d * 4;
        for (int64_t ib = 0; ib < np; ib += RB) {
            int64_t c = 0;
            for (; c + 16 <= d; c += 16) pv_6x16(s + ib * SK, vr + 4 * c, v_rs, nk, acc + ib * d + c, d);
            if (c < d) pv_6x8(s + ib * SK, vr + 4 * c, v_rs, nk, acc + ib * d + c, d);
        }
    }
    for (int64_t i = 0; i < nq; i++) {
        float *orow = (float *)((char *)a->o + h * a->o_hs + (q0 + i) * a->o_rs);
        __m256 inv = _mm256_set1_ps(l[i] > 0.0f ? 1.0f / l[i] : 0.0f);
        for (int64_t c = 0; c < d; c += 8) _mm256_storeu_ps(orow + c, _mm256_mul_ps(_mm256_loadu_ps(acc + i * d + c), inv));
    }
}

/* ---- Row path (1..3 queries: decode) ------------------------------------------------- */

static inline __attribute__((always_inline)) void row_scores(const float *qs, int64_t d, const char *kb, int64_t k_rs, int f16,
                                                             int64_t nk, float *s) {
    int64_t j = 0;
    for (; j + 8 <= nk; j += 8) {
        const char *r0 = kb + j * k_rs;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int64_t c = 0; c < d; c += 8) {
            __m256 qv = _mm256_loadu_ps(qs + c);
            a0 = _mm256_fmadd_ps(qv, ld8(r0 + 0 * k_rs, f16, c), a0);
            a1 = _mm256_fmadd_ps(qv, ld8(r0 + 1 * k_rs, f16, c), a1);
            a2 = _mm256_fmadd_ps(qv, ld8(r0 + 2 * k_rs, f16, c), a2);
            a3 = _mm256_fmadd_ps(qv, ld8(r0 + 3 * k_rs, f16, c), a3);
            a4 = _mm256_fmadd_ps(qv, ld8(r0 + 4 * k_rs, f16, c), a4);
            a5 = _mm256_fmadd_ps(qv, ld8(r0 + 5 * k_rs, f16, c), a5);
            a6 = _mm256_fmadd_ps(qv, ld8(r0 + 6 * k_rs, f16, c), a6);
            a7 = _mm256_fmadd_ps(qv, ld8(r0 + 7 * k_rs, f16, c), a7);
        }
        /* hadd tree: lane t of the result is the full sum of a_t. */
        __m256 h01 = _mm256_hadd_ps(a0, a1), h23 = _mm256_hadd_ps(a2, a3), h45 = _mm256_hadd_ps(a4, a5), h67 = _mm256_hadd_ps(a6, a7);
        __m256 h03 = _mm256_hadd_ps(h01, h23), h47 = _mm256_hadd_ps(h45, h67);
        __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(h03, h47, 0x20), _mm256_permute2f128_ps(h03, h47, 0x31));
        _mm256_storeu_ps(s + j, sum);
    }
    for (; j < nk; j++) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t c = 0; c < d; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qs + c), ld8(kb + j * k_rs, f16, c), acc);
        s[j] = hsum8(acc);
    }
}

static inline __attribute__((always_inline)) void row_pv(const float *p, int64_t nk, const char *vb, int64_t v_rs, int f16,
                                                         float *acc, int64_t d) {
    int64_t j = 0;
    for (; j + 4 <= nk; j += 4) {
        const char *r0 = vb + j * v_rs;
        __m256 p0 = _mm256_set1_ps(p[j]), p1 = _mm256_set1_ps(p[j + 1]), p2 = _mm256_set1_ps(p[j + 2]), p3 = _mm256_set1_ps(p[j + 3]);
        for (int64_t c = 0; c < d; c += 8) {
            __m256 x = _mm256_loadu_ps(acc + c);
            x = _mm256_fmadd_ps(p0, ld8(r0, f16, c), x);
            x = _mm256_fmadd_ps(p1, ld8(r0 + v_rs, f16, c), x);
            x = _mm256_fmadd_ps(p2, ld8(r0 + 2 * v_rs, f16, c), x);
            x = _mm256_fmadd_ps(p3, ld8(r0 + 3 * v_rs, f16, c), x);
            _mm256_storeu_ps(acc + c, x);
        }
    }
    for (; j < nk; j++) {
        __m256 pj = _mm256_set1_ps(p[j]);
        for (int64_t c = 0; c < d; c += 8)
            _mm256_storeu_ps(acc + c, _mm256_fmadd_ps(pj, ld8(vb + j * v_rs, f16, c), _mm256_loadu_ps(acc + c)));
    }
}

static void tile_rows(const ts_attn_args *a, int64_t h, int64_t q0, int64_t nq, float *scratch) {
    const int64_t d = a->d;
    const int f16 = a->kv_type == TS_TYPE_F16;
    const int64_t kvh = h / (a->n_heads / a->n_kv_heads);
    const char *kbase = a->k + kvh * a->k_hs, *vbase = a->v + kvh * a->v_hs;
    float *qs = scratch, *acc = scratch + d, *s = scratch + 2 * d;
    const __m256 sc = _mm256_set1_ps(a->scale);
    for (int64_t i = q0; i < q0 + nq; i++) {
        const float *src = (const float *)((const char *)a->q + h * a->q_hs + i * a->q_rs);
        for (int64_t c = 0; c < d; c += 8) {
            _mm256_storeu_ps(qs + c, _mm256_mul_ps(_mm256_loadu_ps(src + c), sc));
            _mm256_storeu_ps(acc + c, _mm256_setzero_ps());
        }
        float m = -INFINITY, l = 0.0f;
        int64_t kend = a->lk;
        if (a->causal) {
            int64_t last = a->kv_offset + i;
            kend = last < 0 ? 0 : (last + 1 < a->lk ? last + 1 : a->lk);
        }
        const float *mrow = a->mask ? (const float *)((const char *)a->mask + i * a->mask_rs) : NULL;
        for (int64_t k0 = 0; k0 < kend; k0 += BK) {
            const int64_t nk = kend - k0 < BK ? kend - k0 : BK;
            const int64_t nkp = (nk + 7) / 8 * 8;
            const char *kb = kbase + k0 * a->k_rs, *vb = vbase + k0 * a->v_rs;
            if (f16) row_scores(qs, d, kb, a->k_rs, 1, nk, s);
            else row_scores(qs, d, kb, a->k_rs, 0, nk, s);
            softmax_row(s, nk, nkp, nk, mrow ? mrow + k0 : NULL, &m, &l, acc, d);
            if (f16) row_pv(s, nk, vb, a->v_rs, 1, acc, d);
            else row_pv(s, nk, vb, a->v_rs, 0, acc, d);
        }
        float *orow = (float *)((char *)a->o + h * a->o_hs + i * a->o_rs);
        __m256 inv = _mm256_set1_ps(l > 0.0f ? 1.0f / l : 0.0f);
        for (int64_t c = 0; c < d; c += 8) _mm256_storeu_ps(orow + c, _mm256_mul_ps(_mm256_loadu_ps(acc + c), inv));
    }
}

static void attn_tile_avx2(const ts_attn_args *a, int64_t h, int64_t q0, int64_t nq, float *scratch) {
    if (a->d % 8 != 0) ts_attn_tile_scalar(a, h, q0, nq, scratch);
    else if (nq < 4) tile_rows(a, h, q0, nq, scratch);
    else tile_gemm(a, h, q0, nq, scratch);
}

void ts_register_attention_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu; /* the avx2 level implies FMA and F16C (ts_cpu.c) */
    k->attn_tile = attn_tile_avx2;
    k->attn_tile_q = BQ;
    k->attn_scratch_floats = scratch_floats_avx2;
}
