/*
 * test_cuda_mma.c — the tensor-core batched matmul (tsc_matmul with m >= 16, every GGUF block
 * type, F16, BF16 and F32 weights, tsc_matmul_mma.cu) against the CPU library, plus m just below
 * the threshold.
 * Quantized weights run through each of the kernels TSC_MMA_QUANT selects (int8, f16,
 * raw, rawf16), with W rows padded by 0-6 bytes (so GGUF blocks start at every 2-byte
 * offset mod 16); F16, BF16 and F32 through both operand orders (TSC_MMA_F16 unset: W as the
 * mma's A, and "xa"); block types and float weights with 16 warps per CTA (TSC_MMA_WARPS=16).
 *
 * Tolerances:
 *  - Q8_0/Q4_0 (int8 mma): X is quantized with the CPU's rounding and every 32-block's
 *    integer dot is the CPU's, so both sides add the same nb = k/32 float terms
 *    t_b = d_w·d_x·s_b in different orders (and the GPU fuses the multiply into its add).
 *    Recursive summation of nb terms errs by at most (nb-1)·u·Σ|t_b| (u = 2^-24) on either
 *    side, so |gpu - cpu| <= (nb + 2)·2^-23·Σ|t_b| <= (nb + 2)·2^-23·Σ|w·x̂|, with w and x̂ the
 *    dequantized weights and quantized activations (|t_b| <= Σ over the block of |w·x̂|).
 *    A wrong quant, scale or block would be off by orders of magnitude more.
 *  - The other block types (Q4_1, Q5_0, Q5_1, K-quants): the CPU pairs Q4_1/Q5_1 with Q8_1 and
 *    the K-quants with Q8_K, and at these m may take its F32 SGEMM on x as it is (Q5_0 too,
 *    with AVX-512); the GPU pairs all with the same Q8_0 of X, so the reference is Σ w·x̂ in
 *    double over the CPU-dequantized
 *    w and the CPU's Q8_0 round trip x̂; each block adds up to 4 scaled integer sums and min
 *    terms whose roundings scale with the half-block's magnitude (scale and min terms can
 *    cancel), so |gpu - ref| <= 4·(nb + 2)·2^-23·Σ (|w| + B)·|x̂|, B the largest |w| of the
 *    element's 16 (test_cuda_matmul compares these with the CPU's own activations).
 *  - F16: X is split into hi + lo halves (about 22 bits kept) after a per-row power-of-two
 *    scaling, the tensor cores multiply exactly and add in F32 over short chains; checked
 *    against a double-precision sum over the F16 weights and the exact x at
 *    1e-5·Σ|w·x| + 1e-30 (as test_cuda_matmul.c for F32 weights), and against the CPU's
 *    ts_matmul (F32 SGEMM) at 2e-5·Σ|w·x|.
 *  - BF16: X is split into three bf16 parts (24 bits, no scaling); the same two bounds. And
 *    rows of W that are one 1.0 each must give X's elements bit for bit (the three parts sum
 *    to x exactly; two would keep 16 bits and fail it).
 *  - F32: W split into three bf16 parts as well, the six products of F32's precision; the
 *    same two bounds, one-hot W rows giving X's bits and one-hot X rows giving W's.
 * Few output tiles (m, n small) split k across CTAs and add the partial sums afterwards:
 * (257, 512, m), (300, 1024, 33), (1000, 4096, 16) take that path.
 * Large shapes are checked on a sample of X rows (the CPU is run on those rows alone);
 * every output column of a sampled row is checked. Stride padding of Y must stay untouched.
 */
#include "tsc_test.h"
#include "ts_quants.h"

/* X rows the CPU recomputes: all for m <= 64, else 0, 1, m - 1 and a spread of others. */
static int64_t pick_rows(int64_t m, int64_t *rows) {
    int64_t c = 0;
    if (m <= 64) {
        for (int64_t j = 0; j < m; j++) rows[c++] = j;
        return c;
    }
    rows[c++] = 0, rows[c++] = 1;
    for (int64_t j = 37; j < m - 1; j += m / 13 + 1) rows[c++] = j;
    rows[c++] = m - 1;
    return c;
}

/* One case: W [n x k] of w_type with rows of w_pad extra bytes, X [m x k] with rows scaled
 * by xscale[j % 4], Y with 8 floats of padding per row. Returns 1 when it passed. */
static int check(void *ctx, uint64_t *seed, int32_t w_type, int64_t n, int64_t k, int64_t m, int64_t w_pad, int wide_range) {
    const ts_type_traits *t = ts_get_type_traits(w_type);
    char what[96];
    snprintf(what, sizeof what, "%s n=%lld k=%lld m=%lld", t->name, (long long)n, (long long)k, (long long)m);
    if (tsc_test_too_big((double)((n + 127) / 128 * 128) * k * ((m + 127) / 128 * 128), what)) return 1; /* whole 128x128 tiles */
    const int quant = w_type == TS_TYPE_Q8_0 || w_type == TS_TYPE_Q4_0, blk = !quant && t->blck_size > 1;
    const int64_t row = (int64_t)ts_qtype_row_size(w_type, k), ws = row + w_pad, xs = 4 * k + 16, ys = 4 * n + 32;
    float *wf = tsc_test_randn(seed, n * k, 0.5f), *x = tsc_test_randn(seed, m * xs / 4, 1.0f);
    if (wide_range) /* per-row magnitudes far apart: the F16 path's row scaling must follow */
        for (int64_t j = 0; j < m; j++) {
            static const float sc[4] = {1e-12f, 3e5f, 1.0f, 7e-3f};
            for (int64_t i = 0; i < k; i++) x[j * xs / 4 + i] *= sc[j % 4];
        }
    if (m > 2) /* one all-zero X row, and a zero 32-block in another */
        for (int64_t i = 0; i < k; i++) x[2 * xs / 4 + i] = 0.0f;
    if (m > 3)
        for (int64_t i = 0; i < 32 && i < k; i++) x[3 * xs / 4 + i] = 0.0f;
    if (m > 4 && k >= 64) /* x·(1/d) on exact halves (round half away from zero: 2.5 -> 3) */
        for (int64_t i = 0; i < 32; i++) x[4 * xs / 4 + 32 + i] = i == 0 ? 127.0f : (float)((i % 2 ? 1 : -1) * (i / 2)) + 0.5f;
    if (m > 5) /* a block so small that 1/d overflows: the CPU's quants are all zero */
        for (int64_t i = 0; i < 32; i++) x[5 * xs / 4 + i] = 1e-38f * (float)(i - 16);
    char *w = calloc((size_t)(n * ws), 1);
    for (int64_t r = 0; r < n; r++) t->quantize(wf + r * k, w + r * ws, k);
    float *wd = malloc((size_t)(n * k) * 4);
    for (int64_t r = 0; r < n; r++) ts_dequantize(wd + r * k, w + r * ws, w_type, 1, k);

    /* GPU, all rows. */
    float *got = calloc((size_t)(m * ys / 4), 4);
    void *dw = tsc_test_up(ctx, w, n * ws), *dx = tsc_test_up(ctx, x, m * xs);
    float *dy;
    CHECK(tsc_alloc(ctx, m * ys, (void **)&dy) == TS_OK, "alloc y");
    CHECK(tsc_memset(ctx, dy, 0x7f, m * ys) == TS_OK, "memset");
    int ok = tsc_matmul(ctx, dy, ys, dw, w_type, ws, dx, xs, n, k, m) == TS_OK;
    CHECK(ok, "%s n=%lld k=%lld m=%lld: %s", t->name, (long long)n, (long long)k, (long long)m, tsc_last_error());
    tsc_test_down(ctx, got, dy, m * ys);

    /* CPU on the sampled rows. */
    int64_t *rows = malloc(sizeof(int64_t) * (size_t)(m + 16));
    const int64_t ms = pick_rows(m, rows);
    float *xsub = malloc((size_t)(ms * k) * 4), *want = malloc((size_t)(ms * n) * 4), *xhat = malloc((size_t)k * 4);
    for (int64_t s = 0; s < ms; s++) memcpy(xsub + s * k, x + rows[s] * xs / 4, (size_t)k * 4);
    CHECK(ts_matmul(want, n * 4, w, w_type, ws, xsub, k * 4, n, k, ms) == TS_OK, "cpu matmul: %s", ts_last_error());
    void *xq = malloc((size_t)ts_qtype_row_size(TS_TYPE_Q8_0, k > 0 ? k : 32));

    double worst = 0;
    int64_t bad_j = -1, bad_r = -1;
    double bad_got = 0, bad_want = 0, bad_tol = 0;
    for (int64_t s = 0; s < ms && ok; s++) {
        const int64_t j = rows[s];
        const float *xr = x + j * xs / 4;
        if (quant || blk) { /* x̂: the CPU's Q8_0 of this row, dequantized */
            ts_quantize(xq, TS_TYPE_Q8_0, xr, 1, k);
            ts_dequantize(xhat, xq, TS_TYPE_Q8_0, 1, k);
        }
        for (int64_t r = 0; r < n; r++) {
            double mag = 0, exact = 0, bmag = 0, bmax = 0;
            const float *wr = wd + r * k, *xv = quant || blk ? xhat : xr;
            for (int64_t i = 0; i < k; i++) {
                const double p = (double)wr[i] * xv[i];
                mag += fabs(p);
                exact += (double)wr[i] * (blk ? xv[i] : xr[i]);
                if (i % 16 == 0) { /* B: the largest |w| of these 16 */
                    bmax = 0;
                    for (int64_t e = i; e < i + 16 && e < k; e++) bmax = fmax(bmax, fabs(wr[e]));
                }
                bmag += (fabs(wr[i]) + bmax) * fabs(xv[i]);
            }
            /* c: the NaN-ness to match; blk: the reference (the CPU's Q8_1 stores its block sums as
             * halves, which overflow for the wide-range rows: its result is no guide there) */
            const double g = got[j * ys / 4 + r], c = blk ? exact : want[s * n + r];
            double err, tol;
            if (quant) {
                err = fabs(g - c);
                tol = (double)(k / 32 + 2) * ldexp(1.0, -23) * mag;
            } else if (blk) {
                err = fabs(g - exact);
                tol = 4.0 * (double)(k / 32 + 2) * ldexp(1.0, -23) * bmag;
            } else {
                /* the exact sum, and the CPU's SGEMM a little looser (its own rounding) */
                const double e1 = fabs(g - exact) / (1e-5 * mag + 1e-30), e2 = fabs(g - c) / (2e-5 * mag + 1e-30);
                err = e1 > e2 ? e1 : e2;
                tol = 1.0;
            }
            const double ratio = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0);
            if (ratio > worst || isnan(g) != isnan(c)) worst = isnan(g) != isnan(c) ? INFINITY : ratio;
            if ((!(err <= tol) || isnan(g) != isnan(c)) && bad_j < 0) {
                bad_j = j, bad_r = r, bad_got = g, bad_want = quant ? c : exact, bad_tol = quant || blk ? tol : 1e-5 * mag;
            }
        }
    }
    if (bad_j >= 0) {
        ok = 0;
        CHECK(0, "%s n=%lld k=%lld m=%lld w_pad=%lld: first bad y[%lld][%lld] = %.9g, reference %.9g (tolerance %.3g), worst "
                 "error/tolerance %.3g",
              t->name, (long long)n, (long long)k, (long long)m, (long long)w_pad, (long long)bad_j, (long long)bad_r, bad_got,
              bad_want, bad_tol, worst);
    }
    for (int64_t j = 0; j + 1 < m && ok; j++) {
        uint32_t u;
        memcpy(&u, (char *)got + j * ys + 4 * n, 4);
        if (u != 0x7f7f7f7fu) {
            ok = 0;
            CHECK(0, "%s n=%lld k=%lld m=%lld: padding after row %lld overwritten", t->name, (long long)n, (long long)k,
                  (long long)m, (long long)j);
        }
    }
    printf("%-5s n=%-6lld k=%-6lld m=%-4lld w_pad=%-3lld%s rows checked %-3lld worst error / tolerance = %.3g %s\n", t->name,
           (long long)n, (long long)k, (long long)m, (long long)w_pad, wide_range ? " wide-range" : "", (long long)ms, worst,
           ok ? "ok" : "FAILED");
    fflush(stdout);
    tsc_free(ctx, dw), tsc_free(ctx, dx), tsc_free(ctx, dy);
    free(wf), free(x), free(w), free(wd), free(got), free(rows), free(xsub), free(want), free(xhat), free(xq);
    return ok;
}

/* Exactness of the parts. BF16 or F32 W whose row r is 1.0 at column (3r + 1) % k and 0
 * elsewhere: y must be X's elements bit for bit (X with 24 significant bits and magnitudes from
 * 1e-20 to 1e3). F32 also the other way round: X whose row j is 1.0 at column (5j + 2) % k
 * against random F32 W: y must be W's elements bit for bit. */
static void check_one_hot(void *ctx, uint64_t *seed, int32_t wt, int64_t n, int64_t k, int64_t m) {
    const int64_t es = wt == TS_TYPE_F32 ? 4 : 2, ws = es * k, xs = 4 * k, ys = 4 * n;
    for (int side = 0; side < (wt == TS_TYPE_F32 ? 2 : 1); side++) {
        char *w = calloc((size_t)(n * ws), 1);
        float *wr = tsc_test_randn(seed, n * k, 1.0f), *x = tsc_test_randn(seed, m * k, 1.0f), *got = malloc((size_t)(m * n) * 4);
        for (int64_t i = 0; i < m * k; i++) x[i] *= i % 3 == 0 ? 1e-20f : i % 3 == 1 ? 1e3f : 1.0f;
        if (side == 1)
            for (int64_t j = 0; j < m * k; j++) x[j] = j % k == (5 * (j / k) + 2) % k ? 1.0f : 0.0f;
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < k; i++) {
                const float v = side == 1 ? wr[r * k + i] : i == (3 * r + 1) % k ? 1.0f : 0.0f;
                if (wt == TS_TYPE_F32) memcpy(w + r * ws + 4 * i, &v, 4);
                else if (v != 0.0f) memcpy(w + r * ws + 2 * i, "\x80\x3f", 2); /* bf16 1.0 */
            }
        void *dw = tsc_test_up(ctx, w, n * ws), *dx = tsc_test_up(ctx, x, m * xs);
        float *dy;
        CHECK(tsc_alloc(ctx, m * ys, (void **)&dy) == TS_OK, "alloc y");
        const int ok = tsc_matmul(ctx, dy, ys, dw, wt, ws, dx, xs, n, k, m) == TS_OK;
        CHECK(ok, "one-hot: %s", tsc_last_error());
        int64_t bad = 0;
        if (ok) {
            tsc_test_down(ctx, got, dy, m * ys);
            for (int64_t j = 0; j < m; j++)
                for (int64_t r = 0; r < n; r++) {
                    const float *want = side == 0 ? x + j * k + (3 * r + 1) % k : (const float *)(w + r * ws) + (5 * j + 2) % k;
                    bad += memcmp(got + j * n + r, want, 4) != 0;
                }
        }
        const char *tn = wt == TS_TYPE_F32 ? "f32" : "bf16", *what = side == 0 ? "W" : "X";
        CHECK(bad == 0, "%s one-hot rows of %s n=%lld k=%lld m=%lld: %lld outputs are not the other side's bits", tn, what, (long long)n,
              (long long)k, (long long)m, (long long)bad);
        printf("%-5s one-hot rows of %s n=%lld k=%lld m=%lld: %lld outputs not the other side's bits %s\n", tn, what, (long long)n,
               (long long)k, (long long)m, (long long)bad, ok && bad == 0 ? "ok" : "FAILED");
        tsc_free(ctx, dw), tsc_free(ctx, dx), tsc_free(ctx, dy);
        free(w), free(wr), free(x), free(got);
    }
}

/* F32 W on a context whose pool has room for W, X and Y but not for the split parts (1 MiB
 * for 512 KB of W): the plain kernel takes the product, which must succeed and match the
 * double sum as the tensor-core path does (1e-5·Σ|w·x|). */
static void check_f32_without_room(uint64_t *seed) {
    const int64_t n = 256, k = 512, m = 32;
    void *ctx;
    CHECK(tsc_init(0, 1 << 20, &ctx) == TS_OK, "tsc_init with a 1 MiB pool: %s", tsc_last_error());
    float *w = tsc_test_randn(seed, n * k, 0.5f), *x = tsc_test_randn(seed, m * k, 1.0f), *got = malloc((size_t)(m * n) * 4);
    void *dw = tsc_test_up(ctx, w, n * k * 4), *dx = tsc_test_up(ctx, x, m * k * 4);
    float *dy;
    CHECK(tsc_alloc(ctx, m * n * 4, (void **)&dy) == TS_OK, "alloc y: %s", tsc_last_error());
    const int ok = tsc_matmul(ctx, dy, n * 4, dw, TS_TYPE_F32, k * 4, dx, k * 4, n, k, m) == TS_OK;
    CHECK(ok, "F32 matmul in a pool without room for W's parts: %s", tsc_last_error());
    double worst = 0;
    if (ok) {
        tsc_test_down(ctx, got, dy, m * n * 4);
        for (int64_t j = 0; j < m; j++)
            for (int64_t r = 0; r < n; r++) {
                double ref = 0, mag = 0;
                for (int64_t i = 0; i < k; i++) {
                    const double p = (double)w[r * k + i] * x[j * k + i];
                    ref += p, mag += fabs(p);
                }
                const double e = fabs(got[j * n + r] - ref) / (1e-5 * mag + 1e-30);
                worst = e > worst ? e : worst;
            }
    }
    CHECK(worst <= 1.0, "F32 matmul in a small pool: worst error / tolerance %.3g", worst);
    printf("f32   n=%lld k=%lld m=%lld in a 1 MiB pool (no room for W's parts: the plain kernel): worst error / tolerance = %.3g %s\n",
           (long long)n, (long long)k, (long long)m, worst, ok && worst <= 1.0 ? "ok" : "FAILED");
    tsc_free(ctx, dw), tsc_free(ctx, dx), tsc_free(ctx, dy);
    tsc_shutdown(ctx);
    free(w), free(x), free(got);
}

/* Bytes of padding after each W row of case s: F16/BF16 rows padded to a 16-byte multiple
 * take the in-place path (even s), +2 the copy (odd s); F32 rows 0-12 (always split); block
 * types 4. */
static int64_t row_pad(int32_t type, size_t s, int64_t k) {
    if (type == TS_TYPE_F16 || type == TS_TYPE_BF16) return (s % 2) ? 2 : (16 - (2 * k) % 16) % 16 + 16;
    if (type == TS_TYPE_F32) return 4 * (int64_t)(s % 4);
    return 4;
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0x3a3a;
    /* n, k, m: the tile edges (128), odd n, k not a multiple of 128 (quant) or 64 (f16). */
    static const int64_t shapes[][3] = {{33, 96, 17},    {257, 512, 9},  {257, 512, 16},   {257, 512, 40},  {257, 512, 64},
                                        {1, 32, 16},     {129, 160, 129}, {128, 256, 128}, {300, 1024, 33}, {11008, 4096, 32},
                                        {1000, 4096, 16}, {4096, 4096, 512}};
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_F16, TS_TYPE_BF16, TS_TYPE_F32};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            check(ctx, &seed, types[ti], shapes[s][0], shapes[s][1], shapes[s][2], row_pad(types[ti], s, shapes[s][1]), 0);
    /* The other block types, on the shapes whose k is a multiple of 256 (K-quants' super-blocks). */
    static const int32_t more[] = {TS_TYPE_Q4_1, TS_TYPE_Q5_0, TS_TYPE_Q5_1, TS_TYPE_Q2_K,
                                   TS_TYPE_Q3_K, TS_TYPE_Q4_K, TS_TYPE_Q5_K, TS_TYPE_Q6_K};
    for (size_t ti = 0; ti < sizeof more / sizeof *more; ti++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            if (shapes[s][1] % 256 == 0)
                check(ctx, &seed, more[ti], shapes[s][0], shapes[s][1], shapes[s][2], 2 * (int64_t)((s + ti) % 4), s == 3);
    /* The other kernels for quantized weights (TSC_MMA_QUANT): f16 mma on the same
     * integers, and W unpacked in shared memory by the GEMM (int8 / f16 mma). */
    static const char *variants[] = {"f16", "raw", "rawf16"}; /* the default ran above */
    for (size_t v = 0; v < 3; v++) {
        setenv("TSC_MMA_QUANT", variants[v], 1);
        printf("TSC_MMA_QUANT=%s:\n", variants[v]);
        for (size_t ti = 0; ti < 2; ti++)
            for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
                check(ctx, &seed, types[ti], shapes[s][0], shapes[s][1], shapes[s][2], 2 * (int64_t)((s + v) % 4), s == 3);
    }
    unsetenv("TSC_MMA_QUANT");
    /* The GEMMs with 16 warps per CTA (TSC_MMA_WARPS=16): the int8 one for a type of each record
     * format (scale; scale and min; scales per half; both), the float one for F16 (W in place,
     * then copied), BF16 and F32; split over k (257, 512, 40) and not. */
    static const int32_t w16[] = {TS_TYPE_Q4_0, TS_TYPE_Q4_1, TS_TYPE_Q6_K, TS_TYPE_Q2_K, TS_TYPE_F16, TS_TYPE_BF16, TS_TYPE_F32};
    setenv("TSC_MMA_WARPS", "16", 1);
    printf("TSC_MMA_WARPS=16:\n");
    for (size_t ti = 0; ti < sizeof w16 / sizeof *w16; ti++) {
        check(ctx, &seed, w16[ti], 257, 512, 40, row_pad(w16[ti], ti, 512), 0);
        check(ctx, &seed, w16[ti], 128, 256, 128, row_pad(w16[ti], ti + 1, 256), 0);
        check(ctx, &seed, w16[ti], 4096, 4096, 512, row_pad(w16[ti], 0, 4096), 0);
    }
    unsetenv("TSC_MMA_WARPS");
    /* F16 and BF16 with X as the mma's A operand (TSC_MMA_F16=xa; the default puts W there). */
    setenv("TSC_MMA_F16", "xa", 1);
    printf("TSC_MMA_F16=xa:\n");
    for (size_t ti = 2; ti < 5; ti++) {
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            check(ctx, &seed, types[ti], shapes[s][0], shapes[s][1], shapes[s][2], row_pad(types[ti], s, shapes[s][1]), s == 3);
        check(ctx, &seed, types[ti], 65, 200, 20, row_pad(types[ti], 0, 200), 0);
        check(ctx, &seed, types[ti], 77, 333, 50, row_pad(types[ti], 1, 333), 0);
    }
    check_one_hot(ctx, &seed, TS_TYPE_BF16, 300, 512, 40);
    check_one_hot(ctx, &seed, TS_TYPE_F32, 300, 512, 40);
    unsetenv("TSC_MMA_F16");
    /* F16: k with a tail (k % 64 != 0, k % 8 == 0 in place; k % 8 != 0 copied), wide row ranges. */
    check(ctx, &seed, TS_TYPE_F16, 65, 200, 20, 16 - 400 % 16, 0);
    check(ctx, &seed, TS_TYPE_F16, 65, 100, 20, 0, 0);
    check(ctx, &seed, TS_TYPE_F16, 77, 333, 50, 2, 0);
    check(ctx, &seed, TS_TYPE_F16, 200, 512, 48, 0, 1);
    check(ctx, &seed, TS_TYPE_BF16, 65, 200, 20, 16 - 400 % 16, 0);
    check(ctx, &seed, TS_TYPE_BF16, 77, 333, 50, 2, 0);
    check(ctx, &seed, TS_TYPE_BF16, 200, 512, 48, 0, 1);
    check(ctx, &seed, TS_TYPE_F32, 65, 200, 20, 4, 0);
    check(ctx, &seed, TS_TYPE_F32, 77, 333, 50, 0, 1);
    check_one_hot(ctx, &seed, TS_TYPE_BF16, 300, 512, 40);
    check_one_hot(ctx, &seed, TS_TYPE_F32, 300, 512, 40);
    check(ctx, &seed, TS_TYPE_Q8_0, 200, 512, 48, 0, 1);
    check(ctx, &seed, TS_TYPE_Q4_0, 200, 512, 48, 2, 1);
    check_f32_without_room(&seed);
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_pool_used(ctx) == 0, "scratch returned to the pool (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
