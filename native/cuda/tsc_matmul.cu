/*
 * tsc_matmul.cu — activation quantization and the matmul kernels.
 *
 * Quantized weights (Q8_0, Q4_0): X is first quantized to Q8_0 on the device into a split
 * layout (int8 rows of k bytes, 32-byte aligned blocks, plus one float scale per block,
 * already rounded through half as the CPU stores it), so the dot kernels load activation
 * quants with aligned 16-byte loads. The quantizer is the CPU reference's arithmetic, one
 * thread per block in the same order, so the integer block sums equal the CPU's exactly.
 *
 * Dots: one warp per weight row, lane i takes blocks i, i+32, ...; the weight block is
 * dequantized in registers (Q4_0 nibbles unpacked to bytes) and multiplied with dp4a;
 * each pass reads the weight row once for MT activation rows (MT = 1: decode, 8: batches).
 * F16/F32 weights: the same warp-per-row shape with float products.
 */
#include <float.h>

#include "tsc_internal.cuh"

#define TSC_MM_WARPS 4 /* weight rows (warps) per thread block */

/* The CPU's ts_q8_block: returns the float scale d and the 32 quants of x[0..31]. */
static __device__ __forceinline__ float q8_block(const float *x, int8_t *q) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        float a = fabsf(x[j]);
        amax = amax > a ? amax : a; /* the CPU's comparison, NaN handling included */
    }
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (!(id <= FLT_MAX)) {
        for (int j = 0; j < 32; j++) q[j] = 0;
        return d;
    }
    for (int j = 0; j < 32; j++) q[j] = (int8_t)(int)roundf(__fmul_rn(x[j], id));
    return d;
}

/* GGUF Q8_0 blocks: block b of row r. */
__global__ void k_quantize_q8_0_blocks(tsc_block_q8_0 *dst, const float *x, int64_t x_stride_f, int64_t rows, int64_t nb) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * nb) return;
    const int64_t r = i / nb, b = i % nb;
    int8_t q[32];
    const float d = q8_block(x + r * x_stride_f + b * 32, q);
    tsc_block_q8_0 *o = dst + i;
    o->d = tsc_f2h(d);
    for (int j = 0; j < 32; j++) o->qs[j] = q[j];
}

/* Split layout for the dot kernels: xq[r][k] int8, xd[r][nb] float (half-rounded). */
__global__ void k_quantize_q8_0_split(int8_t *xq, float *xd, const float *x, int64_t x_stride_f, int64_t rows, int64_t nb) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * nb) return;
    const int64_t r = i / nb, b = i % nb;
    int8_t q[32];
    const float d = q8_block(x + r * x_stride_f + b * 32, q);
    xd[i] = tsc_h2f(tsc_f2h(d));
    int4 *o = (int4 *)(xq + r * nb * 32 + b * 32);
    int4 v0, v1;
    memcpy(&v0, q, 16);
    memcpy(&v1, q + 16, 16);
    o[0] = v0;
    o[1] = v1;
}

/* 32 bytes at a 2-byte aligned address as 8 little-endian words. */
static __device__ __forceinline__ void load32_a2(const uint8_t *p, int32_t *w) {
    const uint16_t *h = (const uint16_t *)p;
#pragma unroll
    for (int i = 0; i < 8; i++) w[i] = (int32_t)((uint32_t)h[2 * i] | ((uint32_t)h[2 * i + 1] << 16));
}

/* Integer dot of weight block (Q8_0 or Q4_0 at p) with activation quants a[0..7]; *dw = scale. */
template <int WT>
static __device__ __forceinline__ int32_t block_dot(const uint8_t *p, const int32_t *a, float *dw);

template <>
__device__ __forceinline__ int32_t block_dot<TS_TYPE_Q8_0>(const uint8_t *p, const int32_t *a, float *dw) {
    *dw = tsc_h2f(*(const uint16_t *)p);
    int32_t w[8];
    load32_a2(p + 2, w);
    int32_t s = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) s = __dp4a(w[i], a[i], s);
    return s;
}

template <>
__device__ __forceinline__ int32_t block_dot<TS_TYPE_Q4_0>(const uint8_t *p, const int32_t *a, float *dw) {
    *dw = tsc_h2f(*(const uint16_t *)p);
    const uint16_t *h = (const uint16_t *)(p + 2);
    int32_t s = 0, sa = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const uint32_t v = (uint32_t)h[2 * i] | ((uint32_t)h[2 * i + 1] << 16);
        /* byte j holds element j (low nibble) and element j + 16 (high nibble) */
        s = __dp4a((int32_t)(v & 0x0F0F0F0Fu), a[i], s);
        s = __dp4a((int32_t)((v >> 4) & 0x0F0F0F0Fu), a[i + 4], s);
    }
#pragma unroll
    for (int i = 0; i < 8; i++) sa = __dp4a(0x01010101, a[i], sa);
    return s - 8 * sa; /* sum (q - 8) * a, exactly the CPU's integer */
}

template <int WT, int MT>
__global__ void __launch_bounds__(32 * TSC_MM_WARPS) k_matmul_q(float *y, int64_t y_stride_f, const uint8_t *w,
                                                                  int64_t w_stride, const int8_t *xq, const float *xd,
                                                                  int64_t n, int64_t k, int64_t m) {
    const int64_t row = (int64_t)blockIdx.x * TSC_MM_WARPS + threadIdx.y;
    if (row >= n) return;
    const int64_t m0 = (int64_t)blockIdx.y * MT;
    const int mc = m - m0 < MT ? (int)(m - m0) : MT;
    const int lane = threadIdx.x;
    const int64_t nb = k / 32;
    const int bs = WT == TS_TYPE_Q8_0 ? 34 : 18;
    const uint8_t *wr = w + row * w_stride;
    float acc[MT];
#pragma unroll
    for (int j = 0; j < MT; j++) acc[j] = 0.0f;
    for (int64_t b = lane; b < nb; b += 32) {
#pragma unroll
        for (int j = 0; j < MT; j++) {
            if (j < mc) {
                const int4 *ap = (const int4 *)(xq + ((m0 + j) * nb + b) * 32);
                const int4 a0 = ap[0], a1 = ap[1];
                const int32_t a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
                float dw;
                const int32_t s = block_dot<WT>(wr + b * bs, a, &dw);
                acc[j] += dw * xd[(m0 + j) * nb + b] * (float)s;
            }
        }
    }
#pragma unroll
    for (int j = 0; j < MT; j++) {
        const float v = tsc_warp_sum(acc[j]);
        if (lane == 0 && j < mc) y[(m0 + j) * y_stride_f + row] = v;
    }
}

template <typename WTy, int MT>
__global__ void __launch_bounds__(32 * TSC_MM_WARPS) k_matmul_f(float *y, int64_t y_stride_f, const WTy *w,
                                                                  int64_t w_stride_e, const float *x, int64_t x_stride_f,
                                                                  int64_t n, int64_t k, int64_t m) {
    const int64_t row = (int64_t)blockIdx.x * TSC_MM_WARPS + threadIdx.y;
    if (row >= n) return;
    const int64_t m0 = (int64_t)blockIdx.y * MT;
    const int mc = m - m0 < MT ? (int)(m - m0) : MT;
    const int lane = threadIdx.x;
    const WTy *wr = w + row * w_stride_e;
    float acc[MT];
#pragma unroll
    for (int j = 0; j < MT; j++) acc[j] = 0.0f;
    for (int64_t i = lane; i < k; i += 32) {
        float wv;
        if constexpr (sizeof(WTy) == 2) wv = __half2float(wr[i]);
        else wv = wr[i];
#pragma unroll
        for (int j = 0; j < MT; j++)
            if (j < mc) acc[j] += wv * x[(m0 + j) * x_stride_f + i];
    }
#pragma unroll
    for (int j = 0; j < MT; j++) {
        const float v = tsc_warp_sum(acc[j]);
        if (lane == 0 && j < mc) y[(m0 + j) * y_stride_f + row] = v;
    }
}

static int aligned(const void *p, int64_t a) { return ((uintptr_t)p % (uintptr_t)a) == 0; }

extern "C" TS_API int32_t tsc_quantize_q8_0(void *ctx, void *dst, const float *x, int64_t x_stride, int64_t rows, int64_t k) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_quantize_q8_0", &c);
    if (st) return st;
    if (rows < 0 || k < 0 || k % 32 != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_quantize_q8_0: rows=%lld, k=%lld (a multiple of 32) must be >= 0",
                             (long long)rows, (long long)k);
    if (rows == 0 || k == 0) return TS_OK;
    if (dst == NULL || x == NULL || !aligned(dst, 2) || !aligned(x, 4) || x_stride % 4 != 0 || (rows > 1 && x_stride < 4 * k))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_quantize_q8_0: null or misaligned pointer, or bad x_stride %lld",
                             (long long)x_stride);
    const int64_t total = rows * (k / 32);
    k_quantize_q8_0_blocks<<<(unsigned)tsc_cdiv(total, 128), 128, 0, c->stream>>>((tsc_block_q8_0 *)dst, x, x_stride / 4, rows,
                                                                                    k / 32);
    return tsc_launch_status("tsc_quantize_q8_0");
}

template <int WT>
static void launch_q(struct tsc_context *c, float *y, int64_t ys, const uint8_t *w, int64_t w_stride, const int8_t *xq,
                     const float *xd, int64_t n, int64_t k, int64_t m) {
    dim3 block(32, TSC_MM_WARPS);
    if (m == 1) {
        dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), 1);
        k_matmul_q<WT, 1><<<grid, block, 0, c->stream>>>(y, ys, w, w_stride, xq, xd, n, k, m);
    } else {
        dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), (unsigned)tsc_cdiv(m, 8));
        k_matmul_q<WT, 8><<<grid, block, 0, c->stream>>>(y, ys, w, w_stride, xq, xd, n, k, m);
    }
}

template <typename WTy>
static void launch_f(struct tsc_context *c, float *y, int64_t ys, const WTy *w, int64_t ws, const float *x, int64_t xs,
                     int64_t n, int64_t k, int64_t m) {
    dim3 block(32, TSC_MM_WARPS);
    if (m == 1) {
        dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), 1);
        k_matmul_f<WTy, 1><<<grid, block, 0, c->stream>>>(y, ys, w, ws, x, xs, n, k, m);
    } else {
        dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), (unsigned)tsc_cdiv(m, 8));
        k_matmul_f<WTy, 8><<<grid, block, 0, c->stream>>>(y, ys, w, ws, x, xs, n, k, m);
    }
}

extern "C" TS_API int32_t tsc_matmul(void *ctx, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride,
                                     const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_matmul", &c);
    if (st) return st;
    const int quant = w_type == TS_TYPE_Q8_0 || w_type == TS_TYPE_Q4_0;
    if (!quant && w_type != TS_TYPE_F16 && w_type != TS_TYPE_F32)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_matmul: weight type %d is not supported on CUDA (Q8_0, Q4_0, F16, F32)",
                             (int)w_type);
    if (n < 0 || k < 0 || m < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul: n=%lld, k=%lld, m=%lld must be >= 0", (long long)n,
                             (long long)k, (long long)m);
    if (quant && k % 32 != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul: k=%lld is not a multiple of the block size 32", (long long)k);
    if (n == 0 || m == 0) return TS_OK;
    if (m > 65535LL * 8 || n > 0x7fffffffLL * TSC_MM_WARPS)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul: n=%lld or m=%lld too large for one launch", (long long)n,
                             (long long)m);
    if (k == 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul: k must be > 0");
    const int64_t wsz = w_type == TS_TYPE_Q8_0 ? 34 * (k / 32) : w_type == TS_TYPE_Q4_0 ? 18 * (k / 32) : w_type == TS_TYPE_F16 ? 2 * k : 4 * k;
    const int64_t wal = w_type == TS_TYPE_F32 ? 4 : 2;
    if (y == NULL || w == NULL || x == NULL)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul: %s is NULL", y == NULL ? "y" : w == NULL ? "w" : "x");
    if (!aligned(y, 4) || !aligned(x, 4) || !aligned(w, wal) || y_stride % 4 || x_stride % 4 || w_stride % wal)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT,
                             "tsc_matmul: pointers/strides misaligned (y, x: 4 bytes; w: %lld bytes)", (long long)wal);
    if ((n > 1 && w_stride < wsz) || (m > 1 && (y_stride < 4 * n || x_stride < 4 * k)))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul: a row stride is shorter than its row");
    if (m > 1) {
        st = tsc_matmul_mma(c, y, y_stride, w, w_type, w_stride, x, x_stride, n, k, m);
        if (st != TSC_NOT_HANDLED) return st;
    }
    if (quant) {
        const int64_t nb = k / 32;
        void *scratch;
        st = tsc_scratch(c, m * k + m * nb * 4 + 256, &scratch);
        if (st) return st;
        int8_t *xq = (int8_t *)scratch;
        float *xd = (float *)((char *)scratch + (m * k + 255) / 256 * 256);
        k_quantize_q8_0_split<<<(unsigned)tsc_cdiv(m * nb, 128), 128, 0, c->stream>>>(xq, xd, x, x_stride / 4, m, nb);
        if (w_type == TS_TYPE_Q8_0) launch_q<TS_TYPE_Q8_0>(c, y, y_stride / 4, (const uint8_t *)w, w_stride, xq, xd, n, k, m);
        else launch_q<TS_TYPE_Q4_0>(c, y, y_stride / 4, (const uint8_t *)w, w_stride, xq, xd, n, k, m);
        st = tsc_launch_status("tsc_matmul");
        int32_t st2 = tsc_pool_free(c, scratch); /* stream-ordered: later work may reuse it */
        return st ? st : st2;
    }
    if (w_type == TS_TYPE_F16)
        launch_f<__half>(c, y, y_stride / 4, (const __half *)w, w_stride / 2, x, x_stride / 4, n, k, m);
    else
        launch_f<float>(c, y, y_stride / 4, (const float *)w, w_stride / 4, x, x_stride / 4, n, k, m);
    return tsc_launch_status("tsc_matmul");
}
