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

__global__ void k_rms_norm(float *y, int64_t ys, const float *x, int64_t xs, const float *w, int64_t n, float eps) {
    const float *xr = x + blockIdx.x * xs;
    float *yr = y + blockIdx.x * ys;
    double ss = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += (double)xr[i] * xr[i];
    ss = block_sum(ss);
    const float r = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = xr[i] * r;
        yr[i] = w ? v * w[i] : v;
    }
}

__global__ void k_softmax(float *y, int64_t ys, const float *x, int64_t xs, const float *mask, int64_t ms, int64_t mask_rows,
                          int64_t n, float scale) {
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

/* One thread per (token, head, pair); threads of pair index >= half copy the tail. */
__global__ void k_rope(float *y, int64_t yts, int64_t yhs, const float *x, int64_t xts, int64_t xhs, const int32_t *pos,
                       const double *inv_freq, int64_t tokens, int64_t heads, int64_t head_dim, int32_t n_dims, int32_t neox) {
    const int64_t half = n_dims / 2, per_head = half + (head_dim - n_dims);
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= tokens * heads * per_head) return;
    const int64_t p = i % per_head, h = i / per_head % heads, t = i / per_head / heads;
    const float *xr = x + t * xts + h * xhs;
    float *yr = y + t * yts + h * yhs;
    if (p >= half) { /* elements n_dims .. head_dim - 1 are copied */
        const int64_t e = n_dims + (p - half);
        yr[e] = xr[e];
        return;
    }
    const double theta = (double)pos[t] * inv_freq[p];
    const float c = (float)cos(theta), s = (float)sin(theta);
    const int64_t a = neox ? p : 2 * p, b = neox ? p + half : 2 * p + 1;
    const float x0 = xr[a], x1 = xr[b];
    yr[a] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
    yr[b] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
}

static __device__ __forceinline__ float act_f(int act, float x) {
    switch (act) {
    case TS_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case TS_ACT_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case TS_ACT_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    default: return x / (1.0f + expf(-x)); /* TS_ACT_SILU */
    }
}

__global__ void k_act(float *y, int64_t ys, const float *x, int64_t xs, int act, int64_t rows, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * n) return;
    const int64_t r = i / n, e = i % n;
    y[r * ys + e] = act_f(act, x[r * xs + e]);
}

__global__ void k_glu(float *y, int64_t ys, const float *g, int64_t gs, const float *u, int64_t us, int act, int64_t rows,
                      int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * n) return;
    const int64_t r = i / n, e = i % n;
    y[r * ys + e] = act_f(act, g[r * gs + e]) * u[r * us + e];
}

struct bin_args {
    int64_t shape[4], ys[4], as[4], bs[4]; /* strides in floats */
};

__global__ void k_binary(float *y, const float *a, const float *b, struct bin_args g, int64_t total, int op) {
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

/* One thread per output element; the table row is dequantized element by element. */
__global__ void k_get_rows(float *y, int64_t ys, const char *table, int type, int64_t ts, int64_t n, const int32_t *ids,
                           int64_t n_ids) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_ids * n) return;
    const int64_t r = i / n, e = i % n;
    const char *row = table + (int64_t)ids[r] * ts;
    float v;
    if (type == TS_TYPE_F32) v = ((const float *)row)[e];
    else if (type == TS_TYPE_F16) v = tsc_h2f(((const uint16_t *)row)[e]);
    else if (type == TS_TYPE_Q8_0) {
        const tsc_block_q8_0 *b = (const tsc_block_q8_0 *)row + e / 32;
        v = (float)b->qs[e % 32] * tsc_h2f(b->d);
    } else { /* Q4_0: byte j holds element j (low nibble) and j + 16 (high) */
        const tsc_block_q4_0 *b = (const tsc_block_q4_0 *)row + e / 32;
        const int j = (int)(e % 32);
        const int q = j < 16 ? (b->qs[j] & 15) : (b->qs[j - 16] >> 4);
        v = (float)(q - 8) * tsc_h2f(b->d);
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

static unsigned blocks_for(int64_t total) { return (unsigned)tsc_cdiv(total, 256); }

extern "C" TS_API int32_t tsc_rms_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                                       int64_t rows, int64_t n, float eps) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_rms_norm", &c);
    if (!st) st = check_rows("tsc_rms_norm", y, y_stride, x, x_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    k_rms_norm<<<(unsigned)rows, TSC_ROW_THREADS, 0, c->stream>>>(y, y_stride / 4, x, x_stride / 4, weight, n, eps);
    return tsc_launch_status("tsc_rms_norm");
}

extern "C" TS_API int32_t tsc_softmax(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *mask,
                                      int64_t mask_stride, int64_t mask_rows, int64_t rows, int64_t n, float scale) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_softmax", &c);
    if (!st) st = check_rows("tsc_softmax", y, y_stride, x, x_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    if (mask && (mask_rows <= 0 || !al4(mask) || mask_stride % 4 || mask_stride < 0))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_softmax: mask needs mask_rows > 0 and an aligned stride >= 0");
    k_softmax<<<(unsigned)rows, TSC_ROW_THREADS, 0, c->stream>>>(y, y_stride / 4, x, x_stride / 4, mask, mask_stride / 4,
                                                                 mask ? mask_rows : 1, n, scale);
    return tsc_launch_status("tsc_softmax");
}

extern "C" TS_API int32_t tsc_rope(void *ctx, float *y, int64_t y_token_stride, int64_t y_head_stride, const float *x,
                                   int64_t x_token_stride, int64_t x_head_stride, const int32_t *pos, int64_t tokens,
                                   int64_t heads, int64_t head_dim, int32_t n_dims, int32_t mode, float freq_base) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_rope", &c);
    if (st) return st;
    if (tokens < 0 || heads < 0 || head_dim < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: tokens, heads, head_dim must be >= 0");
    if (mode != TS_ROPE_NORM && mode != TS_ROPE_NEOX)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: mode %d is neither TS_ROPE_NORM (0) nor TS_ROPE_NEOX (2)", (int)mode);
    if (n_dims < 0 || n_dims % 2 || n_dims > head_dim)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: n_dims=%d must be even and in [0, head_dim=%lld]", (int)n_dims,
                             (long long)head_dim);
    if (!(freq_base > 0.0f) || isinf(freq_base))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: freq_base=%g must be finite and > 0", (double)freq_base);
    if (tokens == 0 || heads == 0 || head_dim == 0) return TS_OK;
    if (y == NULL || x == NULL || pos == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: null pointer");
    if (!al4(y) || !al4(x) || y_token_stride % 4 || y_head_stride % 4 || x_token_stride % 4 || x_head_stride % 4 ||
        y_token_stride < 0 || y_head_stride < 0 || x_token_stride < 0 || x_head_stride < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_rope: strides must be >= 0 and multiples of 4 bytes");
    /* Positions and frequencies (computed as the CPU does, in double on the host) travel in one
     * upload. A copy from pageable memory returns once the data is staged, so host may be freed. */
    const int64_t half = n_dims / 2;
    const int64_t bytes = half * 8 + tokens * 4;
    char *host = (char *)malloc((size_t)bytes + 8);
    if (host == NULL) return tsc_set_error(TS_ERR_OUT_OF_MEMORY, "tsc_rope: no host memory");
    double *inv = (double *)host;
    for (int64_t i = 0; i < half; i++) inv[i] = pow((double)freq_base, -2.0 * (double)i / (double)n_dims);
    memcpy(host + half * 8, pos, (size_t)tokens * 4);
    void *dev;
    st = tsc_scratch(c, bytes + 8, &dev);
    if (st) {
        free(host);
        return st;
    }
    st = tsc_cuda_status(cudaMemcpyAsync(dev, host, (size_t)bytes, cudaMemcpyHostToDevice, c->stream), "tsc_rope: upload");
    free(host);
    if (!st) {
        const int64_t total = tokens * heads * (half + head_dim - n_dims);
        if (total > 0)
            k_rope<<<blocks_for(total), 256, 0, c->stream>>>(y, y_token_stride / 4, y_head_stride / 4, x, x_token_stride / 4,
                                                            x_head_stride / 4, (const int32_t *)((char *)dev + half * 8),
                                                            (const double *)dev, tokens, heads, head_dim, n_dims,
                                                            mode == TS_ROPE_NEOX);
        st = tsc_launch_status("tsc_rope");
    }
    int32_t st2 = tsc_pool_free(c, dev);
    return st ? st : st2;
}

static int32_t check_act(const char *fn, int32_t act) {
    if (act < 0 || act > TS_ACT_SILU) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: unknown activation %d", fn, (int)act);
    return TS_OK;
}

extern "C" TS_API int32_t tsc_activation(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, int32_t act,
                                         int64_t rows, int64_t n) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_activation", &c);
    if (!st) st = check_act("tsc_activation", act);
    if (!st) st = check_rows("tsc_activation", y, y_stride, x, x_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    k_act<<<blocks_for(rows * n), 256, 0, c->stream>>>(y, y_stride / 4, x, x_stride / 4, act, rows, n);
    return tsc_launch_status("tsc_activation");
}

extern "C" TS_API int32_t tsc_glu(void *ctx, float *y, int64_t y_stride, const float *gate, int64_t gate_stride, const float *up,
                                  int64_t up_stride, int32_t act, int64_t rows, int64_t n) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_glu", &c);
    if (!st) st = check_act("tsc_glu", act);
    if (!st) st = check_rows("tsc_glu", y, y_stride, gate, gate_stride, rows, n);
    if (!st) st = check_rows("tsc_glu", y, y_stride, up, up_stride, rows, n);
    if (st || rows == 0 || n == 0) return st;
    k_glu<<<blocks_for(rows * n), 256, 0, c->stream>>>(y, y_stride / 4, gate, gate_stride / 4, up, up_stride / 4, act, rows, n);
    return tsc_launch_status("tsc_glu");
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
    k_binary<<<blocks_for(total), 256, 0, c->stream>>>(y, a, b, g, total, op);
    return tsc_launch_status("tsc_binary");
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
    default: return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_get_rows: type %d is not supported on CUDA (F32, F16, Q8_0, Q4_0)", (int)type);
    }
    if (n < 0 || n_ids < 0 || n_table < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: negative size");
    if ((type == TS_TYPE_Q8_0 || type == TS_TYPE_Q4_0) && n % 32)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_get_rows: n=%lld is not a multiple of 32", (long long)n);
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
    void *dev;
    st = tsc_scratch(c, n_ids * 4, &dev);
    if (st) return st;
    st = tsc_cuda_status(cudaMemcpyAsync(dev, ids, (size_t)n_ids * 4, cudaMemcpyHostToDevice, c->stream), "tsc_get_rows: upload");
    if (!st) {
        k_get_rows<<<blocks_for(n_ids * n), 256, 0, c->stream>>>(y, y_stride / 4, (const char *)table, type, table_stride, n,
                                                                (const int32_t *)dev, n_ids);
        st = tsc_launch_status("tsc_get_rows");
    }
    int32_t st2 = tsc_pool_free(c, dev);
    return st ? st : st2;
}
