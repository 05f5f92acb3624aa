/*
 * ts_quants.c — scalar reference layer of the ggml/GGUF quantized formats.
 *
 * Written from the format facts of docs FORMATS.md §2 (layouts, reference quantizer
 * rules, activation pairing). Three kinds of functions per type:
 *  - ts_quantize_row_<t>_ref: f32 row -> blocks. The legacy ones (Q4_0 … Q8_1) follow
 *    ggml's quantize_row_*_ref rules operation for operation (same f32 expressions in the
 *    same order, same truncations and clamps) because their output must be byte-identical
 *    to files llama-quantize writes. The K-quants use the same weighted fits as ggml's
 *    reference path so their error is the same (tests compare RMSE against ggml's output).
 *  - ts_dequantize_row_<t>: blocks -> f32, with the float operations in the order ggml uses
 *    so that a block dequantizes to the same bits in both libraries.
 *  - ts_vec_dot_<w>_<a>_ref: the dot-product algebra of FORMATS.md §2.4.
 *
 * Floating point: byte-identity depends on every product being rounded to f32 on its own,
 * so this file must not be built with -ffast-math and must not fuse a*b+c into an FMA.
 * GCC in GNU C mode contracts by default wherever the target has FMA (always on AArch64,
 * on x86 with -mfma), which would change e.g. x*id + 8.5f; the pragmas below switch
 * contraction off for this file whatever the build flags say.
 * Loops are flat over blocks; k is always a multiple of the block size (callers check).
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__FAST_MATH__)
#error "ts_quants.c must not be built with -ffast-math: the quantizers rely on IEEE f32 rounding"
#endif

#include "ts_quants.h"
#include "ts_dispatch.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "ts_fp16.h"

/* Below this magnitude a K-quant group is treated as all zero (same threshold as ggml's
 * reference quantizers, so zero and denormal-ish groups come out the same). */
#define TS_GROUP_EPS 1e-15f

/* Round to nearest, ties to even, for |v| < 2^22: adding 1.5*2^23 puts the integer part in
 * the low mantissa bits and the FPU's default rounding (RNE) does the rounding. This is
 * the K-quant rounding (FORMATS.md §2.3); it is not roundf (ties away), which the legacy
 * Q8 quantizers use. Requires the default rounding mode and no -ffast-math. Out-of-range
 * or NaN inputs give a deterministic garbage value, as in ggml (only reached for blocks
 * whose f16 scales overflowed, e.g. |x| ~ 1e30). */
static inline int ts_nearest_int(float v) {
    float t = v + 12582912.f;
    int32_t i;
    memcpy(&i, &t, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

static inline int ts_clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ===================================================================================
 * Legacy 32-element formats
 * =================================================================================== */

/* Signed value of the element with the largest |x|; the first one wins ties (strict >). */
static inline float ts_signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static inline void ts_minmax(const float *x, int n, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

void ts_quantize_row_q4_0_ref(const float *x, void *vy, int64_t k) {
    ts_block_q4_0 *y = vy;
    const int64_t nb = k / TS_QK4_0;
    for (int64_t i = 0; i < nb; i++, x += TS_QK4_0) {
        /* The extreme element gets level 0 (= -8·d): d = max / -8 keeps its sign. */
        const float d = ts_signed_absmax(x, TS_QK4_0) / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = ts_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            /* +8.5 then truncation toward zero = round half up around the offset 8. The
             * values are >= 0.5 for finite input; clamp low too so a NaN cannot wrap. */
            int q0 = ts_clampi((int)(x[j] * id + 8.5f), 0, 15);
            int q1 = ts_clampi((int)(x[j + 16] * id + 8.5f), 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void ts_quantize_row_q4_1_ref(const float *x, void *vy, int64_t k) {
    ts_block_q4_1 *y = vy;
    const int64_t nb = k / TS_QK4_1;
    for (int64_t i = 0; i < nb; i++, x += TS_QK4_1) {
        float mn, mx;
        ts_minmax(x, TS_QK4_1, &mn, &mx);
        const float d = (mx - mn) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = ts_f32_to_f16(d);
        y[i].m = ts_f32_to_f16(mn);
        for (int j = 0; j < 16; j++) {
            int q0 = ts_clampi((int)((x[j] - mn) * id + 0.5f), 0, 15);
            int q1 = ts_clampi((int)((x[j + 16] - mn) * id + 0.5f), 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void ts_quantize_row_q5_0_ref(const float *x, void *vy, int64_t k) {
    ts_block_q5_0 *y = vy;
    const int64_t nb = k / TS_QK5_0;
    for (int64_t i = 0; i < nb; i++, x += TS_QK5_0) {
        const float d = ts_signed_absmax(x, TS_QK5_0) / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = ts_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = ts_clampi((int)(x[j] * id + 16.5f), 0, 31);
            int q1 = ts_clampi((int)(x[j + 16] * id + 16.5f), 0, 31);
            y[i].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
            qh |= (uint32_t)(q0 >> 4) << j;        /* bit i = 5th bit of element i */
            qh |= (uint32_t)(q1 >> 4) << (j + 16);
        }
        y[i].qh[0] = (uint8_t)qh; /* little-endian u32 regardless of host order */
        y[i].qh[1] = (uint8_t)(qh >> 8);
        y[i].qh[2] = (uint8_t)(qh >> 16);
        y[i].qh[3] = (uint8_t)(qh >> 24);
    }
}

void ts_quantize_row_q5_1_ref(const float *x, void *vy, int64_t k) {
    ts_block_q5_1 *y = vy;
    const int64_t nb = k / TS_QK5_1;
    for (int64_t i = 0; i < nb; i++, x += TS_QK5_1) {
        float mn, mx;
        ts_minmax(x, TS_QK5_1, &mn, &mx);
        const float d = (mx - mn) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = ts_f32_to_f16(d);
        y[i].m = ts_f32_to_f16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            /* No clamp in ggml's rule: the byte is the truncated value mod 256 (the largest
             * element lands on 31.5 -> 31, so only rounding noise could reach 32). */
            unsigned q0 = (uint8_t)(int)((x[j] - mn) * id + 0.5f);
            unsigned q1 = (uint8_t)(int)((x[j + 16] - mn) * id + 0.5f);
            y[i].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        y[i].qh[0] = (uint8_t)qh;
        y[i].qh[1] = (uint8_t)(qh >> 8);
        y[i].qh[2] = (uint8_t)(qh >> 16);
        y[i].qh[3] = (uint8_t)(qh >> 24);
    }
}

/* Q8_0 / Q8_1 share the symmetric 8-bit step: d = amax/127, q = roundf(x/d) (half away
 * from zero, unlike the K-quants). Returns the f32 d (before half rounding). */
static inline float ts_q8_block(const float *x, int8_t *qs) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        float a = fabsf(x[j]);
        amax = amax > a ? amax : a;
    }
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    if (!(id <= FLT_MAX)) {
        /* amax < ~3.7e-37: 1/d overflows and x·id is ±inf or NaN, whose conversion to int8 is
         * undefined in C. ggml on x86 gets 0 there; say so explicitly so every level agrees. */
        memset(qs, 0, 32);
        return d;
    }
    for (int j = 0; j < 32; j++) qs[j] = (int8_t)roundf(x[j] * id);
    return d;
}

void ts_quantize_row_q8_0_ref(const float *x, void *vy, int64_t k) {
    ts_block_q8_0 *y = vy;
    const int64_t nb = k / TS_QK8_0;
    for (int64_t i = 0; i < nb; i++, x += TS_QK8_0) y[i].d = ts_f32_to_f16(ts_q8_block(x, y[i].qs));
}

void ts_quantize_row_q8_1_ref(const float *x, void *vy, int64_t k) {
    ts_block_q8_1 *y = vy;
    const int64_t nb = k / TS_QK8_1;
    for (int64_t i = 0; i < nb; i++, x += TS_QK8_1) {
        const float d = ts_q8_block(x, y[i].qs);
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += y[i].qs[j];
        y[i].d = ts_f32_to_f16(d);
        y[i].s = ts_f32_to_f16((float)sum * d); /* f32 d, not the rounded one: as ggml */
    }
}

/* Nibble j of a 16-byte legacy quant array: element j is the low nibble of byte j,
 * element j+16 the high nibble of byte j. */
void ts_dequantize_row_q4_0(const void *vx, float *y, int64_t k) {
    const ts_block_q4_0 *x = vx;
    const int64_t nb = k / TS_QK4_0;
    for (int64_t i = 0; i < nb; i++, y += TS_QK4_0) {
        const float d = ts_f16_to_f32(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((x[i].qs[j] & 15) - 8) * d;
            y[j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void ts_dequantize_row_q4_1(const void *vx, float *y, int64_t k) {
    const ts_block_q4_1 *x = vx;
    const int64_t nb = k / TS_QK4_1;
    for (int64_t i = 0; i < nb; i++, y += TS_QK4_1) {
        const float d = ts_f16_to_f32(x[i].d), m = ts_f16_to_f32(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(x[i].qs[j] & 15) * d + m;
            y[j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

static inline uint32_t ts_load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | ((uint32_t)qh[1] << 8) | ((uint32_t)qh[2] << 16) | ((uint32_t)qh[3] << 24);
}

void ts_dequantize_row_q5_0(const void *vx, float *y, int64_t k) {
    const ts_block_q5_0 *x = vx;
    const int64_t nb = k / TS_QK5_0;
    for (int64_t i = 0; i < nb; i++, y += TS_QK5_0) {
        const float d = ts_f16_to_f32(x[i].d);
        const uint32_t qh = ts_load_qh(x[i].qh);
        for (int j = 0; j < 16; j++) {
            int q0 = (x[i].qs[j] & 15) | (int)(((qh >> j) & 1) << 4);
            int q1 = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[j] = (float)(q0 - 16) * d;
            y[j + 16] = (float)(q1 - 16) * d;
        }
    }
}

void ts_dequantize_row_q5_1(const void *vx, float *y, int64_t k) {
    const ts_block_q5_1 *x = vx;
    const int64_t nb = k / TS_QK5_1;
    for (int64_t i = 0; i < nb; i++, y += TS_QK5_1) {
        const float d = ts_f16_to_f32(x[i].d), m = ts_f16_to_f32(x[i].m);
        const uint32_t qh = ts_load_qh(x[i].qh);
        for (int j = 0; j < 16; j++) {
            int q0 = (x[i].qs[j] & 15) | (int)(((qh >> j) & 1) << 4);
            int q1 = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[j] = (float)q0 * d + m;
            y[j + 16] = (float)q1 * d + m;
        }
    }
}

void ts_dequantize_row_q8_0(const void *vx, float *y, int64_t k) {
    const ts_block_q8_0 *x = vx;
    const int64_t nb = k / TS_QK8_0;
    for (int64_t i = 0; i < nb; i++, y += TS_QK8_0) {
        const float d = ts_f16_to_f32(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

void ts_dequantize_row_q8_1(const void *vx, float *y, int64_t k) {
    const ts_block_q8_1 *x = vx;
    const int64_t nb = k / TS_QK8_1;
    for (int64_t i = 0; i < nb; i++, y += TS_QK8_1) {
        const float d = ts_f16_to_f32(x[i].d); /* s is a dot-product helper, not part of y */
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

/* ===================================================================================
 * K-quants (super-blocks of 256)
 * =================================================================================== */

/*
 * Weighted asymmetric fit of n values onto levels 0..nmax: x ≈ scale·L + min with min <= 0.
 * Returns scale, stores -min (>= 0) in *neg_min and the levels in L.
 *
 * Start from the min/max grid (scale = (max-min)/nmax). Then for nstep+1 candidate inverse
 * scales (nmax + rmin + rdelta·is)/(max-min), round every value to its level and solve the
 * weighted least-squares (scale, min) for those levels in closed form; if the solved min
 * comes out positive, pin it to 0 and refit the scale alone. Keep the candidate with the
 * smallest weighted error, which is |err| (use_abs, Q2_K) or err² (Q4_K/Q5_K). Sums are f32
 * in index order, as ggml's reference, so both pick the same candidate.
 */
static float ts_fit_asym(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                         float rmin, float rdelta, int nstep, bool use_abs) {
    float mn = x[0], mx = x[0];
    float sum_w = w[0], sum_x = w[0] * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (mn > 0) mn = 0; /* the format subtracts a non-negative min: min term <= 0 */
    if (mx == mn) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *neg_min = -mn;
        return 0.f;
    }
    float iscale = nmax / (mx - mn);
    float scale = 1 / iscale;
    float best = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)ts_clampi(ts_nearest_int(iscale * (x[i] - mn)), 0, nmax);
        float diff = scale * L[i] + mn - x[i];
        best += w[i] * (use_abs ? fabsf(diff) : diff * diff);
    }
    uint8_t La[32];
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (mx - mn);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = ts_clampi(ts_nearest_int(iscale * (x[i] - mn)), 0, nmax);
            La[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue; /* all values on one level: no 2-parameter solution */
        float s = (sum_w * sum_xl - sum_x * sum_l) / D;
        float m = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (m > 0) {
            m = 0;
            s = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = s * La[i] + m - x[i];
            err += w[i] * (use_abs ? fabsf(diff) : diff * diff);
        }
        if (err < best) {
            memcpy(L, La, (size_t)n);
            best = err;
            scale = s;
            mn = m;
        }
    }
    *neg_min = -mn;
    return scale;
}

/*
 * Symmetric signed fit of n values onto levels -nmax..nmax-1 with weights x², refined
 * (Q3_K). Start from iscale = -nmax/max (the largest-|x| element lands on -nmax); then up
 * to 5 passes of coordinate descent: for each element, the level that is optimal given the
 * least-squares scale of all the others, kept only if it raises sumlx²/suml2 (i.e. lowers
 * the weighted error of the optimal scale). Returns the scale; L holds level + nmax.
 * An all-zero group leaves L = 0 and returns 0.
 */
static float ts_fit_sym_refined(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < TS_GROUP_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    const float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = ts_clampi(ts_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i]; /* sums without element i */
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int nl = ts_clampi(ts_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (nl != L[i]) {
                    slx += w * x[i] * nl;
                    sl2 += w * nl * nl;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)nl;
                        sumlx = slx;
                        suml2 = sl2;
                        changed++;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/*
 * Symmetric signed fit onto -nmax..nmax-1 with weights x², searched over 19 inverse scales
 * (Q6_K): -(nmax + 0.1·is)/max for is = 0, ±1..±9; each candidate's levels get their
 * least-squares scale sumlx/suml2 and the candidate maximising sumlx²/suml2 wins. Returns
 * the scale; L holds level + nmax (0 for an all-zero group, which returns 0).
 */
static float ts_fit_sym_search(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < TS_GROUP_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = ts_clampi(ts_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = ts_clampi(ts_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + ts_clampi(ts_nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Packs 256 2-bit levels the Q2_K/Q3_K way: byte 32n+l holds elements 128n+32k+l at bits 2k. */
static void ts_pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int n = 0; n < 2; n++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *e = L + 128 * n + l;
            qs[32 * n + l] = (uint8_t)(e[0] | (e[32] << 2) | (e[64] << 4) | (e[96] << 6));
        }
}

void ts_quantize_row_q2_K_ref(const float *x, void *vy, int64_t k) {
    ts_block_q2_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    uint8_t L[TS_QK_K];
    float w[16], scales[16], mins[16];
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        /* 1. per 16-element group: (scale, min) fit on levels 0..3, weights |x|, MAD error */
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            scales[j] = ts_fit_asym(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        /* 2. 4-bit codes of scales and mins relative to the block maxima */
        if (max_scale > 0) {
            const float iscale = 15.f / max_scale;
            for (int j = 0; j < 16; j++) y[i].scales[j] = (uint8_t)ts_nearest_int(iscale * scales[j]);
            y[i].d = ts_f32_to_f16(max_scale / 15.f);
        } else {
            for (int j = 0; j < 16; j++) y[i].scales[j] = 0;
            y[i].d = ts_f32_to_f16(0.f);
        }
        if (max_min > 0) {
            const float iscale = 15.f / max_min;
            for (int j = 0; j < 16; j++) y[i].scales[j] |= (uint8_t)(ts_nearest_int(iscale * mins[j]) << 4);
            y[i].dmin = ts_f32_to_f16(max_min / 15.f);
        } else {
            y[i].dmin = ts_f32_to_f16(0.f);
        }
        /* 3. requantize against the scales as decoded (half d times code), so the levels
         *    fit what a reader reconstructs; a group whose scale decodes to 0 keeps its fit */
        const float d = ts_f16_to_f32(y[i].d), dmin = ts_f16_to_f32(y[i].dmin);
        for (int j = 0; j < 16; j++) {
            const float dl = d * (y[i].scales[j] & 15);
            if (!dl) continue;
            const float ml = dmin * (y[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)ts_clampi(ts_nearest_int((x[16 * j + l] + ml) / dl), 0, 3);
        }
        ts_pack_2bit(L, y[i].qs);
    }
}

void ts_quantize_row_q3_K_ref(const float *x, void *vy, int64_t k) {
    ts_block_q3_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    int8_t L[TS_QK_K];
    float scales[16];
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        /* 1. signed scale per 16-element group on levels -4..3 */
        float max_scale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = ts_fit_sym_refined(16, 4, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) {
                amax = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        /* 2. 6-bit codes: the largest-|scale| group maps to code -32 (so d carries its sign) */
        memset(y[i].scales, 0, sizeof y[i].scales);
        if (max_scale) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; j++) {
                int c = ts_clampi(ts_nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8)
                    y[i].scales[j] = (uint8_t)(c & 15);
                else
                    y[i].scales[j - 8] |= (uint8_t)((c & 15) << 4);
                y[i].scales[8 + (j & 3)] |= (uint8_t)((c >> 4) << (2 * (j >> 2)));
            }
            y[i].d = ts_f32_to_f16(1 / iscale);
        } else {
            y[i].d = ts_f32_to_f16(0.f);
        }
        /* 3. requantize with the decoded scales */
        const float d = ts_f16_to_f32(y[i].d);
        for (int j = 0; j < 16; j++) {
            const float dl = d * ts_q3k_scale(y[i].scales, j);
            if (!dl) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(ts_clampi(ts_nearest_int(x[16 * j + l] / dl), -4, 3) + 4);
        }
        /* 4. high bit of element e -> hmask[e % 32] bit e / 32; low 2 bits -> qs */
        uint8_t low[TS_QK_K];
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        for (int e = 0; e < TS_QK_K; e++) {
            int q = L[e];
            if (q > 3) {
                y[i].hmask[e & 31] |= (uint8_t)(1u << (e >> 5));
                q -= 4;
            }
            low[e] = (uint8_t)q;
        }
        ts_pack_2bit(low, y[i].qs);
    }
}

static inline void ts_k4_put(uint8_t *q, int j, int sc, int m) {
    if (j < 4) {
        q[j] = (uint8_t)sc;
        q[j + 4] = (uint8_t)m;
    } else {
        q[j + 4] = (uint8_t)((sc & 15) | ((m & 15) << 4));
        q[j - 4] |= (uint8_t)((sc >> 4) << 6);
        q[j] |= (uint8_t)((m >> 4) << 6);
    }
}

/* Shared body of Q4_K and Q5_K: fits, 6-bit scale codes, half super-scales, final levels
 * 0..nmax in L. Returns nothing; writes d, dmin and scales into the given fields. */
static void ts_qk_fit_block(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out, uint16_t *dmin_out,
                            uint8_t *packed, uint8_t *L) {
    float w[32], scales[8], mins[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        /* weights: the group's RMS plus |x| — large values matter more, small ones still count */
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = ts_fit_asym(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(packed, 0, TS_K_SCALE_SIZE);
    for (int j = 0; j < 8; j++) {
        /* codes as unsigned bytes then capped at 63 (a code cannot exceed 63 for finite
         * fits; the byte conversion mirrors the reference for degenerate inputs) */
        int ls = (uint8_t)ts_nearest_int(inv_scale * scales[j]);
        int lm = (uint8_t)ts_nearest_int(inv_min * mins[j]);
        ts_k4_put(packed, j, ls < 63 ? ls : 63, lm < 63 ? lm : 63);
    }
    *d_out = ts_f32_to_f16(max_scale / 63.f);
    *dmin_out = ts_f32_to_f16(max_min / 63.f);
    const float d = ts_f16_to_f32(*d_out), dmin = ts_f16_to_f32(*dmin_out);
    for (int j = 0; j < 8; j++) {
        int sc, m;
        ts_k4_get(packed, j, &sc, &m);
        const float dl = d * sc;
        if (!dl) continue;
        const float ml = dmin * m;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)ts_clampi(ts_nearest_int((x[32 * j + l] + ml) / dl), 0, nmax);
    }
}

void ts_quantize_row_q4_K_ref(const float *x, void *vy, int64_t k) {
    ts_block_q4_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    uint8_t L[TS_QK_K];
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        ts_qk_fit_block(x, 15, -1.f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        /* chunk c: low nibble = element 64c+l, high nibble = element 64c+32+l */
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void ts_quantize_row_q5_K_ref(const float *x, void *vy, int64_t k) {
    ts_block_q5_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    uint8_t L[TS_QK_K];
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        ts_qk_fit_block(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int a = L[64 * c + l], b = L[64 * c + 32 + l];
                y[i].qh[l] |= (uint8_t)(((a >> 4) << (2 * c)) | ((b >> 4) << (2 * c + 1)));
                y[i].qs[32 * c + l] = (uint8_t)((a & 15) | ((b & 15) << 4));
            }
    }
}

void ts_quantize_row_q6_K_ref(const float *x, void *vy, int64_t k) {
    ts_block_q6_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    int8_t L[TS_QK_K];
    float scales[16];
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        float max_scale = 0, max_abs = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = ts_fit_sym_search(16, 32, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > max_abs) {
                max_abs = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        if (max_abs < TS_GROUP_EPS) { /* nothing to represent: all-zero block */
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* int8 codes; the largest-|scale| group maps to -128, so d carries the sign */
        const float iscale = -128.f / max_scale;
        y[i].d = ts_f32_to_f16(1 / iscale);
        for (int j = 0; j < 16; j++) {
            int c = ts_nearest_int(iscale * scales[j]);
            y[i].scales[j] = (int8_t)(c < 127 ? c : 127);
        }
        const float d = ts_f16_to_f32(y[i].d);
        for (int j = 0; j < 16; j++) {
            const float dl = d * y[i].scales[j];
            if (!dl) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(ts_clampi(ts_nearest_int(x[16 * j + l] / dl), -32, 31) + 32);
        }
        /* half n: ql[64n+l] = e(128n+l) | e(128n+64+l)<<4, ql[64n+32+l] = e(+32) | e(+96)<<4,
         * qh[32n+l] = top 2 bits of e(+0), e(+32), e(+64), e(+96) at bits 0,2,4,6 */
        for (int n = 0; n < 2; n++)
            for (int l = 0; l < 32; l++) {
                const int8_t *e = L + 128 * n + l;
                y[i].ql[64 * n + l] = (uint8_t)((e[0] & 15) | ((e[64] & 15) << 4));
                y[i].ql[64 * n + 32 + l] = (uint8_t)((e[32] & 15) | ((e[96] & 15) << 4));
                y[i].qh[32 * n + l] =
                    (uint8_t)((e[0] >> 4) | ((e[32] >> 4) << 2) | ((e[64] >> 4) << 4) | ((e[96] >> 4) << 6));
            }
    }
}

void ts_quantize_row_q8_K_ref(const float *x, void *vy, int64_t k) {
    ts_block_q8_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < TS_QK_K; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* -127 (not -128) so every level fits in int8 symmetric: SIMD dots may negate */
        const float iscale = -127.f / max;
        for (int j = 0; j < TS_QK_K; j++) {
            int v = ts_nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[i].qs[16 * g + l];
            y[i].bsums[g] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

void ts_dequantize_row_q2_K(const void *vx, float *y, int64_t k) {
    const ts_block_q2_K *x = vx;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, y += TS_QK_K) {
        const float d = ts_f16_to_f32(x[i].d), dmin = ts_f16_to_f32(x[i].dmin);
        for (int e = 0; e < TS_QK_K; e++) {
            const int n = e >> 7, sh = 2 * ((e >> 5) & 3), l = e & 31;
            const uint8_t sc = x[i].scales[e >> 4];
            const float dl = d * (sc & 15), ml = dmin * (sc >> 4);
            y[e] = dl * ((x[i].qs[32 * n + l] >> sh) & 3) - ml;
        }
    }
}

void ts_dequantize_row_q3_K(const void *vx, float *y, int64_t k) {
    const ts_block_q3_K *x = vx;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, y += TS_QK_K) {
        const float d = ts_f16_to_f32(x[i].d);
        for (int e = 0; e < TS_QK_K; e++) {
            const int n = e >> 7, sh = 2 * ((e >> 5) & 3), l = e & 31;
            const int low = (x[i].qs[32 * n + l] >> sh) & 3;
            const int hb = (x[i].hmask[l] >> (e >> 5)) & 1;
            const float dl = d * ts_q3k_scale(x[i].scales, e >> 4);
            y[e] = dl * (low + 4 * hb - 4);
        }
    }
}

void ts_dequantize_row_q4_K(const void *vx, float *y, int64_t k) {
    const ts_block_q4_K *x = vx;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, y += TS_QK_K) {
        const float d = ts_f16_to_f32(x[i].d), dmin = ts_f16_to_f32(x[i].dmin);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            ts_k4_get(x[i].scales, j, &sc, &m);
            const float dl = d * sc, ml = dmin * m;
            const uint8_t *q = x[i].qs + 32 * (j >> 1);
            const int sh = 4 * (j & 1);
            for (int l = 0; l < 32; l++) y[32 * j + l] = dl * ((q[l] >> sh) & 15) - ml;
        }
    }
}

void ts_dequantize_row_q5_K(const void *vx, float *y, int64_t k) {
    const ts_block_q5_K *x = vx;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, y += TS_QK_K) {
        const float d = ts_f16_to_f32(x[i].d), dmin = ts_f16_to_f32(x[i].dmin);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            ts_k4_get(x[i].scales, j, &sc, &m);
            const float dl = d * sc, ml = dmin * m;
            const uint8_t *q = x[i].qs + 32 * (j >> 1);
            const int sh = 4 * (j & 1);
            for (int l = 0; l < 32; l++) {
                int v = ((q[l] >> sh) & 15) | (((x[i].qh[l] >> j) & 1) << 4);
                y[32 * j + l] = dl * v - ml;
            }
        }
    }
}

/* 6-bit level (0..63) and scale index of Q6_K element e. */
static inline int ts_q6k_level(const ts_block_q6_K *b, int e, int *sidx) {
    const int n = e >> 7, r = e & 127, part = r >> 5, l = r & 31;
    const uint8_t *ql = b->ql + 64 * n, *qh = b->qh + 32 * n;
    const int lo = (part & 1) ? ql[l + 32] : ql[l];
    const int nib = (part & 2) ? (lo >> 4) : (lo & 15);
    *sidx = 8 * n + (l >> 4) + 2 * part;
    return nib | (((qh[l] >> (2 * part)) & 3) << 4);
}

void ts_dequantize_row_q6_K(const void *vx, float *y, int64_t k) {
    const ts_block_q6_K *x = vx;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, y += TS_QK_K) {
        const float d = ts_f16_to_f32(x[i].d);
        for (int e = 0; e < TS_QK_K; e++) {
            int s;
            int q = ts_q6k_level(&x[i], e, &s) - 32;
            y[e] = d * x[i].scales[s] * q;
        }
    }
}

void ts_dequantize_row_q8_K(const void *vx, float *y, int64_t k) {
    const ts_block_q8_K *x = vx;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, y += TS_QK_K)
        for (int j = 0; j < TS_QK_K; j++) y[j] = x[i].d * x[i].qs[j];
}

/* ===================================================================================
 * Plain element types (block size 1)
 * =================================================================================== */

void ts_quantize_row_f32_ref(const float *x, void *y, int64_t k) { memcpy(y, x, (size_t)k * sizeof(float)); }
void ts_dequantize_row_f32(const void *x, float *y, int64_t k) { memcpy(y, x, (size_t)k * sizeof(float)); }

void ts_quantize_row_f16_ref(const float *x, void *vy, int64_t k) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < k; i++) y[i] = ts_f32_to_f16(x[i]);
}

void ts_dequantize_row_f16(const void *vx, float *y, int64_t k) {
    const uint16_t *x = vx;
    for (int64_t i = 0; i < k; i++) y[i] = ts_f16_to_f32(x[i]);
}

void ts_quantize_row_bf16_ref(const float *x, void *vy, int64_t k) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < k; i++) y[i] = ts_f32_to_bf16(x[i]);
}

void ts_dequantize_row_bf16(const void *vx, float *y, int64_t k) {
    const uint16_t *x = vx;
    for (int64_t i = 0; i < k; i++) y[i] = ts_bf16_to_f32(x[i]);
}

/* ===================================================================================
 * Reference dot products (FORMATS.md §2.4)
 * =================================================================================== */

float ts_vec_dot_q4_0_q8_0_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / TS_QK4_0;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++)
            s += ((w[i].qs[j] & 15) - 8) * a[i].qs[j] + ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + 16];
        sum += ts_f16_to_f32(w[i].d) * ts_f16_to_f32(a[i].d) * (float)s;
    }
    return sum;
}

/* Q4_1·Q8_1: Σ(q·d + m)·qa·da = d·da·Σ q·qa + m·(da·Σ qa), the last factor being s. */
float ts_vec_dot_q4_1_q8_1_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_1 *w = vw;
    const ts_block_q8_1 *a = va;
    const int64_t nb = k / TS_QK4_1;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++)
            s += (w[i].qs[j] & 15) * a[i].qs[j] + (w[i].qs[j] >> 4) * a[i].qs[j + 16];
        sum += ts_f16_to_f32(w[i].d) * ts_f16_to_f32(a[i].d) * (float)s + ts_f16_to_f32(w[i].m) * ts_f16_to_f32(a[i].s);
    }
    return sum;
}

float ts_vec_dot_q5_0_q8_0_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / TS_QK5_0;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint32_t qh = ts_load_qh(w[i].qh);
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = ((w[i].qs[j] & 15) | (int)(((qh >> j) & 1) << 4)) - 16;
            int q1 = ((w[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
            s += q0 * a[i].qs[j] + q1 * a[i].qs[j + 16];
        }
        sum += ts_f16_to_f32(w[i].d) * ts_f16_to_f32(a[i].d) * (float)s;
    }
    return sum;
}

float ts_vec_dot_q5_1_q8_1_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_1 *w = vw;
    const ts_block_q8_1 *a = va;
    const int64_t nb = k / TS_QK5_1;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint32_t qh = ts_load_qh(w[i].qh);
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = (w[i].qs[j] & 15) | (int)(((qh >> j) & 1) << 4);
            int q1 = (w[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            s += q0 * a[i].qs[j] + q1 * a[i].qs[j + 16];
        }
        sum += ts_f16_to_f32(w[i].d) * ts_f16_to_f32(a[i].d) * (float)s + ts_f16_to_f32(w[i].m) * ts_f16_to_f32(a[i].s);
    }
    return sum;
}

float ts_vec_dot_q8_0_q8_0_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q8_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / TS_QK8_0;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += w[i].qs[j] * a[i].qs[j];
        sum += ts_f16_to_f32(w[i].d) * ts_f16_to_f32(a[i].d) * (float)s;
    }
    return sum;
}

/* Q2_K·Q8_K: per 16-group s, d·sc_s·da·Σ q·qa − dmin·m_s·da·Σ qa, with Σ qa = bsums[s]. */
float ts_vec_dot_q2_K_q8_K_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q2_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0, summ = 0;
        for (int s = 0; s < 16; s++) {
            int32_t g = 0;
            for (int t = 0; t < 16; t++) {
                const int e = 16 * s + t, n = e >> 7, sh = 2 * ((e >> 5) & 3), l = e & 31;
                g += ((w[i].qs[32 * n + l] >> sh) & 3) * a[i].qs[e];
            }
            sumi += (w[i].scales[s] & 15) * g;
            summ += (w[i].scales[s] >> 4) * a[i].bsums[s];
        }
        sum += a[i].d * (ts_f16_to_f32(w[i].d) * (float)sumi - ts_f16_to_f32(w[i].dmin) * (float)summ);
    }
    return sum;
}

float ts_vec_dot_q3_K_q8_K_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q3_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0;
        for (int s = 0; s < 16; s++) {
            int32_t g = 0;
            for (int t = 0; t < 16; t++) {
                const int e = 16 * s + t, n = e >> 7, sh = 2 * ((e >> 5) & 3), l = e & 31;
                const int q = ((w[i].qs[32 * n + l] >> sh) & 3) + 4 * ((w[i].hmask[l] >> (e >> 5)) & 1) - 4;
                g += q * a[i].qs[e];
            }
            sumi += ts_q3k_scale(w[i].scales, s) * g;
        }
        sum += a[i].d * ts_f16_to_f32(w[i].d) * (float)sumi;
    }
    return sum;
}

/* Q4_K/Q5_K·Q8_K: per 32-group j, d·sc_j·da·Σ q·qa − dmin·m_j·da·(bsums[2j] + bsums[2j+1]). */
float ts_vec_dot_q4_K_q8_K_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            ts_k4_get(w[i].scales, j, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (j >> 1);
            const int sh = 4 * (j & 1);
            int32_t g = 0;
            for (int l = 0; l < 32; l++) g += ((q[l] >> sh) & 15) * a[i].qs[32 * j + l];
            sumi += sc * g;
            summ += m * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
        }
        sum += a[i].d * (ts_f16_to_f32(w[i].d) * (float)sumi - ts_f16_to_f32(w[i].dmin) * (float)summ);
    }
    return sum;
}

float ts_vec_dot_q5_K_q8_K_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            ts_k4_get(w[i].scales, j, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (j >> 1);
            const int sh = 4 * (j & 1);
            int32_t g = 0;
            for (int l = 0; l < 32; l++) {
                int v = ((q[l] >> sh) & 15) | (((w[i].qh[l] >> j) & 1) << 4);
                g += v * a[i].qs[32 * j + l];
            }
            sumi += sc * g;
            summ += m * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
        }
        sum += a[i].d * (ts_f16_to_f32(w[i].d) * (float)sumi - ts_f16_to_f32(w[i].dmin) * (float)summ);
    }
    return sum;
}

float ts_vec_dot_q6_K_q8_K_ref(int64_t k, const void *vw, const void *va) {
    const ts_block_q6_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t g[16] = {0};
        for (int e = 0; e < TS_QK_K; e++) {
            int s;
            int q = ts_q6k_level(&w[i], e, &s) - 32;
            g[s] += q * a[i].qs[e];
        }
        int32_t sumi = 0;
        for (int s = 0; s < 16; s++) sumi += w[i].scales[s] * g[s];
        sum += a[i].d * ts_f16_to_f32(w[i].d) * (float)sumi;
    }
    return sum;
}

float ts_vec_dot_f32_f32_ref(int64_t k, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float sum = 0;
    for (int64_t i = 0; i < k; i++) sum += w[i] * a[i];
    return sum;
}

float ts_vec_dot_f16_f16_ref(int64_t k, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    float sum = 0;
    for (int64_t i = 0; i < k; i++) sum += ts_f16_to_f32(w[i]) * ts_f16_to_f32(a[i]);
    return sum;
}

float ts_vec_dot_bf16_bf16_ref(int64_t k, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    float sum = 0;
    for (int64_t i = 0; i < k; i++) sum += ts_bf16_to_f32(w[i]) * ts_bf16_to_f32(a[i]);
    return sum;
}

/* ===================================================================================
 * Traits
 * =================================================================================== */

#define TS_TRAITS(T, NAME, BS, TSZ, Q, QF, DQ, DOT, VT) \
    [T] = {NAME, T, BS, TSZ, Q, QF, DQ, DOT, VT}

static const ts_type_traits ts_traits_table[TS_QTYPE_TABLE_SIZE] = {
    TS_TRAITS(TS_TYPE_F32, "f32", 1, 4, 0, ts_quantize_row_f32_ref, ts_dequantize_row_f32, ts_vec_dot_f32_f32_ref, TS_TYPE_F32),
    TS_TRAITS(TS_TYPE_F16, "f16", 1, 2, 0, ts_quantize_row_f16_ref, ts_dequantize_row_f16, ts_vec_dot_f16_f16_ref, TS_TYPE_F16),
    TS_TRAITS(TS_TYPE_BF16, "bf16", 1, 2, 0, ts_quantize_row_bf16_ref, ts_dequantize_row_bf16, ts_vec_dot_bf16_bf16_ref, TS_TYPE_BF16),
    TS_TRAITS(TS_TYPE_Q4_0, "q4_0", 32, 18, 1, ts_quantize_row_q4_0_ref, ts_dequantize_row_q4_0, ts_vec_dot_q4_0_q8_0_ref, TS_TYPE_Q8_0),
    TS_TRAITS(TS_TYPE_Q4_1, "q4_1", 32, 20, 1, ts_quantize_row_q4_1_ref, ts_dequantize_row_q4_1, ts_vec_dot_q4_1_q8_1_ref, TS_TYPE_Q8_1),
    TS_TRAITS(TS_TYPE_Q5_0, "q5_0", 32, 22, 1, ts_quantize_row_q5_0_ref, ts_dequantize_row_q5_0, ts_vec_dot_q5_0_q8_0_ref, TS_TYPE_Q8_0),
    TS_TRAITS(TS_TYPE_Q5_1, "q5_1", 32, 24, 1, ts_quantize_row_q5_1_ref, ts_dequantize_row_q5_1, ts_vec_dot_q5_1_q8_1_ref, TS_TYPE_Q8_1),
    TS_TRAITS(TS_TYPE_Q8_0, "q8_0", 32, 34, 1, ts_quantize_row_q8_0_ref, ts_dequantize_row_q8_0, ts_vec_dot_q8_0_q8_0_ref, TS_TYPE_Q8_0),
    TS_TRAITS(TS_TYPE_Q8_1, "q8_1", 32, 36, 1, ts_quantize_row_q8_1_ref, ts_dequantize_row_q8_1, NULL, TS_TYPE_Q8_1),
    TS_TRAITS(TS_TYPE_Q2_K, "q2_K", 256, 84, 1, ts_quantize_row_q2_K_ref, ts_dequantize_row_q2_K, ts_vec_dot_q2_K_q8_K_ref, TS_TYPE_Q8_K),
    TS_TRAITS(TS_TYPE_Q3_K, "q3_K", 256, 110, 1, ts_quantize_row_q3_K_ref, ts_dequantize_row_q3_K, ts_vec_dot_q3_K_q8_K_ref, TS_TYPE_Q8_K),
    TS_TRAITS(TS_TYPE_Q4_K, "q4_K", 256, 144, 1, ts_quantize_row_q4_K_ref, ts_dequantize_row_q4_K, ts_vec_dot_q4_K_q8_K_ref, TS_TYPE_Q8_K),
    TS_TRAITS(TS_TYPE_Q5_K, "q5_K", 256, 176, 1, ts_quantize_row_q5_K_ref, ts_dequantize_row_q5_K, ts_vec_dot_q5_K_q8_K_ref, TS_TYPE_Q8_K),
    TS_TRAITS(TS_TYPE_Q6_K, "q6_K", 256, 210, 1, ts_quantize_row_q6_K_ref, ts_dequantize_row_q6_K, ts_vec_dot_q6_K_q8_K_ref, TS_TYPE_Q8_K),
    TS_TRAITS(TS_TYPE_Q8_K, "q8_K", 256, 292, 1, ts_quantize_row_q8_K_ref, ts_dequantize_row_q8_K, NULL, TS_TYPE_Q8_K),
};

const ts_type_traits *ts_get_type_traits(int32_t ggml_type) {
    if (ggml_type < 0 || ggml_type >= TS_QTYPE_TABLE_SIZE) return NULL;
    const ts_type_traits *t = &ts_traits_table[ggml_type];
    return t->name ? t : NULL; /* holes (removed ids 4/5, IQ types ...) are NULL */
}

const ts_type_traits *ts_qtype_traits_get(int32_t type) { return ts_get_type_traits(type); }

size_t ts_qtype_row_size(int32_t type, int64_t n) {
    const ts_type_traits *t = ts_get_type_traits(type);
    if (!t || n < 0 || n % t->blck_size) return 0;
    return (size_t)(n / t->blck_size) * (size_t)t->type_size;
}

/* The reference kernels fill the dispatch table's quantized-format entries; SIMD levels
 * overwrite the ones they implement. */
void ts_register_quants_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    for (int32_t t = 0; t < TS_QTYPE_TABLE_SIZE && t < TS_KERNEL_TYPES; t++) {
        const ts_type_traits *tr = ts_get_type_traits(t);
        if (tr == NULL) continue;
        k->vec_dot[t] = tr->vec_dot;
        k->quantize_row[t] = tr->quantize;
        k->dequantize_row[t] = tr->dequantize;
    }
}
