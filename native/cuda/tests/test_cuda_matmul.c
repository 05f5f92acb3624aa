/*
 * test_cuda_matmul.c — tsc_quantize_q8_0 and tsc_matmul against the CPU library, for every
 * weight type tsc_matmul takes (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K).
 *
 * Tolerances:
 *  - The Q8_0 quantizer must give the CPU's bytes exactly.
 *  - Block types: the GPU quantizes x to Q8_0 (the CPU's quantizer, byte for byte) and
 *    forms exact integer sums, so its result is Σ w·x̃ with w the CPU-dequantized weights
 *    and x̃ the Q8_0-dequantized activations, up to float rounding of the per-group scale
 *    products and of the final sums: |gpu − Σ w·x̃| <= 2e-5 · Σ (|w| + B)·|x̃| + 1e-6, where
 *    B is the largest |w| of the element's group of 32 (scale and min products of a group
 *    can cancel, so their rounding scales with the group's magnitude, not the element's).
 *    A wrong nibble, bit or scale gives an error of the order of Σ|w·x̃| itself.
 *  - Q4_0, Q5_0, Q8_0 pair with Q8_0 on the CPU as well, so the CPU's ts_matmul is the same
 *    sum in another order: |gpu − cpu| <= 2e-5 · Σ|w·x̃| (checked as well).
 *  - Q4_1, Q5_1 (CPU: Q8_1 activations) and the K-quants (CPU: Q8_K, one float scale per
 *    256) see differently rounded activations on the CPU, so against ts_matmul the bound is
 *    the two roundings added: Σ_i |w_i|·(0.57·d32_i + e_i) with d32 = amax/127 of x's
 *    32-block (|x − x̃| <= d/2 plus 127·d·2^-11 for the half scale), e_i = 0.5·amax/127 of the
 *    256-block (Q8_K) or 0.57·d32 (Q8_1), plus Q8_1's half-rounded block sum s (4.2·B·d32 per
 *    block) and the float-order term above.
 *  - F16/BF16/F32 weights: x is used as given (the CPU rounds x to the weight type), so the
 *    reference is a double sum over the dequantized weights and the exact x:
 *    |err| <= 1e-5 · Σ|w·x| + 1e-6.
 * m = 1 also runs through the register-load kernels (TSC_MATVEC_KERNEL) and with warps taking
 * several rows in turn (TSC_MATVEC_BLOCKS), the benchmarks' switches.
 * Strides: rows 16-byte aligned (F16/BF16/F32 vector paths) or padded by 2/4 bytes (rows at
 * every 2-byte/4-byte alignment: the m = 1 block-type kernel copies from the 16-byte boundary
 * below each row), outputs padded and checked untouched.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "tsc_test.h"
#include "ts_quants.h"

static void check_quantize(void *ctx, uint64_t *seed) {
    const int64_t rows = 5, k = 4096;
    float *x = tsc_test_randn(seed, rows * k, 2.0f);
    /* Edge blocks: all zero, tiny (1/d overflows), one huge value, exact halves. */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    for (int j = 0; j < 32; j++) x[32 + j] = 1e-38f * (float)(j - 16);
    x[64] = 3e38f;
    for (int j = 0; j < 32; j++) x[96 + j] = (float)(j - 16) * 0.5f;
    const int64_t bytes = rows * (k / 32) * 34;
    unsigned char *want = malloc(bytes), *got = malloc(bytes);
    CHECK(ts_quantize(want, TS_TYPE_Q8_0, x, rows, k) == TS_OK, "cpu quantize");
    float *dx = tsc_test_up(ctx, x, rows * k * 4);
    void *dq;
    CHECK(tsc_alloc(ctx, bytes, &dq) == TS_OK, "alloc");
    CHECK(tsc_quantize_q8_0(ctx, dq, dx, k * 4, rows, k) == TS_OK, "%s", tsc_last_error());
    tsc_test_down(ctx, got, dq, bytes);
    int64_t diff = -1;
    for (int64_t i = 0; i < bytes && diff < 0; i++)
        if (got[i] != want[i]) diff = i;
    CHECK(diff < 0, "Q8_0 bytes differ from the CPU's first at byte %lld (block %lld)", (long long)diff, (long long)(diff / 34));
    CHECK(tsc_quantize_q8_0(ctx, dq, dx, k * 4, rows, 33) == TS_ERR_INVALID_ARGUMENT, "k not a multiple of 32");
    tsc_free(ctx, dx);
    tsc_free(ctx, dq);
    free(x);
    free(want);
    free(got);
}

static double amax_of(const float *x, int64_t n) {
    double a = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(x[i]) > a) a = fabs(x[i]);
    return a;
}

/* One case: W [n x k] of w_type (rows padded by wpad bytes), X [m x k] (rows padded by xpad
 * bytes), Y [m x n] padded. */
static void check_matmul(void *ctx, uint64_t *seed, int32_t w_type, int64_t n, int64_t k, int64_t m, int64_t wpad, int64_t xpad) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    char what[96];
    snprintf(what, sizeof what, "%s n=%lld k=%lld m=%lld", t->name, (long long)n, (long long)k, (long long)m);
    if (tsc_test_too_big((double)n * k * m, what)) return;
    /* wpad 16: rows start 16 bytes apart (the row rounded up, plus 16); else row + wpad. */
    const int64_t row = (int64_t)ts_qtype_row_size(w_type, k), ws = wpad == 16 ? (row + 15) / 16 * 16 + 16 : row + wpad;
    const int64_t xs = 4 * k + xpad, ys = 4 * n + 32;
    float *wf = tsc_test_randn(seed, n * k, 0.5f), *x = tsc_test_randn(seed, m * xs / 4, 1.0f);
    char *w = calloc((size_t)(n * ws), 1);
    for (int64_t r = 0; r < n; r++) t->quantize(wf + r * k, w + r * ws, k);
    /* Dequantized weights (what the GPU multiplies). */
    float *wd = malloc((size_t)(n * k) * 4);
    for (int64_t r = 0; r < n; r++) ts_dequantize(wd + r * k, w + r * ws, w_type, 1, k);
    const int quant = t->is_quantized;
    const int same_act = w_type == TS_TYPE_Q8_0 || w_type == TS_TYPE_Q4_0 || w_type == TS_TYPE_Q5_0;
    const int kq = w_type >= TS_TYPE_Q2_K && w_type <= TS_TYPE_Q6_K;
    /* x̃: x through the GPU's activation quantizer (the CPU's Q8_0, byte-identical). */
    float *xt = malloc((size_t)(m * k) * 4);
    if (quant) {
        char *xq = malloc((size_t)(k / 32 * 34));
        for (int64_t j = 0; j < m; j++) {
            CHECK(ts_quantize(xq, TS_TYPE_Q8_0, x + j * xs / 4, 1, k) == TS_OK, "quantize x");
            ts_dequantize(xt + j * k, xq, TS_TYPE_Q8_0, 1, k);
        }
        free(xq);
    }
    float *want = calloc((size_t)(m * ys / 4), 4), *got = calloc((size_t)(m * ys / 4), 4);
    if (quant) CHECK(ts_matmul(want, ys, w, w_type, ws, x, xs, n, k, m) == TS_OK, "cpu matmul: %s", ts_last_error());
    double worst = 0, worst_cpu = 0;
    float *dw = tsc_test_up(ctx, w, n * ws), *dx = tsc_test_up(ctx, x, m * xs), *dy;
    CHECK(tsc_declare_weights(ctx, dw, 1) == TS_OK, "%s", tsc_last_error()); /* m = 1 streams them early (test_cuda_weights: not) */
    CHECK(tsc_alloc(ctx, m * ys, (void **)&dy) == TS_OK, "alloc y");
    CHECK(tsc_memset(ctx, dy, 0x7f, m * ys) == TS_OK, "memset"); /* padding must stay untouched */
    CHECK(tsc_matmul(ctx, dy, ys, dw, w_type, ws, dx, xs, n, k, m) == TS_OK, "%s", tsc_last_error());
    tsc_test_down(ctx, got, dy, m * ys);
    int bad = 0;
    for (int64_t j = 0; j < m && !bad; j++) {
        const float *xj = x + j * xs / 4, *xtj = quant ? xt + j * k : xj;
        for (int64_t r = 0; r < n && !bad; r++) {
            const float *wr = wd + r * k;
            double mag = 0, mag2 = 0, ref = 0, act_bound = 0;
            for (int64_t g = 0; g < k; g += 32) {
                const int64_t ge = g + 32 < k ? g + 32 : k;
                const double B = amax_of(wr + g, ge - g);
                const double d32 = amax_of(xj + g, ge - g) / 127, d256 = kq ? amax_of(xj + g / 256 * 256, 256) / 127 : 0;
                double sx = 0;
                for (int64_t i = g; i < ge; i++) {
                    const double p = (double)wr[i] * xtj[i];
                    ref += p;
                    mag += fabs(p);
                    mag2 += (fabs(wr[i]) + B) * fabs(xtj[i]);
                    act_bound += fabs(wr[i]) * (0.57 * d32 + (kq ? 0.5 * d256 : 0.57 * d32));
                    sx += fabs(xj[i]);
                }
                if (w_type == TS_TYPE_Q4_1 || w_type == TS_TYPE_Q5_1) act_bound += 4.2 * B * d32;
                (void)sx;
            }
            const float g = got[j * ys / 4 + r];
            const double tol = quant ? 2e-5 * mag2 + 1e-6 : 1e-5 * mag + 1e-6, err = fabs(g - ref);
            if (err / tol > worst) worst = err / tol;
            if (!(err <= tol)) {
                bad = 1;
                CHECK(0, "%s n=%lld k=%lld m=%lld ws=%lld: y[%lld][%lld] = %.9g, reference %.9g (tolerance %g, Σ|w·x| %g)", t->name,
                      (long long)n, (long long)k, (long long)m, (long long)ws, (long long)j, (long long)r, g, ref, tol, mag);
            }
            if (quant && !bad) {
                const double c = want[j * ys / 4 + r];
                const double tc = same_act ? 2e-5 * mag2 + 1e-6 : act_bound + 2e-5 * mag2 + 1e-6, ec = fabs(g - c);
                if (ec / tc > worst_cpu) worst_cpu = ec / tc;
                if (!(ec <= tc)) {
                    bad = 1;
                    CHECK(0, "%s n=%lld k=%lld m=%lld ws=%lld: y[%lld][%lld] = %.9g, CPU ts_matmul %.9g (tolerance %g)", t->name,
                          (long long)n, (long long)k, (long long)m, (long long)ws, (long long)j, (long long)r, g, c, tc);
                }
            }
        }
    }
    /* The bytes between rows (stride padding) keep the memset pattern. */
    for (int64_t j = 0; j + 1 < m && !bad; j++) {
        uint32_t u;
        memcpy(&u, (char *)got + j * ys + 4 * n, 4);
        if (u != 0x7f7f7f7fu) {
            bad = 1;
            CHECK(0, "%s: padding after row %lld overwritten", t->name, (long long)j);
        }
    }
    printf("%-5s n=%-6lld k=%-6lld m=%-4lld ws=%-6lld worst error / tolerance = %.3f (vs CPU ts_matmul %.3f)\n", t->name,
           (long long)n, (long long)k, (long long)m, (long long)ws, worst, worst_cpu);
    tsc_free(ctx, dw);
    tsc_free(ctx, dx);
    tsc_free(ctx, dy);
    free(wf), free(x), free(w), free(wd), free(xt), free(want), free(got);
}

/* Decode-like chain, enqueued without waiting: x_i = W_(i%2) · x_(i-1), n = k, each output
 * feeding the next call (back-to-back kernels that may overlap on sm_90: the matvec starts
 * streaming weights before the activations it needs are written, and each call's scratch
 * is the previous call's). Every step is then checked from the GPU's own input. */
static void check_chain(void *ctx, uint64_t *seed, int32_t w_type) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    const int64_t k = 4096, steps = 8, row = (int64_t)ts_qtype_row_size(w_type, k);
    char *w[2];
    float *wd[2], *dw[2];
    for (int i = 0; i < 2; i++) {
        float *wf = tsc_test_randn(seed, k * k, 0.02f);
        w[i] = malloc((size_t)(k * row));
        wd[i] = malloc((size_t)(k * k) * 4);
        CHECK(ts_quantize(w[i], w_type, wf, k, k) == TS_OK, "quantize");
        ts_dequantize(wd[i], w[i], w_type, k, k);
        dw[i] = tsc_test_up(ctx, w[i], k * row);
        free(wf);
    }
    float *x0 = tsc_test_randn(seed, k, 1.0f), *dx;
    CHECK(tsc_alloc(ctx, (steps + 1) * k * 4, (void **)&dx) == TS_OK, "alloc");
    CHECK(tsc_memset(ctx, dx, 0xff, (steps + 1) * k * 4) == TS_OK, "memset"); /* NaN until written */
    CHECK(tsc_upload(ctx, dx, x0, k * 4) == TS_OK, "upload");
    for (int64_t i = 1; i <= steps; i++)
        CHECK(tsc_matmul(ctx, dx + i * k, 0, dw[i % 2], w_type, row, dx + (i - 1) * k, 0, k, k, 1) == TS_OK, "%s", tsc_last_error());
    float *h = malloc((size_t)((steps + 1) * k) * 4), *xt = malloc((size_t)k * 4);
    char *xq = malloc((size_t)(k / 32 * 34));
    tsc_test_down(ctx, h, dx, (steps + 1) * k * 4);
    double worst = 0;
    int bad = 0;
    for (int64_t i = 1; i <= steps && !bad; i++) {
        CHECK(ts_quantize(xq, TS_TYPE_Q8_0, h + (i - 1) * k, 1, k) == TS_OK, "quantize x");
        ts_dequantize(xt, xq, TS_TYPE_Q8_0, 1, k);
        for (int64_t r = 0; r < k && !bad; r++) {
            const float *wr = wd[i % 2] + r * k;
            double ref = 0, mag2 = 0;
            for (int64_t g = 0; g < k; g += 32) {
                const double B = amax_of(wr + g, 32);
                for (int64_t e = g; e < g + 32; e++) ref += (double)wr[e] * xt[e], mag2 += (fabs(wr[e]) + B) * fabs(xt[e]);
            }
            const double tol = 2e-5 * mag2 + 1e-6, err = fabs(h[i * k + r] - ref);
            if (err / tol > worst) worst = err / tol;
            if (!(err <= tol)) {
                bad = 1;
                CHECK(0, "%s chain step %lld: y[%lld] = %.9g, reference %.9g (tolerance %g)", t->name, (long long)i, (long long)r,
                      h[i * k + r], ref, tol);
            }
        }
    }
    printf("%-5s chain of %lld matvecs %lldx%lld back to back: worst error / tolerance = %.3f\n", t->name, (long long)steps,
           (long long)k, (long long)k, worst);
    for (int i = 0; i < 2; i++) free(w[i]), free(wd[i]), tsc_free(ctx, dw[i]);
    tsc_free(ctx, dx);
    free(x0), free(h), free(xt), free(xq);
}

/* Matmuls of one x back to back (Q, K and V of one input) reuse its quantized copy; anything
 * else on the context, or a matmul writing over x, makes the next one quantize again. The
 * sequence runs with nothing else in between; then each product is compared, bit for bit,
 * with the same product of a snapshot of its x at another address (which no cached
 * quantization can serve): a stale copy would give the product of the old x. */
static void check_shared_input(void *ctx, uint64_t *seed, int32_t w_type) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    const int64_t k = 1024, row = (int64_t)ts_qtype_row_size(w_type, k);
    float *wf = tsc_test_randn(seed, 3 * k * k, 0.05f), *x0 = tsc_test_randn(seed, k, 1.0f);
    char *w = malloc((size_t)(3 * k * row));
    CHECK(ts_quantize(w, w_type, wf, 3 * k, k) == TS_OK, "quantize");
    const char *dw = tsc_test_up(ctx, w, 3 * k * row);
    float *dx = tsc_test_up(ctx, x0, k * 4), *dy, *dsnap, *dref;
    CHECK(tsc_alloc(ctx, 5 * k * 4, (void **)&dy) == TS_OK && tsc_alloc(ctx, 3 * k * 4, (void **)&dsnap) == TS_OK &&
              tsc_alloc(ctx, k * 4, (void **)&dref) == TS_OK,
          "alloc");
#define TSC_MV(y_dev, i, x_dev) \
    CHECK(tsc_matmul(ctx, y_dev, 0, dw + (i) * k * row, w_type, row, x_dev, 0, k, k, 1) == TS_OK, "%s", tsc_last_error())
    CHECK(tsc_copy(ctx, dsnap, dx, k * 4) == TS_OK, "snapshot");
    TSC_MV(dy, 0, dx);         /* quantizes x */
    TSC_MV(dy + k, 1, dx);     /* reuses it */
    TSC_MV(dy + 2 * k, 2, dx); /* reuses it */
    CHECK(tsc_scale(ctx, dx, 0, dx, 0, 1, k, 2.0f, -0.5f) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_copy(ctx, dsnap + k, dx, k * 4) == TS_OK, "snapshot");
    TSC_MV(dy + 3 * k, 0, dx); /* x changed by another op: quantizes again */
    TSC_MV(dx, 2, dx);         /* reuses it, and writes over x */
    TSC_MV(dy + 4 * k, 1, dx); /* quantizes the new x */
    CHECK(tsc_copy(ctx, dsnap + 2 * k, dx, k * 4) == TS_OK, "snapshot");
    const char *what[] = {"q (quantizes)", "k (reuses)", "v (reuses)", "after tsc_scale on x", "after a matmul over x"};
    const int wi[] = {0, 1, 2, 0, 1}, xi[] = {0, 0, 0, 1, 2};
    float *got = malloc((size_t)k * 4), *want = malloc((size_t)k * 4);
    int same = 1;
    for (int s = 0; s < 5; s++) {
        TSC_MV(dref, wi[s], dsnap + xi[s] * k);
        tsc_test_down(ctx, got, dy + s * k, k * 4);
        tsc_test_down(ctx, want, dref, k * 4);
        const int ok = memcmp(got, want, (size_t)k * 4) == 0;
        CHECK(ok, "%s shared input, %s: differs from the product of a snapshot of x", t->name, what[s]);
        same &= ok;
    }
#undef TSC_MV
    printf("%-5s one x for several matmuls: %s\n", t->name, same ? "every product equals the snapshot's" : "FAILED");
    tsc_free(ctx, (void *)dw), tsc_free(ctx, dx), tsc_free(ctx, dy), tsc_free(ctx, dsnap), tsc_free(ctx, dref);
    free(wf), free(x0), free(w), free(got), free(want);
}

/* A one-row RMSNorm, GLU or decode attention (one query row, heads side by side) also writes
 * its output's Q8_0 copy, which the next matmul of that output takes instead of quantizing
 * (TSC_FUSED_QUANTIZE=0 turns it off). The same sequence on a context with and one without: the
 * same bits, and one kernel fewer per norm, GLU or attention in the recorded graph (the
 * quantizer that did not run), also when the matmul is in the next graph (a run recorded in
 * pieces) but not after a dropped recording. Then an op between the norm and the matmul, and an
 * F32 matmul, which must not take the copy. The attention is LLaMA-7B's decode shape with GQA
 * (32 query heads on 8 kv heads of 128, F16 cache) over 60 keys (one block of keys) and 300
 * (five blocks, the last of each column merging them and writing the copy: one kernel too). */
static void check_fused_quantize(void *ctx, uint64_t *seed, int32_t w_type) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    const int64_t k = 4096, n = 96, row = (int64_t)ts_qtype_row_size(w_type, k);
    float *wf = tsc_test_randn(seed, n * k, 0.05f), *x0 = tsc_test_randn(seed, 3 * k, 1.0f), *nw = tsc_test_randn(seed, k, 1.0f);
    char *w = malloc((size_t)(n * row));
    CHECK(ts_quantize(w, w_type, wf, n, k) == TS_OK, "quantize");
    setenv("TSC_FUSED_QUANTIZE", "0", 1);
    void *plain = NULL;
    CHECK(tsc_init(0, 0, &plain) == TS_OK, "%s", tsc_last_error());
    unsetenv("TSC_FUSED_QUANTIZE");
    void *ctxs[2] = {ctx, plain};
    float *out[2];
    int64_t nodes[2][6] = {{0}};
    const int64_t hd = 128, heads = k / hd, kv_heads = heads / 4, lk_max = 300, kv_n = kv_heads * lk_max * hd;
    float *kvf = tsc_test_randn(seed, 2 * kv_n, 1.0f);
    char *kvh = malloc((size_t)(2 * kv_n * 2));
    CHECK(ts_quantize(kvh, TS_TYPE_F16, kvf, 2 * kv_n / hd, hd) == TS_OK, "f16 cache");
    for (int c = 0; c < 2; c++) {
        void *cx = ctxs[c];
        const char *dw = tsc_test_up(cx, w, n * row);
        float *dx = tsc_test_up(cx, x0, 3 * k * 4), *dnw = tsc_test_up(cx, nw, k * 4), *dh, *dy;
        CHECK(tsc_alloc(cx, 2 * k * 4, (void **)&dh) == TS_OK && tsc_alloc(cx, 9 * n * 4, (void **)&dy) == TS_OK, "alloc");
        CHECK(tsc_memset(cx, dy, 0, 9 * n * 4) == TS_OK, "%s", tsc_last_error()); /* the F32 product fills 2 of its n */
        int64_t stats[TSC_GRAPH_STATS_COUNT];
        /* recorded, to count the kernels: norm + matmul, GLU + matmul */
        CHECK(tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_rms_norm(cx, dh, 0, dx, 0, dnw, 1, k, 1e-5f) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy, 0, dw, w_type, row, dh, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(cx, 1, 1) == TS_OK && tsc_graph_stats(cx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s", tsc_last_error());
        nodes[c][0] = stats[TSC_GRAPH_NODES];
        CHECK(tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_glu(cx, dh + k, 0, dx + k, 0, dx + 2 * k, 0, TS_ACT_SILU, 1, k) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy + n, 0, dw, w_type, row, dh + k, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(cx, 2, 1) == TS_OK && tsc_graph_stats(cx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s", tsc_last_error());
        nodes[c][1] = stats[TSC_GRAPH_NODES];
        /* a piece boundary between the norm and its matmul (the Java backend's graphs of N ops):
         * the second piece quantizes nothing; then a dropped norm, whose copy must not be taken */
        CHECK(tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_rms_norm(cx, dh, 0, dx + k, 0, dnw, 1, k, 1e-5f) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(cx, 3, 1) == TS_OK && tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy + 5 * n, 0, dw, w_type, row, dh, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(cx, 4, 1) == TS_OK && tsc_graph_stats(cx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s",
              tsc_last_error());
        nodes[c][2] = stats[TSC_GRAPH_NODES];
        CHECK(tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_rms_norm(cx, dh, 0, dx + 2 * k, 0, dnw, 1, k, 1e-5f) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(cx, 5, 0) == TS_OK && tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy + 6 * n, 0, dw, w_type, row, dh, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(cx, 6, 1) == TS_OK && tsc_graph_stats(cx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s",
              tsc_last_error());
        nodes[c][3] = stats[TSC_GRAPH_NODES];
        /* launched: the norm, another op on its output, then the matmul of the changed output */
        CHECK(tsc_rms_norm(cx, dh, 0, dx, 0, dnw, 1, k, 1e-5f) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_scale(cx, dh, 0, dh, 0, 1, k, 0.5f, 0.25f) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy + 2 * n, 0, dw, w_type, row, dh, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
        /* a GLU whose output feeds an F32 matmul (the copy unused), then a quantized one */
        CHECK(tsc_glu(cx, dh, 0, dx + k, 0, dx + 2 * k, 0, TS_ACT_SILU, 1, 1024) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy + 3 * n, 0, dx, TS_TYPE_F32, 1024 * 4, dh, 0, 2, 1024, 1) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul(cx, dy + 4 * n, 0, dw, w_type, row, dx + k, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
        /* decode attention -> matmul, one block of keys and five */
        const char *dkv = tsc_test_up(cx, kvh, 2 * kv_n * 2);
        const int64_t lks[2] = {60, lk_max}, k_hs = lk_max * hd * 2, k_rs = hd * 2;
        for (int a = 0; a < 2; a++) {
            CHECK(tsc_graph_begin(cx) == TS_OK, "%s", tsc_last_error());
            CHECK(tsc_attention(cx, dh, hd * 4, k * 4, dx, hd * 4, k * 4, dkv, k_hs, k_rs, dkv + kv_n * 2, k_hs, k_rs, TS_TYPE_F16,
                                NULL, 0, heads, kv_heads, 1, lks[a], hd, 0.0884f, 1, lks[a] - 1) == TS_OK,
                  "%s", tsc_last_error());
            CHECK(tsc_matmul(cx, dy + (7 + a) * n, 0, dw, w_type, row, dh, 0, n, k, 1) == TS_OK, "%s", tsc_last_error());
            CHECK(tsc_graph_end(cx, 7 + a, 1) == TS_OK && tsc_graph_stats(cx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s",
                  tsc_last_error());
            nodes[c][4 + a] = stats[TSC_GRAPH_NODES];
        }
        out[c] = malloc((size_t)(9 * n) * 4);
        tsc_test_down(cx, out[c], dy, 9 * n * 4);
        tsc_free(cx, (void *)dw), tsc_free(cx, dx), tsc_free(cx, dnw), tsc_free(cx, dh), tsc_free(cx, dy), tsc_free(cx, (void *)dkv);
    }
    static const char *what[] = {"norm -> matmul",         "glu -> matmul",           "norm -> scale -> matmul",
                                 "glu -> f32 matmul",      "matmul after an f32 one", "norm | next graph: matmul",
                                 "dropped norm | matmul",  "attention -> matmul",     "attention (5 splits) -> matmul"};
    int same = 1;
    for (int s = 0; s < 9; s++) {
        const int ok = memcmp(out[0] + s * n, out[1] + s * n, (size_t)n * 4) == 0;
        CHECK(ok, "%s fused quantize, %s: differs from the unfused context", t->name, what[s]);
        same &= ok;
    }
    CHECK(nodes[0][0] == 2 && nodes[1][0] == 3, "%s norm -> matmul: %lld kernels fused, %lld unfused (want 2 and 3)", t->name,
          (long long)nodes[0][0], (long long)nodes[1][0]);
    CHECK(nodes[0][1] == 2 && nodes[1][1] == 3, "%s glu -> matmul: %lld kernels fused, %lld unfused (want 2 and 3)", t->name,
          (long long)nodes[0][1], (long long)nodes[1][1]);
    CHECK(nodes[0][2] == 1 && nodes[1][2] == 2, "%s norm | next graph: matmul: %lld kernels fused, %lld unfused (want 1 and 2)",
          t->name, (long long)nodes[0][2], (long long)nodes[1][2]);
    CHECK(nodes[0][3] == 2 && nodes[1][3] == 2, "%s dropped norm | matmul: %lld kernels fused, %lld unfused (want 2 and 2)",
          t->name, (long long)nodes[0][3], (long long)nodes[1][3]);
    CHECK(nodes[0][4] == 2 && nodes[1][4] == 3, "%s attention -> matmul: %lld kernels fused, %lld unfused (want 2 and 3)", t->name,
          (long long)nodes[0][4], (long long)nodes[1][4]);
    CHECK(nodes[0][5] == 2 && nodes[1][5] == 3, "%s attention (5 splits) -> matmul: %lld kernels fused, %lld unfused (want 2 and 3)",
          t->name, (long long)nodes[0][5], (long long)nodes[1][5]);
    printf("%-5s norm/glu/attention writing the matmul's Q8_0 input: %s; kernels %lld+%lld+%lld+%lld fused, %lld+%lld+%lld+%lld not\n",
           t->name, same ? "same bits as quantizing apart" : "FAILED", (long long)nodes[0][0], (long long)nodes[0][1],
           (long long)nodes[0][4], (long long)nodes[0][5], (long long)nodes[1][0], (long long)nodes[1][1], (long long)nodes[1][4],
           (long long)nodes[1][5]);
    CHECK(tsc_shutdown(plain) == TS_OK, "%s", tsc_last_error());
    free(wf), free(x0), free(nw), free(w), free(out[0]), free(out[1]), free(kvf), free(kvh);
}

/* tsc_matmul_parts: products of one x by up to 4 matrices, two with addends, equal bit for
 * bit to tsc_matmul per part followed by the float add (done here on the host), with the
 * parts' rows in one kernel (m = 1), with each part and addend its own kernel
 * (TSC_MATVEC_KERNEL=apart), at m = 3 (plain kernels) and m = 20 (tensor cores). Odd row counts, padded strides (weights 2-byte
 * aligned apart from the first part), outputs' padding untouched; for m = 1 the recorded
 * kernels are counted: the quantizer (block types) and one matvec, against the quantizer and
 * a kernel per part and per addend apart. */
static void check_parts(void *ctx, uint64_t *seed, int32_t w_type, int64_t m) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    enum { P = 4 };
    const int64_t k = 512, row = (int64_t)ts_qtype_row_size(w_type, k);
    /* m = 1: more rows than 4 per SM, for TSC_MATVEC_BLOCKS */
    const int64_t n[P] = {37, m == 1 ? 600 : 64, 5, m == 1 ? 1400 : 130};
    /* Block types: rows at several alignments. Float types: 16-byte aligned rows, which their
     * one-kernel path needs (others take a kernel per part, as tsc_matmul does). */
    const int quant = ts_get_type_traits(w_type)->blck_size > 1, q = quant ? 1 : 0;
    const int64_t ws[P] = {row + 16 - row % 16, quant ? row + 2 : row + 16, row, quant ? row + 6 : row + 48};
    const int has_add[P] = {1, 0, 0, 1};
    void *dw[P];
    float *dy[P], *dadd[P], *dref[P], *host_add[P];
    const float *add[P];
    int64_t ys[P], as[P];
    float *x = tsc_test_randn(seed, m * k, 1.0f);
    float *dx = tsc_test_up(ctx, x, m * k * 4);
    for (int j = 0; j < P; j++) {
        float *wf = tsc_test_randn(seed, n[j] * k, 0.05f);
        char *w = calloc((size_t)(n[j] * ws[j]), 1);
        for (int64_t r = 0; r < n[j]; r++) CHECK(ts_quantize(w + r * ws[j], w_type, wf + r * k, 1, k) == TS_OK, "quantize");
        dw[j] = tsc_test_up(ctx, w, n[j] * ws[j]);
        ys[j] = 4 * n[j] + 8, as[j] = 4 * n[j] + 12;
        host_add[j] = tsc_test_randn(seed, m * as[j] / 4, 2.0f);
        dadd[j] = tsc_test_up(ctx, host_add[j], m * as[j]);
        add[j] = has_add[j] ? dadd[j] : NULL;
        CHECK(tsc_alloc(ctx, m * ys[j], (void **)&dy[j]) == TS_OK && tsc_alloc(ctx, m * ys[j], (void **)&dref[j]) == TS_OK,
              "alloc");
        CHECK(tsc_matmul(ctx, dref[j], ys[j], dw[j], w_type, ws[j], dx, 4 * k, n[j], k, m) == TS_OK, "%s", tsc_last_error());
        free(wf), free(w);
    }
    static const char *modes[] = {"one kernel", "apart"};
    int64_t nodes[2] = {0, 0};
    int same = 1;
    for (int mode = 0; mode < 2; mode++) {
        if (mode == 1) setenv("TSC_MATVEC_KERNEL", "apart", 1);
        for (int j = 0; j < P; j++) CHECK(tsc_memset(ctx, dy[j], 0x7f, m * ys[j]) == TS_OK, "%s", tsc_last_error());
        /* a fresh copy of x: no quantization cached from before, so every run counts the quantizer */
        float *dx2 = tsc_test_up(ctx, x, m * k * 4);
        const int recorded = m == 1;
        if (recorded) CHECK(tsc_graph_begin(ctx) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_matmul_parts(ctx, P, dy, ys, (const void *const *)dw, ws, n, add, as, w_type, dx2, 4 * k, k, m) == TS_OK, "%s",
              tsc_last_error());
        if (recorded) {
            int64_t stats[TSC_GRAPH_STATS_COUNT];
            CHECK(tsc_graph_end(ctx, 7, 1) == TS_OK && tsc_graph_stats(ctx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s",
                  tsc_last_error());
            nodes[mode] = stats[TSC_GRAPH_NODES];
        }
        unsetenv("TSC_MATVEC_KERNEL");
        for (int j = 0; j < P; j++) {
            float *got = malloc((size_t)(m * ys[j])), *want = malloc((size_t)(m * ys[j]));
            tsc_test_down(ctx, got, dy[j], m * ys[j]);
            tsc_test_down(ctx, want, dref[j], m * ys[j]);
            int64_t bad = -1, padding = 0;
            for (int64_t r = 0; r < m; r++) {
                for (int64_t e = 0; e < n[j]; e++) {
                    const float v = want[r * ys[j] / 4 + e] + (has_add[j] ? host_add[j][r * as[j] / 4 + e] : 0.0f);
                    if (bad < 0 && ts_test_f32_bits(got[r * ys[j] / 4 + e]) != ts_test_f32_bits(v)) bad = r * n[j] + e;
                }
                uint32_t u;
                memcpy(&u, (char *)got + r * ys[j] + 4 * n[j], 4);
                padding += u != 0x7f7f7f7fu;
            }
            CHECK(bad < 0 && padding == 0,
                  "%s parts m=%lld %s, part %d: element %lld differs from tsc_matmul%s; %lld paddings written", t->name,
                  (long long)m, modes[mode], j, (long long)bad, has_add[j] ? " + addend" : "", (long long)padding);
            same &= bad < 0 && padding == 0;
            free(got), free(want);
        }
        tsc_free(ctx, dx2);
    }
    if (m == 1) {
        int adds = 0;
        for (int j = 0; j < P; j++) adds += has_add[j];
        CHECK(nodes[0] == q + 1 && nodes[1] == q + P + adds, "%s parts: %lld kernels in one, %lld apart (want %d and %d)",
              t->name, (long long)nodes[0], (long long)nodes[1], q + 1, q + P + adds);
    }
    printf("%-5s %d parts of k=%lld, m=%lld, 2 with addends: %s", t->name, P, (long long)k, (long long)m,
           same ? "tsc_matmul's bits plus the float add" : "FAILED");
    if (m == 1) printf("; kernels %lld in one, %lld apart", (long long)nodes[0], (long long)nodes[1]);
    printf("\n");
    for (int j = 0; j < P; j++)
        tsc_free(ctx, dw[j]), tsc_free(ctx, dy[j]), tsc_free(ctx, dadd[j]), tsc_free(ctx, dref[j]), free(host_add[j]);
    tsc_free(ctx, dx);
    free(x);
}

/* tsc_matmul_parts refuses part counts out of range and outputs overlapping x, another
 * output or an addend, and names the part. */
static void check_parts_refusals(void *ctx) {
    float *d;
    CHECK(tsc_alloc(ctx, 1 << 16, (void **)&d) == TS_OK, "alloc");
    const int64_t k = 64, row = 72; /* Q8_0: 2 blocks of 34 bytes, padded */
    float *y[2] = {d, d + 256};
    const void *w[2] = {d + 1024, d + 2048};
    const float *add[2] = {d + 512, d + 768};
    int64_t ys[2] = {64, 64}, ws[2] = {row, row}, n[2] = {16, 16}, as[2] = {64, 64};
    const float *x = d + 4096;
    CHECK(tsc_matmul_parts(ctx, 2, y, ys, w, ws, n, add, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_matmul_parts(ctx, 0, y, ys, w, ws, n, add, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_ERR_INVALID_ARGUMENT, "0 parts");
    CHECK(tsc_matmul_parts(ctx, TSC_MATMUL_PARTS + 1, y, ys, w, ws, n, add, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) ==
              TS_ERR_INVALID_ARGUMENT,
          "too many parts");
    CHECK(tsc_matmul_parts(ctx, 2, y, ys, w, ws, n, add, NULL, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_ERR_INVALID_ARGUMENT,
          "addends without strides");
    float *y_on_x[2] = {d, d + 4096 + 60};
    CHECK(tsc_matmul_parts(ctx, 2, y_on_x, ys, w, ws, n, add, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_ERR_INVALID_ARGUMENT &&
              strstr(tsc_last_error(), "part 1") != NULL,
          "an output over x (%s)", tsc_last_error());
    float *y_on_y[2] = {d, d + 8};
    CHECK(tsc_matmul_parts(ctx, 2, y_on_y, ys, w, ws, n, add, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_ERR_INVALID_ARGUMENT,
          "outputs overlapping");
    const float *add_on_y[2] = {d + 512, d + 250};
    CHECK(tsc_matmul_parts(ctx, 2, y, ys, w, ws, n, add_on_y, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_ERR_INVALID_ARGUMENT,
          "an addend over an output");
    int64_t ws_short[2] = {row, 40};
    CHECK(tsc_matmul_parts(ctx, 2, y, ys, w, ws_short, n, add, as, TS_TYPE_Q8_0, x, 4 * k, k, 1) == TS_ERR_INVALID_ARGUMENT &&
              strstr(tsc_last_error(), "part 1") != NULL,
          "a short weight stride in part 1 (%s)", tsc_last_error());
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    tsc_free(ctx, d);
}

/* tsc_dequantize: the CPU's ts_dequantize values bit for bit (rows 2-byte aligned, padded). */
static void check_dequantize(void *ctx, uint64_t *seed, int32_t type, int64_t rows, int64_t n) {
    const ts_type_traits *t = ts_get_type_traits(type);
    const int64_t row = (int64_t)ts_qtype_row_size(type, n), xs = row + (type == TS_TYPE_F32 ? 4 : 2), ys = 4 * n + 8;
    float *f = tsc_test_randn(seed, rows * n, 1.0f), *want = malloc((size_t)(rows * n) * 4), *got = malloc((size_t)(rows * ys));
    char *x = calloc((size_t)(rows * xs), 1);
    for (int64_t r = 0; r < rows; r++) {
        t->quantize(f + r * n, x + r * xs, n);
        ts_dequantize(want + r * n, x + r * xs, type, 1, n);
    }
    void *dx = tsc_test_up(ctx, x, rows * xs);
    float *dy;
    CHECK(tsc_alloc(ctx, rows * ys, (void **)&dy) == TS_OK, "alloc");
    CHECK(tsc_dequantize(ctx, dy, ys, dx, type, xs, rows, n) == TS_OK, "%s", tsc_last_error());
    tsc_test_down(ctx, got, dy, rows * ys);
    int64_t bad = -1;
    for (int64_t r = 0; r < rows && bad < 0; r++)
        for (int64_t e = 0; e < n && bad < 0; e++)
            if (ts_test_f32_bits(got[r * ys / 4 + e]) != ts_test_f32_bits(want[r * n + e])) bad = r * n + e;
    CHECK(bad < 0, "tsc_dequantize %s rows=%lld n=%lld: element %lld = %.9g, CPU %.9g", t->name, (long long)rows, (long long)n,
          (long long)bad, bad >= 0 ? got[bad / n * ys / 4 + bad % n] : 0.0, bad >= 0 ? want[bad] : 0.0);
    printf("%-5s tsc_dequantize rows=%lld n=%lld: %s\n", t->name, (long long)rows, (long long)n, bad < 0 ? "bit-exact" : "DIFFERS");
    tsc_free(ctx, dx);
    tsc_free(ctx, dy);
    free(f), free(want), free(got), free(x);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0x5eed;
    check_quantize(ctx, &seed);
    /* n, k, m, aligned: odd n, k from one super-block to 14336 (1 to 4 tiles a row for
     * m = 1), m 1 (decode), 3, 9 (a partial second pass of 8), 64; aligned = rows 16-byte
     * aligned, else only 2-byte aligned (4 for F32). Every k is a multiple of 256 so all
     * types share them. */
    static const int64_t shapes[][4] = {{1, 256, 1, 1},   {7, 256, 3, 0},    {33, 512, 9, 1},  {5, 256, 64, 0},
                                        {65, 4096, 1, 1}, {130, 1024, 3, 0}, {31, 14336, 1, 1}, {257, 512, 9, 0},
                                        {9, 14336, 1, 0}, {4, 768, 1, 0},    {3, 4352, 1, 1}};
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_Q4_1, TS_TYPE_Q5_0, TS_TYPE_Q5_1,
                                    TS_TYPE_Q2_K, TS_TYPE_Q3_K, TS_TYPE_Q4_K, TS_TYPE_Q5_K, TS_TYPE_Q6_K,
                                    TS_TYPE_F16,  TS_TYPE_BF16, TS_TYPE_F32};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        const int64_t small_pad = types[ti] == TS_TYPE_F32 ? 4 : 2;
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            const int64_t wpad = shapes[s][3] ? 16 : small_pad, xpad = shapes[s][3] ? 16 : 4;
            check_matmul(ctx, &seed, types[ti], shapes[s][0], shapes[s][1], shapes[s][2], wpad, xpad);
        }
    }
    /* m = 1 again through the register-load kernels and plain launches (TSC_MATVEC_KERNEL,
     * the benchmarks' switch), so either path can be the default. */
    setenv("TSC_MATVEC_KERNEL", "regs,nopdl", 1);
    printf("m = 1 again with TSC_MATVEC_KERNEL=regs,nopdl (register-load kernels, plain launches):\n");
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            if (shapes[s][2] == 1)
                check_matmul(ctx, &seed, types[ti], shapes[s][0], shapes[s][1], 1, shapes[s][3] ? 16 : types[ti] == TS_TYPE_F32 ? 4 : 2,
                             shapes[s][3] ? 16 : 4);
    check_chain(ctx, &seed, TS_TYPE_Q4_0);
    unsetenv("TSC_MATVEC_KERNEL");
    /* m = 1 with one block per SM (TSC_MATVEC_BLOCKS), so with more rows than 4 per SM the
     * warps take several rows in turn, 2-byte and 16-byte aligned, one and two tiles a row. */
    setenv("TSC_MATVEC_BLOCKS", "1", 1);
    printf("m = 1 again with TSC_MATVEC_BLOCKS=1 (warps taking several rows):\n");
    for (size_t ti = 0; ti < 10; ti++) { /* the block types */
        check_matmul(ctx, &seed, types[ti], 2100, 512, 1, 2, 4);
        check_matmul(ctx, &seed, types[ti], 1100, 4352, 1, 16, 16);
    }
    unsetenv("TSC_MATVEC_BLOCKS");
    /* Block-of-32 types at k below one super-block, and float types at a k that is not a
     * multiple of the 8-element vector. */
    static const int32_t small_types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_Q4_1, TS_TYPE_Q5_0, TS_TYPE_Q5_1};
    for (size_t ti = 0; ti < sizeof small_types / sizeof *small_types; ti++) {
        check_matmul(ctx, &seed, small_types[ti], 1, 32, 1, 2, 4);
        check_matmul(ctx, &seed, small_types[ti], 9, 96, 17, 16, 16);
        check_matmul(ctx, &seed, small_types[ti], 3, 64, 1, 16, 16); /* a row of 2 blocks in one tile */
    }
    check_matmul(ctx, &seed, TS_TYPE_F16, 5, 100, 2, 2, 4);
    check_matmul(ctx, &seed, TS_TYPE_BF16, 5, 100, 1, 16, 16);
    check_matmul(ctx, &seed, TS_TYPE_F32, 3, 13, 9, 4, 4);
    check_chain(ctx, &seed, TS_TYPE_Q4_0);
    check_chain(ctx, &seed, TS_TYPE_Q6_K);
    check_shared_input(ctx, &seed, TS_TYPE_Q4_0);
    check_shared_input(ctx, &seed, TS_TYPE_Q4_K);
    check_fused_quantize(ctx, &seed, TS_TYPE_Q4_0);
    check_fused_quantize(ctx, &seed, TS_TYPE_Q6_K);
    static const int32_t part_types[] = {TS_TYPE_Q4_0, TS_TYPE_Q6_K, TS_TYPE_Q8_0, TS_TYPE_F16, TS_TYPE_F32};
    for (size_t ti = 0; ti < sizeof part_types / sizeof *part_types; ti++) {
        check_parts(ctx, &seed, part_types[ti], 1);
        check_parts(ctx, &seed, part_types[ti], 3);
    }
    check_parts(ctx, &seed, TS_TYPE_Q4_0, 20); /* tensor cores (m >= 16) */
    check_parts(ctx, &seed, TS_TYPE_F16, 20);
    setenv("TSC_MATVEC_BLOCKS", "1", 1); /* warps taking several rows, across parts */
    check_parts(ctx, &seed, TS_TYPE_Q4_K, 1);
    unsetenv("TSC_MATVEC_BLOCKS");
    check_parts_refusals(ctx);
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) check_dequantize(ctx, &seed, types[ti], 5, 512);
    check_dequantize(ctx, &seed, TS_TYPE_Q4_1, 3, 32);
    check_dequantize(ctx, &seed, TS_TYPE_F16, 3, 100);
    /* Refusals. */
    float *d;
    CHECK(tsc_alloc(ctx, 4096, (void **)&d) == TS_OK, "alloc");
    CHECK(tsc_matmul(ctx, d, 4, d, TS_TYPE_Q8_K, 292, d, 1024, 1, 256, 1) == TS_ERR_UNSUPPORTED, "Q8_K is activation-only");
    CHECK(tsc_matmul(ctx, d, 4, d, TS_TYPE_Q8_0, 34, d, 160, 1, 40, 1) == TS_ERR_INVALID_ARGUMENT, "k %% 32");
    CHECK(tsc_matmul(ctx, d, 4, d, TS_TYPE_Q4_K, 144, d, 1024, 1, 128, 1) == TS_ERR_INVALID_ARGUMENT, "k %% 256");
    CHECK(tsc_matmul(ctx, (float *)((char *)d + 2), 4, d, TS_TYPE_F32, 128, d, 128, 1, 32, 1) == TS_ERR_INVALID_ARGUMENT,
          "misaligned y");
    CHECK(tsc_matmul(ctx, d, 4, (char *)d + 1, TS_TYPE_Q6_K, 210, d, 1024, 1, 256, 1) == TS_ERR_INVALID_ARGUMENT,
          "odd weight address");
    CHECK(tsc_dequantize(ctx, d, 1024, d, TS_TYPE_Q4_K, 144, 1, 128) == TS_ERR_INVALID_ARGUMENT, "dequantize n %% 256");
    CHECK(tsc_dequantize(ctx, d, 1024, d, TS_TYPE_Q8_K, 292, 1, 256) == TS_ERR_UNSUPPORTED, "dequantize Q8_K");
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    tsc_free(ctx, d);
    CHECK(tsc_pool_used(ctx) == 0, "scratch returned to the pool (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
