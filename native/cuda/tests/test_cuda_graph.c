/*
 * test_cuda_graph.c — recorded runs (tsc_graph_begin / tsc_graph_end) against the same ops
 * called directly: a decode-like step (an embedding row, RMSNorm, two Q4_0 matvecs of one
 * input, RoPE at a position, the new row stored into an F16 cache at that position, a device
 * copy and a memset) gives the same bytes either way, step after step with new ids and
 * positions (the kept graph updated in place), and what would wait is refused while recording.
 * The same kernels run on both sides, so the comparison is exact.
 */
#include "tsc_test.h"

enum { VOCAB = 50, N = 256, HEADS = 2, HD = 64, ROWS = HEADS * HD, CTX = 16 };

typedef struct {
    void *table, *norm_w, *wq, *wk; /* shared inputs */
    float *h, *hn, *q, *k, *q_copy;  /* one set of outputs per side */
    void *cache;                     /* [CTX][ROWS] F16 */
    unsigned char *flag;             /* 64 bytes a memset fills with the step number */
} side;

static void alloc_side(void *ctx, side *s) {
    CHECK(tsc_alloc(ctx, N * 4, (void **)&s->h) == TS_OK && tsc_alloc(ctx, N * 4, (void **)&s->hn) == TS_OK &&
              tsc_alloc(ctx, ROWS * 4, (void **)&s->q) == TS_OK && tsc_alloc(ctx, ROWS * 4, (void **)&s->k) == TS_OK &&
              tsc_alloc(ctx, ROWS * 4, (void **)&s->q_copy) == TS_OK && tsc_alloc(ctx, CTX * ROWS * 2, &s->cache) == TS_OK &&
              tsc_alloc(ctx, 64, (void **)&s->flag) == TS_OK,
          "alloc: %s", tsc_last_error());
    CHECK(tsc_memset(ctx, s->cache, 0, CTX * ROWS * 2) == TS_OK && tsc_memset(ctx, s->flag, 0, 64) == TS_OK, "clear");
}

/* One step; every call must succeed, recorded or not. */
static void step(void *ctx, const side *s, int32_t id, int32_t pos) {
    const int64_t row_q4 = 18 * (N / 32);
    CHECK(tsc_get_rows(ctx, s->h, N * 4, s->table, TS_TYPE_F32, N * 4, VOCAB, N, &id, 1) == TS_OK, "get_rows: %s", tsc_last_error());
    CHECK(tsc_rms_norm(ctx, s->hn, N * 4, s->h, N * 4, s->norm_w, 1, N, 1e-5f) == TS_OK, "rms_norm: %s", tsc_last_error());
    CHECK(tsc_matmul(ctx, s->q, ROWS * 4, s->wq, TS_TYPE_Q4_0, row_q4, s->hn, N * 4, ROWS, N, 1) == TS_OK, "matmul q: %s",
          tsc_last_error());
    CHECK(tsc_matmul(ctx, s->k, ROWS * 4, s->wk, TS_TYPE_Q4_0, row_q4, s->hn, N * 4, ROWS, N, 1) == TS_OK, "matmul k: %s",
          tsc_last_error());
    CHECK(tsc_rope(ctx, s->q, ROWS * 4, HD * 4, s->q, ROWS * 4, HD * 4, &pos, 1, HEADS, HD, HD, TS_ROPE_NEOX, 10000.0f) == TS_OK,
          "rope: %s", tsc_last_error());
    const int64_t shape[1] = {ROWS}, src_strides[1] = {4}, dst_strides[1] = {2};
    CHECK(tsc_copy_strided(ctx, (char *)s->cache + (int64_t)pos * ROWS * 2, TS_TYPE_F16, dst_strides, s->k, TS_TYPE_F32, src_strides,
                           shape, 1) == TS_OK,
          "copy_strided: %s", tsc_last_error());
    CHECK(tsc_copy(ctx, s->q_copy, s->q, ROWS * 4) == TS_OK, "copy: %s", tsc_last_error());
    CHECK(tsc_memset(ctx, s->flag, pos & 0xff, 64) == TS_OK, "memset: %s", tsc_last_error());
}

static int same_bytes(void *ctx, const char *what, const void *a, const void *b, int64_t bytes) {
    unsigned char *ha = malloc((size_t)bytes), *hb = malloc((size_t)bytes);
    tsc_test_down(ctx, ha, a, bytes);
    tsc_test_down(ctx, hb, b, bytes);
    const int same = memcmp(ha, hb, (size_t)bytes) == 0;
    CHECK(same, "%s: recorded run differs from the direct one", what);
    free(ha), free(hb);
    return same;
}

static void compare(void *ctx, int step_no, const side *d, const side *r) {
    char what[64];
    snprintf(what, sizeof what, "step %d q", step_no);
    same_bytes(ctx, what, d->q, r->q, ROWS * 4);
    snprintf(what, sizeof what, "step %d q copy", step_no);
    same_bytes(ctx, what, d->q_copy, r->q_copy, ROWS * 4);
    snprintf(what, sizeof what, "step %d cache", step_no);
    same_bytes(ctx, what, d->cache, r->cache, CTX * ROWS * 2);
    snprintf(what, sizeof what, "step %d flag", step_no);
    same_bytes(ctx, what, d->flag, r->flag, 64);
}

static void stats(void *ctx, int64_t out[TSC_GRAPH_STATS_COUNT]) {
    CHECK(tsc_graph_stats(ctx, out, TSC_GRAPH_STATS_COUNT) == TS_OK, "stats: %s", tsc_last_error());
}

int main(void) {
    int64_t st[TSC_GRAPH_STATS_COUNT];
    CHECK(tsc_graph_begin(NULL) == TS_ERR_NOT_INITIALIZED, "begin without a context");
    CHECK(tsc_graph_end(NULL, 0, 1) == TS_ERR_NOT_INITIALIZED, "end without a context");
    CHECK(tsc_graph_stats(NULL, st, TSC_GRAPH_STATS_COUNT) == TS_ERR_NOT_INITIALIZED, "stats without a context");
    void *ctx = tsc_test_open();
    uint64_t seed = 7;

    float *table = tsc_test_randn(&seed, VOCAB * N, 1.0f), *norm_w = tsc_test_randn(&seed, N, 1.0f);
    float *wf = tsc_test_randn(&seed, 2 * ROWS * N, 0.5f);
    const int64_t wbytes = ROWS * 18 * (N / 32);
    unsigned char *wq = malloc((size_t)(2 * wbytes));
    CHECK(ts_quantize(wq, TS_TYPE_Q4_0, wf, 2 * ROWS, N) == TS_OK, "quantize: %s", ts_last_error());
    side d, r;
    d.table = r.table = tsc_test_up(ctx, table, VOCAB * N * 4);
    d.norm_w = r.norm_w = tsc_test_up(ctx, norm_w, N * 4);
    d.wq = r.wq = tsc_test_up(ctx, wq, wbytes);
    d.wk = r.wk = tsc_test_up(ctx, wq + wbytes, wbytes);
    alloc_side(ctx, &d);
    alloc_side(ctx, &r);

    /* Step after step, each recorded afresh under one key: the first builds the graph, the
     * others update it in place (same kernels, other ids, positions and cache rows). */
    const int steps = 6;
    for (int i = 0; i < steps; i++) {
        const int32_t id = (i * 7 + 3) % VOCAB, pos = i * 2 + 1;
        step(ctx, &d, id, pos);
        CHECK(tsc_graph_begin(ctx) == TS_OK, "begin: %s", tsc_last_error());
        step(ctx, &r, id, pos);
        CHECK(tsc_graph_end(ctx, 1, 1) == TS_OK, "end: %s", tsc_last_error());
        compare(ctx, i, &d, &r);
    }
    stats(ctx, st);
    printf("%d steps: %lld graphs run, %lld updated in place, %lld built; %lld nodes per step\n", steps,
           (long long)st[TSC_GRAPH_LAUNCHES], (long long)st[TSC_GRAPH_UPDATES], (long long)st[TSC_GRAPH_BUILDS],
           (long long)st[TSC_GRAPH_NODES]);
    CHECK(st[TSC_GRAPH_LAUNCHES] == steps && st[TSC_GRAPH_BUILDS] == 1 && st[TSC_GRAPH_UPDATES] == steps - 1,
          "one build, then updates");
    CHECK(st[TSC_GRAPH_NODES] >= 8, "a step records at least its 8 ops (%lld nodes)", (long long)st[TSC_GRAPH_NODES]);

    /* Another key with other ops gets a graph of its own; the first key's is still kept. */
    CHECK(tsc_graph_begin(ctx) == TS_OK, "begin");
    CHECK(tsc_copy(ctx, r.q_copy, r.k, ROWS * 4) == TS_OK, "copy");
    CHECK(tsc_graph_end(ctx, 2, 1) == TS_OK, "end: %s", tsc_last_error());
    same_bytes(ctx, "second key's copy", r.q_copy, r.k, ROWS * 4);
    step(ctx, &d, 5, 14);
    CHECK(tsc_graph_begin(ctx) == TS_OK, "begin");
    step(ctx, &r, 5, 14);
    CHECK(tsc_graph_end(ctx, 1, 1) == TS_OK, "end: %s", tsc_last_error());
    compare(ctx, steps, &d, &r);
    stats(ctx, st);
    CHECK(st[TSC_GRAPH_BUILDS] == 2 && st[TSC_GRAPH_UPDATES] == steps, "key 2 built once, key 1 updated (%lld builds, %lld updates)",
          (long long)st[TSC_GRAPH_BUILDS], (long long)st[TSC_GRAPH_UPDATES]);

    /* While recording: what would wait is refused, a bad op fails alone, and a dropped
     * recording runs nothing. */
    unsigned char host[64], before[64];
    tsc_test_down(ctx, before, r.flag, 64);
    CHECK(tsc_graph_begin(ctx) == TS_OK, "begin");
    CHECK(tsc_graph_begin(ctx) == TS_ERR_INVALID_ARGUMENT, "nested begin refused");
    CHECK(tsc_download(ctx, host, r.flag, 64) == TS_ERR_INVALID_ARGUMENT, "download refused while recording");
    CHECK(strstr(tsc_last_error(), "recording") != NULL, "message says why: %s", tsc_last_error());
    CHECK(tsc_upload(ctx, r.flag, host, 64) == TS_ERR_INVALID_ARGUMENT, "upload refused while recording");
    CHECK(tsc_synchronize(ctx) == TS_ERR_INVALID_ARGUMENT, "synchronize refused while recording");
    const int32_t pos = 3;
    CHECK(tsc_rope(ctx, r.q, ROWS * 4, HD * 4, r.q, ROWS * 4, HD * 4, &pos, 1, HEADS, HD, 3, TS_ROPE_NEOX, 1e4f) ==
              TS_ERR_INVALID_ARGUMENT,
          "a bad op is refused while recording");
    CHECK(tsc_memset(ctx, r.flag, 0xEE, 64) == TS_OK, "memset recorded");
    CHECK(tsc_graph_end(ctx, 1, 0) == TS_OK, "drop: %s", tsc_last_error());
    tsc_test_down(ctx, host, r.flag, 64);
    CHECK(memcmp(host, before, 64) == 0, "a dropped recording ran nothing");
    CHECK(tsc_graph_end(ctx, 1, 1) == TS_ERR_INVALID_ARGUMENT, "end without begin refused");
    stats(ctx, st);
    CHECK(st[TSC_GRAPH_LAUNCHES] == steps + 2, "dropped recordings are not run");

    /* A context shut down while recording drops the recording. */
    void *other = NULL;
    CHECK(tsc_init(0, 0, &other) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_graph_begin(other) == TS_OK, "begin");
    CHECK(tsc_shutdown(other) == TS_OK, "shutdown while recording: %s", tsc_last_error());

    free(table), free(norm_w), free(wf), free(wq);
    CHECK(tsc_shutdown(ctx) == TS_OK, "shutdown");
    TS_TEST_EXIT();
}
