/*
 * test_cuda_matmul.c — tsc_quantize_q8_0 and tsc_matmul against the CPU library.
 *
 * Tolerances: the Q8_0 quantizer must give the CPU's bytes exactly. Quantized matmul: the
 * per-block integer sums equal the CPU's, only the float summation order differs, so
 * |gpu - cpu| <= 2e-5 · Σ|w·x| (one rounding per block on each side is far below that).
 * F16/F32 weights: against a double-precision sum over the CPU-dequantized weights and the
 * exact x, |err| <= 1e-5 · Σ|w·x| + 1e-6.
 */
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

/* One case: W [n x k] of w_type (rows padded by pad bytes), X [m x k], Y [m x n] padded. */
static void check_matmul(void *ctx, uint64_t *seed, int32_t w_type, int64_t n, int64_t k, int64_t m) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    const int64_t row = (int64_t)ts_qtype_row_size(w_type, k), ws = row + 4, xs = 4 * k + 16, ys = 4 * n + 32;
    float *wf = tsc_test_randn(seed, n * k, 0.5f), *x = tsc_test_randn(seed, m * xs / 4, 1.0f);
    char *w = calloc((size_t)(n * ws), 1);
    for (int64_t r = 0; r < n; r++) t->quantize(wf + r * k, w + r * ws, k);
    /* Dequantized weights (what the GPU multiplies) and the magnitude Σ|w·x| per output. */
    float *wd = malloc((size_t)(n * k) * 4);
    for (int64_t r = 0; r < n; r++) ts_dequantize(wd + r * k, w + r * ws, w_type, 1, k);
    float *want = calloc((size_t)(m * ys / 4), 4), *got = calloc((size_t)(m * ys / 4), 4);
    const int quant = w_type == TS_TYPE_Q8_0 || w_type == TS_TYPE_Q4_0;
    if (quant) CHECK(ts_matmul(want, ys, w, w_type, ws, x, xs, n, k, m) == TS_OK, "cpu matmul: %s", ts_last_error());
    double worst = 0;
    float *dw = tsc_test_up(ctx, w, n * ws), *dx = tsc_test_up(ctx, x, m * xs), *dy;
    CHECK(tsc_alloc(ctx, m * ys, (void **)&dy) == TS_OK, "alloc y");
    CHECK(tsc_memset(ctx, dy, 0x7f, m * ys) == TS_OK, "memset"); /* padding must stay untouched */
    CHECK(tsc_matmul(ctx, dy, ys, dw, w_type, ws, dx, xs, n, k, m) == TS_OK, "%s", tsc_last_error());
    tsc_test_down(ctx, got, dy, m * ys);
    int bad = 0;
    for (int64_t j = 0; j < m && !bad; j++)
        for (int64_t r = 0; r < n && !bad; r++) {
            double mag = 0, exact = 0;
            for (int64_t i = 0; i < k; i++) {
                double p = (double)wd[r * k + i] * x[j * xs / 4 + i];
                mag += fabs(p);
                exact += p;
            }
            const float g = got[j * ys / 4 + r];
            const double ref = quant ? want[j * ys / 4 + r] : exact;
            const double tol = quant ? 2e-5 * mag : 1e-5 * mag + 1e-6, err = fabs(g - ref);
            if (err / (tol > 0 ? tol : 1) > worst) worst = err / (tol > 0 ? tol : 1);
            if (!(err <= tol)) {
                bad = 1;
                CHECK(0, "%s n=%lld k=%lld m=%lld: y[%lld][%lld] = %.9g, CPU %.9g (tolerance %g)", t->name, (long long)n,
                      (long long)k, (long long)m, (long long)j, (long long)r, g, ref, tol);
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
    printf("%-5s n=%-6lld k=%-6lld m=%-4lld worst error / tolerance = %.3f\n", t->name, (long long)n, (long long)k,
           (long long)m, worst);
    tsc_free(ctx, dw);
    tsc_free(ctx, dx);
    tsc_free(ctx, dy);
    free(wf), free(x), free(w), free(wd), free(want), free(got);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0x5eed;
    check_quantize(ctx, &seed);
    static const int64_t shapes[][3] = {{1, 32, 1},    {7, 64, 1},   {33, 4096, 1}, {130, 4096, 3}, {64, 14336, 1},
                                        {300, 256, 17}, {5, 1024, 8}, {257, 512, 9}, {4, 96, 64}};
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_F16, TS_TYPE_F32};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            check_matmul(ctx, &seed, types[ti], shapes[s][0], shapes[s][1], shapes[s][2]);
    /* Refusals. */
    float *d;
    CHECK(tsc_alloc(ctx, 4096, (void **)&d) == TS_OK, "alloc");
    CHECK(tsc_matmul(ctx, d, 4, d, TS_TYPE_Q4_K, 144, d, 1024, 1, 256, 1) == TS_ERR_UNSUPPORTED, "Q4_K not yet on CUDA");
    CHECK(tsc_matmul(ctx, d, 4, d, TS_TYPE_Q8_0, 34, d, 160, 1, 40, 1) == TS_ERR_INVALID_ARGUMENT, "k %% 32");
    CHECK(tsc_matmul(ctx, (float *)((char *)d + 2), 4, d, TS_TYPE_F32, 128, d, 128, 1, 32, 1) == TS_ERR_INVALID_ARGUMENT,
          "misaligned y");
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    tsc_free(ctx, d);
    CHECK(tsc_pool_used(ctx) == 0, "scratch returned to the pool (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
