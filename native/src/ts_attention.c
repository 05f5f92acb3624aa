/*
 * ts_attention.c — fused attention: the driver (checks, scratch, threads) and the scalar
 * reference tile.
 *
 * The pool shares work items (head, tile of attn_tile_q queries) through an atomic
 * counter, so causal attention, whose late tiles see more keys, still balances. Each
 * thread owns one scratch block of attn_scratch_floats(d) floats, allocated here once
 * per call: memory is O(threads · tile · d), independent of lk.
 *
 * Scalar tile: one query row at a time, keys in blocks of TS_ATTN_SCALAR_BK with an
 * online softmax: m = running max, l = running sum of exp(s - m), acc = running sum of
 * exp(s - m)·V; when a block raises m, l and acc are rescaled by exp(m_old - m_new).
 * A row that has seen no finite score keeps m = -inf and contributes nothing; at the end
 * l == 0 means "no visible key" and the row is written as zeros.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tessera.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_fp16.h"
#include "ts_threadpool.h"

#define TS_ATTN_SCALAR_BK 64
#define TS_ATTN_MAX_D 256

/* Unaligned loads: no alignment is required of the caller's buffers. */
static inline float ld_f32(const void *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

static inline float ld_kv(const char *p, int32_t type, int64_t c) {
    if (type == TS_TYPE_F16) {
        uint16_t h;
        memcpy(&h, p + 2 * c, sizeof h);
        return ts_f16_to_f32(h);
    }
    return ld_f32(p + 4 * c);
}

int64_t ts_attn_scratch_floats_scalar(int64_t d) { return 2 * d + TS_ATTN_SCALAR_BK; }

void ts_attn_tile_scalar(const ts_attn_args *a, int64_t h, int64_t q0, int64_t nq, float *scratch) {
    const int64_t d = a->d;
    const int64_t kvh = h / (a->n_heads / a->n_kv_heads);
    const char *kb = a->k + kvh * a->k_hs;
    const char *vb = a->v + kvh * a->v_hs;
    const int64_t esz = a->kv_type == TS_TYPE_F16 ? 2 : 4;
    float *qs = scratch, *acc = scratch + d, *s = scratch + 2 * d;
    (void)esz;
    for (int64_t i = q0; i < q0 + nq; i++) {
        const char *qr = (const char *)a->q + h * a->q_hs + i * a->q_rs;
        for (int64_t c = 0; c < d; c++) qs[c] = ld_f32(qr + 4 * c) * a->scale;
        for (int64_t c = 0; c < d; c++) acc[c] = 0.0f;
        float m = -INFINITY, l = 0.0f;
        /* Keys this row may see: all, or [0, kv_offset + i] when causal. */
        int64_t kend = a->lk;
        if (a->causal) {
            int64_t last = a->kv_offset + i;
            kend = last < 0 ? 0 : (last + 1 < a->lk ? last + 1 : a->lk);
        }
        const char *mr = a->mask ? (const char *)a->mask + i * a->mask_rs : NULL;
        for (int64_t k0 = 0; k0 < kend; k0 += TS_ATTN_SCALAR_BK) {
            int64_t nk = kend - k0 < TS_ATTN_SCALAR_BK ? kend - k0 : TS_ATTN_SCALAR_BK;
            float bmax = -INFINITY;
            for (int64_t j = 0; j < nk; j++) {
                const char *kr = kb + (k0 + j) * a->k_rs;
                float dot = 0.0f;
                for (int64_t c = 0; c < d; c++) dot += qs[c] * ld_kv(kr, a->kv_type, c);
                if (mr) dot += ld_f32(mr + 4 * (k0 + j));
                s[j] = dot;
                if (dot > bmax) bmax = dot;
            }
            if (bmax == -INFINITY) continue; /* every key of the block hidden */
            float mnew = bmax > m ? bmax : m;
            float alpha = expf(m - mnew); /* m = -inf on the first visible block: 0 */
            l *= alpha;
            for (int64_t c = 0; c < d; c++) acc[c] *= alpha;
            for (int64_t j = 0; j < nk; j++) {
                float p = expf(s[j] - mnew);
                l += p;
                const char *vr = vb + (k0 + j) * a->v_rs;
                for (int64_t c = 0; c < d; c++) acc[c] += p * ld_kv(vr, a->kv_type, c);
            }
            m = mnew;
        }
        char *orow = (char *)a->o + h * a->o_hs + i * a->o_rs;
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int64_t c = 0; c < d; c++) {
            float r = acc[c] * inv;
            memcpy(orow + 4 * c, &r, sizeof r);
        }
    }
}

void ts_register_attention_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->attn_tile = ts_attn_tile_scalar;
    k->attn_tile_q = 16;
    k->attn_scratch_floats = ts_attn_scratch_floats_scalar;
}

typedef struct {
    const ts_attn_args *a;
    const struct ts_kernels *kern;
    char *scratch;
    size_t scratch_stride; /* bytes per thread, a multiple of 64 */
    int64_t n_tiles, n_items;
    _Atomic int64_t next; /* ts_claim_chunk's counter */
} attn_job;

static void attn_task(void *ctx, int32_t ith, int32_t nth) {
    attn_job *j = ctx;
    (void)nth;
    float *scratch = (float *)(j->scratch + (size_t)ith * j->scratch_stride);
    const int64_t tq = j->kern->attn_tile_q;
    for (int64_t item, end; ts_claim_chunk(&j->next, j->n_items, 1, &item, &end);) {
        /* Head-major order: neighbouring items share a head's K/V in the caches. */
        int64_t h = item / j->n_tiles, t = item % j->n_tiles;
        int64_t q0 = t * tq, nq = j->a->lq - q0 < tq ? j->a->lq - q0 : tq;
        j->kern->attn_tile(j->a, h, q0, nq, scratch);
    }
}

static size_t scratch_stride(const struct ts_kernels *kern, int64_t d) {
    size_t bytes = (size_t)kern->attn_scratch_floats(d) * sizeof(float);
    return (bytes + 63) & ~(size_t)63;
}

static int32_t attn_threads(int64_t n_heads, int64_t lq, int64_t lk, int64_t d, int64_t n_items) {
    int32_t nth = ts_threads_for(n_heads * lq * lk * d, 1 << 16);
    return nth < n_items ? nth : (int32_t)n_items;
}

int64_t ts_attention_scratch_bytes(int64_t n_heads, int64_t lq, int64_t lk, int64_t d) {
    const struct ts_kernels *kern = ts_kernels_active();
    if (kern->attn_tile == NULL || n_heads <= 0 || lq <= 0 || lk <= 0 || d <= 0 || d > TS_ATTN_MAX_D) return 0;
    int64_t n_items = n_heads * ((lq + kern->attn_tile_q - 1) / kern->attn_tile_q);
    return (int64_t)scratch_stride(kern, d) * attn_threads(n_heads, lq, lk, d, n_items);
}

int32_t ts_attention(float *o, int64_t o_head_stride, int64_t o_row_stride, const float *q, int64_t q_head_stride,
                     int64_t q_row_stride, const void *k, int64_t k_head_stride, int64_t k_row_stride, const void *v,
                     int64_t v_head_stride, int64_t v_row_stride, int32_t kv_type, const float *mask, int64_t mask_row_stride,
                     int64_t n_heads, int64_t n_kv_heads, int64_t lq, int64_t lk, int64_t d, float scale, int32_t causal,
                     int64_t kv_offset) {
    int32_t st = ts_require_init("ts_attention");
    if (st) return st;
    if (kv_type != TS_TYPE_F32 && kv_type != TS_TYPE_F16)
        return ts_set_error(TS_ERR_UNSUPPORTED, "ts_attention: K/V type id %d is not supported (F32 or F16)", (int)kv_type);
    if (n_heads <= 0 || n_kv_heads <= 0 || n_heads % n_kv_heads != 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_attention: n_heads %lld is not a positive multiple of n_kv_heads %lld",
                            (long long)n_heads, (long long)n_kv_heads);
    if (d <= 0 || d > TS_ATTN_MAX_D)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_attention: head size %lld outside [1, %d]", (long long)d, TS_ATTN_MAX_D);
    if (lq < 0 || lk < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_attention: negative lq %lld or lk %lld", (long long)lq, (long long)lk);
    if (!isfinite(scale)) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_attention: scale is not finite");
    if (lq == 0) return TS_OK;
    if (o == NULL || q == NULL || (lk > 0 && (k == NULL || v == NULL)))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_attention: null pointer");

    ts_attn_args a = {o, o_head_stride, o_row_stride, q, q_head_stride, q_row_stride, (const char *)k, k_head_stride,
                      k_row_stride, (const char *)v, v_head_stride, v_row_stride, kv_type, lk > 0 ? mask : NULL,
                      mask_row_stride, n_heads, n_kv_heads, lq, lk, d, scale, causal != 0, kv_offset};
    const struct ts_kernels *kern = ts_kernels_active();
    attn_job job = {.a = &a, .kern = kern};
    job.n_tiles = (lq + kern->attn_tile_q - 1) / kern->attn_tile_q;
    job.n_items = n_heads * job.n_tiles;
    atomic_init(&job.next, 0);
    int32_t nth = attn_threads(n_heads, lq, lk, d, job.n_items);
    job.scratch_stride = scratch_stride(kern, d);
    size_t total = job.scratch_stride * (size_t)nth;
    job.scratch = aligned_alloc(64, total);
    if (job.scratch == NULL) return ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_attention: cannot allocate %zu bytes of scratch", total);
    ts_parallel(attn_task, &job, nth);
    free(job.scratch);
    return TS_OK;
}
