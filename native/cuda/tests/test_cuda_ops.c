/*
 * test_cuda_ops.c — norms, softmax, RoPE, activations, element-wise ops and embedding rows
 * against the CPU ops of the same name, on random data with padded row strides.
 *
 * The reference is the CPU's scalar level. Tolerances: rms_norm and softmax reduce in double
 * on both sides (other order) and CUDA's expf is within 2 ulp: 2e-6 relative + 1e-7; rope
 * uses the same double angles and unfused float products: 2e-6 relative + 1e-6; binary and
 * get_rows are one IEEE operation per element: exact; activations: CUDA's erff/tanhf/expf
 * (<= 2 ulp) against glibc, where 1 + erf(x) cancels for x << 0 and |x| <= ~10:
 * 4e-6 relative + 4e-6 absolute (GLU: times |up| <= ~3.5, so 1e-5 absolute). layer_norm and
 * group_norm: double two-pass statistics on both sides (group_norm merges chunk statistics
 * with Chan's formula), one float rounding of the normalised value, then the same float
 * multiply-add: 2e-6 relative + 1e-6; scale and upsampling: exact; timestep embedding: see
 * the test.
 */
#include "tsc_test.h"

/* Rows x n random F32 with row stride xs bytes on host and device. */
typedef struct {
    float *h;
    float *d;
    int64_t stride;
} buf;

static buf mk(void *ctx, uint64_t *seed, int64_t rows, int64_t stride, float scale) {
    buf b;
    b.stride = stride;
    b.h = tsc_test_randn(seed, rows * stride / 4, scale);
    b.d = tsc_test_up(ctx, b.h, rows * stride);
    return b;
}

static void drop(void *ctx, buf *b) {
    tsc_free(ctx, b->d);
    free(b->h);
}

/* Compares the rows x n entries of a device result (stride ys) with the CPU's (same stride). */
static void cmp_rows(void *ctx, const char *what, const float *dev, const float *want, int64_t rows, int64_t n, int64_t ys,
                     double abs_tol, double rel_tol) {
    float *got = malloc((size_t)(rows * ys));
    tsc_test_down(ctx, got, dev, rows * ys);
    float *g = malloc((size_t)(rows * n) * 4), *w = malloc((size_t)(rows * n) * 4);
    for (int64_t r = 0; r < rows; r++) {
        memcpy(g + r * n, (char *)got + r * ys, (size_t)n * 4);
        memcpy(w + r * n, (const char *)want + r * ys, (size_t)n * 4);
    }
    tsc_test_close(what, g, w, rows * n, abs_tol, rel_tol);
    free(got), free(g), free(w);
}

static void test_rms_norm(void *ctx, uint64_t *seed) {
    /* 37 rows, a block of 256 threads each: 4096 whole chunks of 8 elements per thread, 4173 and 64 a tail
     * after them, only a tail. Up to 32 rows, each row's slices of 512 on blocks of their own: 8 whole
     * slices, 9 with a short last one, part of one, 22, 40; in place, one block per row again. */
    static const struct {
        int64_t rows, n;
    } cs[] = {{37, 4096}, {37, 4173}, {37, 64}, {1, 4096}, {3, 4173}, {1, 64}, {1, 11008}, {2, 20000}};
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        const int64_t rows = cs[c].rows, n = cs[c].n, s = 4 * n + 64;
        buf x = mk(ctx, seed, rows, s, 3.0f), w = mk(ctx, seed, 1, 4 * n, 1.0f), y = mk(ctx, seed, rows, s, 0.0f);
        for (int with_w = 0; with_w < 2; with_w++) {
            CHECK(ts_rms_norm(y.h, s, x.h, s, with_w ? w.h : NULL, rows, n, 1e-5f) == TS_OK, "cpu");
            CHECK(tsc_rms_norm(ctx, y.d, s, x.d, s, with_w ? w.d : NULL, rows, n, 1e-5f) == TS_OK, "%s", tsc_last_error());
            cmp_rows(ctx, with_w ? "rms_norm weighted" : "rms_norm", y.d, y.h, rows, n, s, 1e-7, 2e-6);
        }
        /* In place. */
        CHECK(ts_rms_norm(x.h, s, x.h, s, w.h, rows, n, 1e-6f) == TS_OK, "cpu");
        CHECK(tsc_rms_norm(ctx, x.d, s, x.d, s, w.d, rows, n, 1e-6f) == TS_OK, "%s", tsc_last_error());
        cmp_rows(ctx, "rms_norm in place", x.d, x.h, rows, n, s, 1e-7, 2e-6);
        drop(ctx, &x), drop(ctx, &w), drop(ctx, &y);
    }
    /* The sliced kernel computes as the per-row one (the sum in its order, the same products): a
     * row alone (a decode step's norm) gets the bits it gets among 37 (a prompt's). */
    const int64_t n = 4173, s = 4 * n;
    buf x = mk(ctx, seed, 37, s, 3.0f), w = mk(ctx, seed, 1, s, 1.0f), y = mk(ctx, seed, 37, s, 0.0f), y1 = mk(ctx, seed, 1, s, 0.0f);
    CHECK(tsc_rms_norm(ctx, y.d, s, x.d, s, w.d, 37, n, 1e-5f) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_rms_norm(ctx, y1.d, s, x.d + 5 * n, s, w.d, 1, n, 1e-5f) == TS_OK, "%s", tsc_last_error());
    float *many = malloc((size_t)(37 * s)), *one = malloc((size_t)s);
    tsc_test_down(ctx, many, y.d, 37 * s);
    tsc_test_down(ctx, one, y1.d, s);
    CHECK(memcmp(many + 5 * n, one, (size_t)s) == 0, "rms_norm: one row differs from the same row among 37");
    free(many), free(one);
    drop(ctx, &x), drop(ctx, &w), drop(ctx, &y), drop(ctx, &y1);
}

static void test_softmax(void *ctx, uint64_t *seed) {
    const int64_t rows = 48, n = 257, s = 4 * n + 12, mrows = 16;
    buf x = mk(ctx, seed, rows, s, 4.0f), y = mk(ctx, seed, rows, s, 0.0f), m = mk(ctx, seed, mrows, 4 * n, 1.0f);
    /* A causal-style mask with -inf, and one row of the mask entirely -inf. */
    for (int64_t r = 0; r < mrows; r++)
        for (int64_t i = 0; i < n; i++)
            if (i > r * 16 || r == 5) m.h[r * n + i] = -INFINITY;
    CHECK(tsc_upload(ctx, m.d, m.h, mrows * 4 * n) == TS_OK, "upload");
    CHECK(ts_softmax(y.h, s, x.h, s, NULL, 0, 0, rows, n, 0.125f) == TS_OK, "cpu");
    CHECK(tsc_softmax(ctx, y.d, s, x.d, s, NULL, 0, 0, rows, n, 0.125f) == TS_OK, "%s", tsc_last_error());
    cmp_rows(ctx, "softmax", y.d, y.h, rows, n, s, 1e-7, 2e-6);
    CHECK(ts_softmax(y.h, s, x.h, s, m.h, 4 * n, mrows, rows, n, 1.0f) == TS_OK, "cpu");
    CHECK(tsc_softmax(ctx, y.d, s, x.d, s, m.d, 4 * n, mrows, rows, n, 1.0f) == TS_OK, "%s", tsc_last_error());
    cmp_rows(ctx, "softmax masked", y.d, y.h, rows, n, s, 1e-7, 2e-6);
    drop(ctx, &x), drop(ctx, &y), drop(ctx, &m);
}

static void test_rope(void *ctx, uint64_t *seed) {
    /* The second shape spans several launches (at most 320 tokens and 128 pairs each). */
    static const struct {
        int64_t tokens, heads, hd;
        int32_t dims[2];
    } shapes[] = {{19, 6, 128, {128, 64}}, {700, 2, 640, {640, 576}}};
    int32_t pos[700];
    for (int i = 0; i < 700; i++) pos[i] = i * 37 + (i == 3 ? 4000 : 0);
    static const int32_t modes[] = {TS_ROPE_NORM, TS_ROPE_NEOX};
    for (int si = 0; si < 2; si++) {
        const int64_t tokens = shapes[si].tokens, heads = shapes[si].heads, hd = shapes[si].hd;
        /* [tokens x heads x hd] with a padded token stride; output in a [heads x tokens x hd] layout. */
        const int64_t xts = (heads * hd + 8) * 4, xhs = hd * 4, yts = hd * 4, yhs = tokens * hd * 4;
        for (int mi = 0; mi < 2; mi++)
            for (int di = 0; di < 2; di++) {
                const int32_t dims = shapes[si].dims[di];
                buf x = mk(ctx, seed, tokens, xts, 1.0f), y = mk(ctx, seed, heads, yhs, 0.0f);
                CHECK(ts_rope(y.h, yts, yhs, x.h, xts, xhs, pos, tokens, heads, hd, dims, modes[mi], 10000.0f) == TS_OK, "cpu");
                CHECK(tsc_rope(ctx, y.d, yts, yhs, x.d, xts, xhs, pos, tokens, heads, hd, dims, modes[mi], 10000.0f) == TS_OK, "%s",
                      tsc_last_error());
                char what[96];
                snprintf(what, sizeof what, "rope %lld tokens mode %d n_dims %d", (long long)tokens, (int)modes[mi], (int)dims);
                cmp_rows(ctx, what, y.d, y.h, heads, tokens * hd, yhs, 1e-6, 2e-6);
                /* In place, same layout. */
                CHECK(ts_rope(x.h, xts, xhs, x.h, xts, xhs, pos, tokens, heads, hd, dims, modes[mi], 500000.0f) == TS_OK, "cpu");
                CHECK(tsc_rope(ctx, x.d, xts, xhs, x.d, xts, xhs, pos, tokens, heads, hd, dims, modes[mi], 500000.0f) == TS_OK, "%s",
                      tsc_last_error());
                snprintf(what, sizeof what, "rope in place %lld tokens mode %d n_dims %d", (long long)tokens, (int)modes[mi], (int)dims);
                cmp_rows(ctx, what, x.d, x.h, tokens, heads * hd, xts, 1e-6, 2e-6);
                drop(ctx, &x), drop(ctx, &y);
            }
    }
    CHECK(tsc_rope(ctx, NULL, 0, 0, NULL, 0, 0, pos, 1, 1, 8, 3, TS_ROPE_NORM, 1e4f) == TS_ERR_INVALID_ARGUMENT, "odd n_dims");
}

/* tsc_rope_parts: Q-, K- and V-like tensors (32, 8 and 0 heads; one in place, one into another
 * layout) at the same positions, over two chunks of tokens, each part bit for bit what tsc_rope
 * gives it alone. */
static void test_rope_parts(void *ctx, uint64_t *seed) {
    const int64_t tokens = 333, hd = 64;
    const int64_t heads[3] = {32, 8, 0};
    int32_t pos[333];
    for (int i = 0; i < 333; i++) pos[i] = 5 + 3 * i;
    buf q = mk(ctx, seed, tokens, 32 * hd * 4, 1.0f), k = mk(ctx, seed, tokens, 8 * hd * 4 + 16, 1.0f);
    buf ky = mk(ctx, seed, 8, tokens * hd * 4, 0.0f), qa = mk(ctx, seed, tokens, 32 * hd * 4, 0.0f);
    buf kb = mk(ctx, seed, 8, tokens * hd * 4, 0.0f);
    CHECK(tsc_copy(ctx, qa.d, q.d, tokens * 32 * hd * 4) == TS_OK, "%s", tsc_last_error());
    /* alone: q into qa in place, k into kb ([heads x tokens x hd]) */
    CHECK(tsc_rope(ctx, qa.d, 32 * hd * 4, hd * 4, qa.d, 32 * hd * 4, hd * 4, pos, tokens, 32, hd, 48, TS_ROPE_NORM, 1e4f) == TS_OK,
          "%s", tsc_last_error());
    CHECK(tsc_rope(ctx, kb.d, hd * 4, tokens * hd * 4, k.d, k.stride, hd * 4, pos, tokens, 8, hd, 48, TS_ROPE_NORM, 1e4f) == TS_OK,
          "%s", tsc_last_error());
    /* together: q in place, k into ky, and a part without heads */
    void *y[3] = {q.d, ky.d, NULL};
    const float *x[3] = {q.d, k.d, NULL};
    const int64_t yts[3] = {32 * hd * 4, hd * 4, 0}, yhs[3] = {hd * 4, tokens * hd * 4, 0};
    const int64_t xts[3] = {32 * hd * 4, k.stride, 0}, xhs[3] = {hd * 4, hd * 4, 0};
    CHECK(tsc_rope_parts(ctx, 3, y, NULL, yts, yhs, x, xts, xhs, heads, NULL, pos, tokens, hd, 48, TS_ROPE_NORM, 1e4f) == TS_OK, "%s",
          tsc_last_error());
    const int64_t qbytes = tokens * 32 * hd * 4, kbytes = 8 * tokens * hd * 4;
    float *a = malloc((size_t)qbytes), *b = malloc((size_t)qbytes);
    tsc_test_down(ctx, a, q.d, qbytes), tsc_test_down(ctx, b, qa.d, qbytes);
    CHECK(memcmp(a, b, (size_t)qbytes) == 0, "rope parts: Q differs from tsc_rope alone");
    tsc_test_down(ctx, a, ky.d, kbytes), tsc_test_down(ctx, b, kb.d, kbytes);
    CHECK(memcmp(a, b, (size_t)kbytes) == 0, "rope parts: K differs from tsc_rope alone");
    CHECK(tsc_rope_parts(ctx, TSC_ROPE_PARTS + 1, y, NULL, yts, yhs, x, xts, xhs, heads, NULL, pos, tokens, hd, 48, TS_ROPE_NORM,
                         1e4f) == TS_ERR_INVALID_ARGUMENT,
          "too many parts");
    printf("rope parts (32 + 8 + 0 heads, %lld tokens): each part bit for bit tsc_rope's\n", (long long)tokens);
    free(a), free(b);
    drop(ctx, &q), drop(ctx, &k), drop(ctx, &ky), drop(ctx, &qa), drop(ctx, &kb);
}

/* tsc_rope_parts writing a K and a V cache ([kv heads x 512 positions x hd] F16, rows from
 * position 40): Q rotated to F32, K rotated into its cache, V copied into its cache, one kernel,
 * the bits of tsc_rope followed by tsc_copy_strided (the steps they replace). NEOX mode, a tail
 * past n_dims, V's NaN and infinity kept as the copy keeps them. */
static void test_rope_into_caches(void *ctx, uint64_t *seed) {
    const int64_t tokens = 7, hd = 80, ctxlen = 512, first = 40, qh = 8, kvh = 2;
    int32_t pos[7];
    for (int i = 0; i < 7; i++) pos[i] = (int32_t)first + i;
    buf q = mk(ctx, seed, tokens, qh * hd * 4, 1.0f), k = mk(ctx, seed, tokens, kvh * hd * 4, 1.0f);
    buf v = mk(ctx, seed, tokens, kvh * hd * 4, 1.0f), qy = mk(ctx, seed, tokens, qh * hd * 4, 0.0f);
    buf qa = mk(ctx, seed, tokens, qh * hd * 4, 0.0f), kr = mk(ctx, seed, tokens, kvh * hd * 4, 0.0f);
    v.h[5] = NAN, v.h[hd + 3] = -INFINITY;
    CHECK(tsc_upload(ctx, v.d, v.h, tokens * kvh * hd * 4) == TS_OK, "%s", tsc_last_error());
    const int64_t cbytes = kvh * ctxlen * hd * 2;
    void *kc = NULL, *vc = NULL, *kc2 = NULL, *vc2 = NULL;
    CHECK(tsc_alloc(ctx, cbytes, &kc) == TS_OK && tsc_alloc(ctx, cbytes, &vc) == TS_OK && tsc_alloc(ctx, cbytes, &kc2) == TS_OK &&
              tsc_alloc(ctx, cbytes, &vc2) == TS_OK,
          "%s", tsc_last_error());
    CHECK(tsc_memset(ctx, kc, 0x11, cbytes) == TS_OK && tsc_memset(ctx, vc, 0x11, cbytes) == TS_OK &&
              tsc_memset(ctx, kc2, 0x11, cbytes) == TS_OK && tsc_memset(ctx, vc2, 0x11, cbytes) == TS_OK,
          "%s", tsc_last_error());
    const int64_t cts = hd * 2, chs = ctxlen * hd * 2, off = first * cts; /* cache strides in bytes, rows from `first` */
    /* apart: RoPE of q and k to F32, then both stores as strided copies [token][head][d] */
    CHECK(tsc_rope(ctx, qa.d, qh * hd * 4, hd * 4, q.d, qh * hd * 4, hd * 4, pos, tokens, qh, hd, 64, TS_ROPE_NEOX, 1e4f) == TS_OK, "%s",
          tsc_last_error());
    CHECK(tsc_rope(ctx, kr.d, kvh * hd * 4, hd * 4, k.d, kvh * hd * 4, hd * 4, pos, tokens, kvh, hd, 64, TS_ROPE_NEOX, 1e4f) == TS_OK,
          "%s", tsc_last_error());
    const int64_t shape[3] = {tokens, kvh, hd}, ss[3] = {kvh * hd * 4, hd * 4, 4}, ds[3] = {cts, chs, 2};
    CHECK(tsc_copy_strided(ctx, (char *)kc2 + off, TS_TYPE_F16, ds, kr.d, TS_TYPE_F32, ss, shape, 3) == TS_OK &&
              tsc_copy_strided(ctx, (char *)vc2 + off, TS_TYPE_F16, ds, v.d, TS_TYPE_F32, ss, shape, 3) == TS_OK,
          "%s", tsc_last_error());
    /* together */
    void *y[3] = {qy.d, (char *)kc + off, (char *)vc + off};
    const float *x[3] = {q.d, k.d, v.d};
    const int32_t types[3] = {TS_TYPE_F32, TS_TYPE_F16, TS_TYPE_F16}, rotate[3] = {1, 1, 0};
    const int64_t heads[3] = {qh, kvh, kvh};
    const int64_t yts[3] = {qh * hd * 4, cts, cts}, yhs[3] = {hd * 4, chs, chs};
    const int64_t xts[3] = {qh * hd * 4, kvh * hd * 4, kvh * hd * 4}, xhs[3] = {hd * 4, hd * 4, hd * 4};
    CHECK(tsc_rope_parts(ctx, 3, y, types, yts, yhs, x, xts, xhs, heads, rotate, pos, tokens, hd, 64, TS_ROPE_NEOX, 1e4f) == TS_OK,
          "%s", tsc_last_error());
    const int64_t qbytes = tokens * qh * hd * 4;
    char *a = malloc((size_t)cbytes), *b = malloc((size_t)cbytes);
    tsc_test_down(ctx, a, qy.d, qbytes), tsc_test_down(ctx, b, qa.d, qbytes);
    CHECK(memcmp(a, b, (size_t)qbytes) == 0, "rope into caches: Q differs from tsc_rope alone");
    tsc_test_down(ctx, a, kc, cbytes), tsc_test_down(ctx, b, kc2, cbytes);
    CHECK(memcmp(a, b, (size_t)cbytes) == 0, "rope into caches: the K cache differs from RoPE then copy");
    tsc_test_down(ctx, a, vc, cbytes), tsc_test_down(ctx, b, vc2, cbytes);
    CHECK(memcmp(a, b, (size_t)cbytes) == 0, "rope into caches: the V cache differs from the copy");
    const int32_t bad[3] = {TS_TYPE_F32, TS_TYPE_BF16, TS_TYPE_F16};
    CHECK(tsc_rope_parts(ctx, 3, y, bad, yts, yhs, x, xts, xhs, heads, rotate, pos, tokens, hd, 64, TS_ROPE_NEOX, 1e4f) ==
              TS_ERR_INVALID_ARGUMENT,
          "a BF16 part");
    const int64_t odd[3] = {qh * hd * 4, cts + 1, cts};
    CHECK(tsc_rope_parts(ctx, 3, y, types, odd, yhs, x, xts, xhs, heads, rotate, pos, tokens, hd, 64, TS_ROPE_NEOX, 1e4f) ==
              TS_ERR_INVALID_ARGUMENT,
          "an F16 stride of an odd number of bytes");
    printf("rope into caches (Q F32, K rotated and V copied into F16 caches): the bits of rope + copy\n");
    free(a), free(b);
    tsc_free(ctx, kc), tsc_free(ctx, vc), tsc_free(ctx, kc2), tsc_free(ctx, vc2);
    drop(ctx, &q), drop(ctx, &k), drop(ctx, &v), drop(ctx, &qy), drop(ctx, &qa), drop(ctx, &kr);
}

static void test_act(void *ctx, uint64_t *seed) {
    const int64_t rows = 9, n = 3000, s = 4 * n + 4;
    static const char *names[] = {"gelu", "gelu_tanh", "quick_gelu", "silu"};
    buf x = mk(ctx, seed, rows, s, 3.0f), u = mk(ctx, seed, rows, s, 1.0f), y = mk(ctx, seed, rows, s, 0.0f);
    for (int32_t a = 0; a < 4; a++) {
        char what[64];
        CHECK(ts_activation(y.h, s, x.h, s, TS_TYPE_F32, a, rows, n) == TS_OK, "cpu");
        CHECK(tsc_activation(ctx, y.d, s, x.d, s, a, rows, n) == TS_OK, "%s", tsc_last_error());
        snprintf(what, sizeof what, "activation %s", names[a]);
        cmp_rows(ctx, what, y.d, y.h, rows, n, s, 4e-6, 4e-6);
        CHECK(ts_glu(y.h, s, x.h, s, u.h, s, TS_TYPE_F32, a, rows, n) == TS_OK, "cpu");
        CHECK(tsc_glu(ctx, y.d, s, x.d, s, u.d, s, a, rows, n) == TS_OK, "%s", tsc_last_error());
        snprintf(what, sizeof what, "glu %s", names[a]);
        cmp_rows(ctx, what, y.d, y.h, rows, n, s, 1e-5, 4e-6);
    }
    CHECK(tsc_activation(ctx, y.d, s, x.d, s, 9, rows, n) == TS_ERR_INVALID_ARGUMENT, "unknown activation");
    drop(ctx, &x), drop(ctx, &u), drop(ctx, &y);
}

static void test_binary(void *ctx, uint64_t *seed) {
    /* [2 x 3 x 5 x 70] + a [3 x 1 x 70] broadcast, and a transposed-stride operand. */
    const int64_t shape[4] = {2, 3, 5, 70};
    const int64_t ys[4] = {3 * 5 * 70 * 4, 5 * 70 * 4, 70 * 4, 4};
    const int64_t as[4] = {3 * 5 * 70 * 4, 5 * 70 * 4, 4, 5 * 4}; /* last two dims swapped in memory */
    const int64_t bs[4] = {0, 70 * 4, 0, 4};
    buf a = mk(ctx, seed, 1, 2 * 3 * 5 * 70 * 4, 1.0f), b = mk(ctx, seed, 1, 3 * 70 * 4, 1.0f),
        y = mk(ctx, seed, 1, 2 * 3 * 5 * 70 * 4, 0.0f);
    for (int32_t op = 0; op < 2; op++) {
        CHECK(ts_binary(y.h, ys, a.h, as, b.h, bs, shape, 4, op) == TS_OK, "cpu");
        CHECK(tsc_binary(ctx, y.d, ys, a.d, as, b.d, bs, shape, 4, op) == TS_OK, "%s", tsc_last_error());
        cmp_rows(ctx, op ? "mul broadcast" : "add broadcast", y.d, y.h, 1, 2 * 3 * 5 * 70, 2 * 3 * 5 * 70 * 4, 0, 0);
    }
    /* ndim 1: a plain residual add. */
    const int64_t n1[1] = {2100}, s1[1] = {4};
    CHECK(ts_binary(y.h, s1, a.h, s1, y.h, s1, n1, 1, TS_BINARY_ADD) == TS_OK, "cpu");
    CHECK(tsc_binary(ctx, y.d, s1, a.d, s1, y.d, s1, n1, 1, TS_BINARY_ADD) == TS_OK, "%s", tsc_last_error());
    cmp_rows(ctx, "add in place", y.d, y.h, 1, 2100, 2100 * 4, 0, 0);
    drop(ctx, &a), drop(ctx, &b), drop(ctx, &y);
}

static void test_get_rows(void *ctx, uint64_t *seed) {
    const int64_t n_table = 100, n = 256;
    static const int32_t types[] = {TS_TYPE_F32, TS_TYPE_F16, TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_BF16, TS_TYPE_Q4_K, TS_TYPE_Q6_K};
    static const int64_t row_bytes[] = {4 * 256, 2 * 256, 34 * 8, 18 * 8, 2 * 256, 144, 210};
    /* 1100 ids: more than one launch takes (512). */
    enum { N_IDS = 1100 };
    int32_t ids[N_IDS] = {0, 99, 5, 5, 42, 17, 98, 1, 2, 3, 77, 0, 50};
    for (int i = 13; i < N_IDS; i++) ids[i] = (int32_t)(ts_test_rand(seed) % n_table);
    float *src = tsc_test_randn(seed, n_table * n, 1.0f);
    const int64_t ys = 4 * n + 8;
    float *want = calloc(N_IDS * ys / 4, 4);
    for (int ti = 0; ti < 7; ti++) {
        /* Padded table rows: F32 keeps 4-byte alignment, the others only 2. */
        const int64_t ts_al = row_bytes[ti] + (types[ti] == TS_TYPE_F32 ? 8 : 6);
        char *table = calloc((size_t)(n_table * ts_al), 1);
        for (int64_t r = 0; r < n_table; r++)
            CHECK(ts_quantize(table + r * ts_al, types[ti], src + r * n, 1, n) == TS_OK, "quantize: %s", ts_last_error());
        void *dt = tsc_test_up(ctx, table, n_table * ts_al);
        float *dy;
        CHECK(tsc_alloc(ctx, N_IDS * ys, (void **)&dy) == TS_OK, "alloc");
        CHECK(ts_get_rows(want, ys, table, types[ti], ts_al, n_table, n, ids, N_IDS) == TS_OK, "cpu: %s", ts_last_error());
        CHECK(tsc_get_rows(ctx, dy, ys, dt, types[ti], ts_al, n_table, n, ids, N_IDS) == TS_OK, "%s", tsc_last_error());
        char what[32];
        snprintf(what, sizeof what, "get_rows type %d", (int)types[ti]);
        cmp_rows(ctx, what, dy, want, N_IDS, n, ys, 0, 0);
        const int32_t kept = ids[1000];
        ids[1000] = 100; /* in the second launch's share: all ids are checked before the first launch */
        CHECK(tsc_get_rows(ctx, dy, ys, dt, types[ti], ts_al, n_table, n, ids, N_IDS) == TS_ERR_INVALID_ARGUMENT, "id out of range");
        ids[1000] = kept;
        tsc_free(ctx, dt), tsc_free(ctx, dy);
        free(table);
    }
    free(src), free(want);
}

static void test_layer_norm(void *ctx, uint64_t *seed) {
    /* 768: one warp per row (29 rows: the last block partly idle); 3001: one block per row. */
    static const int64_t ns[] = {768, 3001};
    for (int ni = 0; ni < 2; ni++) {
        const int64_t rows = 29, n = ns[ni], s = 4 * n + 16;
        buf x = mk(ctx, seed, rows, s, 2.0f), w = mk(ctx, seed, 1, 4 * n, 1.0f), b = mk(ctx, seed, 1, 4 * n, 1.0f),
            y = mk(ctx, seed, rows, s, 0.0f);
        /* A large mean on some rows: the two-pass variance must not cancel. */
        for (int64_t i = 0; i < n; i++) x.h[3 * s / 4 + i] += 1000.0f;
        CHECK(tsc_upload(ctx, x.d, x.h, rows * s) == TS_OK, "upload");
        for (int variant = 0; variant < 4; variant++) {
            const float *wh = variant & 1 ? w.h : NULL, *bh = variant & 2 ? b.h : NULL;
            const float *wd = variant & 1 ? w.d : NULL, *bd = variant & 2 ? b.d : NULL;
            CHECK(ts_layer_norm(y.h, s, x.h, s, wh, bh, rows, n, 1e-5f) == TS_OK, "cpu");
            CHECK(tsc_layer_norm(ctx, y.d, s, x.d, s, wd, bd, rows, n, 1e-5f) == TS_OK, "%s", tsc_last_error());
            char what[64];
            snprintf(what, sizeof what, "layer_norm n=%lld weight %d bias %d", (long long)n, variant & 1, variant >> 1);
            cmp_rows(ctx, what, y.d, y.h, rows, n, s, 1e-6, 2e-6);
        }
        CHECK(ts_layer_norm(x.h, s, x.h, s, w.h, b.h, rows, n, 1e-6f) == TS_OK, "cpu");
        CHECK(tsc_layer_norm(ctx, x.d, s, x.d, s, w.d, b.d, rows, n, 1e-6f) == TS_OK, "%s", tsc_last_error());
        cmp_rows(ctx, "layer_norm in place", x.d, x.h, rows, n, s, 1e-6, 2e-6);
        CHECK(tsc_layer_norm(ctx, y.d, s, x.d, s, NULL, NULL, rows, n, -1.0f) == TS_ERR_INVALID_ARGUMENT, "negative eps");
        drop(ctx, &x), drop(ctx, &w), drop(ctx, &b), drop(ctx, &y);
    }
}

static void test_group_norm(void *ctx, uint64_t *seed) {
    /* SD: 320 channels in 32 groups at 64x64 (40960 floats per group, split over blocks),
     * batch 2 with a padded batch stride; and a small odd case. */
    static const int64_t shapes[][4] = {{2, 320, 64 * 64, 32}, {3, 12, 7 * 5, 3}, {1, 512, 16 * 16, 32}};
    for (int si = 0; si < 3; si++) {
        const int64_t batch = shapes[si][0], ch = shapes[si][1], hw = shapes[si][2];
        const int32_t groups = (int32_t)shapes[si][3];
        const int64_t s = 4 * ch * hw + 64;
        buf x = mk(ctx, seed, batch, s, 1.5f), w = mk(ctx, seed, 1, 4 * ch, 1.0f), b = mk(ctx, seed, 1, 4 * ch, 1.0f),
            y = mk(ctx, seed, batch, s, 0.0f);
        for (int64_t i = 0; i < ch * hw / groups; i++) x.h[i] += 50.0f; /* one group far from zero mean */
        CHECK(tsc_upload(ctx, x.d, x.h, batch * s) == TS_OK, "upload");
        for (int variant = 0; variant < 2; variant++) {
            CHECK(ts_group_norm(y.h, s, x.h, s, variant ? w.h : NULL, variant ? b.h : NULL, batch, ch, hw, groups, 1e-5f) == TS_OK,
                  "cpu");
            CHECK(tsc_group_norm(ctx, y.d, s, x.d, s, variant ? w.d : NULL, variant ? b.d : NULL, batch, ch, hw, groups, 1e-5f) ==
                      TS_OK,
                  "%s", tsc_last_error());
            char what[96];
            snprintf(what, sizeof what, "group_norm %lldx%lldx%lld g%d%s", (long long)batch, (long long)ch, (long long)hw, (int)groups,
                     variant ? " affine" : "");
            cmp_rows(ctx, what, y.d, y.h, batch, ch * hw, s, 1e-6, 2e-6);
        }
        drop(ctx, &x), drop(ctx, &w), drop(ctx, &b), drop(ctx, &y);
    }
    CHECK(tsc_group_norm(ctx, NULL, 0, NULL, 0, NULL, NULL, 1, 10, 4, 3, 1e-5f) == TS_ERR_INVALID_ARGUMENT, "groups not dividing");
}

static void test_scale_upsample(void *ctx, uint64_t *seed) {
    const int64_t rows = 11, n = 1001, s = 4 * n + 12;
    buf x = mk(ctx, seed, rows, s, 3.0f), y = mk(ctx, seed, rows, s, 0.0f);
    /* One multiply and one add per element, unfused on both sides: bit-exact. */
    CHECK(ts_scale(y.h, s, x.h, s, rows, n, 0.18215f, -0.5f) == TS_OK, "cpu");
    CHECK(tsc_scale(ctx, y.d, s, x.d, s, rows, n, 0.18215f, -0.5f) == TS_OK, "%s", tsc_last_error());
    cmp_rows(ctx, "scale", y.d, y.h, rows, n, s, 0, 0);
    drop(ctx, &x), drop(ctx, &y);
    /* Upsampling copies: exact. */
    const int64_t planes = 6, h = 13, w = 9;
    buf u = mk(ctx, seed, 1, planes * h * w * 4, 1.0f), v = mk(ctx, seed, 1, planes * 4 * h * w * 4, 0.0f);
    CHECK(ts_upsample_nearest2x(v.h, u.h, planes, h, w) == TS_OK, "cpu");
    CHECK(tsc_upsample_nearest2x(ctx, v.d, u.d, planes, h, w) == TS_OK, "%s", tsc_last_error());
    cmp_rows(ctx, "upsample_nearest2x", v.d, v.h, 1, planes * 4 * h * w, planes * 4 * h * w * 4, 0, 0);
    drop(ctx, &u), drop(ctx, &v);
}

static void test_timestep(void *ctx) {
    float t[5] = {0.0f, 1.0f, 261.0f, 999.0f, 500.5f};
    float *dt = tsc_test_up(ctx, t, sizeof t);
    static const int32_t dims[] = {320, 7};
    for (int di = 0; di < 2; di++) {
        const int32_t dim = dims[di];
        float *want = calloc((size_t)(5 * dim), 4), *dy;
        CHECK(tsc_alloc(ctx, 5 * dim * 4, (void **)&dy) == TS_OK, "alloc");
        for (int flip = 0; flip < 2; flip++) {
            CHECK(ts_timestep_embedding(want, t, 5, dim, flip, flip ? 0.0f : 1.0f, 1.0f, 10000.0f) == TS_OK, "cpu");
            CHECK(tsc_timestep_embedding(ctx, dy, dt, 5, dim, flip, flip ? 0.0f : 1.0f, 1.0f, 10000.0f) == TS_OK, "%s", tsc_last_error());
            char what[64];
            snprintf(what, sizeof what, "timestep_embedding dim %d flip %d", (int)dim, flip);
            /* Same float steps; only expf may differ by an ulp on rare ties, which moves an
             * argument of up to 999 by ~6e-5: 1e-4 absolute. */
            cmp_rows(ctx, what, dy, want, 5, dim, dim * 4, 1e-4, 0);
        }
        tsc_free(ctx, dy);
        free(want);
    }
    CHECK(tsc_timestep_embedding(ctx, dt, dt, 1, 1, 0, 0, 1, 1e4f) == TS_ERR_INVALID_ARGUMENT, "dim 1");
    tsc_free(ctx, dt);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0xc0ffee;
    test_rms_norm(ctx, &seed);
    test_softmax(ctx, &seed);
    test_rope(ctx, &seed);
    test_rope_parts(ctx, &seed);
    test_rope_into_caches(ctx, &seed);
    test_act(ctx, &seed);
    test_binary(ctx, &seed);
    test_get_rows(ctx, &seed);
    test_layer_norm(ctx, &seed);
    test_group_norm(ctx, &seed);
    test_scale_upsample(ctx, &seed);
    test_timestep(ctx);
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_pool_used(ctx) == 0, "every buffer returned (%lld bytes left)", (long long)tsc_pool_used(ctx));
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
