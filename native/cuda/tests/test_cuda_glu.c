/*
 * test_cuda_glu.c — tsc_matmul_glu (a LLaMA feed-forward's gate and up products and their GLU)
 * against its steps, bit for bit, and the kernels it saves. Its own program so the race check
 * (ci/emu-racecheck.sh) can run the fused GLU's ticket in CI in seconds; test_cuda_matmul takes
 * over half an hour there.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "tsc_test.h"
#include "ts_quants.h"

/* tsc_matmul_glu against its steps (tsc_matmul_parts of gate and up, then tsc_glu), each
 * followed by a matmul of the GLU's output (which takes the copy the GLU leaves): gate, up, the
 * GLU and that matmul's output bit for bit, recorded to count the kernels: at m = 1 with n a
 * multiple of 32 and block-type weights the products and the GLU are one kernel (the x
 * quantizer + 1 + the down matmul, against + 2), otherwise the steps run as they are (n = 40,
 * m = 3, F16). Gate and up rows at different strides (up's every other row of its span). */
static void check_glu(void *ctx, uint64_t *seed, int32_t w_type, int64_t n, int64_t k, int64_t m) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    const int32_t dt = n % 32 == 0 ? TS_TYPE_Q8_0 : TS_TYPE_F32; /* the next matmul's weights */
    const int64_t row = (int64_t)ts_qtype_row_size(w_type, k), nd = 24, drow = (int64_t)ts_qtype_row_size(dt, n);
    float *wf = tsc_test_randn(seed, 2 * n * k, 0.05f), *xf = tsc_test_randn(seed, m * k, 1.0f), *df = tsc_test_randn(seed, nd * n, 0.05f);
    char *wq = malloc((size_t)(2 * n * row)), *w = calloc((size_t)(3 * n), (size_t)row), *wd = malloc((size_t)(nd * drow));
    CHECK(ts_quantize(wq, w_type, wf, 2 * n, k) == TS_OK && ts_quantize(wd, dt, df, nd, n) == TS_OK, "quantize");
    memcpy(w, wq, (size_t)(n * row)); /* gate: rows 0..n-1; up row i: row n + 2i */
    for (int64_t i = 0; i < n; i++) memcpy(w + (n + 2 * i) * row, wq + (n + i) * row, (size_t)row);
    const char *dw = tsc_test_up(ctx, w, 3 * n * row), *dwd = tsc_test_up(ctx, wd, nd * drow);
    const char *dwu = dw + n * row;
    CHECK(tsc_declare_weights(ctx, dw, 1) == TS_OK, "%s", tsc_last_error());
    float *dx = tsc_test_up(ctx, xf, m * k * 4), *dy;
    const int64_t outs = 2 * (3 * m * n + m * nd); /* per way: gate, up, glu [m][n], down [m][nd] */
    CHECK(tsc_alloc(ctx, outs * 4, (void **)&dy) == TS_OK && tsc_memset(ctx, dy, 0, outs * 4) == TS_OK, "%s", tsc_last_error());
    int64_t nodes[2], stats[TSC_GRAPH_STATS_COUNT];
    for (int way = 0; way < 2; way++) {
        float *g = dy + way * (outs / 2), *u = g + m * n, *y = u + m * n, *z = y + m * n;
        CHECK(tsc_graph_begin(ctx) == TS_OK, "%s", tsc_last_error());
        if (way == 0) {
            float *ys[2] = {g, u};
            const void *ws[2] = {dw, dwu};
            const int64_t yst[2] = {n * 4, n * 4}, wst[2] = {row, 2 * row}, ns[2] = {n, n};
            CHECK(tsc_matmul_parts(ctx, 2, ys, yst, ws, wst, ns, NULL, NULL, w_type, dx, k * 4, k, m) == TS_OK, "%s", tsc_last_error());
            CHECK(tsc_glu(ctx, y, n * 4, g, n * 4, u, n * 4, TS_ACT_SILU, m, n) == TS_OK, "%s", tsc_last_error());
        } else {
            CHECK(tsc_matmul_glu(ctx, y, n * 4, g, n * 4, u, n * 4, dw, row, dwu, 2 * row, w_type, TS_ACT_SILU, dx, k * 4, n, k, m) ==
                      TS_OK,
                  "%s", tsc_last_error());
        }
        CHECK(tsc_matmul(ctx, z, nd * 4, dwd, dt, drow, y, n * 4, nd, n, m) == TS_OK, "%s", tsc_last_error());
        CHECK(tsc_graph_end(ctx, 40 + way, 1) == TS_OK && tsc_graph_stats(ctx, stats, TSC_GRAPH_STATS_COUNT) == TS_OK, "%s",
              tsc_last_error());
        nodes[way] = stats[TSC_GRAPH_NODES];
    }
    float *h = malloc((size_t)outs * 4);
    tsc_test_down(ctx, h, dy, outs * 4);
    static const char *what[] = {"gate", "up", "glu", "the next matmul"};
    const int64_t len[4] = {m * n, m * n, m * n, m * nd};
    int same = 1;
    for (int s = 0, off = 0; s < 4; off += (int)len[s], s++) {
        const int ok = memcmp(h + off, h + outs / 2 + off, (size_t)len[s] * 4) == 0;
        CHECK(ok, "%s matmul_glu n=%lld m=%lld: %s differs from the separate steps'", t->name, (long long)n, (long long)m, what[s]);
        same &= ok;
    }
    int nonzero = 0;
    for (int64_t i = 0; i < m * n; i++) nonzero |= h[2 * m * n + i] != 0.0f;
    CHECK(nonzero, "%s matmul_glu: the GLU wrote nothing", t->name);
    const int fused = m == 1 && n % 32 == 0 && t->blck_size > 1;
    CHECK(nodes[1] == nodes[0] - (fused ? 1 : 0), "%s matmul_glu n=%lld m=%lld: %lld kernels, the steps %lld (want %s)", t->name,
          (long long)n, (long long)m, (long long)nodes[1], (long long)nodes[0], fused ? "one fewer" : "as many");
    printf("%-5s matmul_glu n=%-5lld k=%-5lld m=%lld: %s; %lld kernels with the next matmul, %lld as steps\n", t->name, (long long)n,
           (long long)k, (long long)m, same ? "the steps' bits" : "FAILED", (long long)nodes[1], (long long)nodes[0]);
    CHECK(tsc_matmul_glu(ctx, dy, n * 4, dy, n * 4, dy + 2 * m * n, n * 4, dw, row, dwu, 2 * row, w_type, TS_ACT_SILU, dx, k * 4, n, k,
                         m) == TS_ERR_INVALID_ARGUMENT,
          "the GLU's output over the gate's");
    CHECK(tsc_matmul_glu(ctx, dy, n * 4, dy + m * n, n * 4, dy + 2 * m * n, n * 4, dw, row, dwu, 2 * row, w_type, 7, dx, k * 4, n, k,
                         m) == TS_ERR_INVALID_ARGUMENT,
          "an unknown activation");
    tsc_free(ctx, (void *)dw), tsc_free(ctx, (void *)dwd), tsc_free(ctx, dx), tsc_free(ctx, dy);
    free(wf), free(xf), free(df), free(wq), free(w), free(wd), free(h);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0x5eed;
    /* Fused (n a multiple of 32, one row), also over several rows per warp; not
     * fused (n = 40, m = 3, F16). */
    check_glu(ctx, &seed, TS_TYPE_Q4_0, 352, 4096, 1);
    check_glu(ctx, &seed, TS_TYPE_Q4_K, 96, 512, 1);
    check_glu(ctx, &seed, TS_TYPE_Q6_K, 40, 512, 1);
    check_glu(ctx, &seed, TS_TYPE_Q4_0, 64, 256, 3);
    check_glu(ctx, &seed, TS_TYPE_F16, 64, 256, 1);
    setenv("TSC_MATVEC_BLOCKS", "1", 1);
    check_glu(ctx, &seed, TS_TYPE_Q8_0, 1056, 512, 1);
    unsetenv("TSC_MATVEC_BLOCKS");
    check_glu(ctx, &seed, TS_TYPE_Q5_0, 160, 512, 1);
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_pool_used(ctx) == 0, "scratch returned to the pool (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
