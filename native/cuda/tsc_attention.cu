/*
 * tsc_attention.cu — fused attention with an online softmax (the CPU's ts_attention contract).
 *
 * Three kernels, picked per call by tsc_attention (bottom of the file):
 *  - k_att_split (decode, lq <= 8): flash-decoding. Blocks (head, chunk of keys) stage their
 *    chunk of K and V in shared memory with cp.async (many blocks, tens of KB in flight per
 *    SM: the op is a stream over the cache), score it for every query row, and write the
 *    chunk's max, sum and unnormalised p·V; the last of a head's blocks to finish merges the
 *    chunks (att_combine_row). With GQA a block takes all query heads of its kv head (up to
 *    8 rows), so K/V are read once.
 *    Exact F32 math.
 *  - k_flash (prefill / images, lq > 8, d a multiple of 8 up to 160): flash attention on tensor cores
 *    (mma.sync m16n8k16, f16 inputs, f32 accumulation). 64 or 128 query rows per block (16
 *    or 32 per warp), key tiles of 64 double-buffered with cp.async, d padded with zeros to a multiple
 *    of 16 in shared memory. Q (pre-multiplied by scale·log2 e), F32 K/V and P are rounded
 *    to f16: see tsc_attention for what that costs.
 *  - k_attention (everything else: lq > 8 with d > 160 or not a multiple of 8, K/V rows not
 *    16-byte aligned): the general kernel below, exact F32.
 *
 * General kernel: a thread block holds TSC_ATT_ROWS warps, one query row each, all of the same
 * head; the block walks the keys in tiles of 32 that it stages in shared memory as floats (K rows
 * padded to d + 1 floats so lane j reading key j's column c hits distinct banks). Per tile,
 * lane j scores key j, the warp takes the tile's max and sum with shuffles, rescales its
 * running sum and accumulator by exp(m_old - m_new), and adds p_j·V_j (each lane owns
 * columns lane, lane + 32, ...). Keys outside the row's causal window, beyond lk, or
 * masked to -inf score -inf and weigh 0; a row with no visible key is written as zeros.
 */
/* TSC_EMU: the CPU emulator (native/cuda/emu) compiles this file as C++ to check it without
 * a GPU: the PTX helpers are left out (emu/ptx_attention.h stands in), and so are the host entry
 * points except in the emulated library (TSC_EMU_LIBRARY). */
#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY)
#include "tsc_internal.cuh"
#endif

#include <stdlib.h>
#include <string.h>

#include <type_traits>

#define TSC_ATT_ROWS 8
#define TSC_ATT_TILE 32
#define TSC_ATT_MAX_D 256

/* The arguments of all three kernels (the split-KV fields are set by dec_plan and launch_split). */
struct att_args {
    float *o;
    int64_t o_hs, o_rs; /* floats */
    const float *q;
    int64_t q_hs, q_rs; /* floats */
    const char *k, *v;
    int64_t k_hs, k_rs, v_hs, v_rs; /* bytes */
    const float *mask;
    int64_t mask_rs; /* floats */
    int64_t group, lq, lk, d, kv_offset;
    float scale;  /* the scores' factor */
    float qscale; /* flash: scale·log2(e), so scores come out in base 2 */
    int32_t causal;
    /* split-KV decode */
    float *part;                 /* [n_heads·lq][n_split][d] unnormalised p·V per chunk */
    float *part_ml;              /* [n_heads·lq][n_split][2] the chunk's max and sum of exp(s - max) */
    int32_t chunk, n_split, srb; /* keys per block, blocks per head, shared bytes per staged row */
    uint32_t *tickets;           /* n_split > 1: per block column, chunks done (the context's, zero between calls) */
    int32_t grouped;             /* a block takes all `group` query heads of its kv head */
    int32_t rows;                /* query rows per block: group·lq when grouped, else lq (<= 8) */
    /* split-KV, one query row with its heads side by side: the output's Q8_0 copy (the next
     * matmul's cached input, as a one-row norm writes it), or NULL */
    int8_t *xq;
    tsc_xs *xqs;
};

/* tsc_attention's arguments as the kernels take them (strides in bytes become floats for
 * F32 tensors); a causal window's kv_offset is kept only when causal. */
static struct att_args att_make(float *o, int64_t o_head_stride, int64_t o_row_stride, const float *q, int64_t q_head_stride,
                                int64_t q_row_stride, const void *k, int64_t k_head_stride, int64_t k_row_stride, const void *v,
                                int64_t v_head_stride, int64_t v_row_stride, const float *mask, int64_t mask_row_stride,
                                int64_t n_heads, int64_t n_kv_heads, int64_t lq, int64_t lk, int64_t d, float scale, int32_t causal,
                                int64_t kv_offset) {
    struct att_args a;
    memset(&a, 0, sizeof a);
    a.o = o, a.o_hs = o_head_stride / 4, a.o_rs = o_row_stride / 4;
    a.q = q, a.q_hs = q_head_stride / 4, a.q_rs = q_row_stride / 4;
    a.k = (const char *)k, a.v = (const char *)v;
    a.k_hs = k_head_stride, a.k_rs = k_row_stride, a.v_hs = v_head_stride, a.v_rs = v_row_stride;
    a.mask = lk > 0 ? mask : NULL, a.mask_rs = mask_row_stride / 4;
    a.group = n_heads / n_kv_heads, a.lq = lq, a.lk = lk, a.d = d;
    a.kv_offset = causal ? kv_offset : 0;
    a.scale = scale, a.qscale = scale * 1.4426950408889634f, a.causal = causal != 0;
    return a;
}

template <typename T>
static __device__ __forceinline__ float ldkv(const char *row, int64_t c) {
    if constexpr (sizeof(T) == 2) return __half2float(((const __half *)row)[c]);
    else return ((const float *)row)[c];
}

template <typename T>
__global__ void __launch_bounds__(32 * TSC_ATT_ROWS) k_attention(struct att_args a) {
    TSC_DYN_SMEM(float, smem, 4);
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

/* ---- shared helpers ------------------------------------------------------------------------ */
#ifndef TSC_EMU

static __device__ __forceinline__ uint32_t tsc_smem_addr(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }
/* 16 bytes global -> shared without a register round trip (sm_80+); both 16-byte aligned. */
static __device__ __forceinline__ void tsc_cp16(void *dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(tsc_smem_addr(dst)), "l"(__cvta_generic_to_global(src)));
}
static __device__ __forceinline__ void tsc_cp_commit(void) { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
static __device__ __forceinline__ void tsc_cp_wait(void) {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
#endif

/* ---- decode: split-KV ---------------------------------------------------------------------- */

#define TSC_DEC_THREADS 128
#define TSC_DEC_MAXQ 8 /* query rows per call the split kernel takes (decode, speculative steps) */

/* Shared layout of k_att_split: K rows, V rows (srb bytes each), Q rows (floats, scaled),
 * scores then weights [rows][chunk], the slices' partial sums for the reduction of p·V,
 * and the rows' max and sum. */
static size_t dec_smem_bytes(int64_t chunk, int64_t srb, int64_t rows, int64_t d) {
    return (size_t)(2 * chunk * srb + rows * d * 4 + rows * chunk * 4 + 2 * TSC_DEC_THREADS * TSC_DEC_MAXQ * 4 + rows * 8);
}

/* Merges the chunks of one (head, row) hr: O = sum_s e^(m_s - M)·acc_s / sum_s e^(m_s - M)·l_s,
 * the block's nt threads taking its columns. The chunks come from other blocks (and SMs):
 * loaded past L1 (__ldcg). a.xq: lq == 1 (h == hr) and d % 32 == 0, so whole warps hold blocks
 * of 32 for the Q8_0 copy. */
static __device__ __forceinline__ void att_combine_row(const struct att_args &a, int64_t hr, int tid, int nt) {
    const int64_t h = hr / a.lq, r = hr - h * a.lq, d = a.d;
    const float *pm = a.part_ml + hr * a.n_split * 2, *po = a.part + hr * a.n_split * d;
    float m = -INFINITY;
    for (int s = 0; s < a.n_split; s++) m = fmaxf(m, __ldcg(pm + 2 * s));
    float *orow = a.o + h * a.o_hs + r * a.o_rs;
    if (m == -INFINITY) { /* no chunk saw a key */
        for (int64_t c = tid; c < d; c += nt) {
            orow[c] = 0.0f;
            if (a.xq) tsc_q8_split_store(0.0f, a.xq, a.xqs, (h * d + c) / 32);
        }
        return;
    }
    float l = 0.0f;
    for (int s = 0; s < a.n_split; s++) {
        const float ms = __ldcg(pm + 2 * s);
        l += ms == -INFINITY ? 0.0f : __ldcg(pm + 2 * s + 1) * expf(ms - m);
    }
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int64_t c = tid; c < d; c += nt) {
        float acc = 0.0f;
        for (int s = 0; s < a.n_split; s++) {
            const float ms = __ldcg(pm + 2 * s);
            if (ms != -INFINITY) acc += __ldcg(po + (int64_t)s * d + c) * expf(ms - m);
        }
        orow[c] = acc * inv;
        if (a.xq) tsc_q8_split_store(acc * inv, a.xq, a.xqs, (h * d + c) / 32);
    }
}

/* Block (x, s): chunk s of the keys for query head x (or, grouped, for every query head of
 * kv head x, so GQA reads each K/V row once). Its row rr is query row rr % lq of head
 * x·group + rr / lq (grouped) or of head x; its global row index (head·lq + row) is x·rows + rr. */
template <typename T>
__global__ void __launch_bounds__(TSC_DEC_THREADS) k_att_split(struct att_args a) {
    tsc_pdl_enter();
    TSC_DYN_SMEM(char, dsm, 16);
    constexpr int esz = (int)sizeof(T), vpc = 16 / esz; /* elements per 16-byte chunk */
    const int64_t d = a.d, lq = a.lq;
    const int chunk = a.chunk, srb = a.srb, R = a.rows;
    char *ks = dsm, *vs = ks + (size_t)chunk * srb;
    float *qs = (float *)(vs + (size_t)chunk * srb), *ps = qs + R * d, *red = ps + R * chunk,
          *ml = red + 2 * TSC_DEC_THREADS * TSC_DEC_MAXQ;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t bx = blockIdx.x, s = blockIdx.y;
    const int64_t kvh = a.grouped ? bx : bx / a.group, head0 = a.grouped ? bx * a.group : bx;
    const int64_t j0 = s * chunk;
    int64_t jend = min(j0 + chunk, a.lk);
    if (a.causal) jend = min(jend, a.kv_offset + lq); /* the last row sees keys < kv_offset + lq */
    const int nk = jend > j0 ? (int)(jend - j0) : 0;

    /* K then V as two cp.async groups: the scores need only K, so V keeps arriving meanwhile. */
    const int cpr = (int)(d * esz / 16);
    const char *kb = a.k + kvh * a.k_hs + j0 * a.k_rs, *vb = a.v + kvh * a.v_hs + j0 * a.v_rs;
    for (int e = tid; e < nk * cpr; e += TSC_DEC_THREADS) {
        const int r = e / cpr, c = e - r * cpr;
        tsc_cp16(ks + (size_t)r * srb + c * 16, kb + r * a.k_rs + c * 16);
    }
    tsc_cp_commit();
    for (int e = tid; e < nk * cpr; e += TSC_DEC_THREADS) {
        const int r = e / cpr, c = e - r * cpr;
        tsc_cp16(vs + (size_t)r * srb + c * 16, vb + r * a.v_rs + c * 16);
    }
    tsc_cp_commit();
    for (int64_t e = tid; e < R * d; e += TSC_DEC_THREADS) {
        const int64_t rr = e / d, c = e - rr * d, hh = head0 + rr / lq, r = rr % lq;
        qs[e] = a.q[hh * a.q_hs + r * a.q_rs + c] * a.scale;
    }
    tsc_cp_wait<1>();
    __syncthreads();

    /* Scores: thread j takes key j for every row (rows padded so 8 threads' 16-byte reads
     * cover all banks once). Hidden keys score -inf. */
    for (int j = tid; j < nk; j += TSC_DEC_THREADS) {
        float acc[TSC_DEC_MAXQ];
#pragma unroll
        for (int r = 0; r < TSC_DEC_MAXQ; r++) acc[r] = 0.0f;
        const char *kr = ks + (size_t)j * srb;
        for (int64_t c0 = 0; c0 < d; c0 += vpc) {
            const uint4 raw = *(const uint4 *)(kr + c0 * esz);
            float kf[vpc];
            if constexpr (esz == 2) {
                const __half2 *hp = (const __half2 *)&raw;
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const float2 f = __half22float2(hp[e]);
                    kf[2 * e] = f.x, kf[2 * e + 1] = f.y;
                }
            } else {
                kf[0] = __uint_as_float(raw.x), kf[1] = __uint_as_float(raw.y);
                kf[2] = __uint_as_float(raw.z), kf[3] = __uint_as_float(raw.w);
            }
#pragma unroll
            for (int rr = 0; rr < TSC_DEC_MAXQ; rr++) {
                if (rr < R) {
                    const float *qr = qs + rr * d + c0;
#pragma unroll
                    for (int e = 0; e < vpc; e++) acc[rr] += qr[e] * kf[e];
                }
            }
        }
        const int64_t key = j0 + j;
#pragma unroll
        for (int rr = 0; rr < TSC_DEC_MAXQ; rr++) {
            if (rr < R) {
                const int64_t r = rr % lq;
                float sc = acc[rr];
                if (a.causal && key > a.kv_offset + r) sc = -INFINITY;
                else if (a.mask) sc += a.mask[r * a.mask_rs + key];
                ps[rr * chunk + j] = sc;
            }
        }
    }
    __syncthreads();

    /* Softmax of the chunk, one warp per row: weights in place, the row's max and sum. */
    for (int rr = warp; rr < R; rr += TSC_DEC_THREADS / 32) {
        float m = -INFINITY;
        for (int j = lane; j < nk; j += 32) m = fmaxf(m, ps[rr * chunk + j]);
        m = tsc_warp_max(m);
        const float mu = m == -INFINITY ? 0.0f : m; /* all hidden: every exp(-inf) = 0 */
        float l = 0.0f;
        for (int j = lane; j < nk; j += 32) {
            const float p = expf(ps[rr * chunk + j] - mu);
            ps[rr * chunk + j] = p;
            l += p;
        }
        l = tsc_warp_sum(l);
        if (lane == 0) ml[2 * rr] = m, ml[2 * rr + 1] = l;
    }
    tsc_cp_wait<0>();
    __syncthreads();

    /* p·V: thread (slice, pair) owns columns 2·pair, 2·pair + 1 and keys slice, slice + ns, ...
     * (d is even here: d·esz is a multiple of 16). */
    const int np = (int)(d / 2), ns = TSC_DEC_THREADS / np, pair = tid % np, slice = tid / np;
    if (slice < ns) {
        float acc0[TSC_DEC_MAXQ], acc1[TSC_DEC_MAXQ];
#pragma unroll
        for (int r = 0; r < TSC_DEC_MAXQ; r++) acc0[r] = 0.0f, acc1[r] = 0.0f;
        for (int j = slice; j < nk; j += ns) {
            float2 vv;
            if constexpr (esz == 2) vv = __half22float2(*(const __half2 *)(vs + (size_t)j * srb + pair * 4));
            else vv = *(const float2 *)(vs + (size_t)j * srb + pair * 8);
#pragma unroll
            for (int rr = 0; rr < TSC_DEC_MAXQ; rr++) {
                if (rr < R) {
                    const float p = ps[rr * chunk + j];
                    acc0[rr] += p * vv.x, acc1[rr] += p * vv.y;
                }
            }
        }
#pragma unroll
        for (int rr = 0; rr < TSC_DEC_MAXQ; rr++) {
            if (rr < R) {
                red[(slice * R + rr) * d + 2 * pair] = acc0[rr];
                red[(slice * R + rr) * d + 2 * pair + 1] = acc1[rr];
            }
        }
    }
    __syncthreads();
    for (int64_t e = tid; e < R * d; e += TSC_DEC_THREADS) {
        const int64_t rr = e / d, c = e - rr * d;
        float sum = 0.0f;
        for (int sl = 0; sl < ns; sl++) sum += red[(sl * R + rr) * d + c];
        if (a.n_split == 1) {
            const float l = ml[2 * rr + 1];
            const int64_t hh = head0 + rr / lq, r = rr % lq;
            const float o = l > 0.0f ? sum / l : 0.0f;
            a.o[hh * a.o_hs + r * a.o_rs + c] = o;
            if (a.xq) tsc_q8_split_store(o, a.xq, a.xqs, (hh * d + c) / 32); /* whole warps: d % 32 == 0 */
        } else {
            a.part[((bx * R + rr) * a.n_split + s) * d + c] = sum;
        }
    }
    if (a.n_split > 1 && tid < R) {
        float *pm = a.part_ml + ((bx * R + tid) * a.n_split + s) * 2;
        pm[0] = ml[2 * tid], pm[1] = ml[2 * tid + 1];
    }
    if (a.n_split == 1) return;
    /* The last of column bx's blocks to finish merges its rows' chunks (tsc_ticket_last): one
     * launch fewer per decode attention than a combining kernel. */
    __shared__ int last;
    __syncthreads(); /* every thread's chunk stored before thread 0 takes the ticket (as cooperative groups' grid sync) */
    if (tid == 0) last = tsc_ticket_last(a.tickets + bx, (uint32_t)a.n_split);
    __syncthreads();
    if (!last) return;
    __threadfence();
    for (int rr = 0; rr < R; rr++) att_combine_row(a, bx * R + rr, tid, TSC_DEC_THREADS);
}

/* ---- prefill: tensor-core flash attention -------------------------------------------------- */

#define TSC_FA_BN 64 /* keys per tile */
#define TSC_FA_THREADS 128
#define TSC_FA_MAX_D 160


#ifndef TSC_EMU
static __device__ __forceinline__ void tsc_ldsm_x4(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr));
}
static __device__ __forceinline__ void tsc_ldsm_x4_t(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr));
}
/* c += a·b, m16n8k16, f16 inputs, f32 accumulators. */
static __device__ __forceinline__ void tsc_mma16816(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
static __device__ __forceinline__ float tsc_exp2(float x) { /* 2^x, 2 ulp; 2^-inf = 0 */
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}
#endif
static __device__ __forceinline__ uint32_t tsc_pack_h2(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *(const uint32_t *)&h;
}

static size_t fa_smem_bytes(int dp, int mt) { return (size_t)(64 * mt + 4 * TSC_FA_BN) * (dp + 8) * 2; }

/* DP: d rounded up to a multiple of 16 (the columns d..DP-1 are zeros in shared memory).
 * Shared rows are DP + 8 halves long so ldmatrix's 8 row reads hit distinct banks.
 * MT: 16-row tiles per warp (block of 64·MT rows): 2 shares every K/V fragment between two
 * row tiles, halving shared-memory and L2 traffic per flop, for small d where registers allow.
 * T: the K/V storage. F16 rows go to shared memory by cp.async; F32 rows are loaded,
 * rounded to f16 and stored (synchronously: other resident blocks cover the latency). */
template <int DP, int MT, typename T>
__global__ void __launch_bounds__(TSC_FA_THREADS) k_flash(struct att_args a) {
    constexpr int LDS = DP + 8, NT = TSC_FA_BN / 8, DT = DP / 8, BM = 64 * MT;
    TSC_DYN_SMEM(char, fsm, 16);
    __half *qs = (__half *)fsm, *ks = qs + BM * LDS, *vs = ks + 2 * TSC_FA_BN * LDS;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t4 = lane & 3;
    const int64_t h = blockIdx.y, kvh = h / a.group, row0 = (int64_t)blockIdx.x * BM, d = a.d;
    int64_t kend = a.lk;
    if (a.causal) {
        const int64_t e = a.kv_offset + min(row0 + BM, a.lq); /* past the last row's last key */
        kend = e < 0 ? 0 : (e < a.lk ? e : a.lk);
    }
    const int ntiles = (int)((kend + TSC_FA_BN - 1) / TSC_FA_BN);
    const int cpr = (int)(d / 8); /* 16-byte chunks per K/V row (d is a multiple of 8) */
    const char *kb = a.k + kvh * a.k_hs, *vb = a.v + kvh * a.v_hs;

    /* Zero the pad columns of both K/V stages once: loads never write them, and a NaN there
     * would poison the dot products (0·NaN). */
    if (d < DP)
        for (int e = tid; e < 4 * TSC_FA_BN * (DP - (int)d); e += TSC_FA_THREADS) {
            const int r = e / (DP - (int)d), c = (int)d + e % (DP - (int)d);
            ks[r * LDS + c] = __float2half(0.0f); /* ks and vs are contiguous: 4·BN rows */
        }
    /* Q, scaled into base-2 scores, rounded to f16; rows past lq and pad columns are 0. */
    for (int e = tid; e < BM * DP; e += TSC_FA_THREADS) {
        const int r = e / DP, c = e % DP;
        const int64_t i = row0 + r;
        const float x = i < a.lq && c < d ? a.q[h * a.q_hs + i * a.q_rs + c] * a.qscale : 0.0f;
        qs[r * LDS + c] = __float2half_rn(x);
    }
    /* Keys past lk are written as zeros (their V rows would otherwise be stale or garbage
     * and 0·NaN = NaN in P·V); their scores are set to -inf below. */
    auto load_tile = [&](int t, int stage) {
        const int64_t k0 = (int64_t)t * TSC_FA_BN;
        __half *kd = ks + stage * TSC_FA_BN * LDS, *vd = vs + stage * TSC_FA_BN * LDS;
        for (int e = tid; e < TSC_FA_BN * cpr; e += TSC_FA_THREADS) {
            const int r = e / cpr, c = e - r * cpr;
            const int64_t key = k0 + r;
            if (key >= a.lk) {
                *(uint4 *)(kd + r * LDS + c * 8) = make_uint4(0, 0, 0, 0);
                *(uint4 *)(vd + r * LDS + c * 8) = make_uint4(0, 0, 0, 0);
            } else if constexpr (sizeof(T) == 2) {
                tsc_cp16(kd + r * LDS + c * 8, kb + key * a.k_rs + c * 16);
                tsc_cp16(vd + r * LDS + c * 8, vb + key * a.v_rs + c * 16);
            } else {
                const float4 *ksrc = (const float4 *)(kb + key * a.k_rs + c * 32), *vsrc = (const float4 *)(vb + key * a.v_rs + c * 32);
                const float4 k_lo = ksrc[0], k_hi = ksrc[1], v_lo = vsrc[0], v_hi = vsrc[1];
                *(uint4 *)(kd + r * LDS + c * 8) = make_uint4(tsc_pack_h2(k_lo.x, k_lo.y), tsc_pack_h2(k_lo.z, k_lo.w),
                                                              tsc_pack_h2(k_hi.x, k_hi.y), tsc_pack_h2(k_hi.z, k_hi.w));
                *(uint4 *)(vd + r * LDS + c * 8) = make_uint4(tsc_pack_h2(v_lo.x, v_lo.y), tsc_pack_h2(v_lo.z, v_lo.w),
                                                              tsc_pack_h2(v_hi.x, v_hi.y), tsc_pack_h2(v_hi.z, v_hi.w));
            }
        }
        tsc_cp_commit();
    };

    /* Warp w holds rows w·16·MT + 16·mt + g and + 8 (mt < MT) of the block. */
    float o[MT][DT][4];
    float m_run[MT][2], l_run[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int n = 0; n < DT; n++) o[mt][n][0] = o[mt][n][1] = o[mt][n][2] = o[mt][n][3] = 0.0f;
        m_run[mt][0] = m_run[mt][1] = -INFINITY, l_run[mt][0] = l_run[mt][1] = 0.0f;
    }
    const int64_t wrow0 = row0 + warp * 16 * MT; /* the warp's first row */
    const uint32_t q_addr =
        tsc_smem_addr(qs + (warp * 16 * MT + (lane & 7) + 8 * ((lane >> 3) & 1)) * LDS + 8 * (lane >> 4));
    const float LOG2E = 1.4426950408889634f;

    if (ntiles > 0) load_tile(0, 0);
    for (int t = 0; t < ntiles; t++) {
        if (t + 1 < ntiles) load_tile(t + 1, (t + 1) & 1);
        else tsc_cp_commit();
        tsc_cp_wait<1>();
        __syncthreads();
        const __half *kt = ks + (t & 1) * TSC_FA_BN * LDS, *vt = vs + (t & 1) * TSC_FA_BN * LDS;
        const int64_t k0 = (int64_t)t * TSC_FA_BN;

        /* S = Q·Kᵀ for the warp's 16·MT rows x 64 keys. */
        float sacc[MT][NT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int n = 0; n < NT; n++) sacc[mt][n][0] = sacc[mt][n][1] = sacc[mt][n][2] = sacc[mt][n][3] = 0.0f;
        const uint32_t k_addr = tsc_smem_addr(kt + ((lane & 7) + 8 * (lane >> 4)) * LDS + 8 * ((lane >> 3) & 1));
#pragma unroll
        for (int kk = 0; kk < DP / 16; kk++) {
            uint32_t qa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) tsc_ldsm_x4(q_addr + (mt * 16 * LDS + kk * 16) * 2, qa[mt][0], qa[mt][1], qa[mt][2], qa[mt][3]);
#pragma unroll
            for (int n = 0; n < NT; n += 2) {
                uint32_t b0, b1, b2, b3;
                tsc_ldsm_x4(k_addr + (n * 8 * LDS + kk * 16) * 2, b0, b1, b2, b3);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    tsc_mma16816(sacc[mt][n], qa[mt], b0, b1);
                    tsc_mma16816(sacc[mt][n + 1], qa[mt], b2, b3);
                }
            }
        }
        /* Hidden keys -> -inf; mask added (in base 2). Only tiles that reach past lk, cross the
         * causal edge of the warp's first row, or have a mask pay for the checks. */
        if (k0 + TSC_FA_BN > a.lk || a.mask || (a.causal && k0 + TSC_FA_BN - 1 > a.kv_offset + wrow0)) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int n = 0; n < NT; n++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int64_t key = k0 + n * 8 + 2 * t4 + (e & 1), row = wrow0 + mt * 16 + g + (e < 2 ? 0 : 8);
                        float sc = sacc[mt][n][e];
                        if (key >= a.lk || (a.causal && key > a.kv_offset + row)) sc = -INFINITY;
                        else if (a.mask && row < a.lq) sc += a.mask[row * a.mask_rs + key] * LOG2E;
                        sacc[mt][n][e] = sc;
                    }
        }
        /* Online softmax: the 4 threads of a quad hold a row between them. */
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
            for (int n = 0; n < NT; n++) {
                mx0 = fmaxf(mx0, fmaxf(sacc[mt][n][0], sacc[mt][n][1]));
                mx1 = fmaxf(mx1, fmaxf(sacc[mt][n][2], sacc[mt][n][3]));
            }
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
            const float n0 = fmaxf(m_run[mt][0], mx0), n1 = fmaxf(m_run[mt][1], mx1);
            const float u0 = n0 == -INFINITY ? 0.0f : n0, u1 = n1 == -INFINITY ? 0.0f : n1; /* nothing seen yet */
            const float al0 = tsc_exp2(m_run[mt][0] - u0), al1 = tsc_exp2(m_run[mt][1] - u1);
            m_run[mt][0] = n0, m_run[mt][1] = n1;
            float s0 = 0.0f, s1 = 0.0f;
#pragma unroll
            for (int n = 0; n < NT; n++) {
                sacc[mt][n][0] = tsc_exp2(sacc[mt][n][0] - u0), sacc[mt][n][1] = tsc_exp2(sacc[mt][n][1] - u0);
                sacc[mt][n][2] = tsc_exp2(sacc[mt][n][2] - u1), sacc[mt][n][3] = tsc_exp2(sacc[mt][n][3] - u1);
                s0 += sacc[mt][n][0] + sacc[mt][n][1], s1 += sacc[mt][n][2] + sacc[mt][n][3];
            }
            /* per-thread partial sums; the quad adds them at the end */
            l_run[mt][0] = l_run[mt][0] * al0 + s0, l_run[mt][1] = l_run[mt][1] * al1 + s1;
#pragma unroll
            for (int n = 0; n < DT; n++) o[mt][n][0] *= al0, o[mt][n][1] *= al0, o[mt][n][2] *= al1, o[mt][n][3] *= al1;
        }

        /* O += P·V: the S accumulators of key tiles 2kk, 2kk + 1 are the A fragment as is. */
        const uint32_t v_addr = tsc_smem_addr(vt + ((lane & 7) + 8 * ((lane >> 3) & 1)) * LDS + 8 * (lane >> 4));
#pragma unroll
        for (int kk = 0; kk < TSC_FA_BN / 16; kk++) {
            uint32_t pa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                pa[mt][0] = tsc_pack_h2(sacc[mt][2 * kk][0], sacc[mt][2 * kk][1]);
                pa[mt][1] = tsc_pack_h2(sacc[mt][2 * kk][2], sacc[mt][2 * kk][3]);
                pa[mt][2] = tsc_pack_h2(sacc[mt][2 * kk + 1][0], sacc[mt][2 * kk + 1][1]);
                pa[mt][3] = tsc_pack_h2(sacc[mt][2 * kk + 1][2], sacc[mt][2 * kk + 1][3]);
            }
#pragma unroll
            for (int n = 0; n < DT; n += 2) {
                uint32_t b0, b1, b2, b3;
                tsc_ldsm_x4_t(v_addr + (kk * 16 * LDS + n * 8) * 2, b0, b1, b2, b3);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    tsc_mma16816(o[mt][n], pa[mt], b0, b1);
                    tsc_mma16816(o[mt][n + 1], pa[mt], b2, b3);
                }
            }
        }
        __syncthreads(); /* this stage is refilled by the next iteration's prefetch */
    }
    tsc_cp_wait<0>();
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        float l0 = l_run[mt][0], l1 = l_run[mt][1];
        l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
        l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
        l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
        l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
        const float i0 = l0 > 0.0f ? 1.0f / l0 : 0.0f, i1 = l1 > 0.0f ? 1.0f / l1 : 0.0f; /* no key seen: zeros */
        const int64_t ra = wrow0 + mt * 16 + g, rb = ra + 8;
        float *oa = a.o + h * a.o_hs + ra * a.o_rs, *ob = a.o + h * a.o_hs + rb * a.o_rs;
#pragma unroll
        for (int n = 0; n < DT; n++) {
            const int64_t c = n * 8 + 2 * t4;
            if (ra < a.lq) {
                if (c < d) oa[c] = o[mt][n][0] * i0;
                if (c + 1 < d) oa[c + 1] = o[mt][n][1] * i0;
            }
            if (rb < a.lq) {
                if (c < d) ob[c] = o[mt][n][2] * i1;
                if (c + 1 < d) ob[c + 1] = o[mt][n][3] * i1;
            }
        }
    }
}

/* ---- entry --------------------------------------------------------------------------------- */

#define TSC_ATT_FORCE_GENERAL 1 /* TSC_ATTENTION_KERNEL values, see att_force */
#define TSC_ATT_FORCE_ROWS64 2
#define TSC_ATT_FORCE_ROWS128 3

/* The kernel a call takes (tsc_attention; attention_emu.cpp plans with the same functions):
 * K/V rows that can be staged in 16-byte pieces go to split-KV for lq <= TSC_DEC_MAXQ and to
 * the tensor cores for d a multiple of 8 up to TSC_FA_MAX_D; everything else, and whatever
 * those decline, to the general kernel. */
enum { ATT_SPLIT, ATT_FLASH, ATT_GENERAL };
static int att_path(const struct att_args &a, int64_t esz, int32_t force) {
    const uint64_t align = (uint64_t)(uintptr_t)a.k | (uint64_t)(uintptr_t)a.v | (uint64_t)a.k_hs | (uint64_t)a.k_rs |
                           (uint64_t)a.v_hs | (uint64_t)a.v_rs | (uint64_t)(a.d * esz);
    const bool rows16 = a.lk > 0 && (align & 15) == 0 && force != TSC_ATT_FORCE_GENERAL;
    if (rows16 && a.lq <= TSC_DEC_MAXQ) return ATT_SPLIT;
    if (rows16 && a.d % 8 == 0 && a.d <= TSC_FA_MAX_D) return ATT_FLASH;
    return ATT_GENERAL;
}

/* Split-KV launch shape into a: staged row bytes, keys per block (keys > 0 overrides the
 * default), blocks per head, GQA grouping, rows per block. Returns the blocks along x (kv
 * heads when grouped, else query heads), or 0 when the keys need more than 65535 blocks.
 * Keys past the last row's causal window are never read. */
static int64_t dec_plan(struct att_args *a, int64_t esz, int64_t n_heads, int64_t keys) {
    int64_t lk_vis = a->lk;
    if (a->causal) {
        const int64_t e = a->kv_offset + a->lq;
        lk_vis = e < 0 ? 0 : (e < a->lk ? e : a->lk);
    }
    const int64_t rb = a->d * esz, rbw = rb / 4;
    /* Rows padded to 4 mod 32 words: the 8 threads of a quarter-warp reading 16 bytes of
     * consecutive rows at the same offset then cover the 32 banks once. */
    a->srb = (int32_t)(rb + 4 * ((4 - rbw % 32 + 32) % 32));
    int64_t chunk = 128;
    while (chunk > 16 && 2 * chunk * a->srb > 40 * 1024) chunk /= 2; /* ~4 blocks, ~160 KB in flight per SM */
    if (keys > 0) chunk = keys;
    a->chunk = (int32_t)chunk;
    const int64_t n_split = lk_vis > 0 ? tsc_cdiv(lk_vis, chunk) : 1;
    if (n_split > 65535) return 0;
    a->n_split = (int32_t)n_split;
    /* GQA: the query heads of a kv head share its blocks when their rows fit one block. */
    a->grouped = a->group > 1 && a->group * a->lq <= TSC_DEC_MAXQ;
    a->rows = (int32_t)(a->grouped ? a->group * a->lq : a->lq);
    return a->grouped ? n_heads / a->group : n_heads;
}

/* The flash kernel's template arguments, passed to f as integral constants: DP = d rounded up
 * to a size the kernel is built for, MT = 2 row tiles per warp (128-row blocks) for d <= 64
 * when that still gives every SM a couple of blocks and the keys are many, 1 otherwise
 * (registers: O and S grow with the row tiles). On an H200, SD 1.5 self attention (lk 4096)
 * ran at 162 vs 145 TFLOP/s with two, its cross attention (lk 77) at 29 vs 33: with few keys
 * the longer blocks do not pay. */
template <int V> using att_int = std::integral_constant<int, V>;
template <class F>
static void flash_dispatch(const struct att_args &a, int64_t n_heads, int32_t force, int64_t sm_count, F f) {
    const int64_t d = a.d;
    const bool two = d <= 64 && (force == TSC_ATT_FORCE_ROWS128 ||
                                 (force != TSC_ATT_FORCE_ROWS64 && a.lk >= 256 && tsc_cdiv(a.lq, 128) * n_heads >= 2 * sm_count));
    if (two) {
        if (d <= 32) f(att_int<32>(), att_int<2>());
        else if (d <= 48) f(att_int<48>(), att_int<2>());
        else f(att_int<64>(), att_int<2>());
    } else if (d <= 32) f(att_int<32>(), att_int<1>());
    else if (d <= 48) f(att_int<48>(), att_int<1>());
    else if (d <= 64) f(att_int<64>(), att_int<1>());
    else if (d <= 80) f(att_int<80>(), att_int<1>());
    else if (d <= 96) f(att_int<96>(), att_int<1>());
    else if (d <= 128) f(att_int<128>(), att_int<1>());
    else f(att_int<160>(), att_int<1>());
}

/* The general kernel's shared memory: K and V tiles of d + 1 floats a row, the rows' Q. */
static size_t att_smem_bytes(int64_t d) { return (size_t)(2 * TSC_ATT_TILE * (d + 1) + TSC_ATT_ROWS * d) * sizeof(float); }

#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY) /* host code */

template <typename T>
static int32_t launch_split(struct tsc_context *c, struct att_args a, int64_t n_heads) {
    int64_t keys = 0;
    const char *env = getenv("TSC_ATTENTION_SPLIT_KEYS"); /* tuning: keys per block, a power of 2 in [16, 256] */
    if (env) {
        const long k = strtol(env, NULL, 10);
        if (k >= 16 && k <= 256 && (k & (k - 1)) == 0) keys = k;
    }
    const int64_t n_blocks_x = dec_plan(&a, sizeof(T), n_heads, keys);
    if (n_blocks_x == 0) return TSC_NOT_HANDLED;
    const size_t smem = dec_smem_bytes(a.chunk, a.srb, a.rows, a.d);
    if ((int64_t)smem + 16 > c->max_smem_optin) return TSC_NOT_HANDLED; /* + the kernel's static flag */
    /* A decode step's output row (heads side by side), which the attn_output matmul reads next:
     * its Q8_0 copy too, so that matmul launches no quantizer. */
    if (c->fuse_q8 && a.lq == 1 && a.d % 32 == 0 && a.o_hs == a.d) {
        int32_t st = tsc_xq_make(c, a.o, 0, n_heads * a.d, 1, &a.xq, &a.xqs);
        if (st) return st;
    }
    void *scratch = NULL;
    if (a.n_split > 1) {
        const int64_t rows = n_heads * a.lq * a.n_split;
        int32_t st = tsc_scratch(c, rows * (a.d + 2) * 4, &scratch);
        if (st) {
            tsc_xq_release(c);
            return st;
        }
        a.part = (float *)scratch, a.part_ml = a.part + rows * a.d;
    }
    if (smem > 48 * 1024) cudaFuncSetAttribute(k_att_split<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    a.tickets = c->att_tickets;
    tsc_launch_pdl(c, k_att_split<T>, dim3((unsigned)n_blocks_x, (unsigned)a.n_split), dim3(TSC_DEC_THREADS), smem, a);
    int32_t st = tsc_launch_status("tsc_attention");
    if (scratch) {
        int32_t st2 = tsc_pool_free(c, scratch); /* stream-ordered: later work may reuse it */
        if (st == TS_OK) st = st2;
    }
    if (st) tsc_xq_release(c); /* no copy was written */
    return st;
}

template <typename T>
static int32_t launch_flash(struct tsc_context *c, const struct att_args &a, int64_t n_heads, int32_t force) {
    int32_t r = TSC_NOT_HANDLED;
    flash_dispatch(a, n_heads, force, c->sm_count, [&](auto dp, auto mt) {
        constexpr int DP = decltype(dp)::value, MT = decltype(mt)::value;
        const size_t smem = fa_smem_bytes(DP, MT);
        if ((int64_t)smem > c->max_smem_optin) return;
        if (smem > 48 * 1024) cudaFuncSetAttribute(k_flash<DP, MT, T>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        TSC_LAUNCH(dim3((unsigned)tsc_cdiv(a.lq, 64 * MT), (unsigned)n_heads), TSC_FA_THREADS, smem, c->stream, k_flash<DP, MT, T>)(a);
        r = tsc_launch_status("tsc_attention");
    });
    return r;
}

/* TSC_ATTENTION_KERNEL (read per call, for tuning and same-run comparisons in tsc_bench):
 * "general" forces the general kernel, "rows64" / "rows128" the tensor-core kernel's block
 * height (128 only for d <= 64). Unset or anything else: the choice below. Likewise
 * TSC_ATTENTION_SPLIT_KEYS sets the keys per split-KV block (launch_split). */
static int32_t att_force(void) {
    const char *e = getenv("TSC_ATTENTION_KERNEL");
    if (e == NULL) return 0;
    if (strcmp(e, "general") == 0) return TSC_ATT_FORCE_GENERAL;
    if (strcmp(e, "rows64") == 0) return TSC_ATT_FORCE_ROWS64;
    if (strcmp(e, "rows128") == 0) return TSC_ATT_FORCE_ROWS128;
    return 0;
}

/* Accuracy: the split and general kernels compute in F32 as the CPU does (differences of a
 * few ulps from summation order and expf). The tensor-core kernel rounds Q·scale·log2 e,
 * F32 K and V, and the softmax weights P to f16 (unit roundoff u = 2^-11; values must stay
 * within the f16 range, |x| < 65504) before the products, which are exact and summed in
 * F32: a score moves by at most u·scale·sum_c |q_c·k_c| (random signs: ~u·scale·|q||k|/sqrt(3)
 * per score), an output by at most u·max|V| from P, plus what the score errors do to the
 * weights. For unit-variance Q, K, V and scale 1/sqrt(d) a float64 simulation of this
 * rounding gives max |err| 1e-4 .. 8.6e-4 (peaked weights, F32 K/V the most);
 * test_cuda_attention.c holds it to 3e-3 + 3e-3·|o|. */
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
    const int32_t force = att_force();
    const struct att_args a = att_make(o, o_head_stride, o_row_stride, q, q_head_stride, q_row_stride, k, k_head_stride, k_row_stride,
                                       v, v_head_stride, v_row_stride, mask, mask_row_stride, n_heads, n_kv_heads, lq, lk, d, scale,
                                       causal, kv_offset);
    const int path = att_path(a, esz, force);
    if (path == ATT_SPLIT) {
        int32_t r = kv_type == TS_TYPE_F16 ? launch_split<__half>(c, a, n_heads) : launch_split<float>(c, a, n_heads);
        if (r != TSC_NOT_HANDLED) return r;
    }
    if (path == ATT_FLASH) {
        int32_t r = kv_type == TS_TYPE_F16 ? launch_flash<__half>(c, a, n_heads, force) : launch_flash<float>(c, a, n_heads, force);
        if (r != TSC_NOT_HANDLED) return r;
    }
    const size_t smem = att_smem_bytes(d);
    if ((int64_t)smem > c->max_smem_optin)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_attention: d=%lld needs %zu bytes of shared memory, the device has %d",
                             (long long)d, smem, c->max_smem_optin);
    dim3 grid((unsigned)tsc_cdiv(lq, TSC_ATT_ROWS), (unsigned)n_heads);
    if (kv_type == TS_TYPE_F16) {
        if (smem > 48 * 1024)
            cudaFuncSetAttribute(k_attention<__half>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        TSC_LAUNCH(grid, 32 * TSC_ATT_ROWS, smem, c->stream, k_attention<__half>)(a);
    } else {
        if (smem > 48 * 1024)
            cudaFuncSetAttribute(k_attention<float>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        TSC_LAUNCH(grid, 32 * TSC_ATT_ROWS, smem, c->stream, k_attention<float>)(a);
    }
    return tsc_launch_status("tsc_attention");
}

#endif /* host code */
