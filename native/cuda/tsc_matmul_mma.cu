/*
 * tsc_matmul_mma.cu — batched matmul Y[m][n] = Σ_k W[n][k]·X[m][k] on tensor cores
 * (mma.sync: sm_80 and sm_90; no wgmma, the library is built for sm_90, not sm_90a).
 *
 * Block-type weights (every GGUF type the CPU reads), m >= TSC_MMA_MIN_M:
 *  1. X is quantized to Q8_0 with the CPU's arithmetic (max-abs/127, round half away from
 *     zero, scale rounded through half), W's 32-groups are unpacked to int8 levels u = q - off
 *     (tsc_quant.cuh's decoding), both into zero-padded scratch: int8 rows of k_pad bytes and
 *     per block a record of floats: W's scale s_h = D·scl_h per half (one per block where the
 *     halves share it) and, for the types with a min (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K), m_h =
 *     M·mi_h, so w = s_h·u + m_h exactly; X's d and, for those, d·Σq of each half or block.
 *     GGUF blocks are only 2-byte aligned; the unpacked rows are 16-byte aligned, so the GEMM
 *     streams both operands with cp.async and reads them with ldmatrix.
 *  2. A 128x128 CTA tile, 4 x 32-blocks (128 bytes of k) per pipeline stage, 4 stages of
 *     cp.async (3 for Q2_K where 4 of its stages do not fit, sm_80); 8 warps of 64x32
 *     (TSC_MMA_WARPS=16: 16 warps of 32x32, here and in the float GEMM; for tuning). Each
 *     32-block is one mma.sync m16n8k32 s8·s8 -> s32 per 16x8 piece (two m16n8k16, one per
 *     half, for Q2_K, Q3_K, Q6_K, whose halves have their own scales), whose integer sums are
 *     scaled in float and added to F32 accumulators: s_h·(d_x·S_h) (+ m_h·(d_x·Σ_h q_x)). For
 *     Q8_0, Q4_0 and Q5_0 those are the CPU's integer block dots (the float products,
 *     d_w·(d_x·s) against the CPU's (d_w·d_x)·s, and the order of the float sums differ, each a
 *     rounding of the F32 result's size); the CPU pairs the others with Q8_1 or Q8_K
 *     activations, so there the results differ by the activations' rounding as well (as the
 *     dp4a kernels' do).
 *     The mma's C operand is the bit pattern of 1.5·2^23, so D = 1.5·2^23 + s read as a
 *     float is exact, and one FFMA with -1.5·2^23·d_x (exact) gives d_x·s rounded once (no
 *     quarter-rate I2F, no separate FADD).
 *     The per-block scaling (2 FFMA per output per block, 3 with a min, 4 to 6 for the
 *     halves) runs on the FP32 pipe: 8 FP instructions per mma, which bounds this kernel
 *     near 1/2 of the int8 tensor rate (one warp instruction per clock per SM quarter; the
 *     mma needs 4 clocks there), 1/3 with a min, 1/4 to 1/6 for the halves. Any kernel
 *     for these formats has that bound: the int8 tensor rate is 32 multiply-adds for each
 *     FP32 one, a 32-block's output has 32 multiply-adds, and each block has its own scales
 *     in W and in X, to be applied in float before the next block's sum is added.
 *  Other kernels for Q8_0 and Q4_0, picked with TSC_MMA_QUANT (tested, benchmarked):
 *  "f16" runs the same integers on the f16 mma (exact: products and 32-term sums are
 *  integers below 2^24) at half the tensor rate, with the same bits; "raw" / "rawf16" unpack
 *  W in shared memory inside the GEMM instead of a pass over all of W (1 byte per weight less
 *  written and read).
 * F16 weights, m >= TSC_MMA_MIN_M: X row r is scaled by a power of two 2^s_r (its largest
 *  |x| lands in [2^14, 2^15)) and split into two halves hi + lo (hi = f16(x·2^s), lo =
 *  f16(x·2^s - hi)): W·hi + W·lo with F32 accumulation keeps ~22 bits of every x, so the
 *  result is as close to the F32 product as the F32 kernels (tested against a double sum
 *  at 1e-5·Σ|w·x|); it costs two mma.sync m16n8k16 per piece.
 * BF16 weights, the same GEMM on the bf16 mma: bf16 has 8 significant bits and F32's
 *  exponent range, so X is split into three parts hi + mid + lo (each the bf16 rounding of
 *  what the parts before leave; 24 bits, F32's precision) without scaling: three mma per
 *  piece, and stages of 64 KB (3 where the shared memory allows, 2 on sm_80's 163 KB).
 * F32 weights, the same GEMM with W split too, into three bf16 parts by a pass over W: of the
 *  nine products of W's and X's parts, the six whose parts' ranks add up to at most 2 (the
 *  others are below 2^-24 of the largest), so F32's precision for six mma per piece, stages
 *  of 96 KB (2; sm_80's shared memory holds none: the plain kernels take F32 there).
 * F16/BF16: W is read in place with cp.async when its rows are 16-byte aligned and k % 8 == 0,
 *  else copied to a padded scratch first. By default the operands' roles are swapped (W as
 *  the mma's A; TSC_MMA_F16=xa keeps X as A) for less shared-memory traffic (tested and
 *  benchmarked beside the default).
 * Few output tiles (m and n small, under half a wave): k is split across CTAs, partial
 * sums go to scratch and are added in split order (deterministic).
 * m < TSC_MMA_MIN_M is left to the plain kernels (TSC_NOT_HANDLED).
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
#include "tsc_quant.cuh" /* the GGUF groups' decoding, shared with tsc_matmul.cu */

#define TSC_MMA_MIN_M 16 /* below: the plain kernels (few rows, bandwidth-bound) */
#define MMA_BM 128       /* X rows (m) per CTA */
#define MMA_BN 128       /* W rows (n) per CTA */
#define MMA_ROWB 128     /* bytes of one tile row per stage: 4 int8 blocks or 64 halves */
#define MMA_THREADS 256  /* 8 warps: 2 (m) x 4 (n), warp tile 64 x 32 (k_mma_q, k_mma_fx: mma_threads) */
#define MMA_QSTAGES 4
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

/* d = a·b + MAGIC (int8 16x16 · 16x8): half of m16n8k32, whose A regs 0, 1 and B reg 0 hold
 * k 0-15 (regs 2, 3 and 1: k 16-31), so a k32 fragment's halves feed two of these. */
static __device__ __forceinline__ void mma_s8_k16(int32_t *d, uint32_t a0, uint32_t a1, uint32_t b0) {
    asm("mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%7, %7, %7, %7};\n"
        : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
        : "r"(a0), "r"(a1), "r"(b0), "r"(MMA_MAGIC));
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
/* v rounded to the element type (bits), and the rounded value back as a float. bf16: a
 * finite v that rounds to infinity (|v| within half a bf16 step of FLT_MAX) takes the largest
 * finite bf16 instead, so what is left stays finite and the parts still sum to v. */
template <bool BF>
static __device__ __forceinline__ uint16_t round_fx(float v, float &back) {
    if constexpr (BF) {
        uint16_t b = __bfloat16_as_ushort(__float2bfloat16_rn(v));
        if ((b & 0x7fffu) == 0x7f80u && !isinf(v)) b = (uint16_t)((b & 0x8000u) | 0x7f7fu);
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

/* How a weight type's 32-groups enter the int8 GEMM (w = s_h·u + m_h for element i of half h,
 * u the int8 level after its offset): H, the halves have their own scales (two k16 mma per
 * block instead of one k32); MN, a min term m_h·Σ_h x. SW floats per W block {s0[, s1][, m0[,
 * m1]]}; SX floats per X block: its scale d and, with MN, d·Σq over each half (H) or the
 * block. */
template <int H, int MN>
struct mmq_fmt {
    static constexpr int SW = (H + 1) * (MN + 1), SX = 1 + MN * (H + 1);
};

/* Group g of the GGUF row at row (any block type; tsc_quant.cuh's decoding) as 8 words of
 * int8 levels u = q - off (element 4i + b in byte b of word i) and its SW floats: D·scl_h and
 * M·mi_h, exact (an f16 times an integer of at most 8 bits). */
template <int WT>
static __device__ __forceinline__ void decode_group(wptr row, uint32_t g, uint32_t *u, float *sc) {
    typedef qtype<WT> Q;
    qraw r;
    qload<WT>(row, g, r);
    qgroup o;
    qfinish<WT>(r, o);
    /* levels 0..63, off <= 32: q + 128 - off stays within its byte, and ^ 0x80 makes it the
     * int8 q - off, four bytes at once */
    constexpr uint32_t add = (uint32_t)(128 - Q::off) * 0x01010101u;
#pragma unroll
    for (int i = 0; i < 8; i++) u[i] = Q::off ? (o.q[i] + add) ^ 0x80808080u : o.q[i];
    int e = 0;
    sc[e++] = o.D * (float)o.scl0;
    if (Q::halves) sc[e++] = o.D * (float)o.scl1;
    if (Q::has_min) {
        sc[e++] = o.M * (float)o.mi0;
        if (Q::halves) sc[e++] = o.M * (float)o.mi1;
    }
}

/* X row r, block b -> xq[r][32b..], xd[r][b][SX]: the CPU's ts_q8_block (d rounded through
 * half), rows >= m and blocks >= nb zeros; SX 2: d·Σq, 3: d·Σq of each half (exact: 11 bits
 * times at most 12). 8 lanes per block, 4 floats each, so a warp reads 512 contiguous bytes;
 * the max is combined in element order with the CPU's NaN behaviour (amax = amax > a ? amax
 * : a: a NaN is replaced by the next element, so a segment that holds a NaN decides alone;
 * one without takes over from an earlier NaN). */
template <typename QT, int SX>
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
    const float dh = live ? tsc_h2f(tsc_f2h(d)) : 0.0f;
    if constexpr (SX > 1) {
        int qs = 0; /* Σ of this lane's 4 quants, then of its half (lanes 0-3, 4-7), then the block's */
#pragma unroll
        for (int e = 0; e < 4; e++) qs += (int)(int8_t)(w >> (8 * e));
        qs += __shfl_xor_sync(0xffffffffu, qs, 1);
        qs += __shfl_xor_sync(0xffffffffu, qs, 2);
        if (SX == 2) qs += __shfl_xor_sync(0xffffffffu, qs, 4);
        if (sub == 0 || (SX == 3 && sub == 4)) xd[g * SX + 1 + (sub >> 2)] = dh * (float)qs;
    }
    if (sub == 0) xd[g * SX] = dh;
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

/* W row r, group b (any GGUF block type, rows 2-byte aligned) -> wq[r][32b..] int8 levels,
 * wd[r][b][SW] its scales (and mins); rows >= n and groups >= nb zeros. */
template <int WT, typename QT>
__global__ void k_mma_unpack_w(QT *wq, float *wd, const uint8_t *w, int64_t w_stride, int64_t n, int64_t nb, int64_t n_pad,
                               int64_t nb_pad) {
    constexpr int SW = mmq_fmt<qtype<WT>::halves, qtype<WT>::has_min>::SW;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_pad * nb_pad) return;
    const int64_t r = i / nb_pad, b = i % nb_pad;
    uint32_t q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float sc[SW] = {};
    if (r < n && b < nb) decode_group<WT>(wptr_of(w + r * w_stride), (uint32_t)b, q, sc);
    store_quants(wq + r * nb_pad * 32 + b * 32, q);
#pragma unroll
    for (int e = 0; e < SW; e++) wd[i * SW + e] = sc[e];
}

/* v split into NP parts of the element type at o[0], o[part_e], ..., each the rounding of
 * what the parts before leave (exact in F32), so their sum keeps NP·11 (f16) or NP·8 (bf16)
 * bits of v. */
template <bool BF, int NP>
static __device__ __forceinline__ void split_parts(float v, uint16_t *o, int64_t part_e) {
#pragma unroll
    for (int q = 0; q < NP; q++) {
        float back;
        o[q * part_e] = round_fx<BF>(v, back);
        v = isinf(v) ? 0.0f : v - back; /* ±inf stays in the first part, not NaN */
    }
}

/* One CTA per X row: X row r split into fparts(BF) parts (split_parts), part q at xp +
 * q·part_e + r·k_pad (zeros past k and for rows >= m). f16 first scales the row by the power
 * of two 2^s that puts max|x| in [2^14, 2^15) (its range is narrow), inv[r] = 2^-s; bf16 has
 * F32's range (s = 0). */
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
    if (!BF && amax > 0.0f && amax <= FLT_MAX) {
        int e;
        frexpf(amax, &e); /* amax in [2^(e-1), 2^e) */
        s = 15 - e;
        s = s < -126 ? -126 : s > 126 ? 126 : s;
    }
    const float sc = ldexpf(1.0f, s);
    uint16_t *o = xp + r * k_pad;
    for (int64_t i = threadIdx.x; i < k_pad; i += blockDim.x) split_parts<BF, fparts(BF)>(r < m && i < k ? p[i] * sc : 0.0f, o + i, part_e);
    if (threadIdx.x == 0 && r < m) inv[r] = ldexpf(1.0f, -s);
}

/* F32 W rows split into 3 bf16 parts of [n_pad][k_pad] (zero-padded), part_e apart. */
__global__ void k_mma_split_w(uint16_t *wp, int64_t part_e, const uint8_t *w, int64_t w_stride, int64_t n, int64_t k, int64_t n_pad,
                              int64_t k_pad) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_pad * k_pad) return;
    const int64_t r = i / k_pad, c = i % k_pad;
    split_parts<true, 3>(r < n && c < k ? ((const float *)(w + r * w_stride))[c] : 0.0f, wp + i, part_e);
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
 * af[mt] for the warp's MT 16-row A tiles at sa, bf[nt] for its four 8-row B tiles at sb. */
template <int MT>
static __device__ __forceinline__ void load_frags(uint32_t sa, uint32_t arow, uint32_t sb, uint32_t brow, int ch, int lane,
                                                  uint32_t (&af)[MT][4], uint32_t (&bf)[4][2]) {
    const int r7 = lane & 7;
    const uint32_t ca = (uint32_t)(((ch + (lane >> 4)) ^ r7) << 4), cb = (uint32_t)(((ch + ((lane >> 3) & 1)) ^ r7) << 4);
#pragma unroll
    for (int mt = 0; mt < MT; mt++) ldsm_x4(sa + arow + mt * 16 * MMA_ROWB + ca, af[mt][0], af[mt][1], af[mt][2], af[mt][3]);
#pragma unroll
    for (int np = 0; np < 2; np++)
        ldsm_x4(sb + brow + np * 16 * MMA_ROWB + cb, bf[2 * np][0], bf[2 * np][1], bf[2 * np + 1][0], bf[2 * np + 1][1]);
}

/* The scale records of 32-block j for this lane's outputs, from stage records stored
 * [row][BPS][SX or SW]: X rows wm·16·MT + mt·16 + gid (+8), W rows wn·32 + nt·8 + 2·tid4 (+1). */
template <int BPS, int SX, int SW, int MT>
static __device__ __forceinline__ void block_scales(const float *xd, const float *wd, int wm, int wn, int gid, int tid4, int j,
                                                    float (&dx)[MT][2][SX], float (&dw)[4][2][SW]) {
    const float *xdl = xd + ((wm * 16 * MT + gid) * BPS + j) * SX, *wdl = wd + ((wn * 32 + 2 * tid4) * BPS + j) * SW;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int e = 0; e < SX; e++) dx[mt][0][e] = xdl[mt * 16 * BPS * SX + e], dx[mt][1][e] = xdl[(mt * 16 + 8) * BPS * SX + e];
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
        for (int e = 0; e < SW; e++) dw[nt][0][e] = wdl[nt * 8 * BPS * SW + e], dw[nt][1][e] = wdl[(nt * 8 + 1) * BPS * SW + e];
}

/* acc += Σ_h s_h·(d_x·S_h) (+ m_h·(d_x·Σ_h q_x) with MN) over the warp's 16·MT x 32 piece for
 * 32-block j of the stage (X quants at sa, W quants at sb), S_h the integer sums of the block
 * (H = 0) or of each half (H = 1). QT int8: int8 mma whose C is MMA_MAGIC, so D read as a
 * float is 1.5·2^23 + S exactly; QT __half (H = MN = 0): two f16 mma k steps on the same
 * integers (exact: products and 32-term sums below 2^24). Both then add s·(d_x·S), d_x·S
 * rounded once: the same bits. */
template <typename QT, int H, int MN, int MT>
static __device__ __forceinline__ void block_dot(float (&acc)[MT][4][4], uint32_t sa, uint32_t arow, uint32_t sb, uint32_t brow, int j,
                                                 int lane, const float (&dx)[MT][2][mmq_fmt<H, MN>::SX],
                                                 const float (&dw)[4][2][mmq_fmt<H, MN>::SW]) {
    uint32_t af[MT][4], bf[4][2];
    if constexpr (sizeof(QT) == 1) {
        /* -1.5·2^23·d_x is exact (d_x has the 11 significant bits of a half), so one FMA takes
         * the magic number out and applies d_x: two FP32 operations per output and block (the
         * other is the accumulation), not three, amortizing these 8 products over 64 outputs;
         * each scaled half and each min term one more. */
        float mdx[MT][2];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) mdx[mt][0] = -12582912.0f * dx[mt][0][0], mdx[mt][1] = -12582912.0f * dx[mt][1][0];
        load_frags(sa, arow, sb, brow, 2 * j, lane, af, bf);
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                int32_t d[H + 1][4];
                if constexpr (H) {
                    mma_s8_k16(d[0], af[mt][0], af[mt][1], bf[nt][0]);
                    mma_s8_k16(d[1], af[mt][2], af[mt][3], bf[nt][1]);
                } else {
                    mma_s8(d[0], af[mt], bf[nt]);
                }
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const float *x = dx[mt][e >> 1], *w = dw[nt][e & 1];
#pragma unroll
                    for (int h = 0; h <= H; h++) { /* D = 1.5·2^23 + S exactly (|S| < 2^22) */
                        const float t = fmaf(__int_as_float(d[h][e]), x[0], mdx[mt][e >> 1]); /* = d_x·S rounded once */
                        acc[mt][nt][e] = fmaf(w[h], t, acc[mt][nt][e]);
                    }
                    if constexpr (MN)
#pragma unroll
                        for (int h = 0; h <= H; h++) acc[mt][nt][e] = fmaf(w[H + 1 + h], x[1 + h], acc[mt][nt][e]);
                }
            }
    } else {
        static_assert(H == 0 && MN == 0, "the f16 mma takes Q8_0/Q4_0 only");
        float part[MT][4][4]; /* set by the first k step's mma (no zeroing moves) */
#pragma unroll
        for (int h = 0; h < 2; h++) { /* chunks 4j + 2h, 4j + 2h + 1 */
            load_frags(sa, arow, sb, brow, 4 * j + 2 * h, lane, af, bf);
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++) {
                    if (h == 0) mma_f16_z(part[mt][nt], af[mt], bf[nt]);
                    else mma_f16(part[mt][nt], af[mt], bf[nt]);
                }
        }
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++)
                    acc[mt][nt][e] = fmaf(dw[nt][e & 1][0], dx[mt][e >> 1][0] * part[mt][nt][e], acc[mt][nt][e]);
    }
}

/* The quantized GEMMs' outputs (X rows m0 + wm·16·MT + ..., W rows n0 + wn·32 + ...): into y,
 * or with split k into this split's partial sums [m][n]. */
template <int MT>
static __device__ __forceinline__ void store_acc(const float (&acc)[MT][4][4], float *y, int64_t ys, float *part, int64_t m, int64_t n,
                                                 int64_t m0, int64_t n0, int wm, int wn, int lane) {
    const int gid = lane >> 2, tid4 = lane & 3;
    float *out = part ? part + (int64_t)blockIdx.z * m * n : y;
    const int64_t os = part ? n : ys;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int64_t row = m0 + wm * 16 * MT + mt * 16 + gid + (e >> 1) * 8;
                const int64_t col = n0 + wn * 32 + nt * 8 + 2 * tid4 + (e & 1);
                if (row < m && col < n) out[row * os + col] = acc[mt][nt][e];
            }
}

/* ---- the quantized GEMM over unpacked operands ------------------------------------------- */
/* QT int8_t: the int8 mma, 4 blocks (128 bytes of each row) per stage, any weight format
 * (mmq_fmt<H, MN>). QT __half (Q8_0/Q4_0): quants as halves (exact small integers) on the f16
 * mma: each block's sum is the CPU's integer exactly with no conversion, for twice the tensor
 * time of the int8 mma (f16 runs at half the int8 rate); 2 blocks per stage. */
template <typename QT, int H, int MN>
struct mmq_cfg {
    static constexpr int SX = mmq_fmt<H, MN>::SX, SW = mmq_fmt<H, MN>::SW;
    static constexpr int BPS = sizeof(QT) == 1 ? 4 : 2; /* 32-blocks per stage: 128 bytes of a row */
    /* X and W tiles, then the scale records of X's rows and of W's */
    static constexpr int STAGE = MMA_BM * MMA_ROWB + MMA_BN * MMA_ROWB + (MMA_BM * SX + MMA_BN * SW) * BPS * 4;
};

#ifndef TSC_EMU
static __device__ __forceinline__ void cp8(uint32_t dst, const void *src) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(dst), "l"(src));
}
#endif

struct mmq_args {
    const void *xq, *wq;  /* [m_pad][k_pad] quants (int8 or half), [n_pad][k_pad] */
    const float *xd, *wd; /* scale records [m_pad][nb_pad][SX], [n_pad][nb_pad][SW] */
    float *y;
    int64_t ys;           /* y row stride in floats */
    int64_t m, n, k_pad;
    float *part; /* split-k: partial sums [gridDim.z][m][n], else NULL (y written directly) */
    int kps;     /* k tiles per split */
};

/* Threads of the GEMMs (k_mma_q, k_mma_fx) with `at` 16-row A tiles per warp: warps
 * (MMA_BM / 16 / at) along A x 4. */
static constexpr int mma_threads(int at) { return MMA_BM / (16 * at) * 4 * 32; }

template <typename QT, int H, int MN, int STAGES, int MT>
__global__ void __launch_bounds__(mma_threads(MT), 1) k_mma_q(mmq_args a) {
    typedef mmq_cfg<QT, H, MN> C;
    constexpr int BPS = C::BPS, SX = C::SX, SW = C::SW, STAGE = C::STAGE, THREADS = mma_threads(MT), WM = MMA_BM / (16 * MT);
    TSC_DYN_SMEM(unsigned char, smem, 128);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp & (WM - 1), wn = warp >> (WM / 2), gid = lane >> 2, tid4 = lane & 3; /* WM 2 or 4: log2 is WM / 2 */
    const int64_t m0 = (int64_t)blockIdx.y * MMA_BM, n0 = (int64_t)blockIdx.x * MMA_BN;
    const int64_t nb_pad = a.k_pad / 32;
    const int kt0 = (int)blockIdx.z * a.kps, ktall = (int)(a.k_pad / (32 * BPS));
    const int ktiles = ktall - kt0 < a.kps ? ktall - kt0 : a.kps; /* this split's k tiles */
    const QT *xg = (const QT *)a.xq + m0 * a.k_pad, *wg = (const QT *)a.wq + n0 * a.k_pad;
    const uint32_t s0 = smem_u32(smem);
    const uint32_t arow = ldsm_row_a(wm * 16 * MT, lane), brow = ldsm_row_b(wn * 32, lane);

    /* Stage layout: X tile, W tile (rows of 128 swizzled bytes), X records [BM][BPS][SX], W
     * records [BN][BPS][SW]; threads 0-127 copy an X row's records, 128-255 a W row's. */
    auto load = [&](int t, int slot) {
        t += kt0;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + MMA_BM * MMA_ROWB, sxd = sw + MMA_BN * MMA_ROWB,
                       swd = sxd + MMA_BM * BPS * SX * 4;
#pragma unroll
        for (int i = 0; i < MMA_BM * 8 / THREADS; i++) {
            const int c = tid + i * THREADS, row = c >> 3, ch = c & 7;
            cp16(sx + swz(row, ch), xg + row * a.k_pad + t * 32 * BPS + ch * (16 / (int)sizeof(QT)));
            cp16(sw + swz(row, ch), wg + row * a.k_pad + t * 32 * BPS + ch * (16 / (int)sizeof(QT)));
        }
        if constexpr (BPS == 4) {
            if (tid < MMA_BM) {
#pragma unroll
                for (int c = 0; c < SX; c++) cp16(sxd + (tid * SX + c) * 16, a.xd + ((m0 + tid) * nb_pad + t * 4) * SX + 4 * c);
            } else if (THREADS == MMA_BM + MMA_BN || tid < MMA_BM + MMA_BN) { /* all threads' records at 8 warps */
#pragma unroll
                for (int c = 0; c < SW; c++)
                    cp16(swd + ((tid - MMA_BM) * SW + c) * 16, a.wd + ((n0 + tid - MMA_BM) * nb_pad + t * 4) * SW + 4 * c);
            }
        } else { /* 2 records of one float */
            if (tid < MMA_BM) cp8(sxd + tid * 8, a.xd + (m0 + tid) * nb_pad + t * 2);
            else if (THREADS == MMA_BM + MMA_BN || tid < MMA_BM + MMA_BN)
                cp8(swd + (tid - MMA_BM) * 8, a.wd + (n0 + tid - MMA_BM) * nb_pad + t * 2);
        }
    };

    float acc[MT][4][4] = {};
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < ktiles) load(s, s);
        cp_commit();
    }
    for (int t = 0; t < ktiles; t++) {
        cp_wait<STAGES - 2>();
        __syncthreads(); /* stage t landed for all threads; stage t-1's slot is free */
        if (t + STAGES - 1 < ktiles) load(t + STAGES - 1, (t + STAGES - 1) % STAGES);
        cp_commit();
        const int slot = t % STAGES;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + MMA_BM * MMA_ROWB;
        const float *xd = (const float *)(smem + slot * STAGE + (MMA_BM + MMA_BN) * MMA_ROWB);
        const float *wd = xd + MMA_BM * BPS * SX;
#pragma unroll 1
        for (int j = 0; j < BPS; j++) { /* 32-block j of the stage */
            float dx[MT][2][SX], dw[4][2][SW];
            block_scales<BPS, SX, SW>(xd, wd, wm, wn, gid, tid4, j, dx, dw);
            block_dot<QT, H, MN>(acc, sx, arow, sw, brow, j, lane, dx, dw);
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
                decode_group<WT>(wptr_of(raw + row * C::RAWB + (start & 15) + j * C::BS), 0, q, &d);
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
            float dx[4][2][1], dw[4][2][1];
            block_scales<C::BPS, 1, 1>(xd, wds, wm, wn, gid, tid4, j, dx, dw);
            block_dot<QT, 0, 0>(acc, sx, arow, swt, brow, j, lane, dx, dw);
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
    const uint16_t *w;  /* NW parts (wpart_e apart) of rows of w_stride_e elements, 16-byte aligned; k % 8 == 0 */
    int64_t w_stride_e, wpart_e;
    float *y;
    int64_t ys;
    int64_t m, n, k, k_pad;
    float *part; /* split-k: partial sums [gridDim.z][m][n], else NULL (y written directly) */
    int kps;     /* k tiles per split */
};

/* Bytes of one stage: the X parts' tiles and the nw W parts' (rows of 128 swizzled bytes). */
static constexpr int fstage(bool bf, int nw) { return (fparts(bf) * MMA_BM + nw * MMA_BN) * MMA_ROWB; }

/* One k16 step (chunks 2j, 2j + 1 of the stage's tiles: X part q at sx + q·MMA_BM·MMA_ROWB, W
 * part p at sw + p·MMA_BN·MMA_ROWB) of the warp's 16·AT x 32 piece (AT 16-row A tiles) into
 * part. XA: X rows are the mma's A (16 rows) and W its B (8 columns), part[m tile][n tile];
 * else W rows are A and the X parts B, part[n tile][m tile]: per k16 step (AT 4) an f16 warp
 * then loads 2 KB of W and 2 KB of X (hi + lo) for 32 mma instead of 4 KB of X and 1 KB of W,
 * 128 instead of 160 bytes of shared memory per clock and SM at the full f16 rate (the limit is
 * 128). One W part: W times every X part; three (F32 W): the products of parts p, q with p + q
 * <= 2, the ones of F32's precision (the others are below 2^-24 of the largest). Smallest
 * first; j == 0 starts the sums. */
template <bool XA, bool BF, int NW, int AT>
static __device__ __forceinline__ void fx_step(float (&part)[AT][4][4], uint32_t sx, uint32_t sw, uint32_t arow, uint32_t brow, int j,
                                               int lane) {
    constexpr int NP = fparts(BF), SMAX = NW == 1 ? NP - 1 : 2; /* largest p + q taken */
    /* The mma's A and B operands: X's NP parts and W's NW parts, or the other way round. */
    constexpr int NA = XA ? NP : NW, NB = XA ? NW : NP;
    const uint32_t sa = XA ? sx : sw, sb = XA ? sw : sx;
    constexpr uint32_t PA = (XA ? MMA_BM : MMA_BN) * MMA_ROWB, PB = (XA ? MMA_BN : MMA_BM) * MMA_ROWB; /* part strides */
    const int r7 = lane & 7;
    const uint32_t ca = (uint32_t)(((2 * j + (lane >> 4)) ^ r7) << 4), cb = (uint32_t)(((2 * j + ((lane >> 3) & 1)) ^ r7) << 4);
    uint32_t fb[NB][4][2];
#pragma unroll
    for (int i = 0; i < NB; i++)
#pragma unroll
        for (int np = 0; np < 2; np++)
            ldsm_x4(sb + i * PB + brow + np * 16 * MMA_ROWB + cb, fb[i][2 * np][0], fb[i][2 * np][1], fb[i][2 * np + 1][0],
                    fb[i][2 * np + 1][1]);
#pragma unroll
    for (int at = 0; at < AT; at++) {
        uint32_t fa[NA][4];
#pragma unroll
        for (int i = 0; i < NA; i++) ldsm_x4(sa + i * PA + arow + at * 16 * MMA_ROWB + ca, fa[i][0], fa[i][1], fa[i][2], fa[i][3]);
#pragma unroll
        for (int bt = 0; bt < 4; bt++) {
            bool z = j == 0;
#pragma unroll
            for (int sum = SMAX; sum >= 0; sum--)
#pragma unroll
                for (int p = NW - 1; p >= 0; p--) { /* W part p times X part sum - p */
                    const int q = sum - p;
                    if (q >= 0 && q < NP) mma_fx<BF>(part[at][bt], fa[XA ? q : p], fb[XA ? p : q][bt], z), z = false;
                }
        }
    }
}

/* The float GEMM: the X parts against the NW W parts, F32 sums, each X row's 2^-s applied at
 * the end. Warps WA x 4 with 16·AT x 32 pieces, WA = 8 / AT along the mma's A: WA (m) x 4 (n)
 * when XA, else WA (n) x 4 (m) (see fx_step); STAGES stages of fstage(BF, NW) bytes. */
template <bool XA, bool BF, int NW, int STAGES, int AT>
__global__ void __launch_bounds__(mma_threads(AT), 1) k_mma_fx(mmf_args a) {
    constexpr int NP = fparts(BF), STAGE = fstage(BF, NW), THREADS = mma_threads(AT), WA = MMA_BM / (16 * AT);
    TSC_DYN_SMEM(unsigned char, smem, 128);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wa = warp & (WA - 1), wb = warp >> (WA / 2); /* WA 2 or 4: log2 is WA / 2 */
    const int wm = XA ? wa : wb, wn = XA ? wb : wa, gid = lane >> 2, tid4 = lane & 3;
    const int64_t m0 = (int64_t)blockIdx.y * MMA_BM, n0 = (int64_t)blockIdx.x * MMA_BN;
    const int kt0 = (int)blockIdx.z * a.kps, ktall = (int)(a.k_pad / 64);
    const int ktiles = ktall - kt0 < a.kps ? ktall - kt0 : a.kps;
    const uint16_t *xg = a.xp + m0 * a.k_pad;
    const uint32_t s0 = smem_u32(smem);
    const uint32_t arow = ldsm_row_a(wa * 16 * AT, lane);
    const uint32_t brow = XA ? ldsm_row_b(wn * 32, lane) : ldsm_row_b(wm * 32, lane);

    /* Stage: the X parts' tiles, then W's. */
    auto load = [&](int t, int slot) {
        t += kt0;
        const uint32_t sx = s0 + slot * STAGE, sw = sx + NP * MMA_BM * MMA_ROWB;
#pragma unroll
        for (int i = 0; i < MMA_BM * 8 / THREADS; i++) {
            const int c = tid + i * THREADS, row = c >> 3, ch = c & 7;
            const int64_t kc = (int64_t)t * 64 + ch * 8; /* first element of the chunk */
#pragma unroll
            for (int q = 0; q < NP; q++) cp16(sx + q * MMA_BM * MMA_ROWB + swz(row, ch), xg + q * a.part_e + row * a.k_pad + kc);
            const int ok = n0 + row < a.n && kc < a.k; /* k % 8 == 0: a chunk is all in or all out */
#pragma unroll
            for (int p = 0; p < NW; p++)
                cp16_zfill(sw + p * MMA_BN * MMA_ROWB + swz(row, ch),
                           ok ? (const void *)(a.w + p * a.wpart_e + (n0 + row) * a.w_stride_e + kc) : (const void *)a.w, ok ? 16 : 0);
        }
    };

    float acc[AT][4][4] = {}; /* [m tile][n tile][e] when XA, else [n tile][m tile][e] */
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
         * tensor cores' F32 accumulation truncates, so its chains stay one stage's mma long. */
        float part[AT][4][4]; /* set by the first k step's mma (no zeroing moves) */
        if constexpr (BF) { /* unrolled, bf16's three X parts spill (255 registers with W as A) */
#pragma unroll 1
            for (int j = 0; j < 4; j++) fx_step<XA, BF, NW>(part, sx, sw, arow, brow, j, lane);
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++) fx_step<XA, BF, NW>(part, sx, sw, arow, brow, j, lane);
        }
#pragma unroll
        for (int i = 0; i < AT; i++)
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
        for (int mt = 0; mt < AT; mt++)
#pragma unroll
            for (int e2 = 0; e2 < 2; e2++) {
                const int64_t row = m0 + wm * 16 * AT + mt * 16 + gid + e2 * 8;
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
                for (int nt = 0; nt < AT; nt++)
#pragma unroll
                    for (int e2 = 0; e2 < 2; e2++) {
                        const int64_t col = n0 + wn * 16 * AT + nt * 16 + gid + e2 * 8; /* W row (n) */
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

/* Stages of k_mma_q for a format: 4, or 3 where 4 do not fit (Q2_K's 46 KB stages on sm_80's
 * 163 KB); 0 where neither does. */
template <typename QT, int H, int MN>
static int mmq_stages(const struct tsc_context *c) {
    const int64_t stage = mmq_cfg<QT, H, MN>::STAGE;
    if (MMA_QSTAGES * stage <= c->max_smem_optin) return MMA_QSTAGES;
    if (H && MN && 3 * stage <= c->max_smem_optin) return 3;
    return 0;
}

/* How many warps the GEMMs run per CTA (TSC_MMA_WARPS in the environment, read per call): 8
 * (default; warp tiles of 64 x 32, 2 warps per scheduler) or 16 (32 x 32, half the
 * accumulators, at most 128 registers: 4 warps per scheduler to hide latency: of ldmatrix, and
 * in the int8 GEMM of the mma results the block scaling waits for). Same CTA tile, shared
 * memory and output bits, for more shared-memory reads per mma: int8 1/3 more ldmatrix and 1/2
 * more scale loads; F16 with W as A 3/2 the bytes, which caps it at 2/3 of the f16 rate. The
 * float GEMM takes it with W as the mma's A (the default order). Returns the warps' 16-row A
 * tiles. */
static int mma_warp_tiles(void) {
    const char *e = getenv("TSC_MMA_WARPS");
    return e != NULL && strcmp(e, "16") == 0 ? 2 : 4;
}

template <typename QT, int H, int MN, int STAGES, int MT>
static void launch_mmq(struct tsc_context *c, dim3 grid, const mmq_args &a) {
    const int smem = STAGES * mmq_cfg<QT, H, MN>::STAGE;
    cudaFuncSetAttribute(k_mma_q<QT, H, MN, STAGES, MT>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    TSC_LAUNCH(grid, mma_threads(MT), smem, c->stream, k_mma_q<QT, H, MN, STAGES, MT>)(a);
}

/* W's GGUF rows unpacked by a pass into a.wq / a.wd, then the GEMM (k_mma_q) in `stages` stages. */
template <int WT, typename QT>
static void launch_q(struct tsc_context *c, dim3 grid, int stages, const uint8_t *w, int64_t w_stride, int64_t nb, const mmq_args &a) {
    constexpr int H = qtype<WT>::halves, MN = qtype<WT>::has_min;
    const int64_t nb_pad = a.k_pad / 32, n_pad = (int64_t)grid.x * MMA_BN;
    const unsigned gw = (unsigned)tsc_cdiv(n_pad * nb_pad, 256);
    TSC_LAUNCH(gw, 256, 0, c->stream, k_mma_unpack_w<WT, QT>)((QT *)a.wq, (float *)a.wd, w, w_stride, a.n, nb, n_pad, nb_pad);
    const bool w16 = sizeof(QT) == 1 && mma_warp_tiles() == 2;
    if (stages == MMA_QSTAGES) {
        if constexpr (sizeof(QT) == 1)
            if (w16) return launch_mmq<QT, H, MN, MMA_QSTAGES, 2>(c, grid, a);
        launch_mmq<QT, H, MN, MMA_QSTAGES, 4>(c, grid, a);
    } else if constexpr (H && MN) {
        if (w16) launch_mmq<QT, H, MN, 3, 2>(c, grid, a);
        else launch_mmq<QT, H, MN, 3, 4>(c, grid, a);
    }
}

template <typename QT, int WT>
static void launch_qr(struct tsc_context *c, dim3 grid, const mmqr_args &a) {
    const int smem = mmqr_cfg<QT, WT>::SMEM;
    cudaFuncSetAttribute(k_mma_qr<QT, WT>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    TSC_LAUNCH(grid, MMA_THREADS, smem, c->stream, k_mma_qr<QT, WT>)(a);
}

/* Block-type weights WT: X quantized, W unpacked (or, for Q8_0/Q4_0 with TSC_MMA_QUANT, the
 * other kernels), the GEMM, split-k partial sums added. */
template <int WT>
static int32_t mma_quant(struct tsc_context *c, float *y, int64_t y_stride, const void *w, int64_t w_stride, const float *x,
                         int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    constexpr int H = qtype<WT>::halves, MN = qtype<WT>::has_min;
    constexpr bool basic = WT == TS_TYPE_Q8_0 || WT == TS_TYPE_Q4_0; /* the types the f16 and raw kernels take */
    constexpr int SX = mmq_fmt<H, MN>::SX, SW = mmq_fmt<H, MN>::SW;
    int v = QV_INT8;
    if constexpr (basic) {
        v = quant_variant();
        if (v == QV_RAW8 && mmqr_cfg<int8_t, WT>::SMEM > c->max_smem_optin) v = QV_INT8;
        if (v == QV_RAW16 && mmqr_cfg<__half, WT>::SMEM > c->max_smem_optin) v = QV_F16;
    }
    const int h = v == QV_F16 || v == QV_RAW16, raw = v == QV_RAW8 || v == QV_RAW16;
    const int stages = raw ? 0 : h ? mmq_stages<__half, 0, 0>(c) : mmq_stages<int8_t, H, MN>(c);
    if (!raw && stages == 0) return TSC_NOT_HANDLED;
    const int64_t m_pad = tsc_cdiv(m, MMA_BM) * MMA_BM, n_pad = tsc_cdiv(n, MMA_BN) * MMA_BN;
    const int64_t k_pad = tsc_cdiv(k, MMA_ROWB) * MMA_ROWB, nb = k / 32, nb_pad = k_pad / 32;
    const int64_t qb = h ? 2 : 1; /* bytes per quant */
    int kps;
    const int splits = plan_split(c, (m_pad / MMA_BM) * (n_pad / MMA_BN), k_pad / (h ? 64 : 128), &kps);
    const int64_t wbytes = raw ? 0 : n_pad * k_pad * qb + n_pad * nb_pad * SW * 4;
    const int64_t bytes = m_pad * k_pad * qb + m_pad * nb_pad * SX * 4 + wbytes + (splits > 1 ? splits * m * n * 4 : 0) + 5 * 256;
    void *scratch;
    int32_t st = tsc_scratch(c, bytes, &scratch);
    if (st) return st;
    char *p = (char *)scratch;
    void *xq = carve(&p, m_pad * k_pad * qb);
    float *xd = (float *)carve(&p, m_pad * nb_pad * SX * 4);
    void *wq = raw ? NULL : carve(&p, n_pad * k_pad * qb);
    float *wd = raw ? NULL : (float *)carve(&p, n_pad * nb_pad * SW * 4);
    float *part = splits > 1 ? (float *)carve(&p, splits * m * n * 4) : NULL;
    const unsigned gx = (unsigned)tsc_cdiv(m_pad * nb_pad * 8, 256);
    const uint8_t *wb = (const uint8_t *)w;
    dim3 grid((unsigned)(n_pad / MMA_BN), (unsigned)(m_pad / MMA_BM), (unsigned)splits);
    const mmq_args a = {xq, wq, xd, wd, y, y_stride / 4, m, n, k_pad, part, kps};
    const mmqr_args ar = {xq, xd, wb, w_stride, y, y_stride / 4, m, n, nb, k_pad, part, kps};
    if constexpr (basic) {
        if (h) {
            TSC_LAUNCH(gx, 256, 0, c->stream, k_mma_quantize_x<__half, 1>)((__half *)xq, xd, x, x_stride / 4, m, nb, m_pad, nb_pad);
            if (raw) launch_qr<__half, WT>(c, grid, ar);
            else launch_q<WT, __half>(c, grid, stages, wb, w_stride, nb, a);
        }
    }
    if (!h) {
        TSC_LAUNCH(gx, 256, 0, c->stream, k_mma_quantize_x<int8_t, SX>)((int8_t *)xq, xd, x, x_stride / 4, m, nb, m_pad, nb_pad);
        if constexpr (basic)
            if (raw) launch_qr<int8_t, WT>(c, grid, ar);
        if (!raw) launch_q<WT, int8_t>(c, grid, stages, wb, w_stride, nb, a);
    }
    if (splits > 1)
        TSC_LAUNCH((unsigned)tsc_cdiv(m * n, 256), 256, 0, c->stream, k_mma_reduce)(y, y_stride / 4, part, splits, m, n);
    st = tsc_launch_status("tsc_matmul");
    int32_t st2 = tsc_pool_free(c, scratch); /* stream-ordered: later work may reuse it */
    return st ? st : st2;
}

/* The float GEMM for one operand order, W part count, stage count and warp tiling (shared memory opted in). */
template <bool XA, bool BF, int NW, int STAGES, int AT>
static void launch_fx(struct tsc_context *c, dim3 grid, const mmf_args &a) {
    const int smem = STAGES * fstage(BF, NW);
    cudaFuncSetAttribute(k_mma_fx<XA, BF, NW, STAGES, AT>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    TSC_LAUNCH(grid, mma_threads(AT), smem, c->stream, k_mma_fx<XA, BF, NW, STAGES, AT>)(a);
}
template <bool BF, int NW, int STAGES>
static void launch_fx_order(struct tsc_context *c, dim3 grid, const mmf_args &a, bool xa) {
    if (xa) launch_fx<true, BF, NW, STAGES, 4>(c, grid, a);
    else if (mma_warp_tiles() == 2) launch_fx<false, BF, NW, STAGES, 2>(c, grid, a);
    else launch_fx<false, BF, NW, STAGES, 4>(c, grid, a);
}

/* F16, BF16 or F32 weights: X split into parts; F16/BF16 W read in place (or a padded copy),
 * F32 W split into three bf16 parts first. */
static int32_t mma_float(struct tsc_context *c, int32_t w_type, float *y, int64_t y_stride, const void *w, int64_t w_stride,
                         const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    const bool bf = w_type != TS_TYPE_F16;
    const int nw = w_type == TS_TYPE_F32 ? 3 : 1, np = fparts(bf);
    /* 3 stages (f16: 48 KB each; bf16: 64 KB, 2 where 192 KB do not fit, sm_80); F32 W (96 KB): 2 */
    const int stages = nw == 3 || (bf && (int64_t)3 * fstage(bf, nw) > c->max_smem_optin) ? 2 : 3;
    if ((int64_t)stages * fstage(bf, nw) > c->max_smem_optin) return TSC_NOT_HANDLED;
    const int64_t m_pad = tsc_cdiv(m, MMA_BM) * MMA_BM, n_pad = tsc_cdiv(n, MMA_BN) * MMA_BN, k_pad = tsc_cdiv(k, 64) * 64;
    /* In place when W is 16-bit and every 8-element chunk of it a 16-byte aligned load; else a
     * padded copy (F32: the split). */
    const int direct = nw == 1 && (uintptr_t)w % 16 == 0 && w_stride % 16 == 0 && k % 8 == 0;
    int kps;
    const int splits = plan_split(c, (m_pad / MMA_BM) * (n_pad / MMA_BN), k_pad / 64, &kps);
    const int64_t bytes = np * m_pad * k_pad * 2 + m_pad * 4 + (direct ? 0 : nw * n_pad * k_pad * 2) +
                          (splits > 1 ? splits * m * n * 4 : 0) + 5 * 256;
    void *scratch;
    int32_t st = tsc_scratch(c, bytes, &scratch);
    /* F32 W's parts are 1.5 times W: where the device has no room for them, the plain kernel
     * (no scratch) computes the product instead of the call failing */
    if (st == TS_ERR_OUT_OF_MEMORY && nw == 3) return TSC_NOT_HANDLED;
    if (st) return st;
    char *p = (char *)scratch;
    uint16_t *xp = (uint16_t *)carve(&p, np * m_pad * k_pad * 2);
    float *inv = (float *)carve(&p, m_pad * 4);
    if (bf) TSC_LAUNCH((unsigned)m_pad, 256, 0, c->stream, k_mma_split_x<true>)(xp, m_pad * k_pad, inv, x, x_stride / 4, m, k, k_pad);
    else TSC_LAUNCH((unsigned)m_pad, 256, 0, c->stream, k_mma_split_x<false>)(xp, m_pad * k_pad, inv, x, x_stride / 4, m, k, k_pad);
    float *part = splits > 1 ? (float *)carve(&p, splits * m * n * 4) : NULL;
    mmf_args a = {xp, m_pad * k_pad, inv, (const uint16_t *)w, w_stride / 2, 0, y, y_stride / 4, m, n, k, k_pad, part, kps};
    if (!direct) {
        uint16_t *wp = (uint16_t *)carve(&p, nw * n_pad * k_pad * 2);
        const unsigned gw = (unsigned)tsc_cdiv(n_pad * k_pad, 256);
        if (nw == 3) TSC_LAUNCH(gw, 256, 0, c->stream, k_mma_split_w)(wp, n_pad * k_pad, (const uint8_t *)w, w_stride, n, k, n_pad, k_pad);
        else TSC_LAUNCH(gw, 256, 0, c->stream, k_mma_pad_w)(wp, (const uint8_t *)w, w_stride, n, k, n_pad, k_pad);
        a.w = wp, a.w_stride_e = k_pad, a.wpart_e = n_pad * k_pad, a.k = k_pad;
    }
    dim3 grid((unsigned)(n_pad / MMA_BN), (unsigned)(m_pad / MMA_BM), (unsigned)splits);
    /* W as the mma's A operand (k_mma_fx<false, ...>) by default: 4-7% faster than X as A on an
     * H200 (163 vs 152 TFLOP/s at 4096x4096x512, F16); TSC_MMA_F16=xa picks the other for comparison. */
    const char *fv = getenv("TSC_MMA_F16");
    const bool xa = fv != NULL && strcmp(fv, "xa") == 0;
    if (!bf) launch_fx_order<false, 1, 3>(c, grid, a, xa);
    else if (nw == 3) launch_fx_order<true, 3, 2>(c, grid, a, xa);
    else if (stages == 3) launch_fx_order<true, 1, 3>(c, grid, a, xa);
    else launch_fx_order<true, 1, 2>(c, grid, a, xa);
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
#define TSC_MMA_QUANT_CASE(T) \
    case T: return mma_quant<T>(c, y, y_stride, w, w_stride, x, x_stride, n, k, m);
    switch (w_type) {
        TSC_MMA_QUANT_CASE(TS_TYPE_Q4_0)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q4_1)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q5_0)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q5_1)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q8_0)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q2_K)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q3_K)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q4_K)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q5_K)
        TSC_MMA_QUANT_CASE(TS_TYPE_Q6_K)
    default: break;
    }
#undef TSC_MMA_QUANT_CASE
    if (w_type == TS_TYPE_F16 || w_type == TS_TYPE_BF16 || w_type == TS_TYPE_F32)
        return mma_float(c, w_type, y, y_stride, w, w_stride, x, x_stride, n, k, m);
    return TSC_NOT_HANDLED;
}

#endif /* host code */
