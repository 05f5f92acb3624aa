/*
 * quants_k_avx2.c — K-quant kernels for the avx2 level (AVX2 + FMA + F16C): dot products
 * of Q2_K … Q6_K weights with Q8_K activations, and the Q8_K activation quantizer.
 *
 * Dots: every K-quant level is stored as an unsigned code (Q3_K/Q6_K subtract a fixed
 * offset, Q2_K/Q4_K/Q5_K a per-group min), so the weight side feeds maddubs as the
 * unsigned operand directly, and the offset or min term is recovered from the activation
 * group sums (bsums) with one madd per super-block. Per-group integer scales multiply the
 * int16 pair sums inside madd, so each super-block ends as eight int32 lanes that are
 * converted and scaled once in float with FMA. Bounds: code <= 63 and |a| <= 127 keep the
 * maddubs pairs below 2^15; the lanes of a super-block stay far below 2^31.
 * Super-blocks are summed in lanes, not in index order, so results agree with the
 * reference to float rounding, not bit for bit.
 *
 * Q8_K quantizer: same f32 product per element and the same round-to-nearest-even, so the
 * bytes are identical for finite inputs.
 */
#include <float.h>
#include <immintrin.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_quants.h"
#include "quants_k_x86.h"
#include "simd_x86.h"

/* Broadcast of int16 lane j of a 128-bit vector (copied into both 128-bit halves) to all
 * lanes: one in-lane byte shuffle with a constant control. */
static inline __m256i ctl_lane16(int j) { return _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))); }

/* For the 16-element-group formats (Q2_K, Q3_K, Q6_K): the 32 codes of one part cover two
 * groups, bytes 0..15 (low 128 bits) and 16..31 (high). Control that puts int16 lane 2p of
 * an 8-scale vector into the low half and lane 2p+1 into the high half. */
static inline __m256i ctl_pair16(int p) {
    return _mm256_set_m128i(_mm_set1_epi16((short)(((4 * p + 3) << 8) | (4 * p + 2))),
                            _mm_set1_epi16((short)(((4 * p + 1) << 8) | (4 * p))));
}

/* Σ code·a per int16 pair (unsigned × signed), times the int16 scale lanes, as int32. */
static inline __m256i dot_scaled(__m256i code, __m256i a, __m256i scale) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(code, a), scale);
}

static float vec_dot_q4_K_q8_K_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    /* The next super-block's scales are unpacked one step ahead: their chain of dependent
     * ops then overlaps this block's products instead of holding up its first madd (1
     * thread, 64 rows in cache, bench_vec_dot_cycles 12 64: 19.0 -> 17.3-17.7 TSC cycles per
     * super-block). */
    __m256i scm_next = k4_scales_mins(w[0].scales);
    for (int64_t i = 0; i < nb; i++) {
        const __m256i scm = scm_next;
        if (i + 1 < nb) scm_next = k4_scales_mins(w[i + 1].scales);
        const __m256i sc = _mm256_permute2x128_si256(scm, scm, 0x00);
        const __m128i pm = k4_min_term(_mm256_extracti128_si256(scm, 1), a[i].bsums);
        const int8_t *qa = a[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int jj = 0; jj < 4; jj++) {
            /* 32 bytes: low nibbles are group 2jj, high nibbles group 2jj+1. */
            const __m256i q = loadu256(w[i].qs + 32 * jj);
            const __m256i p0 = dot_scaled(_mm256_and_si256(q, low), loadu256(qa + 64 * jj), _mm256_shuffle_epi8(sc, ctl_lane16(2 * jj)));
            const __m256i p1 = dot_scaled(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), loadu256(qa + 64 * jj + 32),
                                          _mm256_shuffle_epi8(sc, ctl_lane16(2 * jj + 1)));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        const __m128 f = k4_factors(&w[i].d, a[i].d);
        acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(f), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x55), _mm_cvtepi32_ps(pm), accm);
    }
    return hsum8(acc) - hsum4(accm);
}

static float vec_dot_q5_K_q8_K_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    /* Scales one step ahead, as in the Q4_K dot (bench_vec_dot_cycles 13 64: 24.7-25.4 ->
     * 23.8-24.0 TSC cycles per super-block). */
    __m256i scm_next = k4_scales_mins(w[0].scales);
    for (int64_t i = 0; i < nb; i++) {
        const __m256i scm = scm_next;
        if (i + 1 < nb) scm_next = k4_scales_mins(w[i + 1].scales);
        const __m256i sc = _mm256_permute2x128_si256(scm, scm, 0x00);
        const __m128i pm = k4_min_term(_mm256_extracti128_si256(scm, 1), a[i].bsums);
        const int8_t *qa = a[i].qs;
        /* Bit j of qh[l] is the 5th bit of element l of group j; shifted down two per pair. */
        __m256i qh = loadu256(w[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int jj = 0; jj < 4; jj++) {
            const __m256i q = loadu256(w[i].qs + 32 * jj);
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, one), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4);
            qh = _mm256_srli_epi16(qh, 2);
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(q, low), h0);
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), h1);
            const __m256i p0 = dot_scaled(q0, loadu256(qa + 64 * jj), _mm256_shuffle_epi8(sc, ctl_lane16(2 * jj)));
            const __m256i p1 = dot_scaled(q1, loadu256(qa + 64 * jj + 32), _mm256_shuffle_epi8(sc, ctl_lane16(2 * jj + 1)));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        const __m128 f = k4_factors(&w[i].d, a[i].d);
        acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(f), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x55), _mm_cvtepi32_ps(pm), accm);
    }
    return hsum8(acc) - hsum4(accm);
}

/* Q6_K: code = 4 low bits (ql) | 2 high bits (qh) << 4, level = code - 32. Element e of
 * half n, part p (32 elements each): ql byte 64n + 32(p&1) + l, nibble p>>1; qh byte
 * 32n + l, bits 2p..2p+1; scale 8n + 2p + l/16. The -32 is applied as -32·Σ sc·bsums. */
static float vec_dot_q6_K_q8_K_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q6_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m128i sc_all = _mm_loadu_si128((const __m128i *)w[i].scales);
        const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc_all), loadu256(a[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        for (int n = 0; n < 2; n++) {
            const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16((n ? _mm_unpackhi_epi64(sc_all, sc_all) : sc_all)));
            const __m256i ql0 = loadu256(w[i].ql + 64 * n), ql1 = loadu256(w[i].ql + 64 * n + 32);
            const __m256i qh = loadu256(w[i].qh + 32 * n);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low), _mm256_and_si256(qh, m30));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
            const int8_t *qa = a[i].qs + 128 * n;
            for (int p = 0; p < 4; p++)
                sumi = _mm256_add_epi32(sumi, dot_scaled(q[p], loadu256(qa + 32 * p), _mm256_shuffle_epi8(sc, ctl_pair16(p))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * h2f(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum8(acc);
}

/* Q3_K: code = 2 low bits | hmask bit << 2 (0..7), level = code - 4; element layout and
 * scale index as Q6_K with qs in place of ql (part p = bits 2p..2p+1) and hmask bit 4n+p.
 * The 16 signed 6-bit scales: low nibbles in bytes 0..7, high 2 bits in bytes 8..11. */
static float vec_dot_q3_K_q8_K_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q3_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m256i three = _mm256_set1_epi8(3);
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        uint32_t u[3];
        memcpy(u, w[i].scales, sizeof u);
        const uint32_t s0 = (u[0] & 0x0f0f0f0fu) | ((u[2] & 0x03030303u) << 4);
        const uint32_t s1 = (u[1] & 0x0f0f0f0fu) | (((u[2] >> 2) & 0x03030303u) << 4);
        const uint32_t s2 = ((u[0] >> 4) & 0x0f0f0f0fu) | (((u[2] >> 4) & 0x03030303u) << 4);
        const uint32_t s3 = ((u[1] >> 4) & 0x0f0f0f0fu) | (((u[2] >> 6) & 0x03030303u) << 4);
        const __m128i sc_all = _mm_sub_epi8(_mm_setr_epi32((int)s0, (int)s1, (int)s2, (int)s3), _mm_set1_epi8(32));
        const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc_all), loadu256(a[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 2));
        __m256i hm = loadu256(w[i].hmask);
        for (int n = 0; n < 2; n++) {
            const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16((n ? _mm_unpackhi_epi64(sc_all, sc_all) : sc_all)));
            __m256i qs = loadu256(w[i].qs + 32 * n);
            const int8_t *qa = a[i].qs + 128 * n;
            for (int p = 0; p < 4; p++) {
                const __m256i q = _mm256_or_si256(_mm256_and_si256(qs, three), _mm256_slli_epi16(_mm256_and_si256(hm, one), 2));
                qs = _mm256_srli_epi16(qs, 2);
                hm = _mm256_srli_epi16(hm, 1);
                sumi = _mm256_add_epi32(sumi, dot_scaled(q, loadu256(qa + 32 * p), _mm256_shuffle_epi8(sc, ctl_pair16(p))));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * h2f(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum8(acc);
}

/* Q2_K: code = 2 bits (part p = bits 2p..2p+1 of qs byte 32n + l), scale byte s: low
 * nibble scale, high nibble min; weight = d·sc·code - dmin·m. */
static float vec_dot_q2_K_q8_K_avx2(int64_t k, const void *vw, const void *va) {
    const ts_block_q2_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const __m256i three = _mm256_set1_epi8(3);
    const __m128i low = _mm_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m128i sm = _mm_loadu_si128((const __m128i *)w[i].scales);
        const __m128i sc_all = _mm_and_si128(sm, low);
        const __m128i mn_all = _mm_and_si128(_mm_srli_epi16(sm, 4), low);
        const __m256i pm = _mm256_madd_epi16(_mm256_cvtepu8_epi16(mn_all), loadu256(a[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
        for (int n = 0; n < 2; n++) {
            const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16((n ? _mm_unpackhi_epi64(sc_all, sc_all) : sc_all)));
            __m256i qs = loadu256(w[i].qs + 32 * n);
            const int8_t *qa = a[i].qs + 128 * n;
            for (int p = 0; p < 4; p++) {
                sumi = _mm256_add_epi32(sumi, dot_scaled(_mm256_and_si256(qs, three), loadu256(qa + 32 * p),
                                                         _mm256_shuffle_epi8(sc, ctl_pair16(p))));
                qs = _mm256_srli_epi16(qs, 2);
            }
        }
        const float da = a[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(da * h2f(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(da * h2f(w[i].dmin)), _mm256_cvtepi32_ps(pm), accm);
    }
    return hsum8(_mm256_sub_ps(acc, accm));
}

/* Q8_K activations. The reference keeps the signed value of the FIRST element with the
 * largest |x| (strict >), so after the vector max the first lane equal to it is looked up
 * to get its sign. Rounding: the reference adds 1.5·2^23 in f32 and keeps the low mantissa
 * bits, which is round-to-nearest-even for |v| < 2^22 (here |v| <= 127), the same as
 * cvtps2dq under the default MXCSR mode. (Writing the add here would let GCC fuse the
 * product into an FMA, which rounds once instead of twice and breaks ties.) Group sums of 16 come from the int32 levels before packing. */
static void quantize_row_q8_K_avx2(const float *x, void *vy, int64_t k) {
    ts_block_q8_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        __m256 amax = _mm256_setzero_ps();
        /* maxps returns its second operand when either is NaN: with amax second, a NaN element
         * is skipped, as the reference's strict > skips it. */
        for (int j = 0; j < TS_QK_K; j += 8) amax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask), amax);
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float am = _mm_cvtss_f32(m);
        if (!am) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = 0;
        const __m256 vam = _mm256_set1_ps(am);
        for (int j = 0; j < TS_QK_K; j += 8) {
            const int bits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask), vam, _CMP_EQ_OQ));
            if (bits) {
                max = x[j + __builtin_ctz((unsigned)bits)];
                break;
            }
        }
        const float iscale = -127.f / max;
        if (!(iscale >= -FLT_MAX && iscale <= FLT_MAX)) {
            /* |max| < ~3.7e-37: iscale overflows, every product is ±inf or NaN, and the
             * reference's rounding maps those to level 0 (cvtps2dq would give INT_MIN). */
            memset(y[i].qs, 0, sizeof y[i].qs);
            memset(y[i].bsums, 0, sizeof y[i].bsums);
            y[i].d = 1 / iscale;
            continue;
        }
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i top = _mm256_set1_epi32(127);
        __m128i gsum[4];
        for (int g4 = 0; g4 < 4; g4++) { /* 64 elements = 4 groups of 16 per round */
            __m256i q[8];
            for (int j = 0; j < 8; j++) {
                const __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(x + 64 * g4 + 8 * j)));
                q[j] = _mm256_min_epi32(v, top);
            }
            for (int h = 0; h < 2; h++) {
                __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[4 * h], q[4 * h + 1]), _mm256_packs_epi32(q[4 * h + 2], q[4 * h + 3]));
                p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
                _mm256_storeu_si256((__m256i *)(y[i].qs + 64 * g4 + 32 * h), p);
            }
            /* Sums of the four groups: pairwise vector adds, then two horizontal adds. */
            const __m256i t0 = _mm256_add_epi32(q[0], q[1]), t1 = _mm256_add_epi32(q[2], q[3]);
            const __m256i t2 = _mm256_add_epi32(q[4], q[5]), t3 = _mm256_add_epi32(q[6], q[7]);
            const __m256i hs = _mm256_hadd_epi32(_mm256_hadd_epi32(t0, t1), _mm256_hadd_epi32(t2, t3));
            gsum[g4] = _mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1));
        }
        _mm_storeu_si128((__m128i *)y[i].bsums, _mm_packs_epi32(gsum[0], gsum[1]));
        _mm_storeu_si128((__m128i *)(y[i].bsums + 8), _mm_packs_epi32(gsum[2], gsum[3]));
        y[i].d = 1 / iscale;
    }
}

void ts_register_quants_k_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->vec_dot[TS_TYPE_Q2_K] = vec_dot_q2_K_q8_K_avx2;
    k->vec_dot[TS_TYPE_Q3_K] = vec_dot_q3_K_q8_K_avx2;
    k->vec_dot[TS_TYPE_Q4_K] = vec_dot_q4_K_q8_K_avx2;
    k->vec_dot[TS_TYPE_Q5_K] = vec_dot_q5_K_q8_K_avx2;
    k->vec_dot[TS_TYPE_Q6_K] = vec_dot_q6_K_q8_K_avx2;
    k->quantize_row[TS_TYPE_Q8_K] = quantize_row_q8_K_avx2;
}
