/* ts_attention at every kernel level this CPU runs, against a double-precision
 * softmax(scale·QKᵀ + mask)·V computed here: odd lengths, every supported head size,
 * GQA/MQA, causal with offsets (also negative), masks with fully hidden rows, F16 K/V,
 * [L x heads x d] strided layouts, several threads; then argument checks and the scratch
 * bound for SD's 4096-token self-attention. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_fp16.h"
#include "ts_test.h"

typedef struct {
    int64_t heads, kvh, lq, lk, d;
    int causal;
    int64_t off;
    int mask;     /* 0 none, 1 random with hidden keys and one fully hidden row */
    int f16;      /* K/V in F16 */
    int interleave; /* [L x heads x d] layouts instead of [heads x L x d] */
} tcase;

/* Reference on the exact values the kernel reads (F16 K/V decoded). */
static void reference(const tcase *t, const float *q, const float *kf, const float *vf, const float *mask, double *out) {
    int64_t grp = t->heads / t->kvh;
    double *s = malloc(sizeof(double) * (size_t)(t->lk ? t->lk : 1));
    double scale = 1.0 / sqrt((double)t->d);
    for (int64_t h = 0; h < t->heads; h++) {
        int64_t g = h / grp;
        for (int64_t i = 0; i < t->lq; i++) {
            double mx = -INFINITY;
            for (int64_t j = 0; j < t->lk; j++) {
                double dot = 0;
                for (int64_t c = 0; c < t->d; c++) dot += (double)q[(h * t->lq + i) * t->d + c] * kf[(g * t->lk + j) * t->d + c];
                dot = dot * (double)(float)scale;
                if (mask) dot += mask[i * t->lk + j];
                if (t->causal && j > t->off + i) dot = -INFINITY;
                s[j] = dot;
                if (dot > mx) mx = dot;
            }
            double sum = 0;
            for (int64_t j = 0; j < t->lk; j++) {
                s[j] = mx == -INFINITY ? 0.0 : exp(s[j] - mx);
                sum += s[j];
            }
            for (int64_t c = 0; c < t->d; c++) {
                double o = 0;
                for (int64_t j = 0; j < t->lk; j++) o += s[j] * vf[(g * t->lk + j) * t->d + c];
                out[(h * t->lq + i) * t->d + c] = sum > 0 ? o / sum : 0.0;
            }
        }
    }
    free(s);
}

static void run_case(const tcase *t, uint64_t *seed, const char *level) {
    int64_t nq = t->heads * t->lq * t->d, nkv = t->kvh * t->lk * t->d;
    float *q = malloc(sizeof(float) * (size_t)(nq + 1)), *kf = malloc(sizeof(float) * (size_t)(nkv + 1));
    float *vf = malloc(sizeof(float) * (size_t)(nkv + 1)), *o = malloc(sizeof(float) * (size_t)(nq + 1));
    float *mask = t->mask ? malloc(sizeof(float) * (size_t)(t->lq * t->lk + 1)) : NULL;
    double *want = malloc(sizeof(double) * (size_t)(nq + 1));
    for (int64_t i = 0; i < nq; i++) q[i] = (float)ts_test_gauss(seed);
    for (int64_t i = 0; i < nkv; i++) {
        kf[i] = (float)ts_test_gauss(seed);
        vf[i] = (float)ts_test_gauss(seed);
        if (t->f16) { /* the kernel sees F16: compare against the rounded values */
            kf[i] = ts_f16_to_f32(ts_f32_to_f16(kf[i]));
            vf[i] = ts_f16_to_f32(ts_f32_to_f16(vf[i]));
        }
    }
    if (mask) {
        for (int64_t i = 0; i < t->lq * t->lk; i++) {
            uint64_t r = ts_test_rand(seed) % 8;
            mask[i] = r == 0 ? -INFINITY : (float)ts_test_gauss(seed);
        }
        if (t->lq > 2) /* row 1 hidden entirely: must come out as zeros */
            for (int64_t j = 0; j < t->lk; j++) mask[t->lk + j] = -INFINITY;
    }
    reference(t, q, kf, vf, mask, want);

    /* Lay the inputs out as the kernel reads them. */
    size_t esz = t->f16 ? 2 : 4;
    int64_t q_hs, q_rs, kv_hs, kv_rs;
    if (t->interleave) {
        q_hs = t->d * 4; q_rs = t->heads * t->d * 4;
        kv_hs = t->d * (int64_t)esz; kv_rs = t->kvh * t->d * (int64_t)esz;
    } else {
        q_hs = t->lq * t->d * 4; q_rs = t->d * 4;
        kv_hs = t->lk * t->d * (int64_t)esz; kv_rs = t->d * (int64_t)esz;
    }
    /* +1 byte offsets: the kernel must not rely on alignment. */
    char *qb = malloc((size_t)nq * 4 + 8), *kb = malloc((size_t)nkv * esz + 8), *vb = malloc((size_t)nkv * esz + 8);
    char *ob = malloc((size_t)nq * 4 + 8);
    char *qp = qb + 1, *kp = kb + 1, *vp = vb + 1, *op = ob + 1;
    for (int64_t h = 0; h < t->heads; h++)
        for (int64_t i = 0; i < t->lq; i++) memcpy(qp + h * q_hs + i * q_rs, q + (h * t->lq + i) * t->d, (size_t)t->d * 4);
    for (int64_t g = 0; g < t->kvh; g++)
        for (int64_t j = 0; j < t->lk; j++)
            for (int64_t c = 0; c < t->d; c++) {
                size_t at = (size_t)(g * kv_hs + j * kv_rs) + (size_t)c * esz;
                float kx = kf[(g * t->lk + j) * t->d + c], vx = vf[(g * t->lk + j) * t->d + c];
                if (t->f16) {
                    uint16_t kh = ts_f32_to_f16(kx), vh = ts_f32_to_f16(vx);
                    memcpy(kp + at, &kh, 2);
                    memcpy(vp + at, &vh, 2);
                } else {
                    memcpy(kp + at, &kx, 4);
                    memcpy(vp + at, &vx, 4);
                }
            }
    memset(ob, 0x7f, (size_t)nq * 4 + 8); /* garbage: every element must be written */
    int32_t st = ts_attention((float *)op, q_hs, q_rs, (const float *)qp, q_hs, q_rs, kp, kv_hs, kv_rs, vp, kv_hs, kv_rs,
                              t->f16 ? TS_TYPE_F16 : TS_TYPE_F32, mask, t->lk * 4, t->heads, t->kvh, t->lq, t->lk, t->d,
                              (float)(1.0 / sqrt((double)t->d)), t->causal, t->off);
    CHECK(st == TS_OK, "%s: ts_attention failed: %s", level, ts_last_error());
    /* Outputs are convex combinations of V rows (|V| ~ N(0,1)): the kernel's float
     * accumulation and its exp approximation (2.5e-7 relative) give ~1e-6; 2e-5 absolute
     * leaves margin for d = 256 and long rows. */
    int bad = 0;
    for (int64_t h = 0; h < t->heads && bad < 3; h++)
        for (int64_t i = 0; i < t->lq && bad < 3; i++)
            for (int64_t c = 0; c < t->d; c++) {
                float got;
                memcpy(&got, op + h * q_hs + i * q_rs + c * 4, 4);
                double w = want[(h * t->lq + i) * t->d + c];
                if (!(fabs(got - w) <= 2e-5 + 2e-5 * fabs(w))) {
                    CHECK(0, "%s: H%lld/%lld lq %lld lk %lld d %lld causal %d off %lld mask %d f16 %d il %d: o[%lld][%lld][%lld] = %g, want %g",
                          level, (long long)t->heads, (long long)t->kvh, (long long)t->lq, (long long)t->lk, (long long)t->d,
                          t->causal, (long long)t->off, t->mask, t->f16, t->interleave, (long long)h, (long long)i, (long long)c,
                          got, w);
                    bad++;
                    break;
                }
            }
    if (!bad) CHECK(1, "ok");
    free(q); free(kf); free(vf); free(o); free(mask); free(want); free(qb); free(kb); free(vb); free(ob);
}

/* A third of the (lq, lk) grid per head size, chosen so every lq and every lk meets every d
 * (the grid in full takes minutes under qemu); the variants rotate across the cases. */
static void check_level(const char *level, uint64_t *seed, int threads) {
    static const int64_t ds[] = {8, 20, 32, 40, 64, 80, 96, 128, 160, 256};
    static const int64_t lqs[] = {1, 3, 4, 7, 49, 100};
    static const int64_t lks[] = {1, 13, 64, 77, 81, 150};
    int n = 0;
    for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++)
        for (size_t a = 0; a < sizeof lqs / sizeof lqs[0]; a++)
            for (size_t b = 0; b < sizeof lks / sizeof lks[0]; b++) {
                if ((di + a + b) % 3 != 0) continue;
                if (threads > 1 && n++ % 3 != 0) continue; /* the pool: a sample */
                int variant = (int)((di * 5 + a + b) % 6);
                tcase t = {2, 1, lqs[a], lks[b], ds[di], 0, 0, 0, 0, 0};
                switch (variant) {
                    case 0: break;
                    case 1: t.heads = 4; t.kvh = 2; t.causal = 1; t.off = t.lk - t.lq; break;
                    case 2: t.mask = 1; t.f16 = 1; break;
                    case 3: t.heads = 3; t.kvh = 3; t.interleave = 1; t.causal = 1; t.off = 5; break;
                    case 4: t.heads = 4; t.kvh = 1; t.f16 = 1; t.causal = 1; t.off = -2; t.mask = 1; break;
                    default: t.interleave = 1; t.mask = 1; t.off = 0; t.causal = 1; break;
                }
                run_case(&t, seed, level);
            }
    /* lk = 0: every row sees nothing. */
    tcase z = {2, 2, 5, 0, 32, 0, 0, 0, 0, 0};
    run_case(&z, seed, level);
}

static void check_errors(void) {
    float buf[64] = {0};
    CHECK(ts_attention(buf, 0, 0, buf, 0, 0, buf, 0, 0, buf, 0, 0, TS_TYPE_BF16, NULL, 0, 1, 1, 1, 1, 8, 1, 0, 0) == TS_ERR_UNSUPPORTED, "bf16 kv");
    CHECK(ts_attention(buf, 0, 0, buf, 0, 0, buf, 0, 0, buf, 0, 0, TS_TYPE_F32, NULL, 0, 3, 2, 1, 1, 8, 1, 0, 0) == TS_ERR_INVALID_ARGUMENT, "heads %% kv");
    CHECK(ts_attention(buf, 0, 0, buf, 0, 0, buf, 0, 0, buf, 0, 0, TS_TYPE_F32, NULL, 0, 1, 1, 1, 1, 257, 1, 0, 0) == TS_ERR_INVALID_ARGUMENT, "d 257");
    CHECK(ts_attention(buf, 0, 0, buf, 0, 0, buf, 0, 0, buf, 0, 0, TS_TYPE_F32, NULL, 0, 1, 1, -1, 1, 8, 1, 0, 0) == TS_ERR_INVALID_ARGUMENT, "lq < 0");
    CHECK(ts_attention(NULL, 0, 0, buf, 0, 0, buf, 0, 0, buf, 0, 0, TS_TYPE_F32, NULL, 0, 1, 1, 1, 1, 8, 1, 0, 0) == TS_ERR_INVALID_ARGUMENT, "null o");
    CHECK(ts_attention(buf, 0, 0, buf, 0, 0, buf, 0, 0, buf, 0, 0, TS_TYPE_F32, NULL, 0, 1, 1, 1, 1, 8, NAN, 0, 0) == TS_ERR_INVALID_ARGUMENT, "nan scale");
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 11;
    CHECK(ts_attention(NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, TS_TYPE_F32, NULL, 0, 1, 1, 1, 1, 8, 1, 0, 0) == TS_ERR_NOT_INITIALIZED,
          "before init");
    static const char *levels[] = {"scalar", "avx2", "avx512", "amx", "neon", "dotprod"};
    static const int32_t ids[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (!ts_cpu_level_ok(ids[i], cpu)) continue;
        for (int threads = 1; threads <= 3; threads += 2) {
            CHECK(ts_init(threads, levels[i]) == TS_OK, "init %s: %s", levels[i], ts_last_error());
            check_level(levels[i], &seed, threads);
        }
        check_errors();
        /* SD 1.5 512x512 self-attention: 8 heads, 4096 tokens, d 40, well under 64 MiB. */
        int64_t sb = ts_attention_scratch_bytes(8, 4096, 4096, 40);
        CHECK(sb > 0 && sb < (1 << 20), "%s: SD scratch %lld bytes", levels[i], (long long)sb);
        fprintf(stderr, "level %s: checked; SD 4096x4096 d40 scratch %lld bytes\n", levels[i], (long long)sb);
        ts_shutdown();
    }
    TS_TEST_EXIT();
}
