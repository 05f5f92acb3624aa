/*
 * test_cuda_attention.c — tsc_attention against the CPU's ts_attention (scalar level) on the
 * shapes the models use (CLIP ViT, SD self- and cross-attention, LLaMA prefill and decode with
 * GQA, at reduced head counts), odd lengths, causal windows with kv_offset (some hiding every
 * key), masks with fully hidden rows, F16 and F32 K/V, d from 1 to 256, interleaved
 * [L x heads x d] layouts and padded row strides (16-byte aligned ones reach the fast kernels,
 * odd ones the general kernel).
 *
 * Which kernel runs (tsc_attention's rule, mirrored by path() below): K/V rows 16-byte aligned
 * and lq <= 8 -> split-KV decode; aligned, lq > 8, d a multiple of 8 up to 160 -> tensor
 * cores (F16 or F32 K/V); else general.
 * Tolerances, |gpu - cpu| <= abs + rel·|cpu|:
 *  - split and general kernels: F32 throughout like the CPU, differing only in summation
 *    order and the device expf (a few ulps): 3e-5 + 3e-5·|cpu| for outputs of |V| <~ 4.5.
 *  - tensor cores: Q·scale, P (and F32 K/V) are rounded to f16 (u = 2^-11 = 4.9e-4 relative). P's
 *    rounding moves an output by <= u·max|V| ~ 2.2e-3 in the worst case (all errors of one
 *    sign; random signs give far less); Q's moves each score by ~u·scale·|q||k|/sqrt(3)
 *    ~ 3e-4 (std; d-independent with scale 1/sqrt(d)), which shifts an output by about that
 *    times |V - O| where a few keys dominate. A float64 simulation of exactly this rounding
 *    (tile-wise online softmax) on these shapes gave max |err| 9e-5 .. 4.5e-4, 6e-4 causal,
 *    7.5e-4 with a random N(0,1) mask (peaked weights), up to 8.6e-4 with F32 K/V. Held to 3e-3 + 3e-3·|cpu| (4x
 *    margin); the worst error seen is printed per case.
 */
#include "tsc_test.h"
#include "ts_fp16.h"

typedef struct {
    const char *name;
    int64_t heads, kv_heads, lq, lk, d;
    int32_t causal;
    int64_t kv_offset;
    int32_t kv_type, masked, interleaved;
    int64_t pad; /* extra elements per Q/K/V/O row (0: dense) */
} att_case;

enum { PATH_GENERAL, PATH_SPLIT, PATH_TC };
static const char *path_name[] = {"general", "split-kv", "tensor-core"};

static const char *forced = NULL; /* TSC_ATTENTION_KERNEL set by main for a second pass */

static int path(const att_case *c, int64_t esz) {
    if (forced && strcmp(forced, "general") == 0) return PATH_GENERAL;
    const int64_t row = c->d + c->pad;
    const int64_t k_hs = c->interleaved ? row * esz : c->lk * row * esz, k_rs = c->interleaved ? c->kv_heads * row * esz : row * esz;
    const int aligned = (k_hs % 16) == 0 && (k_rs % 16) == 0 && (c->d * esz) % 16 == 0 && c->lk > 0;
    if (aligned && c->lq <= 8) return PATH_SPLIT;
    if (aligned && c->d % 8 == 0 && c->d <= 160) return PATH_TC;
    return PATH_GENERAL;
}

static double worst_err(const float *got, const float *want, int64_t n) {
    double w = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(got[i]) && isnan(want[i])) continue; /* pad elements: written by neither */
        const double e = fabs((double)got[i] - want[i]);
        if (e > w || isnan(e)) w = isnan(e) ? INFINITY : e;
    }
    return w;
}

static void run(void *ctx, uint64_t *seed, const att_case *c) {
    if (tsc_test_too_big(2.0 * c->heads * c->lq * c->lk * c->d, c->name)) return;
    const int64_t esz = c->kv_type == TS_TYPE_F16 ? 2 : 4, row = c->d + c->pad;
    /* Layouts: head-major [heads x L x row], or interleaved [L x heads x row]. */
    const int64_t q_hs = c->interleaved ? row * 4 : c->lq * row * 4, q_rs = c->interleaved ? c->heads * row * 4 : row * 4;
    const int64_t k_hs = c->interleaved ? row * esz : c->lk * row * esz,
                  k_rs = c->interleaved ? c->kv_heads * row * esz : row * esz;
    const int64_t nq = c->heads * c->lq * row, nkv = c->kv_heads * c->lk * row;
    float *q = tsc_test_randn(seed, nq, 1.0f), *kf = tsc_test_randn(seed, nkv, 1.0f), *vf = tsc_test_randn(seed, nkv, 1.0f);
    void *k = malloc((size_t)(nkv * esz + 1)), *v = malloc((size_t)(nkv * esz + 1));
    if (c->kv_type == TS_TYPE_F16) {
        ts_convert(k, TS_TYPE_F16, kf, TS_TYPE_F32, nkv);
        ts_convert(v, TS_TYPE_F16, vf, TS_TYPE_F32, nkv);
    } else {
        memcpy(k, kf, (size_t)nkv * 4);
        memcpy(v, vf, (size_t)nkv * 4);
    }
    float *mask = NULL;
    const int64_t mrs = (c->lk + 3) * 4;
    if (c->masked) {
        mask = tsc_test_randn(seed, c->lq * (mrs / 4) + 1, 1.0f);
        for (int64_t i = 0; i < c->lq; i++)
            for (int64_t j = 0; j < c->lk; j++)
                if ((i * 7 + j * 3) % 5 == 0 || i == c->lq / 2) mask[i * (mrs / 4) + j] = -INFINITY; /* row lq/2: all hidden */
    }
    /* Pad elements of O stay NaN on both sides: they must not be written. */
    float *want = malloc((size_t)nq * 4), *got = malloc((size_t)nq * 4);
    for (int64_t i = 0; i < nq; i++) want[i] = NAN;
    const float scale = 1.0f / sqrtf((float)c->d);
    CHECK(ts_attention(want, q_hs, q_rs, q, q_hs, q_rs, k, k_hs, k_rs, v, k_hs, k_rs, c->kv_type, mask, mrs, c->heads,
                       c->kv_heads, c->lq, c->lk, c->d, scale, c->causal, c->kv_offset) == TS_OK,
          "cpu: %s", ts_last_error());
    float *dq = tsc_test_up(ctx, q, nq * 4), *dout;
    void *dk = tsc_test_up(ctx, k, nkv * esz), *dv = tsc_test_up(ctx, v, nkv * esz);
    float *dm = mask ? tsc_test_up(ctx, mask, c->lq * mrs) : NULL;
    CHECK(tsc_alloc(ctx, nq * 4, (void **)&dout) == TS_OK, "alloc");
    CHECK(tsc_memset(ctx, dout, 0xff, nq * 4) == TS_OK, "memset"); /* NaN: every output must be written */
    CHECK(tsc_attention(ctx, dout, q_hs, q_rs, dq, q_hs, q_rs, dk, k_hs, k_rs, dv, k_hs, k_rs, c->kv_type, dm, mrs, c->heads,
                        c->kv_heads, c->lq, c->lk, c->d, scale, c->causal, c->kv_offset) == TS_OK,
          "%s: %s", c->name, tsc_last_error());
    tsc_test_down(ctx, got, dout, nq * 4);
    const int p = path(c, esz);
    const double tol = p == PATH_TC ? 3e-3 : 3e-5;
    char name[192];
    snprintf(name, sizeof name, "%s [h=%lld/%lld lq=%lld lk=%lld d=%lld %s%s off=%lld %s%s pad=%lld, %s%s%s]", c->name,
             (long long)c->heads, (long long)c->kv_heads, (long long)c->lq, (long long)c->lk, (long long)c->d,
             c->kv_type == TS_TYPE_F16 ? "f16" : "f32", c->causal ? " causal" : "", (long long)c->kv_offset,
             c->masked ? "mask " : "", c->interleaved ? "interleaved" : "head-major", (long long)c->pad, path_name[p],
             forced ? " forced " : "", forced ? forced : "");
    if (tsc_test_close(name, got, want, nq, tol, tol)) printf("ok   %s worst |err| %.3g (tol %.1g + %.1g|want|)\n", name, worst_err(got, want, nq), tol, tol);
    tsc_free(ctx, dq), tsc_free(ctx, dk), tsc_free(ctx, dv), tsc_free(ctx, dout);
    if (dm) tsc_free(ctx, dm);
    free(q), free(kf), free(vf), free(k), free(v), free(mask), free(want), free(got);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0xa77e;
    static const att_case cases[] = {
        /* name                          heads kv  lq    lk    d    causal off  kv_type      mask inter pad */
        /* tensor cores: model shapes */
        {"clip vit-l/14 257x257 d64",     4,  4,  257,  257,  64,  0, 0,   TS_TYPE_F16, 0, 1, 0},
        {"sd self 4096x4096 d40",         1,  1,  4096, 4096, 40,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"sd self 1024x1024 d80",         2,  2,  1024, 1024, 80,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"sd self 256x256 d160",          2,  2,  256,  256,  160, 0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"sd cross 4096x77 d40",          2,  2,  4096, 77,   40,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"sd cross 256x77 d160",          2,  2,  256,  77,   160, 0, 0,   TS_TYPE_F16, 0, 1, 0},
        {"llama prefill gqa causal d128", 8,  2,  37,   37,   128, 1, 0,   TS_TYPE_F16, 0, 1, 0},
        {"prefill gqa 32/8 causal d128",  32, 8,  200,  200,  128, 1, 0,   TS_TYPE_F16, 0, 1, 0},
        {"chunked prefill gqa off 150",   8,  2,  100,  250,  128, 1, 150, TS_TYPE_F16, 0, 0, 0},
        {"causal offset -20 (some hidden)", 2, 1, 70,   90,   64,  1, -20, TS_TYPE_F16, 0, 0, 0},
        {"causal hides all (offset -80)", 2,  1,  70,   90,   64,  1, -80, TS_TYPE_F16, 0, 0, 0},
        {"masked with -inf rows d72",     3,  3,  40,   45,   72,  0, 0,   TS_TYPE_F16, 1, 0, 0},
        {"masked causal d64",             2,  2,  130,  130,  64,  1, 0,   TS_TYPE_F16, 1, 1, 0},
        {"odd lq/lk d64",                 3,  3,  67,   131,  64,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"odd lq/lk d40 padded rows",     2,  2,  77,   63,   40,  0, 0,   TS_TYPE_F16, 0, 0, 8},
        {"d8 tensor cores",               2,  2,  33,   65,   8,   0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"d96",                           2,  1,  50,   100,  96,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"d120 (padded to 128)",          2,  2,  48,   100,  120, 1, 52,  TS_TYPE_F16, 0, 0, 0},
        {"d152 (padded to 160)",          2,  2,  70,   70,   152, 0, 0,   TS_TYPE_F16, 1, 0, 0},
        /* many heads: enough 128-row blocks for two row tiles per warp (d <= 64, >= 2 per SM) */
        {"many heads d40 (128-row blocks)", 136, 136, 256, 100, 40, 0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"many heads gqa causal mask d64", 272, 68, 130, 130,  64,  1, 0,   TS_TYPE_F16, 1, 1, 0},
        {"many heads d32 f32 offset",     264, 264, 200, 150, 32,  1, -30, TS_TYPE_F32, 0, 0, 0},
        /* split-KV decode */
        {"llama decode gqa d128",         32, 8,  1,    300,  128, 1, 299, TS_TYPE_F16, 0, 1, 0},
        {"decode 4k gqa 4/1 d128",        4,  1,  1,    4096, 128, 1, 4095, TS_TYPE_F16, 0, 0, 0},
        {"decode 4k no causal f32",       2,  2,  1,    4096, 128, 0, 0,   TS_TYPE_F32, 0, 0, 0},
        {"speculative lq4 causal",        4,  2,  4,    300,  64,  1, 296, TS_TYPE_F16, 0, 1, 0},
        {"spec. lq4 gqa 8/2 (ungrouped)", 8,  2,  4,    500,  128, 1, 496, TS_TYPE_F16, 0, 0, 0},
        {"decode lq8 masked",             2,  2,  8,    200,  64,  0, 0,   TS_TYPE_F16, 1, 0, 0},
        {"decode lq3 hides all",          2,  1,  3,    50,   64,  1, -5,  TS_TYPE_F16, 0, 0, 0},
        {"decode d40 one chunk",          2,  2,  1,    50,   40,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"decode d256 f32",               2,  2,  2,    333,  256, 1, 331, TS_TYPE_F32, 0, 0, 0},
        {"decode d256 f16 padded rows",   2,  2,  1,    1000, 256, 0, 0,   TS_TYPE_F16, 0, 1, 8},
        {"decode d8",                     2,  2,  1,    100,  8,   0, 0,   TS_TYPE_F16, 0, 0, 0},
        /* tensor cores with F32 K/V (rounded to f16 when staged) */
        {"sd cross 256x77 d160 f32",      2,  2,  256,  77,   160, 0, 0,   TS_TYPE_F32, 0, 0, 0},
        {"chunked prefill offset f32",    4,  4,  20,   70,   64,  1, 50,  TS_TYPE_F32, 0, 0, 0},
        {"clip 257x257 d64 f32 interleaved", 2, 2, 257, 257,  64,  0, 0,   TS_TYPE_F32, 0, 1, 0},
        {"masked gqa causal d128 f32",    4,  2,  90,   90,   128, 1, 0,   TS_TYPE_F32, 1, 0, 0},
        /* general kernel */
        {"causal hides all d20 (off -5)", 2,  1,  9,    16,   20,  1, -5,  TS_TYPE_F16, 0, 0, 0},
        {"masked causal d256",            2,  2,  33,   33,   256, 1, 0,   TS_TYPE_F32, 1, 1, 0},
        {"prefill d256 f16",              2,  2,  40,   60,   256, 0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"prefill d36 f32 (not 8k)",      2,  2,  40,   60,   36,  1, 20,  TS_TYPE_F32, 0, 0, 0},
        {"d1 odd sizes",                  5,  5,  13,   7,    1,   0, 0,   TS_TYPE_F32, 0, 0, 0},
        {"odd row stride d64",            2,  2,  30,   40,   64,  0, 0,   TS_TYPE_F16, 0, 0, 1},
        {"decode odd row stride",         2,  1,  1,    100,  64,  1, 99,  TS_TYPE_F16, 0, 0, 3},
        {"lk 0",                          2,  2,  5,    0,    16,  0, 0,   TS_TYPE_F16, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run(ctx, &seed, &cases[i]);
    /* Forced kernel choices (TSC_ATTENTION_KERNEL): 128-row tensor-core blocks on small grids
     * (partial last blocks) with 256-key split-KV blocks, then the general kernel on inputs the
     * fast paths would take. */
    static const att_case forced_cases[] = {
        {"clip vit-l/14 257x257 d64",     4,  4,  257,  257,  64,  0, 0,   TS_TYPE_F16, 0, 1, 0},
        {"sd cross 300x77 d40",           2,  2,  300,  77,   40,  0, 0,   TS_TYPE_F16, 0, 0, 0},
        {"masked gqa causal d32 f32",     4,  2,  130,  100,  32,  1, -10, TS_TYPE_F32, 1, 0, 0},
        {"llama decode gqa d128",         32, 8,  1,    300,  128, 1, 299, TS_TYPE_F16, 0, 1, 0},
    };
    static const char *modes[] = {"rows128", "general"};
    for (int mdi = 0; mdi < 2; mdi++) {
        forced = modes[mdi];
        setenv("TSC_ATTENTION_KERNEL", forced, 1);
        if (mdi == 0) setenv("TSC_ATTENTION_SPLIT_KEYS", "256", 1); /* decode: 256-key blocks, a partial last one */
        for (size_t i = 0; i < sizeof forced_cases / sizeof *forced_cases; i++) run(ctx, &seed, &forced_cases[i]);
    }
    unsetenv("TSC_ATTENTION_KERNEL");
    unsetenv("TSC_ATTENTION_SPLIT_KEYS");
    forced = NULL;
    CHECK(tsc_attention(ctx, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, TS_TYPE_F16, NULL, 0, 3, 2, 1, 1, 8, 1.0f, 0, 0) ==
              TS_ERR_INVALID_ARGUMENT,
          "heads not a multiple of kv heads");
    CHECK(tsc_attention(ctx, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, TS_TYPE_Q8_0, NULL, 0, 1, 1, 1, 1, 8, 1.0f, 0, 0) ==
              TS_ERR_UNSUPPORTED,
          "Q8_0 K/V");
    CHECK(tsc_synchronize(ctx) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_pool_used(ctx) == 0, "every buffer returned");
    tsc_shutdown(ctx);
    TS_TEST_EXIT();
}
