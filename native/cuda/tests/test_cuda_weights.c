/*
 * test_cuda_weights.c — one-row products (tsc_matmul, m = 1) whose weights the kernel just
 * before them wrote, against the same weights uploaded: the same bits.
 *
 * On sm_90 a one-row matmul is a programmatic dependent launch that may start while the kernel
 * before it still runs; only weights declared with tsc_declare_weights are streamed before it
 * has ended, and that kernel may have started while the one before it still ran (a chain).
 * Here the weights are an earlier kernel's output (tsc_dequantize to F32, then
 * tsc_copy_strided to F16 or BF16, or tsc_quantize_q8_0), as in a graph that multiplies by a
 * computed matrix, so they must be read after it. On a GPU a wrong order shows only at times;
 * under the race check (ci/emu-racecheck.sh) it shows every run where the writer let the
 * product start early: the conversion to F16 or BF16, right before the product or with a kernel
 * between (a chain). Q8_0's quantizer lets nothing start before it ends. The uploaded twins are
 * declared, so both orders run.
 */
#include "tsc_test.h"
#include "ts_quants.h"

/* y = W·x with W [n][k] of w_type made on the device from Q8_0 rows by the kernel right before
 * the product (between 0) or by the one before that (between 1: x is copied by a scaling
 * kernel between), against W uploaded and declared. */
static void check_computed(void *ctx, uint64_t *seed, int32_t w_type, int64_t n, int64_t k, int between) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    const int64_t qrow = (int64_t)ts_qtype_row_size(TS_TYPE_Q8_0, k), row = (int64_t)ts_qtype_row_size(w_type, k);
    float *f = tsc_test_randn(seed, n * k, 0.05f), *x = tsc_test_randn(seed, k, 1.0f), *wf = malloc((size_t)(n * k * 4));
    char *q = malloc((size_t)(n * qrow)), *w = malloc((size_t)(n * row));
    CHECK(ts_quantize(q, TS_TYPE_Q8_0, f, n, k) == TS_OK && ts_dequantize(wf, q, TS_TYPE_Q8_0, n, k) == TS_OK, "quantize");
    CHECK(w_type == TS_TYPE_F32 ? (memcpy(w, wf, (size_t)(n * k * 4)), 1) : ts_quantize(w, w_type, wf, n, k) == TS_OK, "convert");
    const void *dq = tsc_test_up(ctx, q, n * qrow), *dwu = tsc_test_up(ctx, w, n * row);
    const float *dx = tsc_test_up(ctx, x, k * 4);
    CHECK(tsc_declare_weights(ctx, dwu, 1) == TS_OK, "%s", tsc_last_error());
    float *dwf, *dy, *dx1;
    void *dw;
    CHECK(tsc_alloc(ctx, n * k * 4, (void **)&dwf) == TS_OK && tsc_alloc(ctx, n * row, &dw) == TS_OK &&
              tsc_alloc(ctx, 2 * n * 4, (void **)&dy) == TS_OK && tsc_alloc(ctx, k * 4, (void **)&dx1) == TS_OK,
          "%s", tsc_last_error());
    CHECK(tsc_matmul(ctx, dy, 4, dwu, w_type, row, dx, k * 4, n, k, 1) == TS_OK, "%s", tsc_last_error());
    /* computed weights: Q8_0 -> F32 (the F32 case's weights), then -> F16/BF16 by a conversion
     * kernel or -> Q8_0 again by the quantizer (the same bytes: a Q8_0 block's largest quant is
     * ±127, so its scale comes back exactly) */
    CHECK(tsc_dequantize(ctx, dwf, k * 4, dq, TS_TYPE_Q8_0, qrow, n, k) == TS_OK, "%s", tsc_last_error());
    if (w_type == TS_TYPE_Q8_0) {
        CHECK(tsc_quantize_q8_0(ctx, dw, dwf, k * 4, n, k) == TS_OK, "%s", tsc_last_error());
    } else if (w_type != TS_TYPE_F32) {
        const int64_t shape[2] = {n, k}, ds[2] = {row, (int64_t)t->type_size}, ss[2] = {k * 4, 4};
        CHECK(tsc_copy_strided(ctx, dw, w_type, ds, dwf, TS_TYPE_F32, ss, shape, 2) == TS_OK, "%s", tsc_last_error());
    }
    /* x · 1 + 0 is x, bit for bit (x has no zeros) */
    if (between) CHECK(tsc_scale(ctx, dx1, k * 4, dx, k * 4, 1, k, 1.0f, 0.0f) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_matmul(ctx, dy + n, 4, w_type == TS_TYPE_F32 ? (const void *)dwf : dw, w_type, row, between ? dx1 : dx, k * 4, n, k, 1) ==
              TS_OK,
          "%s", tsc_last_error());
    float *h = malloc((size_t)(2 * n * 4));
    tsc_test_down(ctx, h, dy, 2 * n * 4);
    const int same = memcmp(h, h + n, (size_t)(n * 4)) == 0;
    CHECK(same, "%s n=%lld k=%lld: the product by weights a kernel just wrote differs from the uploaded weights'", t->name,
          (long long)n, (long long)k);
    printf("%-5s n=%-5lld k=%-5lld m=1: weights written by the kernel %s give the uploaded weights' bits: %s\n", t->name,
           (long long)n, (long long)k, between ? "before the one before" : "before", same ? "yes" : "NO");
    tsc_free(ctx, (void *)dq), tsc_free(ctx, (void *)dwu), tsc_free(ctx, (void *)dx), tsc_free(ctx, dwf), tsc_free(ctx, dw);
    tsc_free(ctx, dy), tsc_free(ctx, dx1);
    free(f), free(x), free(wf), free(q), free(w), free(h);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0x5eed;
    check_computed(ctx, &seed, TS_TYPE_F32, 200, 512, 0);
    check_computed(ctx, &seed, TS_TYPE_F16, 200, 512, 0);
    check_computed(ctx, &seed, TS_TYPE_BF16, 72, 1024, 0);
    check_computed(ctx, &seed, TS_TYPE_Q8_0, 200, 512, 0);
    check_computed(ctx, &seed, TS_TYPE_F16, 200, 512, 1);
    /* Refusals. */
    float *d;
    CHECK(tsc_alloc(ctx, 4096, (void **)&d) == TS_OK, "alloc");
    CHECK(tsc_declare_weights(ctx, d + 16, 1) == TS_ERR_INVALID_ARGUMENT, "inside an allocation");
    CHECK(tsc_declare_weights(ctx, &seed, 1) == TS_ERR_INVALID_ARGUMENT, "host memory");
    CHECK(tsc_declare_weights(ctx, d, 2) == TS_ERR_INVALID_ARGUMENT, "weights 2");
    CHECK(tsc_declare_weights(ctx, d, 1) == TS_OK && tsc_declare_weights(ctx, d, 0) == TS_OK, "%s", tsc_last_error());
    tsc_free(ctx, d);
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_pool_used(ctx) == 0, "scratch returned to the pool (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
