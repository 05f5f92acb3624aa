/*
 * test_cuda_conv.c — tsc_conv2d against the CPU's ts_conv2d (scalar level).
 *
 * Two kinds of data:
 *  - "exact": every input, weight and bias is a multiple of 1/8 in [-1, 1]. Such values
 *    are exact in F16 and TF32, every product is a multiple of 1/64 and every partial sum
 *    stays below K <= 2^13 in magnitude (18 significant bits of the 24 of F32, margin for
 *    the tensor cores' internal alignment), so any summation order gives the exact result:
 *    GPU and CPU should agree bit for bit (the log counts outputs that do not). The test
 *    allows 1e-3, far below the 1/64 that any one wrong or missing product changes an
 *    output by, so it still catches any indexing slip (tap, padding, stride, dilation,
 *    group, batch) while not failing on an undocumented rounding inside the tensor cores.
 *  - "gauss": normal random data. The tensor-core path rounds both operands to TF32
 *    (10-bit mantissa, round to nearest: relative error <= 2^-11 each), so each product is
 *    within ~2^-10 of its F32 value, and both sides sum K terms in F32 in different orders.
 *    Tolerance per output: 1.5e-3 * sum|w·x| + 1e-5, with sum|w·x| (+|bias|) computed by the
 *    CPU op on |x| and |w|. The direct (depthwise) path is F32: the same bound holds easily.
 * Exact cases run once with the automatic kernel choice, then with each kernel forced
 * (TSC_CONV_TILE=64/64x128/128/256/split/direct), so coverage does not depend on the SM count.
 */
#include "tsc_test.h"

typedef struct {
    const char *name;
    int64_t n, cin, h, w, cout, kh, kw;
    int32_t sh, sw, ph, pw, dh, dw, groups;
    int32_t w_type;
    int bias, exact;
} conv_case;

static float rand_eighth(uint64_t *seed) { return (float)((int)(ts_test_rand(seed) % 17) - 8) / 8.0f; }

static void run_case(void *ctx, uint64_t *seed, const conv_case *c) {
    const int64_t oh = (c->h + 2 * c->ph - c->dh * (c->kh - 1) - 1) / c->sh + 1;
    const int64_t ow = (c->w + 2 * c->pw - c->dw * (c->kw - 1) - 1) / c->sw + 1;
    const int64_t nx = c->n * c->cin * c->h * c->w, nw = c->cout * (c->cin / c->groups) * c->kh * c->kw, ny = c->n * c->cout * oh * ow;
    if (tsc_test_too_big((double)ny * (double)(nw / c->cout), c->name)) return;
    float *x = malloc((size_t)nx * 4), *w = malloc((size_t)nw * 4), *b = malloc((size_t)c->cout * 4);
    for (int64_t i = 0; i < nx; i++) x[i] = c->exact ? rand_eighth(seed) : (float)ts_test_gauss(seed);
    /* Gaussian weights scaled as a trained layer's (about 1/sqrt(K)). */
    const float ws = 1.0f / sqrtf((float)(nw / c->cout));
    for (int64_t i = 0; i < nw; i++) w[i] = c->exact ? rand_eighth(seed) : (float)ts_test_gauss(seed) * ws;
    for (int64_t i = 0; i < c->cout; i++) b[i] = c->exact ? rand_eighth(seed) : (float)ts_test_gauss(seed);
    /* F16 weights: the CPU gets the same F16 values (its op widens them as ours does). */
    void *wdev_host = w;
    uint16_t *wh = NULL;
    if (c->w_type == TS_TYPE_F16) {
        wh = malloc((size_t)nw * 2);
        CHECK(ts_convert(wh, TS_TYPE_F16, w, TS_TYPE_F32, nw) == TS_OK, "convert");
        CHECK(ts_convert(w, TS_TYPE_F32, wh, TS_TYPE_F16, nw) == TS_OK, "convert");
        wdev_host = wh;
    }
    float *want = malloc((size_t)ny * 4), *got = malloc((size_t)ny * 4), *mag = NULL;
    CHECK(ts_conv2d(want, x, w, TS_TYPE_F32, c->bias ? b : NULL, c->n, c->cin, c->h, c->w, c->cout, c->kh, c->kw, c->sh, c->sw, c->ph,
                    c->pw, c->dh, c->dw, c->groups) == TS_OK,
          "%s: cpu: %s", c->name, ts_last_error());
    if (!c->exact) {
        float *ax = malloc((size_t)nx * 4), *aw = malloc((size_t)nw * 4), *ab = malloc((size_t)c->cout * 4);
        for (int64_t i = 0; i < nx; i++) ax[i] = fabsf(x[i]);
        for (int64_t i = 0; i < nw; i++) aw[i] = fabsf(w[i]);
        for (int64_t i = 0; i < c->cout; i++) ab[i] = fabsf(b[i]);
        mag = malloc((size_t)ny * 4);
        CHECK(ts_conv2d(mag, ax, aw, TS_TYPE_F32, c->bias ? ab : NULL, c->n, c->cin, c->h, c->w, c->cout, c->kh, c->kw, c->sh, c->sw,
                        c->ph, c->pw, c->dh, c->dw, c->groups) == TS_OK,
              "%s: cpu |.|: %s", c->name, ts_last_error());
        free(ax), free(aw), free(ab);
    }
    float *dx = tsc_test_up(ctx, x, nx * 4), *db = tsc_test_up(ctx, b, c->cout * 4), *dy;
    void *dw = tsc_test_up(ctx, wdev_host, nw * (c->w_type == TS_TYPE_F16 ? 2 : 4));
    CHECK(tsc_alloc(ctx, ny * 4, (void **)&dy) == TS_OK, "alloc");
    /* The automatic choice, then (exact data only) every kernel forced through TSC_CONV_TILE,
     * so each tile size, split K and the direct kernel see every geometry. */
    static const char *forced[] = {"", "64", "64x128", "128", "256", "split", "direct"};
    for (int fi = 0; fi < (c->exact ? 7 : 1); fi++) {
        setenv("TSC_CONV_TILE", forced[fi], 1);
        CHECK(tsc_memset(ctx, dy, 0xff, ny * 4) == TS_OK, "memset"); /* NaN: an output never written shows */
        int32_t st = tsc_conv2d(ctx, dy, dx, dw, c->w_type, c->bias ? db : NULL, c->n, c->cin, c->h, c->w, c->cout, c->kh, c->kw, c->sh, c->sw,
                                c->ph, c->pw, c->dh, c->dw, c->groups);
        CHECK(st == TS_OK, "%s: tsc_conv2d: %s", c->name, tsc_last_error());
        tsc_test_down(ctx, got, dy, ny * 4);
        double worst = -1, worst_err = 0, worst_tol = 0, rms = 0;
        int64_t wi = -1, bad = 0, inexact = 0;
        for (int64_t i = 0; i < ny; i++) {
            const double err = fabs((double)got[i] - want[i]), tol = c->exact ? 1e-3 : 1.5e-3 * mag[i] + 1e-5;
            rms += err * err;
            inexact += err != 0;
            if (!(err <= tol)) bad++; /* NaN counts as bad */
            const double over = isnan(err) ? 1e30 : err - tol;
            if (over > worst) worst = over, wi = i, worst_err = err, worst_tol = tol;
        }
        rms = sqrt(rms / (double)ny);
        printf("%-34s %-6s n=%lld cin=%lld %lldx%lld cout=%lld k=%lldx%lld s=%d,%d p=%d,%d d=%d,%d g=%d %s%s -> %lldx%lld: max err %.3g "
               "(tol %.3g) at %lld, rms %.3g, %lld bad, %lld not bit-exact\n",
               c->name, fi ? forced[fi] : "auto", (long long)c->n, (long long)c->cin, (long long)c->h, (long long)c->w, (long long)c->cout, (long long)c->kh,
               (long long)c->kw, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw, c->groups, c->w_type == TS_TYPE_F16 ? "f16" : "f32",
               c->bias ? " bias" : "", (long long)oh, (long long)ow, worst_err, worst_tol, (long long)wi, rms, (long long)bad,
               (long long)inexact);
        CHECK(bad == 0, "%s (%s): %lld of %lld outputs out of tolerance; worst [%lld] got %.9g want %.9g (|err| %.3g > tol %.3g)", c->name,
              fi ? forced[fi] : "auto", (long long)bad, (long long)ny, (long long)wi, wi >= 0 ? got[wi] : 0.0, wi >= 0 ? want[wi] : 0.0,
              worst_err, worst_tol);
    }
    unsetenv("TSC_CONV_TILE");
    tsc_free(ctx, dx), tsc_free(ctx, db), tsc_free(ctx, dw), tsc_free(ctx, dy);
    free(x), free(w), free(b), free(wh), free(want), free(got), free(mag);
}

static void test_invalid(void *ctx) {
    float *d;
    CHECK(tsc_alloc(ctx, 4096, (void **)&d) == TS_OK, "alloc");
    CHECK(tsc_conv2d(ctx, d, d, d, TS_TYPE_Q8_0, NULL, 1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1) == TS_ERR_UNSUPPORTED, "q8_0 weights");
    CHECK(tsc_conv2d(ctx, d, d, d, TS_TYPE_F32, NULL, 1, 6, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4) == TS_ERR_INVALID_ARGUMENT,
          "groups not dividing cin");
    CHECK(tsc_conv2d(ctx, d, d, d, TS_TYPE_F32, NULL, 1, 4, 4, 4, 4, 7, 7, 1, 1, 0, 0, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT,
          "kernel larger than the input");
    CHECK(tsc_conv2d(ctx, d, d, d, TS_TYPE_F32, NULL, 1, 4, 8, 8, 4, 3, 3, 0, 1, 1, 1, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "stride 0");
    CHECK(tsc_conv2d(ctx, d, d, d, TS_TYPE_F32, NULL, 1, 4, 8, 8, 4, 3, 3, 1, 1, -1, 1, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "padding < 0");
    CHECK(tsc_conv2d(ctx, NULL, NULL, NULL, TS_TYPE_F32, NULL, 0, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1) == TS_OK, "n = 0 is a no-op");
    CHECK(tsc_conv2d(ctx, NULL, d, d, TS_TYPE_F32, NULL, 1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "null y");
    tsc_free(ctx, d);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0x5eed;
    static const conv_case cases[] = {
        /* name                          n  cin  h    w   cout kh kw sh sw ph pw dh dw g  type         bias exact */
        {"sd unet 320->320 3x3 64x64", 1, 320, 64, 64, 320, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F16, 1, 0},
        {"sd unet 320->320 3x3 exact", 1, 320, 24, 20, 320, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"sd conv_in 4->320 3x3", 2, 4, 32, 32, 320, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F16, 1, 1},
        {"1x1 640->320", 1, 640, 32, 32, 320, 1, 1, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F32, 1, 0},
        {"1x1 exact batch 3 odd", 3, 96, 9, 13, 144, 1, 1, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"1x1 16-byte gather exact", 2, 40, 12, 10, 136, 1, 1, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"1x1 f16 weights in place exact", 2, 32, 16, 12, 96, 1, 1, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F16, 1, 1},
        /* enough blocks (>= 132 SMs of an H100) for the 128 x 128 tiles */
        {"1x1 16-byte gather 128-tile exact", 2, 64, 56, 56, 384, 1, 1, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F16, 1, 1},
        {"3x3 128-tile exact", 2, 32, 56, 56, 384, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"3x3 128-tile gauss", 1, 64, 64, 64, 640, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F16, 1, 0},
        /* enough blocks (>= 2 x 132) for the 128 x 256 tiles */
        {"3x3 256-tile exact", 2, 16, 96, 96, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F16, 1, 1},
        {"1x1 16-byte gather 256-tile exact", 1, 32, 128, 128, 640, 1, 1, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F32, 0, 1},
        {"3x3 pad 0 256-tile gauss", 1, 24, 130, 130, 512, 3, 3, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F32, 1, 0},
        {"3x3 stride 2 pad 1 odd", 2, 64, 33, 31, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"3x3 stride 2 pad 0 gauss", 1, 128, 32, 32, 128, 3, 3, 2, 2, 0, 0, 1, 1, 1, TS_TYPE_F16, 0, 0},
        {"3x3 pad 0", 1, 16, 20, 17, 24, 3, 3, 1, 1, 0, 0, 1, 1, 1, TS_TYPE_F32, 0, 1},
        {"3x3 groups 4", 2, 32, 15, 15, 64, 3, 3, 1, 1, 1, 1, 1, 1, 4, TS_TYPE_F32, 1, 1},
        {"3x3 dilation 2", 1, 8, 19, 23, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1, TS_TYPE_F16, 1, 1},
        {"5x5 dilation 2 pad 3,1", 2, 12, 21, 18, 20, 5, 5, 1, 2, 3, 1, 2, 2, 1, TS_TYPE_F32, 1, 1},
        {"7x7 stride 2 pad 3 (> 32 taps)", 1, 3, 30, 27, 24, 7, 7, 2, 2, 3, 3, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"7x7 pad 3 gauss", 2, 16, 23, 29, 48, 7, 7, 1, 1, 3, 3, 1, 1, 1, TS_TYPE_F32, 0, 0},
        /* few pixels, deep K: K split over blocks, partial sums added by a second kernel */
        {"split-K 640->640 3x3 8x8 exact", 1, 640, 8, 8, 640, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F16, 1, 1},
        {"split-K 1280->1280 3x3 8x8 gauss", 2, 1280, 8, 8, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 1, TS_TYPE_F16, 1, 0},
        {"split-K groups 2 exact", 1, 256, 6, 6, 128, 3, 3, 1, 1, 1, 1, 1, 1, 2, TS_TYPE_F32, 1, 1},
        {"patchify 14 vit-l/14 224", 1, 3, 224, 224, 1024, 14, 14, 14, 14, 0, 0, 1, 1, 1, TS_TYPE_F16, 0, 0},
        {"patchify 14 exact", 2, 3, 56, 70, 40, 14, 14, 14, 14, 0, 0, 1, 1, 1, TS_TYPE_F32, 1, 1},
        {"patchify 32 exact", 1, 3, 96, 64, 64, 32, 32, 32, 32, 0, 0, 1, 1, 1, TS_TYPE_F16, 1, 1},
        {"depthwise 3x3", 2, 24, 17, 13, 24, 3, 3, 1, 1, 1, 1, 1, 1, 24, TS_TYPE_F32, 1, 1},
        {"depthwise 3x3 gauss", 1, 64, 31, 29, 64, 3, 3, 2, 1, 1, 1, 1, 1, 64, TS_TYPE_F16, 1, 0},
        {"odd direct 5->7 5x3", 3, 5, 11, 9, 7, 5, 3, 2, 1, 1, 2, 1, 2, 1, TS_TYPE_F32, 1, 1},
        {"odd mma 5->37 3x2", 2, 5, 11, 9, 37, 3, 2, 1, 2, 2, 0, 2, 1, 1, TS_TYPE_F32, 1, 1},
        {"odd mma 6->130 groups 2", 3, 6, 7, 5, 130, 2, 3, 1, 1, 1, 1, 1, 1, 2, TS_TYPE_F16, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(ctx, &seed, &cases[i]);
    test_invalid(ctx);
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_pool_used(ctx) == 0, "every buffer returned (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
