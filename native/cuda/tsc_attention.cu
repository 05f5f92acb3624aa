/*
 * tsc_attention.cu — fused attention with an online softmax (the CPU's ts_attention contract).
 *
 * A thread block holds TSC_ATT_ROWS warps, one query row each, all of the same head; the
 * block walks the keys in tiles of 32 that it stages in shared memory as floats (K rows
 * padded to d + 1 floats so lane j reading key j's column c hits distinct banks). Per tile,
 * lane j scores key j, the warp takes the tile's max and sum with shuffles, rescales its
 * running sum and accumulator by exp(m_old - m_new), and adds p_j·V_j (each lane owns
 * columns lane, lane + 32, ...). Keys outside the row's causal window, beyond lk, or
 * masked to -inf score -inf and weigh 0; a row with no visible key is written as zeros.
 */
#include "tsc_internal.cuh"

#define TSC_ATT_ROWS 8
#define TSC_ATT_TILE 32
#define TSC_ATT_MAX_D 256

struct att_args {
    float *o;
    int64_t o_hs, o_rs; /* floats */
    const float *q;
    int64_t q_hs, q_rs; /* floats */
    const char *k, *v;
    int64_t k_hs, k_rs, v_hs, v_rs; /* bytes */
    const float *mask;
    int64_t mask_rs; /* floats */
    int64_t n_heads, group, lq, lk, d, kv_offset;
    float scale;
    int causal;
};

template <typename T>
static __device__ __forceinline__ float ldkv(const char *row, int64_t c) {
    if constexpr (sizeof(T) == 2) return __half2float(((const __half *)row)[c]);
    else return ((const float *)row)[c];
}

template <typename T>
__global__ void __launch_bounds__(32 * TSC_ATT_ROWS) k_attention(struct att_args a) {
    extern __shared__ float smem[];
    const int64_t d = a.d, ld = d + 1;
    float *ks = smem, *vs = ks + TSC_ATT_TILE * ld, *qs = vs + TSC_ATT_TILE * ld;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t h = blockIdx.y, kvh = h / a.group;
    const int64_t i = (int64_t)blockIdx.x * TSC_ATT_ROWS + warp;
    const bool valid = i < a.lq;
    float *qw = qs + warp * d;
    if (valid)
        for (int64_t c = lane; c < d; c += 32) qw[c] = a.q[h * a.q_hs + i * a.q_rs + c] * a.scale;
    /* Keys this row sees, and the most any row of the block sees (the last valid row's). */
    int64_t kend = a.lk, kend_block = a.lk;
    if (a.causal) {
        const int64_t last_row = min((int64_t)blockIdx.x * TSC_ATT_ROWS + TSC_ATT_ROWS, a.lq) - 1;
        const int64_t e = a.kv_offset + i + 1, eb = a.kv_offset + last_row + 1;
        kend = e < 0 ? 0 : (e < a.lk ? e : a.lk);
        kend_block = eb < 0 ? 0 : (eb < a.lk ? eb : a.lk);
    }
    const float *mrow = a.mask && valid ? a.mask + i * a.mask_rs : NULL;
    const char *kb = a.k + kvh * a.k_hs, *vb = a.v + kvh * a.v_hs;
    float m = -INFINITY, l = 0.0f;
    float acc[TSC_ATT_MAX_D / 32];
#pragma unroll
    for (int t = 0; t < TSC_ATT_MAX_D / 32; t++) acc[t] = 0.0f;

    for (int64_t k0 = 0; k0 < kend_block; k0 += TSC_ATT_TILE) {
        __syncthreads(); /* the previous tile is no longer read */
        for (int64_t e = threadIdx.x; e < TSC_ATT_TILE * d; e += blockDim.x) {
            const int64_t j = e / d, c = e % d;
            const bool in = k0 + j < a.lk;
            ks[j * ld + c] = in ? ldkv<T>(kb + (k0 + j) * a.k_rs, c) : 0.0f;
            vs[j * ld + c] = in ? ldkv<T>(vb + (k0 + j) * a.v_rs, c) : 0.0f;
        }
        __syncthreads();
        if (!valid) continue;
        const int64_t j = k0 + lane;
        float s = -INFINITY;
        if (j < kend) {
            const float *kr = ks + lane * ld;
            float dot = 0.0f;
            for (int64_t c = 0; c < d; c++) dot += qw[c] * kr[c];
            if (mrow) dot += mrow[j];
            s = dot;
        }
        const float bmax = tsc_warp_max(s);
        if (bmax == -INFINITY) continue; /* whole tile hidden for this row (uniform in the warp) */
        const float mnew = fmaxf(m, bmax);
        const float alpha = expf(m - mnew); /* 0 on the first visible tile (m = -inf) */
        const float p = expf(s - mnew);
        l = l * alpha + tsc_warp_sum(p);
#pragma unroll
        for (int t = 0; t < TSC_ATT_MAX_D / 32; t++) acc[t] *= alpha;
        for (int jj = 0; jj < TSC_ATT_TILE; jj++) {
            const float pj = __shfl_sync(0xffffffffu, p, jj);
            const float *vr = vs + jj * ld;
#pragma unroll
            for (int t = 0; t < TSC_ATT_MAX_D / 32; t++) {
                const int64_t c = lane + 32 * t;
                if (c < d) acc[t] += pj * vr[c];
            }
        }
        m = mnew;
    }
    if (!valid) return;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    float *orow = a.o + h * a.o_hs + i * a.o_rs;
#pragma unroll
    for (int t = 0; t < TSC_ATT_MAX_D / 32; t++) {
        const int64_t c = lane + 32 * t;
        if (c < d) orow[c] = acc[t] * inv;
    }
}

extern "C" TS_API int32_t tsc_attention(void *ctx, float *o, int64_t o_head_stride, int64_t o_row_stride, const float *q,
                                        int64_t q_head_stride, int64_t q_row_stride, const void *k, int64_t k_head_stride,
                                        int64_t k_row_stride, const void *v, int64_t v_head_stride, int64_t v_row_stride,
                                        int32_t kv_type, const float *mask, int64_t mask_row_stride, int64_t n_heads,
                                        int64_t n_kv_heads, int64_t lq, int64_t lk, int64_t d, float scale, int32_t causal,
                                        int64_t kv_offset) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_attention", &c);
    if (st) return st;
    if (kv_type != TS_TYPE_F32 && kv_type != TS_TYPE_F16)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_attention: K/V type id %d is not supported (F32 or F16)", (int)kv_type);
    if (n_heads <= 0 || n_kv_heads <= 0 || n_heads % n_kv_heads != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: n_heads %lld is not a positive multiple of n_kv_heads %lld",
                             (long long)n_heads, (long long)n_kv_heads);
    if (d <= 0 || d > TSC_ATT_MAX_D)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: head size %lld outside [1, %d]", (long long)d, TSC_ATT_MAX_D);
    if (lq < 0 || lk < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: negative lq %lld or lk %lld", (long long)lq, (long long)lk);
    if (!isfinite(scale)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: scale is not finite");
    if (lq == 0) return TS_OK;
    if (o == NULL || q == NULL || (lk > 0 && (k == NULL || v == NULL)))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: null pointer");
    const int64_t esz = kv_type == TS_TYPE_F16 ? 2 : 4;
    if (((uintptr_t)o | (uintptr_t)q | (uintptr_t)mask) % 4 || o_head_stride % 4 || o_row_stride % 4 || q_head_stride % 4 ||
        q_row_stride % 4 || mask_row_stride % 4 || ((uintptr_t)k | (uintptr_t)v) % esz || k_head_stride % esz ||
        k_row_stride % esz || v_head_stride % esz || v_row_stride % esz)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: pointers and strides must be multiples of the element size");
    if (n_heads > 65535 || tsc_cdiv(lq, TSC_ATT_ROWS) > 0x7fffffffLL)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_attention: too many heads (%lld > 65535) or query rows", (long long)n_heads);
    struct att_args a;
    a.o = o, a.o_hs = o_head_stride / 4, a.o_rs = o_row_stride / 4;
    a.q = q, a.q_hs = q_head_stride / 4, a.q_rs = q_row_stride / 4;
    a.k = (const char *)k, a.v = (const char *)v;
    a.k_hs = k_head_stride, a.k_rs = k_row_stride, a.v_hs = v_head_stride, a.v_rs = v_row_stride;
    a.mask = lk > 0 ? mask : NULL, a.mask_rs = mask_row_stride / 4;
    a.n_heads = n_heads, a.group = n_heads / n_kv_heads, a.lq = lq, a.lk = lk, a.d = d;
    a.kv_offset = causal ? kv_offset : 0;
    a.scale = scale, a.causal = causal != 0;
    const size_t smem = (size_t)(2 * TSC_ATT_TILE * (d + 1) + TSC_ATT_ROWS * d) * sizeof(float);
    if ((int64_t)smem > c->max_smem_optin)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_attention: d=%lld needs %zu bytes of shared memory, the device has %d",
                             (long long)d, smem, c->max_smem_optin);
    dim3 grid((unsigned)tsc_cdiv(lq, TSC_ATT_ROWS), (unsigned)n_heads);
    if (kv_type == TS_TYPE_F16) {
        if (smem > 48 * 1024)
            cudaFuncSetAttribute(k_attention<__half>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        k_attention<__half><<<grid, 32 * TSC_ATT_ROWS, smem, c->stream>>>(a);
    } else {
        if (smem > 48 * 1024)
            cudaFuncSetAttribute(k_attention<float>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        k_attention<float><<<grid, 32 * TSC_ATT_ROWS, smem, c->stream>>>(a);
    }
    return tsc_launch_status("tsc_attention");
}
