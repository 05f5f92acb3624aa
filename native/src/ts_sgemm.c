/*
 * ts_sgemm.c — scalar reference F32 GEMM block and the threaded driver over the kernel
 * table's sgemm_block.
 */
#include "ts_sgemm.h"

#include <stdlib.h>
#include <string.h>

#include "tessera.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_threadpool.h"

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

void ts_sgemm_pack_a_block(int64_t mc, int64_t kc, const float *a, int64_t lda, float *pa) {
    for (int64_t ir = 0; ir < mc; ir += TS_SGEMM_MR) {
        int64_t mr = mc - ir < TS_SGEMM_MR ? mc - ir : TS_SGEMM_MR;
        const float *ar = a + ir * lda;
        for (int64_t p = 0; p < kc; p++) {
            int64_t i = 0;
            for (; i < mr; i++) pa[i] = ar[i * lda + p];
            for (; i < TS_SGEMM_MR; i++) pa[i] = 0.0f;
            pa += TS_SGEMM_MR;
        }
    }
}

int64_t ts_sgemm_packed_a_floats(int64_t m, int64_t k) { return round_up(m, TS_SGEMM_MR) * k; }

void ts_sgemm_pack_a(int64_t m, int64_t k, const float *a, int64_t lda, float *pa) {
    int64_t mround = round_up(m, TS_SGEMM_MR);
    for (int64_t pc = 0; pc < k; pc += TS_SGEMM_KC) {
        int64_t kc = k - pc < TS_SGEMM_KC ? k - pc : TS_SGEMM_KC;
        ts_sgemm_pack_a_block(m, kc, a + pc, lda, pa + pc * mround);
    }
}

/* Walks each source row once, scattering with stride NR. */
void ts_sgemm_pack_bt_panel_ref(int64_t kc, const float *src, int64_t lds, int64_t nr, float *pb) {
    for (int64_t t = 0; t < TS_SGEMM_NR; t++) {
        if (t < nr) {
            const float *row = src + t * lds;
            for (int64_t p = 0; p < kc; p++) pb[p * TS_SGEMM_NR + t] = row[p];
        } else {
            for (int64_t p = 0; p < kc; p++) pb[p * TS_SGEMM_NR + t] = 0.0f;
        }
    }
}

void ts_sgemm_pack_b(int64_t kc, int64_t nc, const float *b, int64_t ldb, int32_t b_trans, ts_sgemm_pack_bt_fn panel,
                     float *pb) {
    for (int64_t jr = 0; jr < nc; jr += TS_SGEMM_NR) {
        int64_t nr = nc - jr < TS_SGEMM_NR ? nc - jr : TS_SGEMM_NR;
        if (b_trans) { /* B(p, j) = b[j * ldb + p]: the level's transposing panel copy */
            panel(kc, b + jr * ldb, ldb, nr, pb);
            pb += kc * TS_SGEMM_NR;
            continue;
        }
        const float *bp = b + jr;
        for (int64_t p = 0; p < kc; p++) {
            memcpy(pb, bp, (size_t)nr * sizeof(float));
            for (int64_t t = nr; t < TS_SGEMM_NR; t++) pb[t] = 0.0f;
            bp += ldb;
            pb += TS_SGEMM_NR;
        }
    }
}

/* Scalar macro kernel: the packed layouts read with plain loops. */
static void sgemm_macro_ref(int64_t m, int64_t n, int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,
                            int32_t accumulate) {
    for (int64_t i = 0; i < m; i++) {
        const float *ap = pa + (i / TS_SGEMM_MR) * TS_SGEMM_MR * kc + i % TS_SGEMM_MR;
        for (int64_t j = 0; j < n; j++) {
            const float *bp = pb + (j / TS_SGEMM_NR) * TS_SGEMM_NR * kc + j % TS_SGEMM_NR;
            float s = 0.0f;
            for (int64_t p = 0; p < kc; p++) s += ap[p * TS_SGEMM_MR] * bp[p * TS_SGEMM_NR];
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
}

void ts_sgemm_block_ref(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                        int32_t b_trans, float *c, int64_t ldc, int32_t accumulate, float *scratch) {
    (void)scratch;
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        if (!accumulate)
            for (int64_t j = 0; j < n; j++) ci[j] = 0.0f;
        const float *ai = a + i * lda;
        if (b_trans) {
            for (int64_t j = 0; j < n; j++) {
                const float *bj = b + j * ldb;
                float s = 0.0f;
                for (int64_t p = 0; p < k; p++) s += ai[p] * bj[p];
                ci[j] += s;
            }
        } else {
            /* i-p-j order: the inner loop runs along rows of B and C. */
            for (int64_t p = 0; p < k; p++) {
                const float av = ai[p];
                const float *bp = b + p * ldb;
                for (int64_t j = 0; j < n; j++) ci[j] += av * bp[j];
            }
        }
    }
}


int64_t ts_sgemm_scratch_floats(int64_t m, int64_t n, int64_t k) {
    int64_t kc = k < TS_SGEMM_KC ? k : TS_SGEMM_KC;
    int64_t mc = round_up(m < TS_SGEMM_MC ? m : TS_SGEMM_MC, TS_SGEMM_MR);
    int64_t nc = round_up(n < TS_SGEMM_NC ? n : TS_SGEMM_NC, TS_SGEMM_NR);
    if (kc < 1) kc = 1;
    /* +16: the B panel starts 32-byte aligned after the A block. */
    return mc * kc + nc * kc + 16;
}

typedef struct {
    int64_t m, n, k, lda, ldb, ldc;
    const float *a, *b;
    float *c;
    int32_t b_trans, accumulate, split_n;
    float *scratch;
    int64_t scratch_per_thread;
    ts_sgemm_block_fn block;
} sgemm_job;

static void sgemm_task(void *ctx, int32_t ith, int32_t nth) {
    const sgemm_job *j = ctx;
    float *scr = j->scratch + (int64_t)ith * j->scratch_per_thread;
    int64_t b, e;
    if (j->split_n) {
        ts_split_range(j->n, TS_SGEMM_NR, ith, nth, &b, &e);
        if (b >= e) return;
        const float *bb = j->b_trans ? j->b + b * j->ldb : j->b + b;
        j->block(j->m, e - b, j->k, j->a, j->lda, bb, j->ldb, j->b_trans, j->c + b, j->ldc, j->accumulate, scr);
    } else {
        ts_split_range(j->m, TS_SGEMM_MR, ith, nth, &b, &e);
        if (b >= e) return;
        j->block(e - b, j->n, j->k, j->a + b * j->lda, j->lda, j->b, j->ldb, j->b_trans, j->c + b * j->ldc, j->ldc,
                 j->accumulate, scr);
    }
}

/* How ts_sgemm splits an m x n x k product: threads, split side, scratch floats per thread. */
static void sgemm_plan(int64_t m, int64_t n, int64_t k, int32_t *nth_out, int32_t *split_n_out, int64_t *per_out) {
    /* Split the longer side of C: each thread then packs all of the other operand, which
     * costs 1/(its share of the long side) of its multiply-adds. */
    int32_t split_n = n >= m;
    int64_t tiles = split_n ? (n + TS_SGEMM_NR - 1) / TS_SGEMM_NR : (m + TS_SGEMM_MR - 1) / TS_SGEMM_MR;
    int32_t nth = ts_threads_for(m * n * (k > 0 ? k : 1), 1 << 18);
    if (nth > tiles) nth = (int32_t)tiles;
    int64_t per = split_n ? ts_sgemm_scratch_floats(m, (n + nth - 1) / nth + TS_SGEMM_NR, k)
                          : ts_sgemm_scratch_floats((m + nth - 1) / nth + TS_SGEMM_MR, n, k);
    *nth_out = nth;
    *split_n_out = split_n;
    *per_out = round_up(per, 16); /* 64-byte aligned slices */
}

int64_t ts_sgemm_scratch_bytes(int64_t m, int64_t n, int64_t k) {
    if (m <= 0 || n <= 0) return 0;
    int32_t nth, split_n;
    int64_t per;
    sgemm_plan(m, n, k, &nth, &split_n, &per);
    return per * nth * (int64_t)sizeof(float);
}

int32_t ts_sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                 int32_t b_trans, float *c, int64_t ldc, int32_t accumulate) {
    if (m <= 0 || n <= 0) return TS_OK;
    int32_t nth, split_n;
    int64_t per;
    sgemm_plan(m, n, k, &nth, &split_n, &per);
    size_t bytes = (size_t)per * (size_t)nth * sizeof(float);
    float *scratch = aligned_alloc(64, bytes);
    if (scratch == NULL) return ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_sgemm: cannot allocate %zu bytes of scratch", bytes);
    sgemm_job job = {m, n, k, lda, ldb, ldc, a, b, c, b_trans, accumulate, split_n, scratch, per,
                     ts_kernels_active()->sgemm_block};
    ts_parallel(sgemm_task, &job, nth);
    free(scratch);
    return TS_OK;
}

void ts_register_sgemm_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->sgemm_block = ts_sgemm_block_ref;
    k->sgemm_macro = sgemm_macro_ref;
    k->sgemm_pack_bt_panel = ts_sgemm_pack_bt_panel_ref;
}
