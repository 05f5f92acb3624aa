/*
 * tsc_matmul_mma.cu — batched matmul Y[m][n] = Σ_k W[n][k]·X[m][k] on tensor cores
 * (mma.sync: sm_80 and sm_90; no wgmma, the library is built for sm_90, not sm_90a).
 *
 * Quantized weights (Q8_0, Q4_0), m >= TSC_MMA_MIN_M:
 *  1. X is quantized to Q8_0 with the CPU's arithmetic (max-abs/127, round half away from
 *     zero, scale rounded through half), W's blocks are unpacked to int8 (Q4_0: q - 8), both
 *     into zero-padded scratch: int8 rows of k_pad bytes and one float scale per block.
 *     GGUF blocks are only 2-byte aligned (18/34 bytes); the unpacked rows are 16-byte
 *     aligned, so the GEMM streams both operands with cp.async and reads them with ldmatrix.
 *  2. A 128x128 CTA tile, 4 x 32-blocks (128 bytes of k) per pipeline stage, 4 stages of
 *     cp.async. Each 32-block is one mma.sync m16n8k32 s8·s8 -> s32 per 16x8 piece, whose
 *     integer sums are scaled by d_x and d_w in float and added to F32 accumulators — the
 *     CPU's integer block dots; the float products (d_w·(d_x·s), the CPU's (d_w·d_x)·s) and
 *     the order of the float sums differ, each a rounding of the F32 result's size.
 *     The mma's C operand is the bit pattern of 1.5·2^23, so D = 1.5·2^23 + s read as a
 *     float is exact, and one FFMA with -1.5·2^23·d_x (exact) gives d_x·s rounded once (no
 *     quarter-rate I2F, no separate FADD).
 *     The per-block scaling (2 FFMA per output per block) runs on the FP32 pipe: 8 FP
 *     instructions per mma, which bounds this kernel near 1/2 of the int8 tensor rate (one
 *     warp instruction per clock per SM quarter; the mma needs 4 clocks there). Any kernel
 *     for these formats has that bound: the int8 tensor rate is 32 multiply-adds for each
 *     FP32 one, a 32-block's output has 32 multiply-adds, and each block has its own scales
 *     in W and in X, to be applied in float before the next block's sum is added.
 *  Other kernels for the same product, picked with TSC_MMA_QUANT (tested, benchmarked):
 *  "f16" runs the same integers on the f16 mma (exact: products and 32-term sums are
 *  integers below 2^24) at half the tensor rate, with the same bits; "raw" / "rawf16" unpack W in shared memory inside the GEMM instead of a
 *  pass over all of W (1 byte per weight less written and read).
 * F16 weights, m >= TSC_MMA_MIN_M: X row r is scaled by a power of two 2^s_r (its largest
 *  |x| lands in [2^14, 2^15)) and split into two halves hi + lo (hi = f16(x·2^s), lo =
 *  f16(x·2^s - hi)): W·hi + W·lo with F32 accumulation keeps ~22 bits of every x, so the
 *  result is as close to the F32 product as the F32 kernels (tested against a double sum
 *  at 1e-5·Σ|w·x|); it costs two mma.sync m16n8k16 per piece.
 * BF16 weights, the same GEMM on the bf16 mma: bf16 has 8 significant bits and F32's
 *  exponent range, so X is split into three parts hi + mid + lo (each the bf16 rounding of
 *  what the parts before leave; 24 bits, F32's precision) without scaling: three mma per
 *  piece, and stages of 64 KB (3 where the shared memory allows, 2 on sm_80's 163 KB).
 * Both: W is read in place with cp.async when its rows are 16-byte aligned and k % 8 == 0,
 *  else copied to a padded scratch first. By default the operands' roles are swapped (W as
 *  the mma's A; TSC_MMA_F16=xa keeps X as A) for less shared-memory traffic (tested and
 *  benchmarked beside the default).
 * Few output tiles (m and n small, under half a wave): k is split across CTAs, partial
 * sums go to scratch and are added in split order (deterministic).
 * F32 weights and m < TSC_MMA_MIN_M are left to the plain kernels (TSC_NOT_HANDLED).
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

/* TSC_EMU: the CPU emulator (native/cuda/emu) compiles this file as C++ to check it without
 * a GPU: the PTX helpers are left out (emu/ptx_matmul_mma.h stands in), and so are the host entry
 * points except in the emulated library (TSC_EMU_LIBRARY). */
#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY)
#include "tsc_internal.cuh"
#endif

#define TSC_MMA_MIN_M 16 /* below: the plain kernels (few rows, bandwidth-bound) */
#define MMA_BM 128       /* X rows (m) per CTA */
#define MMA_BN 128       /* W rows (n) per CTA */
#define MMA_ROWB 128     /* bytes of one tile row per stage: 4 int8 blocks or 64 halves */
#define MMA_THREADS 256  /* 8 warps: 2 (m) x 4 (n), warp tile 64 x 32 */
#define MMA_QSTAGES 4
/* Stage bytes: X and W int8 tiles + 4 scales per row of each. */
#define MMA_QSTAGE (MMA_BM * MMA_ROWB + MMA_BN * MMA_ROWB + MMA_BM * 16 + MMA_BN * 16)
#define MMA_MAGIC 0x4B400000 /* 1.5·2^23: int32 s added to it is the float 12582912 + s */

/* ---- PTX wrappers --------------------------------------------------------------------- */
#ifndef TSC_EMU

static __device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

static __device__ __forceinline__ void cp16(uint32_t dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}
/* Copies src_bytes (0 or 16) and zero-fills the rest of the 16. */
static __device__ __forceinline__ void cp16_zfill(uint32_t dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
static __device__ __forceinline__ void cp_commit(void) { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
static __device__ __forceinline__ void cp_wait(void) {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

static __device__ __forceinline__ void ldsm_x4(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr));
}

/* d = a·b + MAGIC (int8 16x32 · 32x8). */
static __device__ __forceinline__ void mma_s8(int32_t *d, const uint32_t *a, const uint32_t *b) {
    asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%10, %10, %10, %10};\n"
                 : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(MMA_MAGIC));
}

/* acc += a·b (f16 16x16 · 16x8, F32 accumulators). */
static __device__ __forceinline__ void mma_f16(float *acc, const uint32_t *a, const uint32_t *b) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* d = a·b (f16, F32 result, no accumulator input: the first k step of a fresh sum). */
static __device__ __forceinline__ void mma_f16_z(float *d, const uint32_t *a, const uint32_t *b) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %10, %10, %10};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(0.0f));
}

/* The same two on the bf16 mma (the same fragment layouts). */
static __device__ __forceinline__ void mma_bf16(float *acc, const uint32_t *a, const uint32_t *b) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
static __device__ __forceinline__ void mma_bf16_z(float *d, const uint32_t *a, const uint32_t *b) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %10, %10, %10};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(0.0f));
}
#endif /* TSC_EMU */

/* The float GEMM's element type: BF false = f16, true = bf16. X is split into fparts(BF)
 * parts of it; acc += a·b (z: acc = a·b). */
static constexpr int fparts(bool bf) { return bf ? 3 : 2; }
template <bool BF>
static __device__ __forceinline__ void mma_fx(float *acc, const uint32_t *a, const uint32_t *b, bool z) {
    if constexpr (BF) {
        if (z) mma_bf16_z(acc, a, b);
        else mma_bf16(acc, a, b);
    } else {
        if (z) mma_f16_z(acc, a, b);
        else mma_f16(acc, a, b);
    }
}
/* v rounded to the element type (bits), and the rounded value back as a float. */
template <bool BF>
static __device__ __forceinline__ uint16_t round_fx(float v, float &back) {
    if constexpr (BF) {
        const uint16_t b = __bfloat16_as_ushort(__float2bfloat16_rn(v));
        back = __uint_as_float((uint32_t)b << 16);
        return b;
    } else {
        const uint16_t b = tsc_f2h(v);
        back = tsc_h2f(b);
        return b;
    }
}

/* Byte offset of 16-byte chunk ch (0..7) of tile row `row`: chunks XOR-swizzled by row % 8,
 * so the 8 rows an ldmatrix phase reads hit 8 different bank groups. */
static __device__ __forceinline__ uint32_t swz(int row, int ch) { return (uint32_t)(row * MMA_ROWB + ((ch ^ (row & 7)) << 4)); }

/* ---- pre-passes ----------------------------------------------------------------------- */

/* Quants as halves (exact small integers) for the f16 mma: int8 bytes 2p, 2p + 1 of word w as
 * two halves in one word. */
static __device__ __forceinline__ uint32_t halves2(uint32_t w, int p) {
    return (uint32_t)__half_as_ushort(__int2half_rn((int)(int8_t)(w >> (16 * p)))) |
           ((uint32_t)__half_as_ushort(__int2half_rn((int)(int8_t)(w >> (16 * p + 8)))) << 16);
}
/* Chunk c (quants 8c .. 8c + 7, 16 bytes as halves) of a block's 8 words of int8 quants. */
static __device__ __forceinline__ int4 halves_chunk(const uint32_t *q, int c) {
    return make_int4((int)halves2(q[2 * c], 0), (int)halves2(q[2 * c], 1), (int)halves2(q[2 * c + 1], 0),
                     (int)halves2(q[2 * c + 1], 1));
}

/* One GGUF block at h (2-byte aligned): Q8_0, or Q4_0 as the int8 q - 8 -> 8 words of quants
 * (element 4i + b in byte b of word i); returns its scale. */
template <int WT>
static __device__ __forceinline__ float unpack_block(const uint16_t *h, uint32_t *q) {
    if (WT == TS_TYPE_Q8_0) {
#pragma unroll
        for (int j = 0; j < 8; j++) q[j] = (uint32_t)h[1 + 2 * j] | ((uint32_t)h[2 + 2 * j] << 16);
    } else {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const uint32_t v = (uint32_t)h[1 + 2 * j] | ((uint32_t)h[2 + 2 * j] << 16);
            /* byte t holds element t (low nibble) and t + 16 (high); (q + 120) ^ 128 is the
             * int8 q - 8 for q in 0..15, four bytes at once without carries between them */
            q[j] = ((v & 0x0F0F0F0Fu) + 0x78787878u) ^ 0x80808080u;
            q[j + 4] = (((v >> 4) & 0x0F0F0F0Fu) + 0x78787878u) ^ 0x80808080u;
        }
    }
    return tsc_h2f(h[0]);
}

/* X row r, block b -> xq[r][32b..], xd[r][b]: the CPU's ts_q8_block (d rounded through
 * half), rows >= m and blocks >= nb zeros. 8 lanes per block, 4 floats each, so a warp
 * reads 512 contiguous bytes; the max is combined in element order with the CPU's NaN
 * behaviour (amax = amax > a ? amax : a: a NaN is replaced by the next element, so a
 * segment that holds a NaN decides alone; one without takes over from an earlier NaN). */
template <typename QT>
__global__ void k_mma_quantize_x(QT *xq, float *xd, const float *x, int64_t xs_f, int64_t m, int64_t nb, int64_t m_pad,
                                 int64_t nb_pad) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, g = i >> 3;
    if (g >= m_pad * nb_pad) return; /* whole warps: m_pad·nb_pad·8 is a multiple of 1024 */
    const int sub = threadIdx.x & 7;
    const int64_t r = g / nb_pad, b = g % nb_pad;
    const bool live = r < m && b < nb;
    float v[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (live) {
        const float *p = x + r * xs_f + b * 32 + 4 * sub;
#pragma unroll
        for (int e = 0; e < 4; e++) v[e] = p[e];
    }
    float am = 0.0f;
    int hn = 0;
#pragma unroll
    for (int e = 0; e < 4; e++) {
        const float a = fabsf(v[e]);
        am = am > a ? am : a;
        hn |= isnan(a);
    }
#pragma unroll
    for (int o = 1; o < 8; o <<= 1) {
        const float om = __shfl_xor_sync(0xffffffffu, am, o);
        const int ohn = __shfl_xor_sync(0xffffffffu, hn, o);
        const int upper = sub & o; /* this lane holds the later segment */
        const float lo = upper ? om : am, hi = upper ? am : om;
        const int hhi = upper ? hn : ohn;
        am = hhi || isnan(lo) ? hi : (lo > hi ? lo : hi);
        hn |= ohn;
    }
    const float d = am / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint32_t w = 0;
    if (live && id <= FLT_MAX)
#pragma unroll
        for (int e = 0; e < 4; e++) w |= (uint32_t)(uint8_t)(int8_t)(int)roundf(__fmul_rn(v[e], id)) << (8 * e);
    QT *o = xq + r * nb_pad * 32 + b * 32 + 4 * sub;
    if constexpr (sizeof(QT) == 1) {
        *(uint32_t *)o = w;
    } else {
        *(uint2 *)o = make_uint2(halves2(w, 0), halves2(w, 1));
    }
    if (sub == 0) xd[g] = live ? tsc_h2f(tsc_f2h(d)) : 0.0f;
}

/* The 32 int8 quants q (as 8 words) at o: int8 bytes, or halves (exact small integers). */
template <typename QT>
static __device__ __forceinline__ void store_quants(QT *o, const uint32_t *q) {
    int4 *v = (int4 *)o;
    if constexpr (sizeof(QT) == 1) {
        v[0] = make_int4((int)q[0], (int)q[1], (int)q[2], (int)q[3]);
        v[1] = make_int4((int)q[4], (int)q[5], (int)q[6], (int)q[7]);
    } else {
#pragma unroll
        for (int c = 0; c < 4; c++) v[c] = halves_chunk(q, c);
    }
}

/* W row r, block b (GGUF Q8_0/Q4_0, 2-byte aligned) -> wq[r][32b..] int8, wd[r][b]. */
template <int WT, typename QT>
__global__ void k_mma_unpack_w(QT *wq, float *wd, const uint8_t *w, int64_t w_stride, int64_t n, int64_t nb, int64_t n_pad,
                               int64_t nb_pad) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_pad * nb_pad) return;
    const int64_t r = i / nb_pad, b = i % nb_pad;
    uint32_t q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float d = 0.0f;
    if (r < n && b < nb) d = unpack_block<WT>((const uint16_t *)(w + r * w_stride + b * (WT == TS_TYPE_Q8_0 ? 34 : 18)), q);
    store_quants(wq + r * nb_pad * 32 + b * 32, q);
    wd[i] = d;
}

/* One CTA per X row: X row r split into fparts(BF) parts of the element type, part q at
 * xp + q·part_e + r·k_pad (zeros past k and for rows >= m), each the rounding of what the
 * parts before leave (exact in F32), so their sum keeps 2·11 (f16) or 3·8 (bf16) bits of x.
 * f16 first scales the row by the power of two 2^s that puts max|x| in [2^14, 2^15) (its
 * range is narrow); bf16 has F32's range and scales only rows whose max would round to
 * infinity (s = -1). inv[r] = 2^-s. */
template <bool BF>
__global__ void k_mma_split_x(uint16_t *xp, int64_t part_e, float *inv, const float *x, int64_t xs_f, int64_t m, int64_t k,
                              int64_t k_pad) {
    const int64_t r = blockIdx.x;
    __shared__ float red[32];
    float amax = 0.0f;
    const float *p = x + r * xs_f;
    if (r < m)
        for (int64_t i = threadIdx.x; i < k; i += blockDim.x) amax = fmaxf(amax, fabsf(p[i]));
    amax = tsc_warp_max(amax);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = amax;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : 0.0f;
        v = tsc_warp_max(v);
        if (threadIdx.x == 0) red[0] = v;
    }
    __syncthreads();
    amax = red[0];
    int s = 0;
    if (BF) {
        s = amax >= 0x1p127f && amax <= FLT_MAX ? -1 : 0;
    } else if (amax > 0.0f && amax <= FLT_MAX) {
        int e;
        frexpf(amax, &e); /* amax in [2^(e-1), 2^e) */
        s = 15 - e;
        s = s < -126 ? -126 : s > 126 ? 126 : s;
    }
    const float sc = ldexpf(1.0f, s);
    uint16_t *o = xp + r * k_pad;
    for (int64_t i = threadIdx.x; i < k_pad; i += blockDim.x) {
        float v = r < m && i < k ? p[i] * sc : 0.0f;
#pragma unroll
        for (int q = 0; q < fparts(BF); q++) {
            float back;
            o[q * part_e + i] = round_fx<BF>(v, back);
            v = isinf(v) ? 0.0f : v - back; /* ±inf stays in the first part, not NaN */
        }
    }
    if (threadIdx.x == 0 && r < m) inv[r] = ldexpf(1.0f, -s);
}

/* F16/BF16 W rows copied into a zero-padded [n_pad][k_pad] scratch (W not 16-byte aligned). */
__global__ void k_mma_pad_w(uint16_t *dst, const uint8_t *w, int64_t w_stride, int64_t n, int64_t k, int64_t n_pad, int64_t k_pad) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_pad * k_pad) return;
    const int64_t r = i / k_pad, c = i % k_pad;
    dst[i] = r < n && c < k ? ((const uint16_t *)(w + r * w_stride))[c] : 0;
}

/* ---- pieces the GEMMs share --------------------------------------------------------------- */

/* This lane's ldmatrix row in a CTA tile whose warp piece starts at row base: A tiles (16
 * rows) take rows base + r7, +8 for lanes 8-15 and 24-31; B tiles (two of 8 rows per
 * ldmatrix) take rows base + r7, +8 for lanes 16-31; 16 more per tile. */
static __device__ __forceinline__ uint32_t ldsm_row_a(int base, int lane) {
    return (uint32_t)((base + (lane & 7) + ((lane >> 3) & 1) * 8) * MMA_ROWB);
}
static __device__ __forceinline__ uint32_t ldsm_row_b(int base, int lane) {
    return (uint32_t)((base + (lane & 7) + (lane >> 4) * 8) * MMA_ROWB);
}

/* The fragments of one k step (16-byte chunks ch and ch + 1 of every tile row, swizzled):
 * af[mt] for the warp's four 16-row A tiles at sa, bf[nt] for its four 8-row B tiles at sb. */
static __device__ __forceinline__ void load_frags(uint32_t sa, uint32_t arow, uint32_t sb, uint32_t brow, int ch, int lane,
                                                  uint32_t (&af)[4][4], uint32_t (&bf)[4][2]) {
    const int r7 = lane & 7;
    const uint32_t ca = (uint32_t)(((ch + (lane >> 4)) ^ r7) << 4), cb = (uint32_t)(((ch + ((lane >> 3) & 1)) ^ r7) << 4);
#pragma unroll
    for (int mt = 0; mt < 4; mt++) ldsm_x4(sa + arow + mt * 16 * MMA_ROWB + ca, af[mt][0], af[mt][1], af[mt][2], af[mt][3]);
#pragma unroll
    for (int np = 0; np < 2; np++)
        ldsm_x4(sb + brow + np * 16 * MMA_ROWB + cb, bf[2 * np][0], bf[2 * np][1], bf[2 * np + 1][0], bf[2 * np + 1][1]);
}

/* The scales of 32-block j for this lane's outputs, from stage scales stored [row][BPS]: X
 * rows wm·64 + mt·16 + gid (+8), W rows wn·32 + nt·8 + 2·tid4 (+1). */
template <int BPS>
static __device__ __forceinline__ void block_scales(const float *xd, const float *wd, int wm, int wn, int gid, int tid4, int j,
                                                    float (&dx)[4][2], float (&dw)[4][2]) {
    const float *xdl = xd + (wm * 64 + gid) * BPS + j, *wdl = wd + (wn * 32 + 2 * tid4) * BPS + j;
#pragma unroll
    for (int mt = 0; mt < 4; mt++) dx[mt][0] = xdl[mt * 16 * BPS], dx[mt][1] = xdl[(mt * 16 + 8) * BPS];
#pragma unroll
    for (int nt = 0; nt < 4; nt++) dw[nt][0] = wdl[nt * 8 * BPS], dw[nt][1] = wdl[(nt * 8 + 1) * BPS];
}

/* acc += d_w·d_x·s over the warp's 64 x 32 piece for 32-block j of the stage (X quants at
 * sa, W quants at sb), s the block's integer sums: QT int8, one int8 mma per 16 x 8 tile
 * whose C is MMA_MAGIC, so D read as a float is 1.5·2^23 + s exactly; QT __half, two f16 mma
 * k steps on the same integers (exact: products and 32-term sums below 2^24). Both then add
 * d_w·(d_x·s), d_x·s rounded once: the same bits. */
template <typename QT>
static __device__ __forceinline__ void block_dot(float (&acc)[4][4][4], uint32_t sa, uint32_t arow, uint32_t sb, uint32_t brow, int j,
                                                 int lane, const float (&dx)[4][2], const float (&dw)[4][2]) {
    uint32_t af[4][4], bf[4][2];
    if constexpr (sizeof(QT) == 1) {
        /* -1.5·2^23·d_x is exact (d_x has the 11 significant bits of a half), so one FMA takes
         * the magic number out and applies d_x: two FP32 operations per output and block (the
         * other is the accumulation), not three, amortizing these 8 products over 64 outputs. */
        float mdx[4][2];
#pragma unroll
        for (int mt = 0; mt < 4; mt++) mdx[mt][0] = -12582912.0f * dx[mt][0], mdx[mt][1] = -12582912.0f * dx[mt][1];
        load_frags(sa, arow, sb, brow, 2 * j, lane, af, bf);
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                int32_t d[4];
                mma_s8(d, af[mt], bf[nt]);
#pragma unroll
                for (int e = 0; e < 4; e++) { /* D = 1.5·2^23 + s exactly (|s| < 2^22) */
                    const float t = fmaf(__int_as_float(d[e]), dx[mt][e >> 1], mdx[mt][e >> 1]); /* = d_x·s rounded once */
                    acc[mt][nt][e] = fmaf(dw[nt][e & 1], t, acc[mt][nt][e]);
                }
            }
    } else {
        float part[4][4][4]; /* set by the first k step's mma (no zeroing moves) */
#pragma unroll
        for (int h = 0; h < 2; h++) { /* chunks 4j + 2h, 4j + 2h + 1 */
            load_frags(sa, arow, sb, brow, 4 * j + 2 * h, lane, af, bf);
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++) {
                    if (h == 0) mma_f16_z(part[mt][nt], af[mt], bf[nt]);
                    else mma_f16(part[mt][nt], af[mt], bf[nt]);
                }
        }
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) acc[mt][nt][e] = fmaf(dw[nt][e & 1], dx[mt][e >> 1] * part[mt][nt][e], acc[mt][nt][e]);
    }
}

/* The quantized GEMMs' outputs (X rows m0 + wm·64 + ..., W rows n0 + wn·32 + ...): into y, or
 * with split k into this split's partial sums [m][n]. */
static __device__ __forceinline__ void store_acc(const float (&acc)[4][4][4], float *y, int64_t ys, float *part, int64_t m, int64_t n,
                                                 int64_t m0, int64_t n0, int wm, int wn, int lane) {
    const int gid = lane >> 2, tid4 = lane & 3;
    float *out = part ? part + (int64_t)blockIdx.z * m * n : y;
    const int64_t os = part ? n : ys;
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int64_t row = m0 + wm * 64 + mt * 16 + gid + (e >> 1) * 8;
                const int64_t col = n0 + wn * 32 + nt * 8 + 2 * tid4 + (e & 1);
                if (row < m && col < n) out[row * os + col] = acc[mt][nt][e];
            }
}

/* ---- the quantized GEMM over unpacked operands ------------------------------------------- */
/* QT int8_t: the int8 mma, 4 blocks (128 bytes of each row) per stage. QT __half: quants as
 * halves (exact small integers) on the f16 mma: each block's sum is the CPU's integer exactly
 * with no conversion, 2 FP instructions per output per block instead of 3, for twice the
 * tensor time of the int8 mma (f16 runs at half the int8 rate); 2 blocks per stage. */
#define MMA_HSTAGE (MMA_BM * MMA_ROWB + MMA_BN * MMA_ROWB + MMA_BM * 8 + MMA_BN * 8)

#ifndef TSC_EMU
static __device__ __forceinline__ void cp8(uint32_t dst, const void *src) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(dst), "l"(src));
}
#endif

struct mmq_args {
    const void *xq, *wq;  /* [m_pad][k_pad] quants (int8 or half), [n_pad][k_pad] */
    const float *xd, *wd; /* [m_pad][nb_pad], [n_pad][nb_pad] */
    float *y;
    int64_t ys;           /* y row stride in floats */
    int64_t m, n, k_pad;
    float *part; /* split-k: partial sums [gridDim.z][m][n], else NULL (y written directly) */
    int kps;     /* k tiles per split */
};

template <typename QT>
__global__ void __launch_bounds__(MMA_THREADS, 1) k_mma_q(mmq_args a) {
    constexpr int BPS = sizeof(QT) == 1 ? 4 : 2; /* 32-blocks per stage: 128 bytes of a row */
    constexpr int STAGE = sizeof(QT) == 1 ? MMA_QSTAGE : MMA_HSTAGE;
    TSC_DYN_SMEM(unsigned char, smem, 128);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp & 1, wn = warp >> 1, gid = lane >> 2, tid4 = lane & 3;
    const int64_t m0 = (int64_t)blockIdx.y * MMA_BM, n0 = (int64_t)blockIdx.x * MMA_BN;
    const int64_t nb_pad = a.k_pad / 32;
    const int kt0 = (int)blockIdx.z * a.kps, ktall = (int)(a.k_pad / (32 * BPS));
    const int ktiles = ktall - kt0 < a.kps ? ktall - kt0 : a.kps; /* this split's k tiles */
    const QT *xg = (const QT *)a.xq + m0 * a.k_pad, *wg = (const QT *)a.wq + n0 * a.k_pad;
    const uint32_t s0 = smem_u32(smem);
    const uint32_t arow = ldsm_row_a(wm * 64, lane), brow = ldsm_row_b(wn * 32, lane);

    /* Stage layout: X tile, W tile (rows of 128 swizzled bytes), X scales [BM][BPS], W scales [BN][BPS]. */
    auto load = [&](int t, int slot) {
        t += kt0;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + MMA_BM * MMA_ROWB, sxd = sw + MMA_BN * MMA_ROWB,
                       swd = sxd + MMA_BM * BPS * 4;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int c = tid + i * MMA_THREADS, row = c >> 3, ch = c & 7;
            cp16(sx + swz(row, ch), xg + row * a.k_pad + t * 32 * BPS + ch * (16 / (int)sizeof(QT)));
            cp16(sw + swz(row, ch), wg + row * a.k_pad + t * 32 * BPS + ch * (16 / (int)sizeof(QT)));
        }
        const bool xrow = tid < MMA_BM;
        const uint32_t dst = xrow ? sxd + tid * BPS * 4 : swd + (tid - MMA_BM) * BPS * 4;
        const float *src = xrow ? a.xd + (m0 + tid) * nb_pad + t * BPS : a.wd + (n0 + tid - MMA_BM) * nb_pad + t * BPS;
        if constexpr (BPS == 4) cp16(dst, src);
        else cp8(dst, src);
    };

    float acc[4][4][4] = {};
#pragma unroll
    for (int s = 0; s < MMA_QSTAGES - 1; s++) {
        if (s < ktiles) load(s, s);
        cp_commit();
    }
    for (int t = 0; t < ktiles; t++) {
        cp_wait<MMA_QSTAGES - 2>();
        __syncthreads(); /* stage t landed for all threads; stage t-1's slot is free */
        if (t + MMA_QSTAGES - 1 < ktiles) load(t + MMA_QSTAGES - 1, (t + MMA_QSTAGES - 1) % MMA_QSTAGES);
        cp_commit();
        const int slot = t % MMA_QSTAGES;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + MMA_BM * MMA_ROWB;
        const float *xd = (const float *)(smem + slot * STAGE + (MMA_BM + MMA_BN) * MMA_ROWB);
        const float *wd = xd + MMA_BM * BPS;
#pragma unroll 1
        for (int j = 0; j < BPS; j++) { /* 32-block j of the stage */
            float dx[4][2], dw[4][2];
            block_scales<BPS>(xd, wd, wm, wn, gid, tid4, j, dx, dw);
            block_dot<QT>(acc, sx, arow, sw, brow, j, lane, dx, dw);
        }
    }
    cp_wait<0>();
    store_acc(acc, a.y, a.ys, a.part, a.m, a.n, m0, n0, wm, wn, lane);
}

/* ---- quantized weights unpacked in shared memory (no unpack pass) --------------------- */
/* The W tile of each stage is staged raw: for each row, the 16-byte aligned chunks that
 * cover its BPS GGUF blocks (2-byte aligned, 18/34 bytes) are copied with cp.async (an
 * aligned 16-byte chunk that holds a byte of the row lies in the same page, so reading its
 * other bytes is safe), then all threads unpack them into one int8 (or half) tile in the
 * layout the ldmatrix loads expect, plus the block scales, and the mma loop runs on it.
 * This saves the unpack pass (1 byte per weight written and read again) for one more
 * __syncthreads and ~6% more instructions per stage. QT int8_t: the int8 mma, 4 blocks per
 * stage; __half: the f16 mma on the same integers, 2 blocks per stage. */
struct mmqr_args {
    const void *xq;     /* [m_pad][k_pad] quants (int8 or half) */
    const float *xd;    /* [m_pad][nb_pad] */
    const uint8_t *w;   /* GGUF rows */
    int64_t w_stride;   /* bytes */
    float *y;
    int64_t ys;
    int64_t m, n, nb, k_pad;
    float *part;
    int kps;
};

template <typename QT, int WT>
struct mmqr_cfg {
    static constexpr int H = sizeof(QT) == 2;
    static constexpr int BPS = H ? 2 : 4;                       /* blocks per stage */
    static constexpr int BS = WT == TS_TYPE_Q8_0 ? 34 : 18;     /* GGUF block bytes */
    static constexpr int RCH = (BPS * BS + 14 + 15) / 16;       /* raw chunks per row (start 2-aligned) */
    static constexpr int RAWB = RCH * 16;
    static constexpr int STAGE = MMA_BM * MMA_ROWB + MMA_BM * BPS * 4 + MMA_BN * RAWB; /* X, X scales, raw W */
    static constexpr int SMEM = MMA_QSTAGES * STAGE + MMA_BN * MMA_ROWB + MMA_BN * BPS * 4; /* + W tile, W scales */
};

template <typename QT, int WT>
__global__ void __launch_bounds__(MMA_THREADS, 1) k_mma_qr(mmqr_args a) {
    typedef mmqr_cfg<QT, WT> C;
    TSC_DYN_SMEM(unsigned char, smem, 128);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp & 1, wn = warp >> 1, gid = lane >> 2, tid4 = lane & 3;
    const int64_t m0 = (int64_t)blockIdx.y * MMA_BM, n0 = (int64_t)blockIdx.x * MMA_BN;
    const int64_t nb_pad = a.k_pad / 32, xrow = a.k_pad * (int64_t)sizeof(QT); /* bytes per X row */
    const int kt0 = (int)blockIdx.z * a.kps, ktall = (int)(a.k_pad / (32 * C::BPS));
    const int ktiles = ktall - kt0 < a.kps ? ktall - kt0 : a.kps;
    const unsigned char *xg = (const unsigned char *)a.xq + m0 * xrow;
    const uint32_t s0 = smem_u32(smem);
    unsigned char *wt = smem + MMA_QSTAGES * C::STAGE; /* unpacked W tile (swizzled rows of 128 bytes) */
    float *wds = (float *)(wt + MMA_BN * MMA_ROWB);    /* [BN][BPS] */
    const uint32_t swt = smem_u32(wt);
    const uint32_t arow = ldsm_row_a(wm * 64, lane), brow = ldsm_row_b(wn * 32, lane);

    /* Stage: X tile, X scales [BM][BPS], raw W rows of RAWB bytes. */
    auto load = [&](int t, int slot) {
        t += kt0;
        const uint32_t sx = s0 + slot * C::STAGE, sxd = sx + MMA_BM * MMA_ROWB, sraw = sxd + MMA_BM * C::BPS * 4;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int c = tid + i * MMA_THREADS, row = c >> 3, ch = c & 7;
            cp16(sx + swz(row, ch), xg + row * xrow + t * MMA_ROWB + ch * 16);
        }
        if (tid < MMA_BM) {
            if (C::H) cp8(sxd + tid * 8, a.xd + (m0 + tid) * nb_pad + t * 2);
            else cp16(sxd + tid * 16, a.xd + (m0 + tid) * nb_pad + t * 4);
        }
        const int64_t b0 = (int64_t)t * C::BPS, nbl = a.nb - b0 < C::BPS ? a.nb - b0 : C::BPS; /* valid blocks */
        for (int i = tid; i < MMA_BN * C::RCH; i += MMA_THREADS) {
            const int row = i / C::RCH, c = i % C::RCH;
            if (n0 + row >= a.n || nbl <= 0) continue;
            const uint8_t *start = a.w + (n0 + row) * a.w_stride + b0 * C::BS;
            const uint8_t *a0 = (const uint8_t *)((uintptr_t)start & ~(uintptr_t)15);
            if (a0 + 16 * c < start + nbl * C::BS) cp16(sraw + row * C::RAWB + 16 * c, a0 + 16 * c);
        }
    };

    /* Raw W of stage slot (global tile t) -> wt, wds; blocks past nb and rows past n are zeros. */
    auto unpack = [&](int t, int slot) {
        t += kt0;
        const unsigned char *raw = smem + slot * C::STAGE + MMA_BM * MMA_ROWB + MMA_BM * C::BPS * 4;
        for (int p = tid; p < MMA_BN * C::BPS; p += MMA_THREADS) {
            const int row = p / C::BPS, j = p % C::BPS;
            const int64_t b = (int64_t)t * C::BPS + j;
            uint32_t q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            float d = 0.0f;
            if (n0 + row < a.n && b < a.nb) {
                const uintptr_t start = (uintptr_t)(a.w + (n0 + row) * a.w_stride + (int64_t)t * C::BPS * C::BS);
                d = unpack_block<WT>((const uint16_t *)(raw + row * C::RAWB + (start & 15) + j * C::BS), q);
            }
            if (C::H) { /* 32 halves: chunks 4j .. 4j+3 */
#pragma unroll
                for (int c = 0; c < 4; c++) *(int4 *)(wt + swz(row, 4 * j + c)) = halves_chunk(q, c);
            } else { /* 32 bytes: chunks 2j, 2j+1 */
                *(int4 *)(wt + swz(row, 2 * j)) = make_int4((int)q[0], (int)q[1], (int)q[2], (int)q[3]);
                *(int4 *)(wt + swz(row, 2 * j + 1)) = make_int4((int)q[4], (int)q[5], (int)q[6], (int)q[7]);
            }
            wds[row * C::BPS + j] = d;
        }
    };

    float acc[4][4][4] = {};

#pragma unroll
    for (int s = 0; s < MMA_QSTAGES - 1; s++) {
        if (s < ktiles) load(s, s);
        cp_commit();
    }
    for (int t = 0; t < ktiles; t++) {
        cp_wait<MMA_QSTAGES - 2>();
        __syncthreads(); /* stage t landed; the W tile and stage t-1's slot are free */
        if (t + MMA_QSTAGES - 1 < ktiles) load(t + MMA_QSTAGES - 1, (t + MMA_QSTAGES - 1) % MMA_QSTAGES);
        cp_commit();
        const int slot = t % MMA_QSTAGES;
        unpack(t, slot);
        __syncthreads(); /* W tile complete */
        const uint32_t sx = s0 + slot * C::STAGE;
        const float *xd = (const float *)(smem + slot * C::STAGE + MMA_BM * MMA_ROWB);
#pragma unroll 1
        for (int j = 0; j < C::BPS; j++) { /* 32-block j of the stage */
            float dx[4][2], dw[4][2];
            block_scales<C::BPS>(xd, wds, wm, wn, gid, tid4, j, dx, dw);
            block_dot<QT>(acc, sx, arow, swt, brow, j, lane, dx, dw);
        }
    }
    cp_wait<0>();
    store_acc(acc, a.y, a.ys, a.part, a.m, a.n, m0, n0, wm, wn, lane);
}

/* ---- the float GEMM (F16/BF16 W, X as the sum of its parts) ------------------------------ */

struct mmf_args {
    const uint16_t *xp; /* fparts(BF) parts of [m_pad][k_pad] elements, part_e apart */
    int64_t part_e;
    const float *inv;   /* [m]: 2^-s of each X row */
    const uint16_t *w;  /* rows of w_stride_e elements, 16-byte aligned; k % 8 == 0 */
    int64_t w_stride_e;
    float *y;
    int64_t ys;
    int64_t m, n, k, k_pad;
    float *part; /* split-k: partial sums [gridDim.z][m][n], else NULL (y written directly) */
    int kps;     /* k tiles per split */
};

/* Bytes of one stage: the X parts' tiles and W's (rows of 128 swizzled bytes). */
static constexpr int fstage(bool bf) { return (fparts(bf) * MMA_BM + MMA_BN) * MMA_ROWB; }

/* One k16 step (chunks 2j, 2j + 1 of the stage's tiles: X part q at sx + q·MMA_BM·MMA_ROWB, W
 * at sw) of the warp's 64 x 32 piece into part. XA: X rows are the mma's A (16 rows) and W
 * its B (8 columns), part[m tile][n tile]; else W rows are A and the X parts B, part[n
 * tile][m tile]: per k16 step an f16 warp then loads 2 KB of W and 2 KB of X (hi + lo) for
 * 32 mma instead of 4 KB of X and 1 KB of W, 128 instead of 160 bytes of shared memory per
 * clock and SM at the full f16 rate (the limit is 128). The smallest part goes first; j == 0
 * starts the sums. */
template <bool XA, bool BF>
static __device__ __forceinline__ void fx_step(float (&part)[4][4][4], uint32_t sx, uint32_t sw, uint32_t arow, uint32_t brow, int j,
                                               int lane) {
    constexpr int NP = fparts(BF);
    const int r7 = lane & 7;
    const uint32_t ca = (uint32_t)(((2 * j + (lane >> 4)) ^ r7) << 4), cb = (uint32_t)(((2 * j + ((lane >> 3) & 1)) ^ r7) << 4);
    if constexpr (XA) {
        uint32_t bf[4][2];
#pragma unroll
        for (int np = 0; np < 2; np++)
            ldsm_x4(sw + brow + np * 16 * MMA_ROWB + cb, bf[2 * np][0], bf[2 * np][1], bf[2 * np + 1][0], bf[2 * np + 1][1]);
#pragma unroll
        for (int mt = 0; mt < 4; mt++) {
            const uint32_t off = arow + mt * 16 * MMA_ROWB + ca;
            uint32_t ax[NP][4];
#pragma unroll
            for (int q = 0; q < NP; q++) ldsm_x4(sx + q * MMA_BM * MMA_ROWB + off, ax[q][0], ax[q][1], ax[q][2], ax[q][3]);
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int q = NP - 1; q >= 0; q--) mma_fx<BF>(part[mt][nt], ax[q], bf[nt], j == 0 && q == NP - 1);
        }
    } else {
        uint32_t bx[NP][4][2];
#pragma unroll
        for (int q = 0; q < NP; q++)
#pragma unroll
            for (int np = 0; np < 2; np++)
                ldsm_x4(sx + q * MMA_BM * MMA_ROWB + brow + np * 16 * MMA_ROWB + cb, bx[q][2 * np][0], bx[q][2 * np][1],
                        bx[q][2 * np + 1][0], bx[q][2 * np + 1][1]);
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
            uint32_t aw[4];
            ldsm_x4(sw + arow + nt * 16 * MMA_ROWB + ca, aw[0], aw[1], aw[2], aw[3]);
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
#pragma unroll
                for (int q = NP - 1; q >= 0; q--) mma_fx<BF>(part[nt][mt], aw, bx[q][mt], j == 0 && q == NP - 1);
        }
    }
}

/* The float GEMM: the X parts against W, F32 sums, each X row's 2^-s applied at the end.
 * Warps 2 x 4 with 64 x 32 pieces: 2 (m) x 4 (n) when XA, else 2 (n) x 4 (m) (see fx_step);
 * STAGES stages of fstage(BF) bytes. */
template <bool XA, bool BF, int STAGES>
__global__ void __launch_bounds__(MMA_THREADS, 1) k_mma_fx(mmf_args a) {
    constexpr int NP = fparts(BF), STAGE = fstage(BF);
    TSC_DYN_SMEM(unsigned char, smem, 128);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = XA ? warp & 1 : warp >> 1, wn = XA ? warp >> 1 : warp & 1, gid = lane >> 2, tid4 = lane & 3;
    const int64_t m0 = (int64_t)blockIdx.y * MMA_BM, n0 = (int64_t)blockIdx.x * MMA_BN;
    const int kt0 = (int)blockIdx.z * a.kps, ktall = (int)(a.k_pad / 64);
    const int ktiles = ktall - kt0 < a.kps ? ktall - kt0 : a.kps;
    const uint16_t *xg = a.xp + m0 * a.k_pad;
    const uint32_t s0 = smem_u32(smem);
    const uint32_t arow = XA ? ldsm_row_a(wm * 64, lane) : ldsm_row_a(wn * 64, lane);
    const uint32_t brow = XA ? ldsm_row_b(wn * 32, lane) : ldsm_row_b(wm * 32, lane);

    /* Stage: the X parts' tiles, then W's. */
    auto load = [&](int t, int slot) {
        t += kt0;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + NP * MMA_BM * MMA_ROWB;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int c = tid + i * MMA_THREADS, row = c >> 3, ch = c & 7;
            const int64_t kc = (int64_t)t * 64 + ch * 8; /* first element of the chunk */
#pragma unroll
            for (int q = 0; q < NP; q++) cp16(sx + q * MMA_BM * MMA_ROWB + swz(row, ch), xg + q * a.part_e + row * a.k_pad + kc);
            const int ok = n0 + row < a.n && kc < a.k; /* k % 8 == 0: a chunk is all in or all out */
            cp16_zfill(sw + swz(row, ch), ok ? (const void *)(a.w + (n0 + row) * a.w_stride_e + kc) : (const void *)a.w,
                       ok ? 16 : 0);
        }
    };

    float acc[4][4][4] = {}; /* [m tile][n tile][e] when XA, else [n tile][m tile][e] */
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < ktiles) load(s, s);
        cp_commit();
    }
    for (int t = 0; t < ktiles; t++) {
        cp_wait<STAGES - 2>();
        __syncthreads();
        if (t + STAGES - 1 < ktiles) load(t + STAGES - 1, (t + STAGES - 1) % STAGES);
        cp_commit();
        const int slot = t % STAGES;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + NP * MMA_BM * MMA_ROWB;
        /* This stage's sums in their own accumulators, added to acc with a rounded FADD: the
         * tensor cores' F32 accumulation truncates, so its chains stay 4·NP additions long. */
        float part[4][4][4]; /* set by the first k step's mma (no zeroing moves) */
        if constexpr (BF) { /* unrolled, bf16's three X parts spill (255 registers with W as A) */
#pragma unroll 1
            for (int j = 0; j < 4; j++) fx_step<XA, BF>(part, sx, sw, arow, brow, j, lane);
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++) fx_step<XA, BF>(part, sx, sw, arow, brow, j, lane);
        }
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int jn = 0; jn < 4; jn++)
#pragma unroll
                for (int e = 0; e < 4; e++) acc[i][jn][e] += part[i][jn][e];
    }
    cp_wait<0>();
    float *out = a.part ? a.part + (int64_t)blockIdx.z * a.m * a.n : a.y;
    const int64_t os = a.part ? a.n : a.ys;
    if constexpr (XA) {
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int e2 = 0; e2 < 2; e2++) {
                const int64_t row = m0 + wm * 64 + mt * 16 + gid + e2 * 8;
                if (row >= a.m) continue;
                const float inv = a.inv[row];
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
#pragma unroll
                    for (int e1 = 0; e1 < 2; e1++) {
                        const int64_t col = n0 + wn * 32 + nt * 8 + 2 * tid4 + e1;
                        if (col < a.n) out[row * os + col] = acc[mt][nt][e2 * 2 + e1] * inv;
                    }
            }
    } else {
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int e1 = 0; e1 < 2; e1++) {
                const int64_t row = m0 + wm * 32 + mt * 8 + 2 * tid4 + e1; /* X row (m) */
                if (row >= a.m) continue;
                const float inv = a.inv[row];
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
#pragma unroll
                    for (int e2 = 0; e2 < 2; e2++) {
                        const int64_t col = n0 + wn * 64 + nt * 16 + gid + e2 * 8; /* W row (n) */
                        if (col < a.n) out[row * os + col] = acc[nt][mt][e2 * 2 + e1] * inv;
                    }
            }
    }
}

/* ---- entry ------------------------------------------------------------------------------ */

__global__ void k_mma_reduce(float *y, int64_t ys, const float *part, int splits, int64_t m, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= m * n) return;
    float v = part[i];
    for (int z = 1; z < splits; z++) v += part[z * m * n + i];
    y[(i / n) * ys + i % n] = v;
}

#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY) /* host code */

/* Scratch carved in 256-byte aligned pieces. */
static char *carve(char **p, int64_t bytes) {
    char *r = *p;
    *p += (bytes + 255) / 256 * 256;
    return r;
}

/* Split-k when the output tiles fill less than half the SMs (m and n small): the split count
 * (each split >= 2 k tiles) whose CTAs fill whole waves best, taken only when it beats
 * fewer splits by 5%; the partial sums go to scratch and k_mma_reduce adds them in split
 * order (deterministic). Returns the split count; *kps = k tiles per split. */
static int plan_split(const struct tsc_context *c, int64_t tiles, int64_t ktiles, int *kps) {
    const int64_t sm = c->sm_count > 0 ? c->sm_count : 1;
    int64_t best = 1;
    /* From half a wave of tiles on, the partial sums' traffic (12 bytes per output and split)
     * costs about what a better fill would gain. */
    if (tiles * 2 > sm) {
        *kps = (int)ktiles;
        return 1;
    }
    double best_fill = (double)tiles / (double)(tsc_cdiv(tiles, sm) * sm);
    for (int64_t s = 2; s <= ktiles / 2 && s <= 64; s++) {
        const double fill = (double)(tiles * s) / (double)(tsc_cdiv(tiles * s, sm) * sm);
        if (fill > best_fill * 1.05) best = s, best_fill = fill;
    }
    *kps = (int)tsc_cdiv(ktiles, best);
    return (int)tsc_cdiv(ktiles, *kps); /* no empty split */
}

/* Which kernel takes quantized weights (TSC_MMA_QUANT in the environment, read per call so
 * tests and benchmarks can run each): "int8" (default) unpack pass + int8 mma; "f16"
 * unpack pass + f16 mma on the same integers; "raw" / "rawf16" W unpacked in shared memory
 * by the GEMM itself (int8 / f16 mma). All give the CPU's integer block sums. */
enum { QV_INT8, QV_F16, QV_RAW8, QV_RAW16 };
static int quant_variant(void) {
    const char *e = getenv("TSC_MMA_QUANT");
    if (e == NULL) return QV_INT8;
    if (strcmp(e, "int8") == 0) return QV_INT8;
    if (strcmp(e, "f16") == 0) return QV_F16;
    if (strcmp(e, "raw") == 0) return QV_RAW8;
    if (strcmp(e, "rawf16") == 0) return QV_RAW16;
    return QV_INT8;
}

/* The GGUF rows w (Q8_0 when q8, else Q4_0) unpacked by a pass into a.wq / a.wd, then the
 * GEMM (k_mma_q) with smem bytes of shared memory. */
template <typename QT>
static void launch_q(struct tsc_context *c, dim3 grid, size_t smem, int q8, const uint8_t *w, int64_t w_stride, int64_t nb,
                     const mmq_args &a) {
    const int64_t nb_pad = a.k_pad / 32, n_pad = (int64_t)grid.x * MMA_BN;
    const unsigned gw = (unsigned)tsc_cdiv(n_pad * nb_pad, 256);
    QT *wq = (QT *)a.wq;
    float *wd = (float *)a.wd;
    if (q8) TSC_LAUNCH(gw, 256, 0, c->stream, k_mma_unpack_w<TS_TYPE_Q8_0, QT>)(wq, wd, w, w_stride, a.n, nb, n_pad, nb_pad);
    else TSC_LAUNCH(gw, 256, 0, c->stream, k_mma_unpack_w<TS_TYPE_Q4_0, QT>)(wq, wd, w, w_stride, a.n, nb, n_pad, nb_pad);
    cudaFuncSetAttribute(k_mma_q<QT>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    TSC_LAUNCH(grid, MMA_THREADS, smem, c->stream, k_mma_q<QT>)(a);
}

template <typename QT, int WT>
static void launch_qr(struct tsc_context *c, dim3 grid, const mmqr_args &a) {
    const int smem = mmqr_cfg<QT, WT>::SMEM;
    cudaFuncSetAttribute(k_mma_qr<QT, WT>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    TSC_LAUNCH(grid, MMA_THREADS, smem, c->stream, k_mma_qr<QT, WT>)(a);
}

static int32_t mma_quant(struct tsc_context *c, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride,
                         const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    int v = quant_variant();
    const int q8 = w_type == TS_TYPE_Q8_0;
    if (v == QV_RAW8 && (q8 ? mmqr_cfg<int8_t, TS_TYPE_Q8_0>::SMEM : mmqr_cfg<int8_t, TS_TYPE_Q4_0>::SMEM) > c->max_smem_optin)
        v = QV_INT8;
    if (v == QV_RAW16 && (q8 ? mmqr_cfg<__half, TS_TYPE_Q8_0>::SMEM : mmqr_cfg<__half, TS_TYPE_Q4_0>::SMEM) > c->max_smem_optin)
        v = QV_F16;
    const int h = v == QV_F16 || v == QV_RAW16, raw = v == QV_RAW8 || v == QV_RAW16;
    const size_t smem = (size_t)MMA_QSTAGES * (h ? MMA_HSTAGE : MMA_QSTAGE);
    if (!raw && (int64_t)smem > c->max_smem_optin) return TSC_NOT_HANDLED;
    const int64_t m_pad = tsc_cdiv(m, MMA_BM) * MMA_BM, n_pad = tsc_cdiv(n, MMA_BN) * MMA_BN;
    const int64_t k_pad = tsc_cdiv(k, MMA_ROWB) * MMA_ROWB, nb = k / 32, nb_pad = k_pad / 32;
    const int64_t qb = h ? 2 : 1; /* bytes per quant */
    int kps;
    const int splits = plan_split(c, (m_pad / MMA_BM) * (n_pad / MMA_BN), k_pad / (h ? 64 : 128), &kps);
    const int64_t wbytes = raw ? 0 : n_pad * k_pad * qb + n_pad * nb_pad * 4;
    const int64_t bytes = m_pad * k_pad * qb + m_pad * nb_pad * 4 + wbytes + (splits > 1 ? splits * m * n * 4 : 0) + 5 * 256;
    void *scratch;
    int32_t st = tsc_scratch(c, bytes, &scratch);
    if (st) return st;
    char *p = (char *)scratch;
    void *xq = carve(&p, m_pad * k_pad * qb);
    float *xd = (float *)carve(&p, m_pad * nb_pad * 4);
    void *wq = raw ? NULL : carve(&p, n_pad * k_pad * qb);
    float *wd = raw ? NULL : (float *)carve(&p, n_pad * nb_pad * 4);
    float *part = splits > 1 ? (float *)carve(&p, splits * m * n * 4) : NULL;
    const unsigned gx = (unsigned)tsc_cdiv(m_pad * nb_pad * 8, 256);
    const uint8_t *wb = (const uint8_t *)w;
    dim3 grid((unsigned)(n_pad / MMA_BN), (unsigned)(m_pad / MMA_BM), (unsigned)splits);
    if (h) TSC_LAUNCH(gx, 256, 0, c->stream, k_mma_quantize_x<__half>)((__half *)xq, xd, x, x_stride / 4, m, nb, m_pad, nb_pad);
    else TSC_LAUNCH(gx, 256, 0, c->stream, k_mma_quantize_x<int8_t>)((int8_t *)xq, xd, x, x_stride / 4, m, nb, m_pad, nb_pad);
    if (raw) {
        const mmqr_args a = {xq, xd, wb, w_stride, y, y_stride / 4, m, n, nb, k_pad, part, kps};
        if (h) {
            if (q8) launch_qr<__half, TS_TYPE_Q8_0>(c, grid, a);
            else launch_qr<__half, TS_TYPE_Q4_0>(c, grid, a);
        } else {
            if (q8) launch_qr<int8_t, TS_TYPE_Q8_0>(c, grid, a);
            else launch_qr<int8_t, TS_TYPE_Q4_0>(c, grid, a);
        }
    } else {
        const mmq_args a = {xq, wq, xd, wd, y, y_stride / 4, m, n, k_pad, part, kps};
        if (h) launch_q<__half>(c, grid, smem, q8, wb, w_stride, nb, a);
        else launch_q<int8_t>(c, grid, smem, q8, wb, w_stride, nb, a);
    }
    if (splits > 1)
        TSC_LAUNCH((unsigned)tsc_cdiv(m * n, 256), 256, 0, c->stream, k_mma_reduce)(y, y_stride / 4, part, splits, m, n);
    st = tsc_launch_status("tsc_matmul");
    int32_t st2 = tsc_pool_free(c, scratch); /* stream-ordered: later work may reuse it */
    return st ? st : st2;
}

/* The float GEMM for one operand order and stage count (shared memory opted in). */
template <bool XA, bool BF, int STAGES>
static void launch_fx(struct tsc_context *c, dim3 grid, const mmf_args &a) {
    const int smem = STAGES * fstage(BF);
    cudaFuncSetAttribute(k_mma_fx<XA, BF, STAGES>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    TSC_LAUNCH(grid, MMA_THREADS, smem, c->stream, k_mma_fx<XA, BF, STAGES>)(a);
}

/* F16 (bf false) or BF16 (bf true) weights. */
static int32_t mma_float(struct tsc_context *c, bool bf, float *y, int64_t y_stride, const void *w, int64_t w_stride, const float *x,
                         int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    /* 3 stages; bf16's stages (three X parts) are 64 KB, so 2 where 192 KB do not fit (sm_80). */
    const int stages = bf && (int64_t)3 * fstage(bf) > c->max_smem_optin ? 2 : 3;
    if ((int64_t)stages * fstage(bf) > c->max_smem_optin) return TSC_NOT_HANDLED;
    const int np = fparts(bf);
    const int64_t m_pad = tsc_cdiv(m, MMA_BM) * MMA_BM, n_pad = tsc_cdiv(n, MMA_BN) * MMA_BN, k_pad = tsc_cdiv(k, 64) * 64;
    /* In place when every 8-element chunk of W is a 16-byte aligned load; else a padded copy. */
    const int direct = (uintptr_t)w % 16 == 0 && w_stride % 16 == 0 && k % 8 == 0;
    int kps;
    const int splits = plan_split(c, (m_pad / MMA_BM) * (n_pad / MMA_BN), k_pad / 64, &kps);
    const int64_t bytes = np * m_pad * k_pad * 2 + m_pad * 4 + (direct ? 0 : n_pad * k_pad * 2) +
                          (splits > 1 ? splits * m * n * 4 : 0) + 5 * 256;
    void *scratch;
    int32_t st = tsc_scratch(c, bytes, &scratch);
    if (st) return st;
    char *p = (char *)scratch;
    uint16_t *xp = (uint16_t *)carve(&p, np * m_pad * k_pad * 2);
    float *inv = (float *)carve(&p, m_pad * 4);
    if (bf) TSC_LAUNCH((unsigned)m_pad, 256, 0, c->stream, k_mma_split_x<true>)(xp, m_pad * k_pad, inv, x, x_stride / 4, m, k, k_pad);
    else TSC_LAUNCH((unsigned)m_pad, 256, 0, c->stream, k_mma_split_x<false>)(xp, m_pad * k_pad, inv, x, x_stride / 4, m, k, k_pad);
    float *part = splits > 1 ? (float *)carve(&p, splits * m * n * 4) : NULL;
    mmf_args a = {xp, m_pad * k_pad, inv, (const uint16_t *)w, w_stride / 2, y, y_stride / 4, m, n, k, k_pad, part, kps};
    if (!direct) {
        uint16_t *wp = (uint16_t *)carve(&p, n_pad * k_pad * 2);
        TSC_LAUNCH((unsigned)tsc_cdiv(n_pad * k_pad, 256), 256, 0, c->stream, k_mma_pad_w)(wp, (const uint8_t *)w, w_stride, n, k, n_pad,
                                                                                    k_pad);
        a.w = wp, a.w_stride_e = k_pad, a.k = k_pad;
    }
    dim3 grid((unsigned)(n_pad / MMA_BN), (unsigned)(m_pad / MMA_BM), (unsigned)splits);
    /* W as the mma's A operand (k_mma_fx<false, ...>) by default: 4-7% faster than X as A on an
     * H200 (163 vs 152 TFLOP/s at 4096x4096x512, F16); TSC_MMA_F16=xa picks the other for comparison. */
    const char *fv = getenv("TSC_MMA_F16");
    const bool xa = fv != NULL && strcmp(fv, "xa") == 0;
    if (!bf) {
        if (xa) launch_fx<true, false, 3>(c, grid, a);
        else launch_fx<false, false, 3>(c, grid, a);
    } else if (stages == 3) {
        if (xa) launch_fx<true, true, 3>(c, grid, a);
        else launch_fx<false, true, 3>(c, grid, a);
    } else {
        if (xa) launch_fx<true, true, 2>(c, grid, a);
        else launch_fx<false, true, 2>(c, grid, a);
    }
    if (splits > 1)
        TSC_LAUNCH((unsigned)tsc_cdiv(m * n, 256), 256, 0, c->stream, k_mma_reduce)(y, y_stride / 4, part, splits, m, n);
    st = tsc_launch_status("tsc_matmul");
    int32_t st2 = tsc_pool_free(c, scratch);
    return st ? st : st2;
}

int32_t tsc_matmul_mma(struct tsc_context *c, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride,
                       const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    if (m < TSC_MMA_MIN_M) return TSC_NOT_HANDLED;
    if (tsc_cdiv(m, MMA_BM) > 65535 || tsc_cdiv(n, MMA_BN) > 0x7fffffffLL || k > 0x7fffffffLL / 4) return TSC_NOT_HANDLED;
    if (w_type == TS_TYPE_Q8_0 || w_type == TS_TYPE_Q4_0) return mma_quant(c, y, y_stride, w, w_type, w_stride, x, x_stride, n, k, m);
    if (w_type == TS_TYPE_F16 || w_type == TS_TYPE_BF16)
        return mma_float(c, w_type == TS_TYPE_BF16, y, y_stride, w, w_stride, x, x_stride, n, k, m);
    return TSC_NOT_HANDLED;
}

#endif /* host code */
