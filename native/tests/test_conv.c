/*
 * test_conv.c — ts_conv2d on every level this CPU runs against a double-precision direct
 * convolution, over cases that reach each path (depthwise, 1x1 GEMM, patchify, im2col with
 * stride / padding / dilation / groups, several panels per image, batch > 1), F32 and F16
 * weights, with and without bias; the direct reference ts_conv2d_ref against the same
 * oracle; no writes past y; argument errors.
 */
#include <math.h>
#include <time.h>

#include "tessera.h"
#include "ts_conv.h"
#include "ts_cpu.h"
#include "ts_fp16.h"
#include "ts_test.h"

typedef struct {
    int64_t n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
} conv_case;

static const conv_case k_cases[] = {
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},       /* smallest */
    {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1},       /* 3x3 pad 1, batch 2 */
    {1, 4, 13, 11, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1},     /* stride 2 */
    {1, 4, 13, 12, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1},     /* dilation 2 */
    {2, 4, 9, 10, 6, 3, 3, 1, 2, 1, 0, 1, 1, 2},      /* groups 2, asymmetric stride and pad */
    {2, 5, 11, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5},      /* depthwise */
    {1, 6, 14, 13, 6, 5, 3, 2, 1, 2, 1, 2, 1, 6},     /* depthwise strided, dilated, 5x3 */
    {2, 7, 5, 6, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1},       /* 1x1 */
    {1, 6, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2},       /* 1x1 grouped */
    {1, 3, 1, 1, 4, 1, 1, 2, 2, 1, 1, 1, 1, 1},       /* 1x1 stride 2 padded: im2col */
    {2, 3, 28, 30, 8, 7, 7, 7, 7, 0, 0, 1, 1, 1},     /* patchify, w not a multiple of 7 */
    {1, 4, 8, 8, 6, 4, 4, 4, 4, 0, 0, 1, 1, 2},       /* patchify grouped */
    {1, 16, 40, 40, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* several GEMM tiles, 1600 pixels */
    {1, 2, 70, 90, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1},     /* 6300 pixels: several panels */
    {1, 300, 6, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},     /* K = 2700 > KC: several depth blocks */
    {3, 2, 5, 4, 2, 2, 2, 3, 3, 4, 4, 1, 1, 1},       /* padding larger than the kernel */
    {1, 3, 9, 9, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1},     /* Cout > MC: two weight blocks */
    {2, 64, 24, 24, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2},   /* enough work for every thread, groups */
};

static void oracle(const conv_case *c, const float *x, const float *w, const float *bias, double *y, double *mag) {
    int64_t oh = (c->h + 2 * c->ph - c->dh * (c->kh - 1) - 1) / c->sh + 1;
    int64_t ow = (c->w + 2 * c->pw - c->dw * (c->kw - 1) - 1) / c->sw + 1;
    int64_t cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
    for (int64_t b = 0; b < c->n; b++)
        for (int64_t co = 0; co < c->cout; co++)
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++) {
                    double s = bias ? bias[co] : 0.0, m = fabs(s);
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t ky = 0; ky < c->kh; ky++)
                            for (int64_t kx = 0; kx < c->kw; kx++) {
                                int64_t iy = oy * c->sh - c->ph + ky * c->dh, ix = ox * c->sw - c->pw + kx * c->dw;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                double t = (double)w[((co * cin_g + ci) * c->kh + ky) * c->kw + kx] *
                                           x[((b * c->cin + co / cout_g * cin_g + ci) * c->h + iy) * c->w + ix];
                                s += t;
                                m += fabs(t);
                            }
                    int64_t at = ((b * c->cout + co) * oh + oy) * ow + ox;
                    y[at] = s;
                    mag[at] = m;
                }
}

static void run_case(const char *level, const conv_case *c, int f16, int with_bias) {
    int64_t oh = (c->h + 2 * c->ph - c->dh * (c->kh - 1) - 1) / c->sh + 1;
    int64_t ow = (c->w + 2 * c->pw - c->dw * (c->kw - 1) - 1) / c->sw + 1;
    int64_t nx = c->n * c->cin * c->h * c->w, nw = c->cout * (c->cin / c->groups) * c->kh * c->kw;
    int64_t ny = c->n * c->cout * oh * ow;
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * c->cout);
    uint16_t *wh = malloc(sizeof(uint16_t) * nw);
    float *y = malloc(sizeof(float) * (ny + 16)), *yr = malloc(sizeof(float) * ny);
    double *want = malloc(sizeof(double) * ny), *mag = malloc(sizeof(double) * ny);
    uint64_t seed = 7 + (uint64_t)nx;
    for (int64_t i = 0; i < nx; i++) x[i] = (float)ts_test_gauss(&seed);
    for (int64_t i = 0; i < nw; i++) {
        w[i] = (float)ts_test_gauss(&seed);
        wh[i] = ts_f32_to_f16(w[i]);
        if (f16) w[i] = ts_f16_to_f32(wh[i]); /* the oracle sees the rounded weights */
    }
    for (int64_t i = 0; i < c->cout; i++) bias[i] = (float)ts_test_gauss(&seed);
    for (int64_t i = 0; i < ny + 16; i++) y[i] = 1234.5f;
    const float *bp = with_bias ? bias : NULL;
    oracle(c, x, w, bp, want, mag);
    int32_t st = ts_conv2d(y, x, f16 ? (const void *)wh : (const void *)w, f16 ? TS_TYPE_F16 : TS_TYPE_F32, bp, c->n, c->cin,
                           c->h, c->w, c->cout, c->kh, c->kw, (int32_t)c->sh, (int32_t)c->sw, (int32_t)c->ph, (int32_t)c->pw,
                           (int32_t)c->dh, (int32_t)c->dw, (int32_t)c->groups);
    CHECK(st == TS_OK, "%s: status %d (%s)", level, (int)st, ts_last_error());
    ts_conv2d_ref(yr, x, w, bp, c->n, c->cin, c->h, c->w, c->cout, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw,
                  c->groups);
    int64_t k = (c->cin / c->groups) * c->kh * c->kw;
    int bad = 0, badr = 0;
    for (int64_t i = 0; i < ny; i++) {
        double tol = 2e-6 * mag[i] * (1 + k / 256.0) + 1e-6;
        if (!(fabs(y[i] - want[i]) <= tol) && bad++ < 3)
            fprintf(stderr, "  y[%lld] = %g, want %g\n", (long long)i, y[i], want[i]);
        if (!(fabs(yr[i] - want[i]) <= tol) && badr++ < 3)
            fprintf(stderr, "  ref y[%lld] = %g, want %g\n", (long long)i, yr[i], want[i]);
    }
    int guard_ok = 1;
    for (int64_t i = ny; i < ny + 16; i++) guard_ok &= y[i] == 1234.5f;
    const char *fmt = "%s: case n=%lld cin=%lld %lldx%lld cout=%lld k=%lldx%lld s=%lldx%lld p=%lldx%lld d=%lldx%lld g=%lld f16=%d bias=%d";
#define CASE_ARGS level, (long long)c->n, (long long)c->cin, (long long)c->h, (long long)c->w, (long long)c->cout, (long long)c->kh, \
                  (long long)c->kw, (long long)c->sh, (long long)c->sw, (long long)c->ph, (long long)c->pw, (long long)c->dh,     \
                  (long long)c->dw, (long long)c->groups, f16, with_bias
    char what[300];
    snprintf(what, sizeof what, fmt, CASE_ARGS);
#undef CASE_ARGS
    CHECK(bad == 0, "%s: %d outputs off", what, bad);
    CHECK(badr == 0, "%s: reference: %d outputs off", what, badr);
    CHECK(guard_ok, "%s: wrote past y", what);
    free(x), free(w), free(bias), free(wh), free(y), free(yr), free(want), free(mag);
}

static void test_errors(void) {
    float x[64] = {0}, w[64] = {0}, y[64];
    CHECK(ts_conv2d(y, x, w, TS_TYPE_Q4_0, NULL, 1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1) == TS_ERR_UNSUPPORTED, "q4_0 weights");
    CHECK(ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, 3, 4, 4, 2, 1, 1, 1, 1, 0, 0, 1, 1, 2) == TS_ERR_INVALID_ARGUMENT, "groups not dividing cin");
    CHECK(ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "kernel larger than input");
    CHECK(ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, 1, 4, 4, 1, 3, 3, 0, 1, 0, 0, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "stride 0");
    CHECK(ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, 1, 4, 4, 1, 3, 3, 1, 1, -1, 0, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "negative padding");
    CHECK(ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 0, 1, 1) == TS_ERR_INVALID_ARGUMENT, "dilation 0");
    CHECK(ts_conv2d(NULL, x, w, TS_TYPE_F32, NULL, 1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1) == TS_ERR_INVALID_ARGUMENT, "null y");
    CHECK(ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, (int64_t)1 << 40, (int64_t)1 << 30, 4, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1) ==
              TS_ERR_INVALID_ARGUMENT, "overflowing sizes");
    CHECK(ts_conv2d(NULL, NULL, NULL, TS_TYPE_F32, NULL, 0, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1) == TS_OK, "empty batch");
    int64_t vae = ts_conv2d_scratch_bytes(TS_TYPE_F32, 1, 512, 128, 128, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    CHECK(vae > 0 && vae <= TS_CONV_SCRATCH_CAP, "VAE layer scratch %lld within the cap", (long long)vae);
    CHECK(ts_conv2d_scratch_bytes(TS_TYPE_F32, 1, 3, 4, 4, 2, 1, 1, 1, 1, 0, 0, 1, 1, 2) == -1, "invalid arguments: -1");
}

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* TS_CONV_BENCH=1: UNet 3x3 320->320 at 64x64 on one thread of the best level, wall time and
 * thread CPU time (the latter still measures the kernel on an oversubscribed machine). */
static void bench(void) {
    const int64_t c = 320, hw = 64;
    float *x = malloc(sizeof(float) * c * hw * hw), *w = malloc(sizeof(float) * c * c * 9), *y = malloc(sizeof(float) * c * hw * hw);
    uint64_t seed = 5;
    for (int64_t i = 0; i < c * hw * hw; i++) x[i] = (float)ts_test_gauss(&seed);
    for (int64_t i = 0; i < c * c * 9; i++) w[i] = (float)ts_test_gauss(&seed) * 0.02f;
    ts_init(1, NULL);
    double best = 1e9, best_cpu = 1e9;
    for (int r = 0; r < 4; r++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        ts_conv2d(y, x, w, TS_TYPE_F32, NULL, 1, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        double t = clock_s(CLOCK_MONOTONIC) - t0, tc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (t < best) best = t;
        if (tc < best_cpu) best_cpu = tc;
    }
    double flops = 2.0 * c * c * 9 * hw * hw;
    fprintf(stderr, "%s UNet 3x3 320->320 64x64, 1 thread: %.1f GFLOP/s wall, %.1f GFLOP/s per CPU-second\n",
            ts_isa_name(ts_isa()), flops / best / 1e9, flops / best_cpu / 1e9);
    ts_shutdown();
    free(x), free(w), free(y);
}

int main(void) {
    uint64_t cpu = ts_cpu_detect();
    static const int32_t levels[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    int tested = 0;
    CHECK(ts_conv2d(NULL, NULL, NULL, TS_TYPE_F32, NULL, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1) == TS_ERR_NOT_INITIALIZED, "before init");
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        if (!ts_cpu_level_ok(levels[li], cpu)) continue;
        const char *name = ts_isa_name(levels[li]);
        for (int threads = 1; threads <= 3; threads += 2) {
            CHECK(ts_init(threads, name) == TS_OK, "init %s", name);
            for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
                for (int f16 = 0; f16 < 2; f16++)
                    for (int b = 0; b < 2; b++) run_case(name, &k_cases[i], f16, b);
            test_errors();
        }
        ts_shutdown();
        fprintf(stderr, "level %s checked\n", name);
        tested++;
    }
    CHECK(tested >= 1, "no level tested");
    if (getenv("TS_CONV_BENCH")) bench();
    TS_TEST_EXIT();
}
