/* Ops family: every kernel level's row kernels (norms, softmax, activations, GLUs) against
 * the scalar references on odd lengths, unaligned rows, extreme values and masks; then the
 * public entry points: results identical for 1 and 2 threads, RoPE against its formula,
 * embedding lookups, and argument errors. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_test.h"

#define MAXN 5000

static void fill(float *x, int64_t n, uint64_t *seed, float mag) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)(ts_test_gauss(seed) * mag);
}

static void check_level(const struct ts_kernels *lk, const struct ts_kernels *ref, const char *level, uint64_t *seed) {
    static float xb[MAXN + 1], ub[MAXN + 1], wb[MAXN], bb[MAXN], mb[MAXN], got[MAXN + 1], want[MAXN + 1];
    static const int64_t ns[] = {1, 7, 8, 31, 77, 1024, 4096, 4099};
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
        const int64_t n = ns[ni];
        for (int off = 0; off < 2; off++) { /* off = 1: rows at addresses that are 4 mod 32 */
            float *x = xb + off, *u = ub + off;
            for (int mode = 0; mode < 3; mode++) {
                /* mode 0: N(0,1); 1: N(0, 30^2) (saturating activations); 2: offset 100 + N(0,1e-2)
                 * (LayerNorm cancellation). */
                fill(x, n, seed, mode == 1 ? 30.0f : mode == 2 ? 0.01f : 1.0f);
                if (mode == 2)
                    for (int64_t i = 0; i < n; i++) x[i] += 100.0f;
                fill(u, n, seed, 1.0f);
                fill(wb, n, seed, 1.0f);
                fill(bb, n, seed, 1.0f);
                for (int64_t i = 0; i < n; i++) mb[i] = i % 5 == 3 ? -INFINITY : (float)ts_test_gauss(seed);

                ref->rms_norm_row(want, x, wb, n, 1e-6f);
                lk->rms_norm_row(got, x, wb, n, 1e-6f);
                for (int64_t i = 0; i < n; i++)
                    CHECK(fabsf(got[i] - want[i]) <= 1e-5f * (1.0f + fabsf(want[i])), "%s rms n=%lld i=%lld: %g vs %g", level,
                          (long long)n, (long long)i, got[i], want[i]);
                ref->layer_norm_row(want, x, wb, bb, n, 1e-5f);
                lk->layer_norm_row(got, x, wb, bb, n, 1e-5f);
                for (int64_t i = 0; i < n; i++)
                    CHECK(fabsf(got[i] - want[i]) <= 2e-4f * (1.0f + fabsf(want[i])), "%s layernorm n=%lld mode %d i=%lld: %g vs %g",
                          level, (long long)n, mode, (long long)i, got[i], want[i]);
                ref->layer_norm_row(want, x, NULL, NULL, n, 1e-5f);
                lk->layer_norm_row(got, x, NULL, NULL, n, 1e-5f);
                for (int64_t i = 0; i < n; i++)
                    CHECK(fabsf(got[i] - want[i]) <= 2e-4f * (1.0f + fabsf(want[i])), "%s layernorm (no affine) n=%lld", level,
                          (long long)n);
                for (int masked = 0; masked < 2; masked++) {
                    ref->softmax_row(want, x, masked ? mb : NULL, n, 0.125f);
                    lk->softmax_row(got, x, masked ? mb : NULL, n, 0.125f);
                    for (int64_t i = 0; i < n; i++)
                        CHECK(fabsf(got[i] - want[i]) <= 1e-5f * want[i] + 1e-9f, "%s softmax n=%lld masked %d i=%lld: %g vs %g",
                              level, (long long)n, masked, (long long)i, got[i], want[i]);
                }
                for (int a = 0; a < TS_ACT_KINDS; a++) {
                    ref->act_row[a](want, x, n);
                    lk->act_row[a](got, x, n);
                    for (int64_t i = 0; i < n; i++)
                        CHECK(fabsf(got[i] - want[i]) <= 1e-6f * (1.0f + fabsf(x[i])), "%s act %d x=%g: %g vs %g", level, a, x[i],
                              got[i], want[i]);
                    ref->glu_row[a](want, x, u, n);
                    lk->glu_row[a](got, x, u, n);
                    for (int64_t i = 0; i < n; i++)
                        CHECK(fabsf(got[i] - want[i]) <= 1e-6f * (1.0f + fabsf(x[i])) * (1.0f + fabsf(u[i])), "%s glu %d", level, a);
                }
            }
        }
    }
    /* In place (y == x) gives the same as out of place. */
    fill(xb, 100, seed, 3.0f);
    lk->softmax_row(got, xb, NULL, 100, 1.0f);
    lk->softmax_row(xb, xb, NULL, 100, 1.0f);
    CHECK(memcmp(got, xb, 400) == 0, "%s softmax in place differs", level);
    /* NaN propagates like in the reference: a NaN logit poisons its softmax row, a NaN
     * element its norm row and its own activation. */
    fill(xb, 20, seed, 1.0f);
    xb[13] = NAN;
    lk->softmax_row(got, xb, NULL, 20, 1.0f);
    for (int i = 0; i < 20; i++) CHECK(isnan(got[i]), "%s softmax with a NaN logit gives %g at %d", level, got[i], i);
    lk->rms_norm_row(got, xb, NULL, 20, 1e-5f);
    CHECK(isnan(got[0]) && isnan(got[19]), "%s rms_norm with a NaN", level);
    lk->layer_norm_row(got, xb, NULL, NULL, 20, 1e-5f);
    CHECK(isnan(got[0]) && isnan(got[19]), "%s layer_norm with a NaN", level);
    for (int a = 0; a < TS_ACT_KINDS; a++) {
        lk->act_row[a](got, xb, 20);
        CHECK(isnan(got[13]) && !isnan(got[12]), "%s act %d NaN handling", level, a);
    }
    /* A fully masked row is zeros, not NaN. */
    for (int i = 0; i < 9; i++) mb[i] = -INFINITY;
    lk->softmax_row(got, xb, mb, 9, 1.0f);
    for (int i = 0; i < 9; i++) CHECK(got[i] == 0.0f, "%s fully masked softmax gives %g", level, got[i]);
}

/* Runs six public ops on fixed data and writes their outputs one after another to out. */
static void run_public(float *out, uint64_t seed) {
    enum { R = 37, N = 1000 };
    static float x[R * N], u[R * N], w[N], b[N], mask[3 * N];
    fill(x, R * N, &seed, 2.0f);
    fill(u, R * N, &seed, 1.0f);
    fill(w, N, &seed, 1.0f);
    fill(b, N, &seed, 1.0f);
    fill(mask, 3 * N, &seed, 1.0f);
    float *o = out;
    CHECK(ts_rms_norm(o, N * 4, x, N * 4, w, R, N, 1e-5f) == TS_OK, "rms");
    o += R * N;
    CHECK(ts_layer_norm(o, N * 4, x, N * 4, w, b, R, N, 1e-5f) == TS_OK, "ln");
    o += R * N;
    CHECK(ts_group_norm(o, 20 * 50 * 4, x, 20 * 50 * 4, w, b, R, 20, 50, 4, 1e-5f) == TS_OK, "gn");
    o += R * N;
    CHECK(ts_softmax(o, N * 4, x, N * 4, mask, N * 4, 3, R, N, 0.3f) == TS_OK, "softmax");
    o += R * N;
    CHECK(ts_glu(o, N * 4, x, N * 4, u, N * 4, TS_TYPE_F32, TS_ACT_SILU, R, N) == TS_OK, "glu");
    o += R * N;
    int32_t pos[R];
    for (int i = 0; i < R; i++) pos[i] = i * 3 + 1;
    CHECK(ts_rope(o, 10 * 100 * 4, 100 * 4, x, 10 * 100 * 4, 100 * 4, pos, R, 10, 100, 64, TS_ROPE_NEOX, 10000.0f) == TS_OK,
          "rope");
}

static void check_threads(void) {
    enum { TOTAL = 6 * 37 * 1000 };
    static float a[TOTAL], b[TOTAL];
    CHECK(ts_init(1, NULL) == TS_OK, "init 1");
    run_public(a, 99);
    CHECK(ts_init(2, NULL) == TS_OK, "init 2");
    run_public(b, 99);
    CHECK(memcmp(a, b, sizeof a) == 0, "results depend on the thread count");
}

static void check_rope_formula(void) {
    enum { T = 3, H = 2, D = 10 };
    float x[T * H * D], y[T * H * D];
    int32_t pos[T] = {0, 5, 1000};
    uint64_t seed = 5;
    fill(x, T * H * D, &seed, 1.0f);
    for (int mode = 0; mode <= 2; mode += 2) {
        CHECK(ts_rope(y, H * D * 4, D * 4, x, H * D * 4, D * 4, pos, T, H, D, 8, mode, 500.0f) == TS_OK, "rope call");
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *xr = x + (t * H + h) * D, *yr = y + (t * H + h) * D;
                for (int i = 0; i < 4; i++) {
                    double th = pos[t] * pow(500.0, -2.0 * i / 8.0);
                    int ia = mode == TS_ROPE_NEOX ? i : 2 * i, ib = mode == TS_ROPE_NEOX ? i + 4 : 2 * i + 1;
                    double w0 = xr[ia] * cos(th) - xr[ib] * sin(th), w1 = xr[ia] * sin(th) + xr[ib] * cos(th);
                    CHECK(fabs(yr[ia] - w0) < 1e-5 && fabs(yr[ib] - w1) < 1e-5, "rope mode %d t %d i %d", mode, t, i);
                }
                CHECK(yr[8] == xr[8] && yr[9] == xr[9], "rope tail not copied");
            }
    }
}

static void check_errors(void) {
    float x[64] = {0}, y[64];
    int32_t ids[2] = {1, 4};
    CHECK(ts_get_rows(y, 32, x, TS_TYPE_F32, 32, 4, 8, ids, 2) == TS_ERR_INVALID_ARGUMENT, "id 4 of 4 rows accepted");
    ids[1] = -1;
    CHECK(ts_get_rows(y, 32, x, TS_TYPE_F32, 32, 4, 8, ids, 2) == TS_ERR_INVALID_ARGUMENT, "id -1 accepted");
    ids[1] = 3;
    for (int i = 0; i < 32; i++) x[i] = (float)i;
    CHECK(ts_get_rows(y, 32, x, TS_TYPE_F32, 32, 4, 8, ids, 2) == TS_OK, "get_rows");
    CHECK(y[0] == 8.0f && y[8] == 24.0f && y[15] == 31.0f, "get_rows picked the wrong rows");
    CHECK(ts_get_rows(y, 32, x, TS_TYPE_Q8_0, 34, 1, 8, ids, 1) == TS_ERR_INVALID_ARGUMENT, "q8_0 row of 8 accepted");
    CHECK(ts_group_norm(y, 64, x, 64, NULL, NULL, 1, 6, 2, 4, 1e-5f) == TS_ERR_INVALID_ARGUMENT, "groups not dividing");
    CHECK(ts_rope(y, 32, 32, x, 32, 32, ids, 1, 1, 8, 7, 0, 1e4f) == TS_ERR_INVALID_ARGUMENT, "odd n_dims");
    CHECK(ts_rope(y, 32, 32, x, 32, 32, ids, 1, 1, 8, 8, 1, 1e4f) == TS_ERR_INVALID_ARGUMENT, "mode 1");
    CHECK(ts_activation(y, 32, x, 32, TS_TYPE_BF16, TS_ACT_SILU, 1, 8) == TS_ERR_INVALID_ARGUMENT, "bf16 activation");
    CHECK(ts_activation(y, 32, x, 32, TS_TYPE_F32, 9, 1, 8) == TS_ERR_INVALID_ARGUMENT, "act 9");
    CHECK(ts_rms_norm(y, 16, x, 32, NULL, 2, 8, 1e-5f) == TS_ERR_INVALID_ARGUMENT, "overlapping output rows");
    CHECK(ts_softmax(y, 32, x, 32, x, 32, 0, 1, 8, 1.0f) == TS_ERR_INVALID_ARGUMENT, "mask_rows 0");
    int64_t shape[5] = {1, 1, 1, 1, 1}, st[5] = {4, 4, 4, 4, 4};
    CHECK(ts_binary(y, st, x, st, x, st, shape, 5, TS_BINARY_ADD) == TS_ERR_INVALID_ARGUMENT, "rank 5 binary");
    /* timestep embedding, SD1.5 parameters: t = 0 gives cos = 1 then sin = 0. */
    float t0 = 0.0f, emb[7];
    CHECK(ts_timestep_embedding(emb, &t0, 1, 7, 1, 0.0f, 1.0f, 10000.0f) == TS_OK, "timestep");
    CHECK(emb[0] == 1.0f && emb[2] == 1.0f && emb[3] == 0.0f && emb[6] == 0.0f, "timestep embedding of 0");
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 11;
    struct ts_kernels ref, lk;
    ts_kernels_fill(&ref, TS_ISA_SCALAR, cpu);
    static const int32_t levels[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (!ts_cpu_level_ok(levels[i], cpu)) {
            fprintf(stderr, "level %s: not on this CPU, skipped\n", ts_isa_name(levels[i]));
            continue;
        }
        ts_kernels_fill(&lk, levels[i], cpu);
        check_level(&lk, &ref, ts_isa_name(levels[i]), &seed);
        fprintf(stderr, "level %s: checked\n", ts_isa_name(levels[i]));
    }
    check_threads();
    check_rope_formula();
    check_errors();
    ts_shutdown();
    TS_TEST_EXIT();
}
