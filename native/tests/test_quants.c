/*
 * test_quants.c — the scalar quantization reference layer against ggml's own output.
 *
 * tests/data/ggml/<dist>.bin hold, for deterministic inputs, the bytes ggml's
 * quantize_row_*_ref produced and the floats ggml's dequantize_row_* produced (see
 * tests/data/ggml/README.md for provenance). Checks:
 *  1. legacy Q4_0 … Q8_1 and Q8_K: our quantizer output is byte-identical to ggml's;
 *  2. every type: our dequantizer turns ggml's blocks into exactly ggml's floats;
 *  3. K-quants: our quantization RMSE <= ggml's RMSE * 1.001 (printed per type/input);
 *  4. dot products equal the sum of dequantized products within a stated tolerance;
 *  5. edge cases: zero rows, extreme scales, k = one block, traits table.
 *
 * File layout (little-endian): "TSGQ", u32 version (1), u32 n, u32 ntypes, f32 x[n], then
 * ntypes × { u32 ggml_type, u32 nbytes, u8 bytes[nbytes], u32 ndeq (n or 0), f32 deq[ndeq] }.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_quants.h"

#ifndef TS_TEST_DATA_DIR
#error "TS_TEST_DATA_DIR must name native/tests/data (set by CMake)"
#endif

static int g_fail = 0;
#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            g_fail++;                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                       \
            fputc('\n', stderr);                                \
        }                                                       \
    } while (0)

/* ---- small deterministic RNG (splitmix64 + Box-Muller) ---- */
static uint64_t rng_state = 12345;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_uni(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }
static float rng_gauss(void) {
    double u1 = rng_uni(), u2 = rng_uni();
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

static void *xmalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static double rmse(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return sqrt(s / (double)n);
}

static int is_k_quant(int32_t t) { return t >= TS_TYPE_Q2_K && t <= TS_TYPE_Q6_K; }

/* ---- 1-3: golden data ---- */

static uint32_t rd_u32(const uint8_t **p) {
    const uint8_t *b = *p;
    *p += 4;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static void test_golden_file(const char *dist) {
    char path[1024];
    snprintf(path, sizeof path, "%s/ggml/%s.bin", TS_TEST_DATA_DIR, dist);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = xmalloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    CHECK(got == (size_t)size && size > 16 && memcmp(buf, "TSGQ", 4) == 0, "%s: bad file", path);
    const uint8_t *p = buf + 4;
    uint32_t version = rd_u32(&p), n = rd_u32(&p), ntypes = rd_u32(&p);
    CHECK(version == 1, "%s: version %u", path, version);
    float *x = xmalloc(n * sizeof(float));
    memcpy(x, p, n * sizeof(float)); /* test hosts are little-endian (x86-64, aarch64) */
    p += n * sizeof(float);

    float *deq = xmalloc(n * sizeof(float));
    float *ours_deq = xmalloc(n * sizeof(float));
    for (uint32_t t = 0; t < ntypes; t++) {
        int32_t type = (int32_t)rd_u32(&p);
        uint32_t nbytes = rd_u32(&p);
        const uint8_t *gq = p;
        p += nbytes;
        uint32_t ndeq = rd_u32(&p);
        const float *gdeq = (const float *)p; /* 4-byte aligned: every field before is */
        p += ndeq * sizeof(float);
        CHECK(p <= buf + size, "%s: truncated", path);

        const ts_type_traits *tr = ts_get_type_traits(type);
        CHECK(tr != NULL, "no traits for type %d", type);
        if (!tr) continue;
        CHECK(ts_qtype_row_size(type, n) == nbytes, "%s %s: row size %zu != %u", dist, tr->name,
              ts_qtype_row_size(type, n), nbytes);
        const int64_t nb = n / tr->blck_size;

        /* our quantizer on the same input */
        uint8_t *oq = xmalloc(nbytes);
        tr->quantize(x, oq, n);
        int64_t same_blocks = 0;
        for (int64_t b = 0; b < nb; b++)
            same_blocks += memcmp(oq + b * tr->type_size, gq + b * tr->type_size, (size_t)tr->type_size) == 0;
        if (!is_k_quant(type)) {
            CHECK(same_blocks == nb, "%s %s: %lld of %lld blocks differ from ggml", dist, tr->name,
                  (long long)(nb - same_blocks), (long long)nb);
        }

        /* our dequantizer on ggml's blocks must give ggml's floats bit for bit */
        if (ndeq) {
            CHECK(ndeq == n, "%s %s: ndeq", dist, tr->name);
            tr->dequantize(gq, deq, n);
            int64_t bad = 0;
            for (uint32_t i = 0; i < n; i++) {
                float g;
                memcpy(&g, gdeq + i, sizeof g);
                /* same bits, or both NaN: inf·0 (blocks whose f16 scale overflowed) gives the
                 * CPU's default NaN, whose sign bit differs between x86 and AArch64 */
                bad += memcmp(&deq[i], &g, sizeof g) != 0 && !(isnan(deq[i]) && isnan(g));
            }
            CHECK(bad == 0, "%s %s: %lld dequantized ggml values differ", dist, tr->name, (long long)bad);
        }

        if (is_k_quant(type)) {
            tr->dequantize(oq, ours_deq, n);
            double r_ours = rmse(x, ours_deq, n), r_ggml = rmse(x, gdeq, n);
            printf("  %-9s %-5s rmse ours %.6e  ggml %.6e  ratio %.6f  identical blocks %lld/%lld\n", dist,
                   tr->name, r_ours, r_ggml, r_ggml > 0 ? r_ours / r_ggml : 1.0, (long long)same_blocks,
                   (long long)nb);
            if (isfinite(r_ggml)) {
                CHECK(r_ours <= r_ggml * 1.001 + 1e-45, "%s %s: rmse %.9g > ggml %.9g * 1.001", dist, tr->name,
                      r_ours, r_ggml);
            } else {
                /* |x| ~ 1e30: the f16 super-scales overflow to inf in both libraries; there
                 * is no meaningful error, so ask for ggml's exact bytes instead */
                CHECK(same_blocks == nb, "%s %s: non-finite reference, %lld blocks differ", dist, tr->name,
                      (long long)(nb - same_blocks));
            }
        }
        free(oq);
    }
    CHECK(p == buf + size, "%s: trailing bytes", path);
    free(x);
    free(deq);
    free(ours_deq);
    free(buf);
}

/* ---- 4: dot products ---- */

/* Sum of w[i]*a[i] over dequantized rows, in double, and Σ|w[i]*a[i]| for the tolerance. */
static void deq_dot(int32_t wt, int32_t at, const void *wq, const void *aq, int64_t k, double *dot, double *mag) {
    float *wf = xmalloc((size_t)k * sizeof(float)), *af = xmalloc((size_t)k * sizeof(float));
    ts_get_type_traits(wt)->dequantize(wq, wf, k);
    ts_get_type_traits(at)->dequantize(aq, af, k);
    double s = 0, m = 0;
    for (int64_t i = 0; i < k; i++) {
        s += (double)wf[i] * af[i];
        m += fabs((double)wf[i] * af[i]);
    }
    *dot = s;
    *mag = m;
    free(wf);
    free(af);
}

/* Q4_1/Q5_1 dots use the activation's s = half(d·Σq) instead of Σ dequantized a, so they
 * may differ from the dequantized sum by |m|·|s|·2^-11 per block (half rounding of s). */
static double q81_s_slack(int32_t wt, const void *wq, const void *aq, int64_t k) {
    if (wt != TS_TYPE_Q4_1 && wt != TS_TYPE_Q5_1) return 0;
    const ts_block_q8_1 *a = aq;
    double slack = 0;
    for (int64_t b = 0; b < k / 32; b++) {
        uint16_t mh = wt == TS_TYPE_Q4_1 ? ((const ts_block_q4_1 *)wq)[b].m : ((const ts_block_q5_1 *)wq)[b].m;
        float m, s;
        ts_dequantize_row_f16(&mh, &m, 1);
        ts_dequantize_row_f16(&a[b].s, &s, 1);
        slack += fabs((double)m * s) * (1.0 / 1024);
    }
    return slack;
}

static const int32_t k_weight_types[] = {TS_TYPE_F32,  TS_TYPE_F16,  TS_TYPE_BF16, TS_TYPE_Q4_0,
                                         TS_TYPE_Q4_1, TS_TYPE_Q5_0, TS_TYPE_Q5_1, TS_TYPE_Q8_0,
                                         TS_TYPE_Q2_K, TS_TYPE_Q3_K, TS_TYPE_Q4_K, TS_TYPE_Q5_K,
                                         TS_TYPE_Q6_K};
#define N_WEIGHT_TYPES (int)(sizeof k_weight_types / sizeof k_weight_types[0])

/* Tolerance: the reference sums integers exactly inside a (sub-)block, then rounds a few
 * f32 products per block and adds blocks in f32: relative 1e-5 of Σ|w·a| covers that with
 * a wide margin for k <= 4096 (f32 eps 6e-8 × a few roundings × log-ish growth). */
static void check_dot(int32_t wt, const float *w, const float *a, int64_t k, float wscale, const char *what) {
    const ts_type_traits *tw = ts_get_type_traits(wt), *ta = ts_get_type_traits(tw->vec_dot_type);
    void *wq = xmalloc(ts_qtype_row_size(wt, k)), *aq = xmalloc(ts_qtype_row_size(ta->type, k));
    tw->quantize(w, wq, k);
    ta->quantize(a, aq, k);
    float got = tw->vec_dot(k, wq, aq);
    double want, mag;
    deq_dot(wt, ta->type, wq, aq, k, &want, &mag);
    double tol = 1e-5 * mag + q81_s_slack(wt, wq, aq, k) + 1e-37;
    CHECK(isfinite(got) && fabs(got - want) <= tol, "dot %s·%s k=%lld (%s, w scale %g): got %.9g want %.9g tol %.3g",
          tw->name, ta->name, (long long)k, what, wscale, got, want, tol);
    free(wq);
    free(aq);
}

static void test_dots(void) {
    const int64_t ks[] = {256, 512, 4096};
    const float wscales[] = {1.0f, 1e-3f, 1e3f, 1e-8f};
    float *w = xmalloc(4096 * sizeof(float)), *a = xmalloc(4096 * sizeof(float));
    for (int t = 0; t < N_WEIGHT_TYPES; t++) {
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            for (size_t si = 0; si < sizeof wscales / sizeof wscales[0]; si++) {
                int64_t k = ks[ki];
                for (int64_t i = 0; i < k; i++) {
                    w[i] = rng_gauss() * wscales[si];
                    a[i] = rng_gauss() + 0.25f; /* non-zero mean exercises the min / s terms */
                }
                check_dot(k_weight_types[t], w, a, k, wscales[si], "gaussian");
            }
        }
        /* one block of the weight type (32 for legacy types: one activation block too) */
        const ts_type_traits *tw = ts_get_type_traits(k_weight_types[t]);
        int64_t k1 = tw->blck_size == 1 ? 32 : tw->blck_size;
        if (ts_get_type_traits(tw->vec_dot_type)->blck_size > k1) k1 = ts_get_type_traits(tw->vec_dot_type)->blck_size;
        for (int64_t i = 0; i < k1; i++) {
            w[i] = rng_gauss();
            a[i] = rng_gauss();
        }
        check_dot(tw->type, w, a, k1, 1.0f, "one block");
        /* zero weights: the dot is exactly 0 */
        memset(w, 0, (size_t)k1 * sizeof(float));
        void *wq = xmalloc(ts_qtype_row_size(tw->type, k1)), *aq = xmalloc(ts_qtype_row_size(tw->vec_dot_type, k1));
        tw->quantize(w, wq, k1);
        ts_get_type_traits(tw->vec_dot_type)->quantize(a, aq, k1);
        float z = tw->vec_dot(k1, wq, aq);
        CHECK(z == 0.0f, "dot %s with zero weights = %g", tw->name, z);
        free(wq);
        free(aq);
    }
    free(w);
    free(a);
}

/* ---- 5: edge cases ---- */

static void test_edges(void) {
    /* traits table */
    static const struct { int32_t type; int32_t bs, ts; } want[] = {
        {0, 1, 4}, {1, 1, 2}, {30, 1, 2}, {2, 32, 18}, {3, 32, 20}, {6, 32, 22}, {7, 32, 24}, {8, 32, 34},
        {9, 32, 36}, {10, 256, 84}, {11, 256, 110}, {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ts_type_traits *t = ts_get_type_traits(want[i].type);
        CHECK(t && t->type == want[i].type && t->blck_size == want[i].bs && t->type_size == want[i].ts &&
                  t->quantize && t->dequantize,
              "traits of type %d", want[i].type);
        CHECK(ts_qtype_traits_get(want[i].type) == t, "alias lookup %d", want[i].type);
    }
    const int32_t unknown[] = {-1, 4, 5, 16, 20, 29, 31, 39, 1000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK(ts_get_type_traits(unknown[i]) == NULL, "type %d should be unsupported", unknown[i]);
    CHECK(ts_qtype_row_size(TS_TYPE_Q4_K, 512) == 288 && ts_qtype_row_size(TS_TYPE_Q4_K, 100) == 0,
          "row size");
    CHECK(ts_get_type_traits(TS_TYPE_Q8_1)->vec_dot == NULL && ts_get_type_traits(TS_TYPE_Q8_K)->vec_dot == NULL,
          "activation-only types have no dot");

    /* every type, k = one block: zeros -> exact zeros; huge/tiny scales stay finite where
     * the f16 scale can hold them, and the error is bounded relative to the block range */
    float x[256], y[256];
    uint8_t q[512];
    for (int32_t t = 0; t < TS_QTYPE_TABLE_SIZE; t++) {
        const ts_type_traits *tr = ts_get_type_traits(t);
        if (!tr || !tr->is_quantized) continue;
        const int64_t k = tr->blck_size;
        memset(x, 0, sizeof x);
        memset(q, 0xAB, sizeof q);
        tr->quantize(x, q, k);
        tr->dequantize(q, y, k);
        int zeros = 1;
        for (int64_t i = 0; i < k; i++) zeros &= y[i] == 0.0f;
        CHECK(zeros, "%s: zero block does not dequantize to zeros", tr->name);

        const float scales[] = {1e-4f, 1.0f, 1e3f}; /* f16 scales stay normal and finite */
        for (size_t s = 0; s < 3; s++) {
            float amax = 0;
            for (int64_t i = 0; i < k; i++) {
                x[i] = rng_gauss() * scales[s];
                if (fabsf(x[i]) > amax) amax = fabsf(x[i]);
            }
            tr->quantize(x, q, k);
            tr->dequantize(q, y, k);
            /* worst-case error bound: half a step of the coarsest grid (Q2_K has 4 levels
             * over the range; its fit may also trade peak error, so allow the full range/2) */
            double worst = 0;
            for (int64_t i = 0; i < k; i++) worst = fmax(worst, fabs((double)x[i] - y[i]));
            CHECK(worst <= amax * 1.01, "%s scale %g: max error %g vs amax %g", tr->name, scales[s], worst, amax);
        }
    }

    /* Q8_K bookkeeping: bsums are the group sums, d may be negative, |q| <= 127 */
    for (int i = 0; i < 256; i++) x[i] = rng_gauss();
    x[77] = 9.0f; /* positive extreme -> d < 0 */
    ts_block_q8_K b8;
    ts_quantize_row_q8_K_ref(x, &b8, 256);
    CHECK(b8.d < 0 && b8.qs[77] == -127, "q8_K sign convention (d %g, q %d)", b8.d, b8.qs[77]);
    for (int g = 0; g < 16; g++) {
        int s = 0;
        for (int l = 0; l < 16; l++) s += b8.qs[16 * g + l];
        CHECK(s == b8.bsums[g], "q8_K bsums[%d]", g);
    }
    /* Q8_1: s = half(d·Σq) */
    ts_block_q8_1 b1;
    ts_quantize_row_q8_1_ref(x, &b1, 32);
    int sq = 0;
    for (int j = 0; j < 32; j++) sq += b1.qs[j];
    float d1, s1;
    ts_dequantize_row_f16(&b1.d, &d1, 1);
    ts_dequantize_row_f16(&b1.s, &s1, 1);
    CHECK(fabsf(s1 - d1 * sq) <= fabsf(d1 * sq) * 2e-3f + 1e-6f, "q8_1 s %g vs %g", s1, d1 * sq);
}

int main(void) {
    static const char *dists[] = {"gaussian", "uniform", "outliers", "zeros", "tiny", "huge", "ties", "scaled"};
    printf("K-quant RMSE, ours vs ggml quantize_row_*_ref (same inputs):\n");
    for (size_t i = 0; i < sizeof dists / sizeof dists[0]; i++) test_golden_file(dists[i]);
    test_dots();
    test_edges();
    if (g_fail) {
        fprintf(stderr, "test_quants: %d failure(s)\n", g_fail);
        return 1;
    }
    printf("test_quants: all passed\n");
    return 0;
}
