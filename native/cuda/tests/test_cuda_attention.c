/*
 * test_cuda_attention.c — tsc_attention against the CPU's ts_attention (scalar level) on the
 * shapes the models use (CLIP ViT, SD self- and cross-attention, LLaMA prefill and decode with GQA),
 * with masks, causal windows that hide every key, F16 and F32 K/V, and interleaved
 * [L x heads x d] layouts. Outputs are convex combinations of V rows (|V| <~ 4): both sides
 * accumulate in float with other orders and the device expf differs by ulps, so
 * |gpu - cpu| <= 3e-5 + 3e-5·|cpu|.
 */
#include "tsc_test.h"
#include "ts_fp16.h"

typedef struct {
    const char *name;
    int64_t heads, kv_heads, lq, lk, d;
    int32_t causal;
    int64_t kv_offset;
    int32_t kv_type, masked, interleaved;
} att_case;

static void run(void *ctx, uint64_t *seed, const att_case *c) {
    const int64_t esz = c->kv_type == TS_TYPE_F16 ? 2 : 4;
    /* Layouts: head-major [heads x L x d], or interleaved [L x heads x d]. */
    const int64_t q_hs = c->interleaved ? c->d * 4 : c->lq * c->d * 4, q_rs = c->interleaved ? c->heads * c->d * 4 : c->d * 4;
    const int64_t k_hs = c->interleaved ? c->d * esz : c->lk * c->d * esz,
                  k_rs = c->interleaved ? c->kv_heads * c->d * esz : c->d * esz;
    const int64_t nq = c->heads * c->lq * c->d, nkv = c->kv_heads * c->lk * c->d;
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
    float *want = calloc((size_t)nq, 4), *got = calloc((size_t)nq, 4);
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
    if (tsc_test_close(c->name, got, want, nq, 3e-5, 3e-5)) printf("ok   %s\n", c->name);
    tsc_free(ctx, dq), tsc_free(ctx, dk), tsc_free(ctx, dv), tsc_free(ctx, dout);
    if (dm) tsc_free(ctx, dm);
    free(q), free(kf), free(vf), free(k), free(v), free(mask), free(want), free(got);
}

int main(void) {
    void *ctx = tsc_test_open();
    uint64_t seed = 0xa77e;
    static const att_case cases[] = {
        /* name                          heads kv  lq    lk    d    causal off  kv_type      mask inter */
        {"clip vit-l/14 257x257 d64",     16, 16, 257,  257,  64,  0, 0,   TS_TYPE_F16, 0, 1},
        {"sd self 1024x1024 d80",          8,  8, 1024, 1024, 80,  0, 0,   TS_TYPE_F16, 0, 0},
        {"sd cross 4096x77 d40",           8,  8, 4096, 77,   40,  0, 0,   TS_TYPE_F16, 0, 0},
        {"sd cross 256x77 d160",           8,  8, 256,  77,   160, 0, 0,   TS_TYPE_F32, 0, 0},
        {"llama prefill gqa causal d128",  8,  2, 37,   37,   128, 1, 0,   TS_TYPE_F16, 0, 1},
        {"llama decode gqa d128",         32,  8, 1,    300,  128, 1, 299, TS_TYPE_F16, 0, 1},
        {"chunked prefill offset",         4,  4, 20,   70,   64,  1, 50,  TS_TYPE_F32, 0, 0},
        {"causal hides all (offset -5)",   2,  1, 9,    16,   32,  1, -5,  TS_TYPE_F16, 0, 0},
        {"masked with -inf rows d72",      3,  3, 40,   45,   72,  0, 0,   TS_TYPE_F16, 1, 0},
        {"masked causal d256",             2,  2, 33,   33,   256, 1, 0,   TS_TYPE_F32, 1, 1},
        {"d1 odd sizes",                   5,  5, 13,   7,    1,   0, 0,   TS_TYPE_F32, 0, 0},
        {"lk 0",                           2,  2, 5,    0,    16,  0, 0,   TS_TYPE_F16, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run(ctx, &seed, &cases[i]);
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
