/*
 * tsc_ops.cu — norms, softmax, RoPE, activations, element-wise ops and embedding rows.
 *
 * Same contracts as the CPU ops of tessera.h. Row reductions (RMSNorm, the softmax sum) run
 * in double like the CPU reference kernels, one thread block per row; per-element formulas
 * are the CPU's (erff/tanhf/expf), so results differ only by the device's libm ulps and
 * the reduction order.
 */
#include <math.h>
#include <stdlib.h>

#include "tsc_internal.cuh"

#define TSC_ROW_THREADS 256
/* Up to this many rows a norm spreads each row over blocks (k_rms_norm_sliced): latency, not
 * throughput, is what a decode step's few rows pay. */
#define TSC_SLICED_ROWS 32

/* Block-wide sum of one double per thread (blockDim.x == TSC_ROW_THREADS). */
static __device__ double block_sum(double v) {
    __shared__ double part[TSC_ROW_THREADS / 32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    double s = 0;
    for (int i = 0; i < TSC_ROW_THREADS / 32; i++) s += part[i];
    __syncthreads(); /* part may be reused by the caller's next reduction */
    return s;
}

static __device__ float block_max(float v) {
    __shared__ float part[TSC_ROW_THREADS / 32];
    v = tsc_warp_max(v);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = part[0];
    for (int i = 1; i < TSC_ROW_THREADS / 32; i++) m = fmaxf(m, part[i]);
    __syncthreads();
    return m;
}

/* 1 / sqrt(mean(x²) + eps) of a row, summed in double by the block (TSC_ROW_THREADS): eight
 * loads in flight per thread before they are used (issued one after another, behind a bounds
 * check each, they made a 4096-row norm take 15 us on an H200; then 5). Both norm kernels call
 * it, so a row gets the same bits from either. */
static __device__ float rms_scale(const float *xr, int64_t n, float eps) {
    constexpr int U = 8;
    const int64_t step = blockDim.x;
    double ss = 0;
    int64_t i = threadIdx.x;
    for (; i + (U - 1) * step < n; i += U * step) {
        float v[U];
#pragma unroll
        for (int u = 0; u < U; u++) v[u] = xr[i + u * step];
#pragma unroll
        for (int u = 0; u < U; u++) ss += (double)v[u] * v[u];
    }
    for (; i < n; i += step) ss += (double)xr[i] * xr[i];
    ss = block_sum(ss);
    return (float)(1.0 / sqrt(ss / (double)n + (double)eps));
}

/* Q8: one row (n a multiple of 32) whose output the next matmul reads: its quantized copy is
 * written too (tsc_q8_split_store), the work of the quantizer kernel that then need not run.
 * Each warp holds 32 consecutive elements at a time (the block steps by 256), one Q8_0 block. */
template <bool Q8>
__global__ void k_rms_norm(float *y, int64_t ys, const float *x, int64_t xs, const float *w, int64_t n, float eps, int8_t *xq,
                           tsc_xs *xqs) {
    tsc_pdl_enter();
    const float *xr = x + blockIdx.x * xs;
    float *yr = y + blockIdx.x * ys;
    constexpr int U = 8;
    const int64_t step = blockDim.x;
    const float r = rms_scale(xr, n, eps);
    int64_t i = threadIdx.x;
    for (; i + (U - 1) * step < n; i += U * step) {
        float v[U], g[U];
#pragma unroll
        for (int u = 0; u < U; u++) v[u] = xr[i + u * step], g[u] = w ? w[i + u * step] : 1.0f;
#pragma unroll
        for (int u = 0; u < U; u++) {
            const float o = w ? v[u] * r * g[u] : v[u] * r;
            yr[i + u * step] = o;
            if (Q8) tsc_q8_split_store(o, xq, xqs, (i + u * step) / 32);
        }
    }
    for (; i < n; i += step) {
        const float v = xr[i] * r;
        const float o = w ? v * w[i] : v;
        yr[i] = o;
        if (Q8) tsc_q8_split_store(o, xq, xqs, i / 32);
    }
}

__global__ void k_softmax(float *y, int64_t ys, const float *x, int64_t xs, const float *mask, int64_t ms, int64_t mask_rows,
                          int64_t n, float scale) {
    tsc_pdl_enter();
    const float *xr = x + blockIdx.x * xs;
    float *yr = y + blockIdx.x * ys;
    const float *mr = mask ? mask + (blockIdx.x % mask_rows) * ms : NULL;
    float mx = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, __fadd_rn(__fmul_rn(xr[i], scale), mr ? mr[i] : 0.0f));
    mx = block_max(mx);
    if (mx == -INFINITY) { /* every entry masked out */
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = 0.0f;
        return;
    }
    double sum = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const float e = expf(__fadd_rn(__fmul_rn(xr[i], scale), mr ? mr[i] : 0.0f) - mx);
        yr[i] = e;
        sum += e;
    }
    sum = block_sum(sum);
    const float inv = (float)(1.0 / sum);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] *= inv;
}

/* Frequencies and positions travel as kernel parameters (< 4 KiB), at most
 * TSC_ROPE_ARG_FREQS pairs and TSC_ROPE_ARG_TOKENS tokens per launch: no host-to-device copy,
 * which from pageable memory may wait for the stream and which a graph recording refuses. */
#define TSC_ROPE_ARG_FREQS 128
#define TSC_ROPE_ARG_TOKENS 320
struct rope_args {
    double inv_freq[TSC_ROPE_ARG_FREQS]; /* of pairs p0 .. p0 + pairs - 1 */
    int32_t pos[TSC_ROPE_ARG_TOKENS];    /* of this launch's tokens */
};

/* The tensors one launch rotates at the same positions (Q and K of a layer, and with them the
 * V cache store): their heads one after the other, a launch's tokens from its first; x strides
 * in floats, y strides in bytes (y is F32 or F16, y_type). */
struct rope_parts {
    char *y[TSC_ROPE_PARTS];
    const float *x[TSC_ROPE_PARTS];
    int64_t yts[TSC_ROPE_PARTS], yhs[TSC_ROPE_PARTS], xts[TSC_ROPE_PARTS], xhs[TSC_ROPE_PARTS];
    int64_t head_end[TSC_ROPE_PARTS]; /* heads of parts 0..i together */
    int32_t y_type[TSC_ROPE_PARTS];   /* TS_TYPE_F32 or TS_TYPE_F16 */
    int32_t rotate[TSC_ROPE_PARTS];   /* 0: copied as it is (converted to y_type) */
};

/* One thread per (token, head, pair of this launch); threads past the pairs copy the tail
 * (elements n_dims .. head_dim - 1; tail is 0 except in a token chunk's first launch). */
__global__ void k_rope(const struct rope_parts r, const struct rope_args a, int64_t tokens, int64_t heads, int32_t p0, int32_t pairs,
                       int32_t tail, int32_t n_dims, int32_t neox) {
    tsc_pdl_enter();
    const int64_t per_head = pairs + tail;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= tokens * heads * per_head) return;
    const int64_t p = i % per_head, hh = i / per_head % heads, t = i / per_head / heads;
    int j = 0; /* the part of head hh: selects on constant indices, as mv_row_of */
    for (int q = 1; q < TSC_ROPE_PARTS; q++) j = hh >= r.head_end[q - 1] ? q : j;
    const int64_t h = hh - (j ? r.head_end[j - 1] : 0);
    const float *xr = r.x[j] + t * r.xts[j] + h * r.xhs[j];
    char *yr = r.y[j] + t * r.yts[j] + h * r.yhs[j];
    const int32_t yt = r.y_type[j], es = yt == TS_TYPE_F16 ? 2 : 4;
    if (p >= pairs) {
        const int64_t e = n_dims + (p - pairs);
        tsc_store_as(yr + e * es, yt, xr[e]);
        return;
    }
    const int64_t pair = p0 + p, half = n_dims / 2;
    const int64_t i0 = neox ? pair : 2 * pair, i1 = neox ? pair + half : 2 * pair + 1;
    const float x0 = xr[i0], x1 = xr[i1];
    if (!r.rotate[j]) {
        tsc_store_as(yr + i0 * es, yt, x0);
        tsc_store_as(yr + i1 * es, yt, x1);
        return;
    }
    const double theta = (double)a.pos[t] * a.inv_freq[p];
    const float c = (float)cos(theta), s = (float)sin(theta);
    tsc_store_as(yr + i0 * es, yt, __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s)));
    tsc_store_as(yr + i1 * es, yt, __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c)));
}

/* A row of a decode step (one of few rows): its slices of 512 elements go to blocks of their own,
 * each summing the squares of the whole row (rms_scale, as k_rms_norm: the same bits) and
 * scaling only its slice, held in registers. A row of 4096 with its Q8 copy on an H200 (ncu):
 * 9.7 us as one block (one SM's schedulers issue every element's quantizing), 6.1 as one block
 * of 1024 threads, 3.9 in 8 slices. Q8: n a multiple of 32, so a warp's 32 threads hold one
 * Q8_0 block per step. */
#define TSC_NORM_SLICE_PER_THREAD 2
template <bool Q8>
__global__ void k_rms_norm_sliced(float *y, int64_t ys, const float *x, int64_t xs, const float *w, int64_t n, float eps,
                                  int8_t *xq, tsc_xs *xqs) {
    constexpr int V = TSC_NORM_SLICE_PER_THREAD;
    tsc_pdl_enter();
    const float *xr = x + blockIdx.y * xs;
    float *yr = y + blockIdx.y * ys;
    const int64_t step = blockDim.x, base = blockIdx.x * V * step;
    float v[V], g[V];
#pragma unroll
    for (int u = 0; u < V; u++) {
        const int64_t i = base + threadIdx.x + u * step;
        v[u] = i < n ? xr[i] : 0.0f;
        g[u] = w && i < n ? w[i] : 1.0f;
    }
    const float r = rms_scale(xr, n, eps);
#pragma unroll
    for (int u = 0; u < V; u++) {
        const int64_t e = base + threadIdx.x + u * step;
        if (e - (threadIdx.x & 31) >= n) break; /* this warp's elements end here */
        const float o = w ? v[u] * r * g[u] : v[u] * r;
        if (e < n) yr[e] = o;
        if (Q8) tsc_q8_split_store(o, xq, xqs, e / 32);
    }
}

__global__ void k_act(float *y, int64_t ys, const float *x, int64_t xs, int act, int64_t rows, int64_t n) {
    tsc_pdl_enter();
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * n) return;
    const int64_t r = i / n, e = i % n;
    y[r * ys + e] = tsc_act(act, x[r * xs + e]);
}

/* Q8: as k_rms_norm's (one row, n a multiple of 32: a warp's 32 threads hold one block). */
template <bool Q8>
__global__ void k_glu(float *y, int64_t ys, const float *g, int64_t gs, const float *u, int64_t us, int act, int64_t rows,
                      int64_t n, int8_t *xq, tsc_xs *xqs) {
    tsc_pdl_enter();
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * n) return; /* with Q8, whole warps */
    const int64_t r = i / n, e = i % n;
    const float o = tsc_act(act, g[r * gs + e]) * u[r * us + e];
    y[r * ys + e] = o;
    if (Q8) tsc_q8_split_store(o, xq, xqs, i / 32);
}

struct bin_args {
    int64_t shape[4], ys[4], as[4], bs[4]; /* strides in floats */
};

__global__ void k_binary(float *y, const float *a, const float *b, struct bin_args g, int64_t total, int op) {
    tsc_pdl_enter();
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int64_t r = i, yo = 0, ao = 0, bo = 0;
    for (int d = 3; d >= 0; d--) {
        const int64_t c = r % g.shape[d];
        r /= g.shape[d];
        yo += c * g.ys[d];
        ao += c * g.as[d];
        bo += c * g.bs[d];
    }
    y[yo] = op == TS_BINARY_ADD ? a[ao] + b[bo] : a[ao] * b[bo];
}

/* Ids travel as kernel parameters, at most TSC_GET_ROWS_ARG_IDS per launch (see rope_args). */
#define TSC_GET_ROWS_ARG_IDS 512
struct get_rows_args {
    int32_t ids[TSC_GET_ROWS_ARG_IDS];
};

/* One thread per output element; the table row is dequantized element by element. */
__global__ void k_get_rows(float *y, int64_t ys, const char *table, int type, int64_t ts, int64_t n, const struct get_rows_args a,
                           int64_t n_ids) {
    tsc_pdl_enter();
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_ids * n) return;
    const int64_t r = i / n, e = i % n;
    const char *row = table + (int64_t)a.ids[r] * ts;
    float v;
    if (type == TS_TYPE_F32) v = ((const float *)row)[e];
    else if (type == TS_TYPE_F16) v = tsc_h2f(((const uint16_t *)row)[e]);
    else if (type == TS_TYPE_Q8_0) {
        const tsc_block_q8_0 *b = (const tsc_block_q8_0 *)row + e / 32;
        v = (float)b->qs[e % 32] * tsc_h2f(b->d);
    } else if (type == TS_TYPE_Q4_0) { /* byte j holds element j (low nibble) and j + 16 (high) */
        const tsc_block_q4_0 *b = (const tsc_block_q4_0 *)row + e / 32;
        const int j = (int)(e % 32);
        const int q = j < 16 ? (b->qs[j] & 15) : (b->qs[j - 16] >> 4);
        v = (float)(q - 8) * tsc_h2f(b->d);
    } else if (type == TS_TYPE_BF16) {
        v = __uint_as_float((uint32_t)((const uint16_t *)row)[e] << 16);
    } else if (type == TS_TYPE_Q4_K) {
        /* 144-byte blocks of 256: d, dmin (F16), 12 bytes of packed 6-bit (scale, min) for 8
         * sub-blocks of 32, then 128 bytes of nibbles (sub-blocks 2i and 2i+1 share 32 bytes:
         * low and high nibbles). The CPU's float steps: d*sc * q - dmin*m, unfused. */
        const uint8_t *b = (const uint8_t *)row + (e / 256) * 144;
        const int el = (int)(e % 256), j = el / 32, l = el % 32;
        const uint8_t *sc6 = b + 4;
        int sc, m;
        if (j < 4) sc = sc6[j] & 63, m = sc6[j + 4] & 63;
        else sc = (sc6[j + 4] & 15) | ((sc6[j - 4] >> 6) << 4), m = (sc6[j + 4] >> 4) | ((sc6[j] >> 6) << 4);
        const float dl = __fmul_rn(tsc_h2f(*(const uint16_t *)b), (float)sc), ml = __fmul_rn(tsc_h2f(*(const uint16_t *)(b + 2)), (float)m);
        const int q = (b[16 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 15;
        v = __fsub_rn(__fmul_rn(dl, (float)q), ml);
    } else { /* Q6_K: 210-byte blocks of 256: ql[128] low nibbles, qh[64] high 2 bits,
              * 16 int8 scales, d (F16); value d * scale * (level - 32), unfused */
        const uint8_t *b = (const uint8_t *)row + (e / 256) * 210;
        const int el = (int)(e % 256), n = el >> 7, r = el & 127, part = r >> 5, l = r & 31;
        const uint8_t *ql = b + 64 * n, *qh = b + 128 + 32 * n;
        const int lo = (part & 1) ? ql[l + 32] : ql[l];
        const int nib = (part & 2) ? (lo >> 4) : (lo & 15);
        const int q = nib | (((qh[l] >> (2 * part)) & 3) << 4);
        const int8_t scale = (int8_t)b[192 + 8 * n + (l >> 4) + 2 * part];
        v = __fmul_rn(__fmul_rn(tsc_h2f(*(const uint16_t *)(b + 208)), (float)scale), (float)(q - 32));
    }
    y[r * ys + e] = v;
}

/* ---- entry points ------------------------------------------------------------------------ */

static int al4(const void *p) { return ((uintptr_t)p & 3) == 0; }

/* rows x n F32 operands: sizes, pointers, 4-byte alignment, strides. */
static int32_t check_rows(const char *fn, const float *y, int64_t ys, const float *x, int64_t xs, int64_t rows, int64_t n) {
    if (rows < 0 || n < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: rows=%lld and n=%lld must be >= 0", fn, (long long)rows, (long long)n);
    if (rows == 0 || n == 0) return TS_OK;
    if (y == NULL || x == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, y ? "x" : "y");
    if (!al4(y) || !al4(x) || ys % 4 || xs % 4)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: pointers and strides must be multiples of 4 bytes", fn);
    if (rows > 1 && ys < n * 4)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: output row stride %lld bytes is less than a row", fn, (long long)ys);
    if (xs < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: input row stride is negative", fn);
    if (rows > 0x7fffffffLL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: too many rows", fn);
    return TS_OK;
}

static int32_t check_eps(const char *fn, float eps) {
    if (!(eps >= 0.0f) || isinf(eps))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: eps=%g must be finite and >= 0", fn, (double)eps);
    return TS_OK;
}

static unsigned blocks_for(int64_t total) { return (unsigned)tsc_cdiv(total, 256); }

/* A decode step's norm and GLU outputs are the next quantized matmul's input: for one row of a
 * multiple of 32 they also write its Q8_0 copy (unless TSC_FUSED_QUANTIZE=0) into the context's
 * cache of quantized activations (tsc_xq_make), so the matmul skips its quantizer kernel.
 * *xq stays NULL when this call writes none. */
static int32_t offer_q8(struct tsc_context *c, const float *y, int64_t rows, int64_t n, int8_t **xq, tsc_xs **xs) {
    *xq = NULL, *xs = NULL;
    if (!c->fuse_q8 || rows != 1 || n % 32 != 0) return TS_OK;
    return tsc_xq_make(c, y, 0, n, 1, xq, xs);
}

extern "C" TS_API int32_t tsc_rms_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                                       int64_t rows, int64_t n, float eps) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_rms_norm", &c);
    if (!st) st = check_rows("tsc_rms_norm", y, y_stride, x, x_stride, rows, n);
    if (!st) st = check_eps("tsc_rms_norm", eps);
    if (st || rows == 0 || n == 0) return st;
    int8_t *xq;
    tsc_xs *xs;
    st = offer_q8(c, y, rows, n, &xq, &xs);
    if (st) return st;
    /* Few rows (decode): slices of each row on blocks of their own, unless y overlaps x (a
     * block would scale its slice while another still sums the squares there). */
    const int64_t slices = tsc_cdiv(n, TSC_NORM_SLICE_PER_THREAD * TSC_ROW_THREADS);
    const bool overlap = tsc_spans_meet(tsc_span_of(x, rows, x_stride, 4 * n), tsc_span_of(y, rows, y_stride, 4 * n));
    if (rows <= TSC_SLICED_ROWS && (slices == 1 || !overlap)) {
        tsc_launch_pdl(c, xq ? k_rms_norm_sliced<true> : k_rms_norm_sliced<false>, dim3((unsigned)slices, (unsigned)rows),
                       dim3(TSC_ROW_THREADS), 0, y, y_stride / 4, x, x_stride / 4, weight, n, eps, xq, xs);
    } else {
        tsc_launch_pdl(c, xq ? k_rms_norm<true> : k_rms_norm<false>, (unsigned)rows, TSC_ROW_THREADS, 0, y, y_stride / 4, x,
                       x_stride / 4, weight, n, eps, xq, xs);
    }
    st = tsc_launch_status("tsc_rms_norm");
    if (st) tsc_xq_release(c); /* no copy was written */
    return st;
}

extern "C" TS_API int32_t tsc_softmax(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *mask,
                                      int64_t mask_stride, int64_t mask_rows, int64_t rows, int64_t n, float scale) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_softmax", &c);
    if (!st) st = check_rows("tsc_softmax", y, y_stride, x, x_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    if (mask && (mask_rows <= 0 || !al4(mask) || mask_stride % 4 || mask_stride < 0))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_softmax: mask needs mask_rows > 0 and an aligned stride >= 0");
    tsc_launch_pdl(c, k_softmax, (unsigned)rows, TSC_ROW_THREADS, 0, y, y_stride / 4, x, x_stride / 4, mask, mask_stride / 4,
                   mask ? mask_rows : 1, n, scale);
    return tsc_launch_status("tsc_softmax");
}

extern "C" TS_API int32_t tsc_rope_parts(void *ctx, int32_t parts, void *const *y, const int32_t *y_type, const int64_t *y_token_stride,
                                         const int64_t *y_head_stride, const float *const *x, const int64_t *x_token_stride,
                                         const int64_t *x_head_stride, const int64_t *heads, const int32_t *rotate, const int32_t *pos,
                                         int64_t tokens, int64_t head_dim, int32_t n_dims, int32_t mode, float freq_base) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_rope", &c);
    if (st) return st;
    if (parts < 1 || parts > TSC_ROPE_PARTS)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: parts=%d must be in [1, %d]", (int)parts, TSC_ROPE_PARTS);
    if (y == NULL || x == NULL || heads == NULL || y_token_stride == NULL || y_head_stride == NULL || x_token_stride == NULL ||
        x_head_stride == NULL)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: a host array is NULL");
    if (tokens < 0 || head_dim < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: tokens, heads, head_dim must be >= 0");
    if (mode != TS_ROPE_NORM && mode != TS_ROPE_NEOX)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: mode %d is neither TS_ROPE_NORM (0) nor TS_ROPE_NEOX (2)", (int)mode);
    if (n_dims < 0 || n_dims % 2 || n_dims > head_dim)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: n_dims=%d must be even and in [0, head_dim=%lld]", (int)n_dims,
                             (long long)head_dim);
    if (!(freq_base > 0.0f) || isinf(freq_base))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: freq_base=%g must be finite and > 0", (double)freq_base);
    struct rope_parts r = {};
    int64_t all = 0;
    for (int32_t j = 0; j < parts; j++) {
        if (heads[j] < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: tokens, heads, head_dim must be >= 0");
        if (heads[j] == 0) continue;
        const int32_t yt = y_type ? y_type[j] : TS_TYPE_F32;
        if (yt != TS_TYPE_F32 && yt != TS_TYPE_F16)
            return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: part %d's output type %d is neither F32 nor F16", (int)j, (int)yt);
        const int64_t es = yt == TS_TYPE_F16 ? 2 : 4;
        if (y[j] == NULL || x[j] == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: null pointer");
        if (!al4(x[j]) || x_token_stride[j] % 4 || x_head_stride[j] % 4 || x_token_stride[j] < 0 || x_head_stride[j] < 0 ||
            (uintptr_t)y[j] % es || y_token_stride[j] % es || y_head_stride[j] % es || y_token_stride[j] < 0 || y_head_stride[j] < 0)
            return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: strides must be >= 0 and multiples of the element size");
        r.y[j] = (char *)y[j], r.x[j] = x[j], r.y_type[j] = yt, r.rotate[j] = rotate ? rotate[j] != 0 : 1;
        r.yts[j] = y_token_stride[j], r.yhs[j] = y_head_stride[j], r.xts[j] = x_token_stride[j] / 4;
        r.xhs[j] = x_head_stride[j] / 4;
        all += heads[j];
    }
    int64_t end = 0;
    for (int32_t j = 0; j < TSC_ROPE_PARTS; j++) r.head_end[j] = end += j < parts ? heads[j] : 0;
    if (tokens == 0 || all == 0 || head_dim == 0) return TS_OK;
    if (pos == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: null pointer");
    /* Frequencies computed as the CPU does (double, on the host), once per (freq_base, n_dims)
     * while they stay the same (a model's every RoPE call); chunks as struct rope_args. */
    const int32_t half = n_dims / 2;
    if (c->rope_inv_freq == NULL || c->rope_n_dims != n_dims || c->rope_freq_base != freq_base) {
        double *inv = (double *)realloc(c->rope_inv_freq, (size_t)(half > 0 ? half : 1) * sizeof *inv);
        if (inv == NULL) return tsc_set_error(TS_ERR_OUT_OF_MEMORY, "tsc_rope: no host memory");
        for (int32_t i = 0; i < half; i++) inv[i] = pow((double)freq_base, -2.0 * (double)i / (double)n_dims);
        c->rope_inv_freq = inv, c->rope_n_dims = n_dims, c->rope_freq_base = freq_base;
    }
    for (int64_t t0 = 0; t0 < tokens; t0 += TSC_ROPE_ARG_TOKENS) {
        const int64_t nt = tokens - t0 < TSC_ROPE_ARG_TOKENS ? tokens - t0 : TSC_ROPE_ARG_TOKENS;
        struct rope_parts rt = r; /* this chunk's first token */
        for (int32_t j = 0; j < parts; j++)
            if (heads[j] > 0) rt.y[j] += t0 * rt.yts[j], rt.x[j] += t0 * rt.xts[j];
        for (int32_t p0 = 0; p0 == 0 || p0 < half; p0 += TSC_ROPE_ARG_FREQS) {
            const int32_t pairs = half - p0 < TSC_ROPE_ARG_FREQS ? half - p0 : TSC_ROPE_ARG_FREQS;
            const int32_t tail = p0 == 0 ? (int32_t)(head_dim - n_dims) : 0;
            struct rope_args a;
            memcpy(a.inv_freq, c->rope_inv_freq + p0, (size_t)pairs * sizeof(double));
            memcpy(a.pos, pos + t0, (size_t)nt * 4);
            const int64_t total = nt * all * (pairs + tail);
            if (total > 0)
                tsc_launch_pdl(c, k_rope, blocks_for(total), 256, 0, rt, a, nt, all, p0, pairs, tail, n_dims, mode == TS_ROPE_NEOX);
            st = tsc_launch_status("tsc_rope");
            if (st) return st;
        }
    }
    return TS_OK;
}

extern "C" TS_API int32_t tsc_rope(void *ctx, float *y, int64_t y_token_stride, int64_t y_head_stride, const float *x,
                                   int64_t x_token_stride, int64_t x_head_stride, const int32_t *pos, int64_t tokens,
                                   int64_t heads, int64_t head_dim, int32_t n_dims, int32_t mode, float freq_base) {
    void *yv = y;
    return tsc_rope_parts(ctx, 1, &yv, NULL, &y_token_stride, &y_head_stride, &x, &x_token_stride, &x_head_stride, &heads, NULL, pos,
                          tokens, head_dim, n_dims, mode, freq_base);
}

int32_t tsc_check_act(const char *fn, int32_t act) {
    if (act < 0 || act > TS_ACT_SILU) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: unknown activation %d", fn, (int)act);
    return TS_OK;
}

extern "C" TS_API int32_t tsc_activation(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, int32_t act,
                                         int64_t rows, int64_t n) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_activation", &c);
    if (!st) st = tsc_check_act("tsc_activation", act);
    if (!st) st = check_rows("tsc_activation", y, y_stride, x, x_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    tsc_launch_pdl(c, k_act, blocks_for(rows * n), 256, 0, y, y_stride / 4, x, x_stride / 4, act, rows, n);
    return tsc_launch_status("tsc_activation");
}

extern "C" TS_API int32_t tsc_glu(void *ctx, float *y, int64_t y_stride, const float *gate, int64_t gate_stride, const float *up,
                                  int64_t up_stride, int32_t act, int64_t rows, int64_t n) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_glu", &c);
    if (!st) st = tsc_check_act("tsc_glu", act);
    if (!st) st = check_rows("tsc_glu", y, y_stride, gate, gate_stride, rows, n);
    if (!st) st = check_rows("tsc_glu", y, y_stride, up, up_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    int8_t *xq;
    tsc_xs *xs;
    st = offer_q8(c, y, rows, n, &xq, &xs);
    if (st) return st;
    tsc_launch_pdl(c, xq ? k_glu<true> : k_glu<false>, blocks_for(rows * n), 256, 0, y, y_stride / 4, gate, gate_stride / 4, up,
                   up_stride / 4, act, rows, n, xq, xs);
    st = tsc_launch_status("tsc_glu");
    if (st) tsc_xq_release(c); /* no copy was written */
    return st;
}

extern "C" TS_API int32_t tsc_binary(void *ctx, float *y, const int64_t *y_strides, const float *a, const int64_t *a_strides,
                                     const float *b, const int64_t *b_strides, const int64_t *shape, int32_t ndim, int32_t op) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_binary", &c);
    if (st) return st;
    if (op != TS_BINARY_ADD && op != TS_BINARY_MUL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: unknown op %d", (int)op);
    if (ndim < 0 || ndim > 4) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: ndim=%d not in [0, 4]", (int)ndim);
    if (ndim > 0 && (shape == NULL || y_strides == NULL || a_strides == NULL || b_strides == NULL))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: shape or strides NULL");
    struct bin_args g;
    int64_t total = 1;
    const int pad = 4 - ndim;
    for (int d = 0; d < 4; d++) {
        g.shape[d] = 1;
        g.ys[d] = g.as[d] = g.bs[d] = 0;
        if (d < pad) continue;
        const int k = d - pad;
        if (shape[k] < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: shape[%d] is negative", k);
        if (y_strides[k] % 4 || a_strides[k] % 4 || b_strides[k] % 4)
            return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: strides must be multiples of 4 bytes");
        g.shape[d] = shape[k];
        g.ys[d] = y_strides[k] / 4;
        g.as[d] = a_strides[k] / 4;
        g.bs[d] = b_strides[k] / 4;
        total *= shape[k];
    }
    if (total == 0) return TS_OK;
    if (y == NULL || a == NULL || b == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: null pointer");
    if (!al4(y) || !al4(a) || !al4(b)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_binary: pointers must be 4-byte aligned");
    tsc_launch_pdl(c, k_binary, blocks_for(total), 256, 0, y, a, b, g, total, op);
    return tsc_launch_status("tsc_binary");
}

void tsc_add_rows(struct tsc_context *c, float *y, int64_t y_stride, const float *a, int64_t a_stride, int64_t rows, int64_t n) {
    const struct bin_args g = {{1, 1, rows, n}, {0, 0, y_stride / 4, 1}, {0, 0, y_stride / 4, 1}, {0, 0, a_stride / 4, 1}};
    tsc_launch_pdl(c, k_binary, blocks_for(rows * n), 256, 0, y, (const float *)y, a, g, rows * n, TS_BINARY_ADD);
}

extern "C" TS_API int32_t tsc_get_rows(void *ctx, float *y, int64_t y_stride, const void *table, int32_t type, int64_t table_stride,
                                       int64_t n_table, int64_t n, const int32_t *ids, int64_t n_ids) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_get_rows", &c);
    if (st) return st;
    int64_t row_bytes, al;
    switch (type) {
    case TS_TYPE_F32: row_bytes = 4 * n, al = 4; break;
    case TS_TYPE_F16: row_bytes = 2 * n, al = 2; break;
    case TS_TYPE_Q8_0: row_bytes = 34 * (n / 32), al = 2; break;
    case TS_TYPE_Q4_0: row_bytes = 18 * (n / 32), al = 2; break;
    case TS_TYPE_BF16: row_bytes = 2 * n, al = 2; break;
    case TS_TYPE_Q4_K: row_bytes = 144 * (n / 256), al = 2; break;
    case TS_TYPE_Q6_K: row_bytes = 210 * (n / 256), al = 2; break;
    default:
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_get_rows: type %d is not supported on CUDA (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)",
                             (int)type);
    }
    if (n < 0 || n_ids < 0 || n_table < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: negative size");
    if ((type == TS_TYPE_Q8_0 || type == TS_TYPE_Q4_0) && n % 32)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: n=%lld is not a multiple of 32", (long long)n);
    if ((type == TS_TYPE_Q4_K || type == TS_TYPE_Q6_K) && n % 256)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: n=%lld is not a multiple of 256", (long long)n);
    if (n == 0 || n_ids == 0) return TS_OK;
    if (y == NULL || table == NULL || ids == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: null pointer");
    if (!al4(y) || y_stride % 4 || ((uintptr_t)table % al) || table_stride % al)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: misaligned pointer or stride");
    if (n_ids > 1 && y_stride < n * 4) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: output row stride is less than a row");
    if (n_table > 1 && table_stride < row_bytes)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: table row stride %lld is less than a row (%lld bytes)",
                             (long long)table_stride, (long long)row_bytes);
    for (int64_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= n_table)
            return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: ids[%lld]=%d outside [0, %lld)", (long long)i, (int)ids[i],
                                 (long long)n_table);
    for (int64_t r0 = 0; r0 < n_ids; r0 += TSC_GET_ROWS_ARG_IDS) {
        const int64_t nr = n_ids - r0 < TSC_GET_ROWS_ARG_IDS ? n_ids - r0 : TSC_GET_ROWS_ARG_IDS;
        struct get_rows_args a;
        memcpy(a.ids, ids + r0, (size_t)nr * 4);
        tsc_launch_pdl(c, k_get_rows, blocks_for(nr * n), 256, 0, y + r0 * (y_stride / 4), y_stride / 4, (const char *)table, type,
                       table_stride, n, a, nr);
        st = tsc_launch_status("tsc_get_rows");
        if (st) return st;
    }
    return TS_OK;
}

/* ---- LayerNorm, GroupNorm, scale, upsampling, timestep embedding ------------------------ */

/* Two passes in double as the CPU reference (mean, then the centred sum of squares): rows
 * with a large mean lose nothing to cancellation. The row is re-read from L1/L2. */
__global__ void k_layer_norm(float *y, int64_t ys, const float *x, int64_t xs, const float *w, const float *b, int64_t n, float eps) {
    tsc_pdl_enter();
    const float *xr = x + blockIdx.x * xs;
    float *yr = y + blockIdx.x * ys;
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += xr[i];
    const double mean = block_sum(s) / (double)n;
    double v = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double d = (double)xr[i] - mean;
        v += d * d;
    }
    const double r = 1.0 / sqrt(block_sum(v) / (double)n + (double)eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        float o = (float)(((double)xr[i] - mean) * r);
        if (w) o = __fmul_rn(o, w[i]);
        if (b) o = __fadd_rn(o, b[i]);
        yr[i] = o;
    }
}

/* Rows of <= 2048 floats (CLIP's 768/1024, SD's 320-1280 channels): one warp per row, 8 rows
 * per block, so short rows do not leave most of a 256-thread block idle. Same two passes in
 * double as k_layer_norm. */
static __device__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__global__ void k_layer_norm_warp(float *y, int64_t ys, const float *x, int64_t xs, const float *w, const float *b, int64_t rows,
                                  int64_t n, float eps) {
    tsc_pdl_enter();
    const int64_t row = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= rows) return; /* whole warps leave together: the shuffles below stay full-warp */
    const int lane = threadIdx.x & 31;
    const float *xr = x + row * xs;
    float *yr = y + row * ys;
    double s = 0;
    for (int64_t i = lane; i < n; i += 32) s += xr[i];
    const double mean = warp_sum_d(s) / (double)n;
    double v = 0;
    for (int64_t i = lane; i < n; i += 32) {
        const double d = (double)xr[i] - mean;
        v += d * d;
    }
    const double r = 1.0 / sqrt(warp_sum_d(v) / (double)n + (double)eps);
    for (int64_t i = lane; i < n; i += 32) {
        float o = (float)(((double)xr[i] - mean) * r);
        if (w) o = __fmul_rn(o, w[i]);
        if (b) o = __fadd_rn(o, b[i]);
        yr[i] = o;
    }
}

extern "C" TS_API int32_t tsc_layer_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                                         const float *bias, int64_t rows, int64_t n, float eps) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_layer_norm", &c);
    if (!st) st = check_rows("tsc_layer_norm", y, y_stride, x, x_stride, rows, n);
    if (!st) st = check_eps("tsc_layer_norm", eps);
    if (st || rows == 0 || n == 0) return st;
    if (!al4(weight) || !al4(bias)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_layer_norm: weight/bias must be 4-byte aligned");
    if (n <= 2048)
        tsc_launch_pdl(c, k_layer_norm_warp, (unsigned)tsc_cdiv(rows, TSC_ROW_THREADS / 32), TSC_ROW_THREADS, 0, y, y_stride / 4, x,
                       x_stride / 4, weight, bias, rows, n, eps);
    else
        tsc_launch_pdl(c, k_layer_norm, (unsigned)rows, TSC_ROW_THREADS, 0, y, y_stride / 4, x, x_stride / 4, weight, bias, n, eps);
    return tsc_launch_status("tsc_layer_norm");
}

/* GroupNorm: a (batch item, group) is cpg * hw contiguous floats, e.g. 40960 for SD's 320
 * channels in 32 groups at 64x64, and there are only batch * groups of them: each is cut
 * into `splits` chunks so every SM has work. Pass 1: per chunk, the count, mean and
 * centred sum of squares in double (two passes over the chunk, the second from cache).
 * Pass 2: every block merges its group's chunks (Chan's formula, double) and normalises
 * its own chunk as the CPU does: (float)((x - mean) * r) * w[c] + b[c]. */
#define TSC_GN_MAX_SPLITS 64

__global__ void k_group_stats(double *stats, const float *x, int64_t xs, int64_t groups, int64_t len, int64_t chunk) {
    const int64_t unit = blockIdx.y, bi = unit / groups, g = unit % groups;
    const float *xg = x + bi * xs + g * len;
    const int64_t c0 = (int64_t)blockIdx.x * chunk, c1 = c0 + chunk < len ? c0 + chunk : len;
    double s = 0;
    for (int64_t i = c0 + threadIdx.x; i < c1; i += blockDim.x) s += xg[i];
    const double cnt = (double)(c1 > c0 ? c1 - c0 : 0), tot = block_sum(s);
    const double mean = cnt > 0 ? tot / cnt : 0.0;
    double v = 0;
    for (int64_t i = c0 + threadIdx.x; i < c1; i += blockDim.x) {
        const double d = (double)xg[i] - mean;
        v += d * d;
    }
    v = block_sum(v);
    if (threadIdx.x == 0) {
        double *o = stats + ((int64_t)unit * gridDim.x + blockIdx.x) * 3;
        o[0] = cnt, o[1] = mean, o[2] = v;
    }
}

__global__ void k_group_apply(float *y, int64_t ys, const float *x, int64_t xs, const float *w, const float *b, const double *stats,
                              int64_t groups, int64_t hw, int64_t cpg, int64_t chunk, float eps) {
    const int64_t unit = blockIdx.y, bi = unit / groups, g = unit % groups, len = cpg * hw;
    __shared__ double mr[2];
    if (threadIdx.x == 0) {
        const double *st = stats + (int64_t)unit * gridDim.x * 3;
        double n = 0, mean = 0, m2 = 0;
        for (unsigned s = 0; s < gridDim.x; s++) {
            const double nb = st[3 * s];
            if (nb == 0) continue;
            const double d = st[3 * s + 1] - mean, nn = n + nb;
            mean += d * nb / nn;
            m2 += st[3 * s + 2] + d * d * n * nb / nn;
            n = nn;
        }
        mr[0] = mean;
        mr[1] = 1.0 / sqrt(m2 / (double)len + (double)eps);
    }
    __syncthreads();
    const double mean = mr[0], r = mr[1];
    const float *xg = x + bi * xs + g * len;
    float *yg = y + bi * ys + g * len;
    const int64_t c0 = (int64_t)blockIdx.x * chunk, c1 = c0 + chunk < len ? c0 + chunk : len;
    /* len < 2^31 (checked): 32-bit index arithmetic, a 64-bit division per element would cost
     * more than the memory traffic */
    const int32_t hw32 = (int32_t)hw;
    for (int32_t i = (int32_t)c0 + (int32_t)threadIdx.x; i < (int32_t)c1; i += (int32_t)blockDim.x) {
        const int64_t ch = g * cpg + i / hw32;
        const float wc = w ? w[ch] : 1.0f, bc = b ? b[ch] : 0.0f;
        yg[i] = __fadd_rn(__fmul_rn((float)(((double)xg[i] - mean) * r), wc), bc);
    }
}

extern "C" TS_API int32_t tsc_group_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                                         const float *bias, int64_t batch, int64_t channels, int64_t hw, int32_t groups, float eps) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_group_norm", &c);
    if (st) return st;
    if (channels < 0 || hw < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_group_norm: channels=%lld and hw=%lld must be >= 0", (long long)channels,
                             (long long)hw);
    if (groups < 1 || channels % groups != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_group_norm: groups=%d must be >= 1 and divide channels=%lld", (int)groups,
                             (long long)channels);
    st = check_rows("tsc_group_norm", y, y_stride, x, x_stride, batch, channels * hw);
    if (!st) st = check_eps("tsc_group_norm", eps);
    if (st || batch == 0 || channels == 0 || hw == 0) return st;
    if (!al4(weight) || !al4(bias)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_group_norm: weight/bias must be 4-byte aligned");
    const int64_t units = batch * groups, len = channels / groups * hw;
    if (units > 65535 || len >= ((int64_t)1 << 31) - 1024)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_group_norm: batch * groups = %lld > 65535 or a group of %lld >= 2^31 floats",
                             (long long)units, (long long)len);
    /* About 4 blocks per SM in all, chunks of at least 4096 floats. */
    int64_t splits = tsc_cdiv(4 * (int64_t)c->sm_count, units);
    if (splits > tsc_cdiv(len, 4096)) splits = tsc_cdiv(len, 4096);
    if (splits > TSC_GN_MAX_SPLITS) splits = TSC_GN_MAX_SPLITS;
    if (splits < 1) splits = 1;
    const int64_t chunk = tsc_cdiv(len, splits);
    splits = tsc_cdiv(len, chunk);
    void *stats;
    st = tsc_scratch(c, units * splits * 3 * 8, &stats);
    if (st) return st;
    const dim3 grid((unsigned)splits, (unsigned)units);
    TSC_LAUNCH(grid, TSC_ROW_THREADS, 0, c->stream, k_group_stats)((double *)stats, x, x_stride / 4, groups, len, chunk);
    TSC_LAUNCH(grid, TSC_ROW_THREADS, 0, c->stream, k_group_apply)(y, y_stride / 4, x, x_stride / 4, weight, bias, (const double *)stats, groups,
                                                           hw, channels / groups, chunk, eps);
    st = tsc_launch_status("tsc_group_norm");
    int32_t st2 = tsc_pool_free(c, stats);
    return st ? st : st2;
}

/* Unfused multiply then add, as the CPU's scalar x * s + b. */
__global__ void k_scale(float *y, int64_t ys, const float *x, int64_t xs, int64_t rows, int64_t n, float s, float b) {
    tsc_pdl_enter();
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * n) return;
    const int64_t r = i / n, e = i % n;
    y[r * ys + e] = __fadd_rn(__fmul_rn(x[r * xs + e], s), b);
}

extern "C" TS_API int32_t tsc_scale(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, int64_t rows, int64_t n,
                                    float s, float b) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_scale", &c);
    if (!st) st = check_rows("tsc_scale", y, y_stride, x, x_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    tsc_launch_pdl(c, k_scale, blocks_for(rows * n), 256, 0, y, y_stride / 4, x, x_stride / 4, rows, n, s, b);
    return tsc_launch_status("tsc_scale");
}

/* One thread per input element: it writes its 2x2 block as two float2 (rows 2r and 2r+1). */
__global__ void k_upsample2x(float *y, const float *x, int64_t total, int64_t w) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t row = i / w, col = i % w; /* row counts over every plane: plane p row r = p*h + r */
    const float v = x[i];
    const float2 v2 = make_float2(v, v);
    float2 *y0 = (float2 *)(y + (2 * row) * 2 * w) + col;
    y0[0] = v2;
    y0[w] = v2; /* the next output row: 2w floats = w float2 further */
}

extern "C" TS_API int32_t tsc_upsample_nearest2x(void *ctx, float *y, const float *x, int64_t planes, int64_t h, int64_t w) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_upsample_nearest2x", &c);
    if (st) return st;
    if (planes < 0 || h < 0 || w < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_upsample_nearest2x: negative size");
    if (planes == 0 || h == 0 || w == 0) return TS_OK;
    if (y == NULL || x == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_upsample_nearest2x: NULL pointer");
    if (((uintptr_t)y & 7) || !al4(x))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_upsample_nearest2x: y must be 8-byte and x 4-byte aligned");
    const int64_t total = planes * h * w;
    TSC_LAUNCH(blocks_for(total), 256, 0, c->stream, k_upsample2x)(y, x, total, w);
    return tsc_launch_status("tsc_upsample_nearest2x");
}

/* The CPU's float steps: e = neg_log * i / denom (float), arg = scale * (t * expf(e)); expf
 * is taken as exp in double rounded once, i.e. correctly rounded like glibc's expf in all
 * but rare ties; sin/cos of the float argument in double. */
__global__ void k_timestep(float *y, const float *t, int64_t n, int32_t dim, int32_t flip, float neg_log, float denom, float scale) {
    const int32_t half = dim / 2;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * half) return;
    const int64_t r = i / half;
    const int32_t j = (int32_t)(i % half);
    const float e = __fdiv_rn(__fmul_rn(neg_log, (float)j), denom);
    const float arg = __fmul_rn(scale, __fmul_rn(t[r], (float)exp((double)e)));
    const float sv = (float)sin((double)arg), cv = (float)cos((double)arg);
    float *row = y + r * dim;
    row[j] = flip ? cv : sv;
    row[half + j] = flip ? sv : cv;
    if ((dim & 1) && j == 0) row[dim - 1] = 0.0f;
}

extern "C" TS_API int32_t tsc_timestep_embedding(void *ctx, float *y, const float *timesteps, int64_t n, int32_t dim,
                                                 int32_t flip_sin_to_cos, float downscale_freq_shift, float scale, float max_period) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_timestep_embedding", &c);
    if (st) return st;
    if (n < 0 || dim < 2)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_timestep_embedding: n=%lld must be >= 0 and dim=%d >= 2", (long long)n,
                             (int)dim);
    const int32_t half = dim / 2;
    if (!((float)half - downscale_freq_shift != 0.0f) || !(max_period > 0.0f))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT,
                             "tsc_timestep_embedding: half - downscale_freq_shift must be non-zero and max_period > 0");
    if (n == 0) return TS_OK;
    if (y == NULL || timesteps == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_timestep_embedding: NULL pointer");
    if (!al4(y) || !al4(timesteps)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_timestep_embedding: pointers must be 4-byte aligned");
    /* -logf on the host: the same libm value the CPU op uses. */
    const float neg_log = -logf(max_period), denom = (float)half - downscale_freq_shift;
    TSC_LAUNCH(blocks_for(n * half), 256, 0, c->stream, k_timestep)(y, timesteps, n, dim, flip_sin_to_cos, neg_log, denom, scale);
    return tsc_launch_status("tsc_timestep_embedding");
}
