/*
 * ts_copy.c — ts_copy_strided: n-dimensional, dtype-converting copy between byte-strided
 * views.
 *
 * Plan: drop size-1 dimensions and merge neighbours that are contiguous with each other in
 * both views (so a plain contiguous copy becomes one long row), then walk the outer
 * dimensions as "rows" of the innermost one. A row that is contiguous in both views is one
 * call of the row kernel; otherwise elements are gathered into a stack buffer, converted
 * with the row kernel and scattered, so the SIMD conversions still do the arithmetic.
 * Big copies split the rows over the pool.
 */
#include <string.h>

#include "tessera.h"
#include "ts_convert.h"
#include "ts_core.h"
#include "ts_threadpool.h"

#define TS_COPY_PAR_MIN 32768 /* elements below which the caller copies alone */
#define TS_COPY_BLOCK 256     /* elements per gather/convert/scatter block */

struct copy_job {
    char *dst;
    const char *src;
    int32_t dst_type, src_type;
    int32_t dsz, ssz;
    int32_t ndim; /* >= 1 after normalisation */
    int64_t shape[TS_MAX_DIMS];
    int64_t dstr[TS_MAX_DIMS];
    int64_t sstr[TS_MAX_DIMS];
    int64_t rows; /* product of shape[0 .. ndim-2] */
};

static void copy_elems(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n, int32_t size) {
    if (size == 4)
        for (int64_t i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 4);
    else
        for (int64_t i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 2);
}

/* n elements of an innermost row. */
static void copy_row(const struct copy_job *j, char *d, const char *s, int64_t n) {
    const int64_t ds = j->dstr[j->ndim - 1], ss = j->sstr[j->ndim - 1];
    const int dst_contig = ds == j->dsz, src_contig = ss == j->ssz;
    if (dst_contig && src_contig) {
        ts_convert_row(d, j->dst_type, s, j->src_type, n);
        return;
    }
    if (j->dst_type == j->src_type) {
        copy_elems(d, ds, s, ss, n, j->dsz);
        return;
    }
    /* 4-byte elements at most: aligned buffers of float hold either type. */
    float sbuf[TS_COPY_BLOCK], dbuf[TS_COPY_BLOCK];
    for (int64_t i = 0; i < n; i += TS_COPY_BLOCK) {
        int64_t m = n - i < TS_COPY_BLOCK ? n - i : TS_COPY_BLOCK;
        const char *sp = s + i * ss;
        char *dp = d + i * ds;
        const void *in = sp;
        if (!src_contig) {
            copy_elems((char *)sbuf, j->ssz, sp, ss, m, j->ssz);
            in = sbuf;
        }
        if (dst_contig) {
            ts_convert_row(dp, j->dst_type, in, j->src_type, m);
        } else {
            ts_convert_row(dbuf, j->dst_type, in, j->src_type, m);
            copy_elems(dp, ds, (const char *)dbuf, j->dsz, m, j->dsz);
        }
    }
}

static void copy_task(void *ctx, int32_t ith, int32_t nth) {
    const struct copy_job *j = ctx;
    int64_t b, e;
    if (j->rows == 1) { /* one long row: split it instead */
        const int64_t n = j->shape[j->ndim - 1];
        ts_split_range(n, 64, ith, nth, &b, &e);
        if (b < e) copy_row(j, j->dst + b * j->dstr[j->ndim - 1], j->src + b * j->sstr[j->ndim - 1], e - b);
        return;
    }
    ts_split_range(j->rows, 1, ith, nth, &b, &e);
    if (b >= e) return;
    const int outer = j->ndim - 1;
    int64_t idx[TS_MAX_DIMS];
    const char *s = j->src;
    char *d = j->dst;
    /* Multi-index of row b (row-major over the outer dimensions). */
    int64_t r = b;
    for (int k = outer - 1; k >= 0; k--) {
        idx[k] = r % j->shape[k];
        r /= j->shape[k];
        s += idx[k] * j->sstr[k];
        d += idx[k] * j->dstr[k];
    }
    for (int64_t row = b; row < e; row++) {
        copy_row(j, d, s, j->shape[j->ndim - 1]);
        /* Odometer step to the next row. */
        for (int k = outer - 1; k >= 0; k--) {
            s += j->sstr[k];
            d += j->dstr[k];
            if (++idx[k] < j->shape[k]) break;
            s -= j->sstr[k] * j->shape[k];
            d -= j->dstr[k] * j->shape[k];
            idx[k] = 0;
        }
    }
}

TS_API int32_t ts_copy_strided(void *dst, int32_t dst_type, const int64_t *dst_strides, const void *src,
                               int32_t src_type, const int64_t *src_strides, const int64_t *shape, int32_t ndim) {
    int32_t st = ts_require_init("ts_copy_strided");
    if (st) return st;
    struct copy_job j;
    memset(&j, 0, sizeof j);
    j.dsz = ts_convert_type_size(dst_type);
    j.ssz = ts_convert_type_size(src_type);
    if (j.dsz == 0 || j.ssz == 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT,
                            "ts_copy_strided: unsupported type pair dst_type=%d src_type=%d (F32=0, F16=1, BF16=30)",
                            (int)dst_type, (int)src_type);
    if (ndim < 0 || ndim > TS_MAX_DIMS)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_copy_strided: ndim=%d out of range [0, %d]", (int)ndim,
                            TS_MAX_DIMS);
    if (ndim > 0 && (shape == NULL || dst_strides == NULL || src_strides == NULL))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_copy_strided: %s is NULL with ndim=%d",
                            shape == NULL ? "shape" : dst_strides == NULL ? "dst_strides" : "src_strides", (int)ndim);
    int64_t total = 1;
    for (int32_t k = 0; k < ndim; k++) {
        if (shape[k] < 0)
            return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_copy_strided: shape[%d]=%lld is negative", (int)k,
                                (long long)shape[k]);
        if (shape[k] == 0) total = 0;
        else if (total > INT64_MAX / shape[k])
            return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_copy_strided: element count overflows int64");
        else total *= shape[k];
    }
    if (total == 0) return TS_OK;
    if (dst == NULL || src == NULL)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_copy_strided: %s is NULL with %lld elements",
                            dst == NULL ? "dst" : "src", (long long)total);

    j.dst = dst;
    j.src = src;
    j.dst_type = dst_type;
    j.src_type = src_type;
    /* Normalise: skip size-1 dims, merge an outer dim into the inner one when the outer
     * stride equals inner stride * inner extent in both views (holds for stride 0 too). */
    int n = 0;
    for (int32_t k = 0; k < ndim; k++) {
        if (shape[k] == 1) continue;
        j.shape[n] = shape[k];
        j.dstr[n] = dst_strides[k];
        j.sstr[n] = src_strides[k];
        if (n > 0 && j.dstr[n - 1] == j.dstr[n] * j.shape[n] && j.sstr[n - 1] == j.sstr[n] * j.shape[n]) {
            j.shape[n - 1] *= j.shape[n];
            j.dstr[n - 1] = j.dstr[n];
            j.sstr[n - 1] = j.sstr[n];
        } else {
            n++;
        }
    }
    if (n == 0) { /* a single element */
        j.shape[0] = 1;
        j.dstr[0] = j.dsz;
        j.sstr[0] = j.ssz;
        n = 1;
    }
    j.ndim = n;
    j.rows = total / j.shape[n - 1];

    int32_t nth = 1;
    if (total >= TS_COPY_PAR_MIN && j.rows == 1) {
        nth = ts_threads_for(total, TS_COPY_PAR_MIN / 2);
    } else if (total >= TS_COPY_PAR_MIN) {
        int64_t row_len = j.shape[n - 1];
        int64_t min_rows = (TS_COPY_PAR_MIN / 2 + row_len - 1) / row_len;
        nth = ts_threads_for(j.rows, min_rows);
    }
    ts_parallel(copy_task, &j, nth);
    return TS_OK;
}
