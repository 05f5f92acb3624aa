/*
 * tsc_matmul.cu — activation quantization and the matmul kernels.
 *
 * Weight types: F32, F16, BF16 (float products with x as given) and every GGUF block type
 * the CPU reads: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (blocks of 32) and Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K (super-blocks of 256).
 *
 * Block types: X is first quantized to Q8_0 on the device into a split layout (int8 rows of
 * k bytes, 32-byte aligned blocks, plus per block its float scale, already rounded through
 * half as the CPU stores it, and the sums of its two halves of 16 quants), so the dot
 * kernels load activation quants with aligned 16-byte loads. The quantizer is the CPU
 * reference's arithmetic, one thread per block in the same order, so for Q4_0, Q5_0 and
 * Q8_0 (whose CPU dot also pairs them with Q8_0) the integer block sums equal the CPU's
 * exactly. The other types pair with Q8_1 (Q4_1, Q5_1)
 * or Q8_K (K-quants, one scale per 256) on the CPU; here they use the same per-32 Q8_0
 * activations (finer scales than Q8_K), so results differ from the CPU by the two
 * activation quantizations' rounding, which the tests bound element by element.
 *
 * Dots: one warp per weight row (grid.y: groups of up to 8 activation rows). Every weight
 * type is decoded the same way: lane i takes the 32-element groups i, i+32, ... of the row
 * and turns each into 8 words of byte levels q plus integer scales for its two halves of 16,
 * an integer min factor and float super-scales D and M:
 *     group · x = dx · (D · Σ_h scl_h · (Σ q·a − off · Σ a) + M · Σ_h mi_h · Σ a)
 * which is the CPU's dot algebra with dp4a for the integer sums; the level offset off of
 * Q4_0/Q5_0/Q3_K/Q6_K and the min terms use the quantizer's half sums Σ a, so no step runs
 * per byte besides the unpacking and dp4a. Weight words come from 4-byte aligned loads
 * funnel-shifted into place (blocks are only 2-byte aligned), addressed as a base and a
 * 32-bit offset.
 *  - Decode (m = 1), the case that has to run at memory speed: k_matvec_async copies the
 *    row in tiles of 128 groups with cp.async (16-byte pieces from the boundary below the
 *    row, so any 2-byte aligned row) into a per-warp ring of 2 tiles, so two tiles per
 *    warp are in flight while it waits, whatever the registers, and decodes from shared
 *    memory (whole tiles without index clamps, the last partial one with them). On sm_90
 *    it is a programmatic dependent launch: it requests its first tiles before waiting for
 *    the previous kernels (the quantizer), so back-to-back matvecs overlap launch gaps and
 *    tails. tsc_matmul_glu hands it gate and up with a GLU to apply: the last warp to store a
 *    row of a block of 32 outputs applies it to the block (mv_glu_after). F16/BF16/F32 rows
 *    likewise when 16-byte aligned (k_matvec_async_f, tiles of 32 lanes x 4 vectors of 16
 *    bytes).
 *  - Otherwise (m > 1, unaligned float rows): k_matmul_q / k_matmul_f load into registers,
 *    all loads of a step issued before the arithmetic (4 groups or 16-byte vectors per lane
 *    for m = 1); each pass reads the weight row once for MT activation rows (1 or 8).
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera_cuda.h" /* TSC_MATMUL_PARTS */

/* TSC_EMU: the CPU emulator (native/cuda/emu) compiles this file as C++ to check it without
 * a GPU: the PTX helpers are left out (emu/ptx_matmul.h stands in), and so are the host entry
 * points except in the emulated library (TSC_EMU_LIBRARY). */
#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY)
#include "tsc_internal.cuh"
#endif

#define TSC_MM_WARPS 4 /* weight rows (warps) per thread block */
#define TSC_MV_UNROLL 4 /* weight groups in flight per lane for m = 1 */

/* Q8_0 block i = (row r, block b) of x per warp: 8 blocks per 256-thread block. */
#define TSC_Q8_WARPS 8

/* GGUF Q8_0 blocks: block b of row r. */
__global__ void k_quantize_q8_0_blocks(tsc_block_q8_0 *dst, const float *x, int64_t x_stride_f, int64_t rows, int64_t nb) {
    const int64_t i = (int64_t)blockIdx.x * TSC_Q8_WARPS + threadIdx.x / 32;
    if (i >= rows * nb) return; /* whole warps */
    const int lane = (int)(threadIdx.x & 31);
    const int64_t r = i / nb, b = i % nb;
    float d;
    const int8_t q = q8_lane(x[r * x_stride_f + b * 32 + lane], &d);
    dst[i].qs[lane] = q;
    if (lane == 0) dst[i].d = tsc_f2h(d);
}

/* Split layout for the dot kernels: xq[r][k] int8 and, per block, xs[r][nb] = {d rounded
 * through half, Σ of quants 0-15 | Σ of quants 16-31 << 16}. */
__global__ void k_quantize_q8_0_split(int8_t *xq, tsc_xs *xs, const float *x, int64_t x_stride_f, int64_t rows, int64_t nb) {
    pdl_trigger(); /* the matvec may start streaming its weights now */
    pdl_wait();    /* x may come from the previous kernel, and xq may be its scratch */
    const int64_t i = (int64_t)blockIdx.x * TSC_Q8_WARPS + threadIdx.x / 32;
    if (i >= rows * nb) return; /* whole warps */
    const int lane = (int)(threadIdx.x & 31);
    const int64_t r = i / nb, b = i % nb;
    tsc_q8_split_store(x[r * x_stride_f + b * 32 + lane], xq, xs, i); /* block i = r * nb + b */
}

#include "tsc_quant.cuh" /* the weight groups' decoding */

/* Group · activation block (a: 8 words of int8 quants; xs: its scale and half sums). The
 * integer sums are those of the signed levels: Σ (q − off)·a = Σ q·a − off·Σa per half. */
template <int T>
static __device__ __forceinline__ float group_dot(const qgroup &o, const int4 a0, const int4 a1, const tsc_xs xs) {
    int32_t s0 = 0, s1 = 0;
    s0 = __dp4a((int32_t)o.q[0], a0.x, s0);
    s0 = __dp4a((int32_t)o.q[1], a0.y, s0);
    s0 = __dp4a((int32_t)o.q[2], a0.z, s0);
    s0 = __dp4a((int32_t)o.q[3], a0.w, s0);
    s1 = __dp4a((int32_t)o.q[4], a1.x, s1);
    s1 = __dp4a((int32_t)o.q[5], a1.y, s1);
    s1 = __dp4a((int32_t)o.q[6], a1.z, s1);
    s1 = __dp4a((int32_t)o.q[7], a1.w, s1);
    const int32_t t0 = (int32_t)(int16_t)xs.sums, t1 = xs.sums >> 16; /* Σa of each half */
    int32_t isum;
    if (qtype<T>::halves) isum = o.scl0 * (s0 - qtype<T>::off * t0) + o.scl1 * (s1 - qtype<T>::off * t1);
    else isum = o.scl0 * (s0 + s1 - qtype<T>::off * (t0 + t1));
    float v = o.D * (float)isum;
    if (qtype<T>::has_min) {
        const int32_t imin = qtype<T>::halves ? o.mi0 * t0 + o.mi1 * t1 : o.mi0 * (t0 + t1);
        v += o.M * (float)imin;
    }
    return xs.d * v;
}

/* y[m0 + j][row] for the warp's row; U groups per lane in flight, MT activation rows. */
template <int T, int MT, int U>
__global__ void __launch_bounds__(32 * TSC_MM_WARPS) k_matmul_q(float *y, int64_t y_stride_f, const uint8_t *__restrict__ w,
                                                                  int64_t w_stride, const int8_t *__restrict__ xq,
                                                                  const tsc_xs *__restrict__ xs, int64_t n, int64_t k, int64_t m) {
    const int64_t row = (int64_t)blockIdx.x * TSC_MM_WARPS + threadIdx.y;
    if (row >= n) return;
    const int64_t m0 = (int64_t)blockIdx.y * MT;
    const int mc = m - m0 < MT ? (int)(m - m0) : MT;
    const int lane = threadIdx.x;
    const int64_t ng = k / 32;
    const wptr wr = wptr_of(w + row * w_stride);
    float acc[MT];
#pragma unroll
    for (int j = 0; j < MT; j++) acc[j] = 0.0f;
    for (int64_t g0 = lane; g0 < ng; g0 += 32 * U) {
        /* Loads first, all of them (indices clamped to valid data instead of branches), then
         * the arithmetic: U groups' weights and activations are in flight together. */
        qraw R[U];
        int4 A0[U][MT], A1[U][MT];
        tsc_xs XS[U][MT];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int64_t g = g0 + 32 * u < ng ? g0 + 32 * u : ng - 1;
            qload<T>(wr, (uint32_t)g, R[u]);
#pragma unroll
            for (int j = 0; j < MT; j++) {
                const int64_t xr = m0 + (j < mc ? j : mc - 1);
                const int4 *ap = (const int4 *)(xq + (xr * ng + g) * 32);
                A0[u][j] = __ldg(ap), A1[u][j] = __ldg(ap + 1), XS[u][j] = xs[xr * ng + g];
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            const bool ok = g0 + 32 * u < ng;
            qgroup G;
            qfinish<T>(R[u], G);
#pragma unroll
            for (int j = 0; j < MT; j++) {
                const float v = group_dot<T>(G, A0[u][j], A1[u][j], XS[u][j]);
                acc[j] += ok && j < mc ? v : 0.0f;
            }
        }
    }
#pragma unroll
    for (int j = 0; j < MT; j++) {
        const float v = tsc_warp_sum(acc[j]);
        if (lane == 0 && j < mc) y[(m0 + j) * y_stride_f + row] = v;
    }
}

/* ---- m = 1: weights streamed through shared memory ------------------------------------------ */

/* The weight rows of one m = 1 launch: up to TSC_MATMUL_PARTS matrices of one type and k
 * (Q, K and V of one input) taken as one column of rows, each with its output and an
 * optional addend written into it (a residual). Parts past the last have no rows. */
/* A GLU after the products (tsc_matmul_glu; y == NULL: none): parts 0 and 1 are gate and up, n
 * rows each (a multiple of 32); the last warp to store a row of a block of 32 outputs (its 32
 * gate and 32 up rows) writes that block's y = act(gate)·up and its Q8_0 copy (xq, xs). */
struct mv_glu {
    float *y;
    int8_t *xq;
    tsc_xs *xs;
    uint32_t *tickets; /* one per block of 32, zero between calls */
    int64_t n;
    int32_t act;
};

struct tsc_mv_parts {
    const uint8_t *w[TSC_MATMUL_PARTS];
    int64_t w_stride[TSC_MATMUL_PARTS];
    float *y[TSC_MATMUL_PARTS];
    const float *add[TSC_MATMUL_PARTS]; /* NULL: none */
    int64_t end[TSC_MATMUL_PARTS];      /* rows of parts 0..i together */
    mv_glu glu;
    int32_t early; /* every part's weights declared (tsc_declare_weights): streamed before pdl_wait */
};

/* Row `row` of the column: its weights, output and addend. Selects on constant indices, so
 * the parameter arrays are never indexed at run time (that would copy them to local memory). */
struct mv_row {
    const uint8_t *w;
    float *y;
    const float *add;
};
static __host__ __device__ __forceinline__ mv_row mv_row_of(const tsc_mv_parts &p, int64_t row) {
    mv_row r = {p.w[0] + row * p.w_stride[0], p.y[0] + row, p.add[0] ? p.add[0] + row : nullptr};
    for (int j = 1; j < TSC_MATMUL_PARTS; j++)
        if (row >= p.end[j - 1]) {
            const int64_t i = row - p.end[j - 1];
            r = {p.w[j] + i * p.w_stride[j], p.y[j] + i, p.add[j] ? p.add[j] + i : nullptr};
        }
    return r;
}

/* A row's dot product as it is stored: plus its addend (the float add the CPU's Add op makes). */
static __device__ __forceinline__ void mv_store(const mv_row &r, float v) { *r.y = r.add ? v + *r.add : v; }

/* After a warp stored row `row` (lane 0): with a GLU, the warp takes its block of 32 outputs'
 * ticket (tsc_ticket_last, as the split attention's merge), and the one that stored the block's
 * last of 64 rows applies the GLU to it as k_glu does (the same bits) and writes its Q8_0 copy.
 * Whole warps. */
static __device__ __forceinline__ void mv_glu_after(const tsc_mv_parts &P, int64_t row, int lane) {
    const mv_glu &g = P.glu;
    if (g.y == nullptr) return;
    const int64_t b = (row < g.n ? row : row - g.n) / 32;
    const unsigned last = lane == 0 && tsc_ticket_last(g.tickets + b, 64u);
    if (!__shfl_sync(0xffffffffu, last, 0)) return;
    /* A shuffle passes a value, not memory order: the barrier puts lane 0's ticket before the
     * other lanes' fences, as __syncthreads does in the split attention (found by the race check). */
    __syncwarp();
    __threadfence();
    const int64_t e = 32 * b + lane;
    const float o = tsc_act(g.act, __ldcg(P.y[0] + e)) * __ldcg(P.y[1] + e);
    g.y[e] = o;
    tsc_q8_split_store(o, g.xq, g.xs, b);
}

#ifdef TSC_EMU
/* One matrix, no addend (the emulator's kernel checks call the kernels with it). */
static inline tsc_mv_parts mv_parts_one(float *y, const void *w, int64_t w_stride, int64_t n) {
    tsc_mv_parts p = {};
    p.w[0] = (const uint8_t *)w, p.w_stride[0] = w_stride, p.y[0] = y;
    for (int j = 0; j < TSC_MATMUL_PARTS; j++) p.end[j] = n;
    return p;
}
#endif

/* Groups per tile: 32 lanes x TSC_MV_UNROLL, a whole number of blocks for every type
 * (16 super-blocks), and a multiple of 16 bytes for every block size. */
#define TSC_MV_TILE_GROUPS (32 * TSC_MV_UNROLL)
/* Ring slots per warp of the one-row-per-row-warp grid: while a warp works on tile t, tile
 * t + 1 is in flight (8 blocks of 4 warps per SM then fit in shared memory). */
#define TSC_MV_SLOTS 2
/* Ring bytes per warp of the resident warps (MULTI, 4 blocks per SM): 2 to 8 slots, as many
 * tiles as fit (Q4_0 5, Q8_0 3), so that with a quarter of the SM's warps each keeps several
 * tiles in flight across its rows: 16 warps x 4 tiles of 2304 bytes = 147 KB per SM for Q4_0,
 * where 2 slots gave 37 KB, less than the one-row grid's 74 KB (measured: it lost, Q4_0 at
 * 55-62% against 60-64% of the copy bandwidth). 4 blocks of at most 4 x 13 KB fit in an H100's
 * 228 KB per SM (an A100's 164 KB holds 3). */
#define TSC_MV_MULTI_RING 13312

template <int T>
static constexpr __host__ __device__ int tile_bytes() {
    return qtype<T>::qk == 32 ? TSC_MV_TILE_GROUPS * qtype<T>::bs : TSC_MV_TILE_GROUPS / 8 * qtype<T>::bs;
}
template <int T, bool MULTI>
static constexpr __host__ __device__ int mv_slots() {
    return !MULTI ? TSC_MV_SLOTS
                  : TSC_MV_MULTI_RING / (tile_bytes<T>() + 16) < 2 ? 2
                  : TSC_MV_MULTI_RING / (tile_bytes<T>() + 16) > 8 ? 8
                                                                  : TSC_MV_MULTI_RING / (tile_bytes<T>() + 16);
}
/* Dynamic shared memory of a k_matvec_async block: each warp's ring of slots of a tile plus
 * the 16 bytes a row's offset from the 16-byte boundary can add. */
template <int T, bool MULTI = false>
static constexpr __host__ __device__ size_t mv_smem_bytes() {
    return (size_t)mv_slots<T, MULTI>() * (tile_bytes<T>() + 16) * TSC_MM_WARPS;
}

#ifndef TSC_EMU
static __device__ __forceinline__ void cp_async16(void *smem, const void *gmem) {
    const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}
static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
/* Waits until at most n (0..7; a constant after inlining) of this thread's newest groups
 * are still in flight. */
static __device__ __forceinline__ void cp_async_wait(int n) {
    switch (n <= 0 ? 0 : n > 7 ? 7 : n) {
    case 0: asm volatile("cp.async.wait_group 0;\n" ::: "memory"); break;
    case 1: asm volatile("cp.async.wait_group 1;\n" ::: "memory"); break;
    case 2: asm volatile("cp.async.wait_group 2;\n" ::: "memory"); break;
    case 3: asm volatile("cp.async.wait_group 3;\n" ::: "memory"); break;
    case 4: asm volatile("cp.async.wait_group 4;\n" ::: "memory"); break;
    case 5: asm volatile("cp.async.wait_group 5;\n" ::: "memory"); break;
    case 6: asm volatile("cp.async.wait_group 6;\n" ::: "memory"); break;
    default: asm volatile("cp.async.wait_group 7;\n" ::: "memory"); break;
    }
}
#endif

/* The lane's part of one tile of a decode row: groups lane, lane + 32, ... of the tile, whose
 * activations are at xq / xs (this tile's first group) and whose weights are in shared memory
 * at t once this thread's copies but the newest group have landed. The activations (L1/L2
 * hits) are loaded first, while the weights arrive. FULL: all TSC_MV_TILE_GROUPS groups
 * exist, so no index is clamped; otherwise left (< a tile) do. t.a4: the tile's spans are
 * 4-byte aligned (see wptr). Indices stay 32-bit: a tile is at most 128 groups of 34 bytes. */
template <int T, int S, bool FULL>
static __device__ __forceinline__ void mv_tile(float &acc, const wptr t, const int8_t *__restrict__ xq, const tsc_xs *__restrict__ xs,
                                               int lane, int left) {
    constexpr int U = TSC_MV_UNROLL;
    int4 A0[U], A1[U];
    tsc_xs XS[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
        const int gl = FULL || lane + 32 * u < left ? lane + 32 * u : left - 1;
        const int4 *ap = (const int4 *)(xq + 32 * gl);
        A0[u] = __ldg(ap), A1[u] = __ldg(ap + 1), XS[u] = xs[gl];
    }
    cp_async_wait(S - 1);
    __syncwarp();
    qraw Q[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
        const int gl = FULL || lane + 32 * u < left ? lane + 32 * u : left - 1;
        qload<T>(t, (uint32_t)gl, Q[u]);
    }
#pragma unroll
    for (int u = 0; u < U; u++) { /* added one by one, as k_matmul_q does: the same sums */
        qgroup G;
        qfinish<T>(Q[u], G);
        const float v = group_dot<T>(G, A0[u], A1[u], XS[u]);
        acc += FULL || lane + 32 * u < left ? v : 0.0f;
    }
}

/* Decode (m = 1): one warp per weight row at a time; the row is cut into tiles of
 * TSC_MV_TILE_GROUPS groups that the warp copies with cp.async (16 bytes a lane) into a ring
 * of S slots of its own (mv_slots), S - 1 slots ahead of the one it multiplies, so a warp
 * keeps tiles of weight bytes in flight without holding them in registers. A partial last
 * tile copies whole 16-byte pieces (bytes past the row inside the last piece are never
 * decoded). The rows are those of P's parts one after the other (n in all); warp w of block b
 * takes row b·4 + w and stores it with its addend.
 * MULTI (TSC_MATVEC_BLOCKS, for tuning): a smaller grid whose warps then take rows
 * b·4 + w, + 4·gridDim.x, ... in turn, staying resident, with a deeper ring whose copies run
 * on across rows: the next rows' tiles in flight while the current row's last one is decoded,
 * the weight stream never waiting for a block to end and the next to start (4 blocks per SM
 * for the registers that takes).
 * A4: every row 4-byte aligned and the block size a multiple of 4 (the usual case: GGUF data
 * is 32-byte aligned), so no span needs shifting. */
template <int T, bool MULTI, bool A4>
__global__ void __launch_bounds__(32 * TSC_MM_WARPS, MULTI ? 4 : 8)
    k_matvec_async(const tsc_mv_parts P, const int8_t *__restrict__ xq, const tsc_xs *__restrict__ xs, int64_t n, int64_t k) {
    static_assert(!A4 || qtype<T>::bs % 4 == 0, "4-byte aligned spans need a block size that is a multiple of 4");
    TSC_DYN_SMEM(int4, tsc_mv_smem, 16);
    const int64_t row0 = (int64_t)blockIdx.x * TSC_MM_WARPS + threadIdx.y, rstep = (int64_t)gridDim.x * TSC_MM_WARPS;
    if (row0 >= n) return; /* whole warps leave; no block-wide barrier below */
    constexpr int TB = tile_bytes<T>(), SB = TB + 16, S = mv_slots<T, MULTI>(); /* tile bytes, slot bytes, slots */
    uint8_t *ring = (uint8_t *)tsc_mv_smem + threadIdx.y * S * SB;
    const int lane = threadIdx.x;
    const int64_t ng = k / 32;
    const int64_t rb = qtype<T>::qk == 32 ? ng * qtype<T>::bs : ng / 8 * qtype<T>::bs;
    const int64_t tiles = (ng + TSC_MV_TILE_GROUPS - 1) / TSC_MV_TILE_GROUPS;
    const int64_t total = MULTI ? (n - row0 + rstep - 1) / rstep * tiles : tiles; /* tiles of the warp's rows */
    /* Rows need only be 2-byte aligned: the copies start at the 16-byte boundary below the
     * row (o bytes before it; TB is a multiple of 16, so every tile of a row has the same o)
     * and a slot holds the tile at offset o. Bytes copied beyond the row share a 16-byte
     * piece with row bytes, so no copy touches memory outside the row's pieces. */
    auto row_offset = [](const uint8_t *r) { return (int)((uintptr_t)r & 15); };
    mv_row rr = mv_row_of(P, row0);
    /* The warp's tiles in order, tile ft into ring slot ft % S; one commit group per call
     * (empty past the last). */
    const uint8_t *iwr = rr.w; /* the row the next call copies from (MULTI: runs ahead of rr) */
    int64_t ift = 0, it = 0, irow = row0;
    auto issue_next = [&]() {
        if (ift < total) {
            const int bytes = rb - it * TB < TB ? (int)(rb - it * TB) : TB;
            const int o = row_offset(iwr);
            const int chunks = (o + bytes + 15) / 16;
            uint8_t *dst = ring + (int)(ift % S) * SB;
            const uint8_t *src = iwr - o + it * TB;
            for (int c = lane; c < chunks; c += 32) cp_async16(dst + 16 * c, src + 16 * c);
            it++;
            if (MULTI && it == tiles) it = 0, irow += rstep, iwr = irow < n ? mv_row_of(P, irow).w : iwr;
        }
        ift++;
        cp_async_commit();
    };
    pdl_trigger();
    if (!P.early) pdl_wait(); /* weights an earlier kernel may write */
    for (int t = 0; t < S - 1; t++) issue_next();
    pdl_wait(); /* xq, xs (and y) from here on */
    float acc = 0.0f;
    int o = row_offset(rr.w);
    int64_t row = row0, t = 0;
    for (int64_t ft = 0; ft < total; ft++) {
        issue_next();
        const int64_t gt = t * TSC_MV_TILE_GROUPS, left = ng - gt;
        const wptr tile = {ring + (int)(ft % S) * SB, (uint32_t)o, true, A4};
        if (left >= TSC_MV_TILE_GROUPS) mv_tile<T, S, true>(acc, tile, xq + 32 * gt, xs + gt, lane, TSC_MV_TILE_GROUPS);
        else mv_tile<T, S, false>(acc, tile, xq + 32 * gt, xs + gt, lane, (int)left);
        __syncwarp(); /* every lane is done with slot ft % S before it is refilled */
        t++;
        if (MULTI && t == tiles) { /* the row is done: on to the warp's next one */
            const float v = tsc_warp_sum(acc);
            if (lane == 0) mv_store(rr, v);
            mv_glu_after(P, row, lane);
            acc = 0.0f, t = 0, row += rstep;
            if (row < n) rr = mv_row_of(P, row), o = row_offset(rr.w);
        }
    }
    if (!MULTI) {
        const float v = tsc_warp_sum(acc);
        if (lane == 0) mv_store(rr, v);
        mv_glu_after(P, row0, lane);
    }
}

/* ---- F32 / F16 / BF16 weights ------------------------------------------------------------- */

template <int WT>
static __device__ __forceinline__ float wf(const void *wr, int64_t i) {
    if constexpr (WT == TS_TYPE_F32) return __ldg((const float *)wr + i);
    const uint32_t h = __ldg((const unsigned short *)wr + i);
    if constexpr (WT == TS_TYPE_F16) return tsc_h2f((uint16_t)h);
    else return __uint_as_float(h << 16); /* BF16 */
}

/* 16 weight bytes as floats: 8 (F16, BF16) or 4 (F32). */
template <int WT>
static __device__ __forceinline__ void wf_vec(const int4 v, float *f) {
    const uint32_t u[4] = {(uint32_t)v.x, (uint32_t)v.y, (uint32_t)v.z, (uint32_t)v.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if constexpr (WT == TS_TYPE_F32) f[i] = __uint_as_float(u[i]);
        else if constexpr (WT == TS_TYPE_F16) {
            f[2 * i] = tsc_h2f((uint16_t)(u[i] & 0xffffu));
            f[2 * i + 1] = tsc_h2f((uint16_t)(u[i] >> 16));
        } else {
            f[2 * i] = __uint_as_float(u[i] << 16);
            f[2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u);
        }
    }
}

/* VEC: rows, w_stride, x and x_stride 16-byte aligned and k a multiple of the vector. */
template <int WT, int MT, int U, int VEC>
__global__ void __launch_bounds__(32 * TSC_MM_WARPS) k_matmul_f(float *y, int64_t y_stride_f, const void *__restrict__ w,
                                                                  int64_t w_stride, const float *__restrict__ x,
                                                                  int64_t x_stride_f, int64_t n, int64_t k, int64_t m) {
    const int64_t row = (int64_t)blockIdx.x * TSC_MM_WARPS + threadIdx.y;
    if (row >= n) return;
    const int64_t m0 = (int64_t)blockIdx.y * MT;
    const int mc = m - m0 < MT ? (int)(m - m0) : MT;
    const int lane = threadIdx.x;
    const char *wr = (const char *)w + row * w_stride;
    float acc[MT];
#pragma unroll
    for (int j = 0; j < MT; j++) acc[j] = 0.0f;
    if constexpr (VEC) {
        constexpr int V = WT == TS_TYPE_F32 ? 4 : 8; /* elements per 16 bytes */
        constexpr int ES = WT == TS_TYPE_F32 ? 4 : 2;
        for (int64_t i0 = (int64_t)lane * V; i0 < k; i0 += 32 * V * U) {
            /* All loads first (clamped indices, no branches), then the products. */
            int4 wv[U];
            float4 xv[U][MT][V / 4];
#pragma unroll
            for (int u = 0; u < U; u++) {
                const int64_t i = i0 + 32 * V * u < k ? i0 + 32 * V * u : k - V;
                wv[u] = __ldg((const int4 *)(wr + i * ES));
#pragma unroll
                for (int j = 0; j < MT; j++) {
                    const float4 *xp = (const float4 *)(x + (m0 + (j < mc ? j : mc - 1)) * x_stride_f + i);
#pragma unroll
                    for (int e = 0; e < V / 4; e++) xv[u][j][e] = __ldg(xp + e);
                }
            }
#pragma unroll
            for (int u = 0; u < U; u++) {
                const bool ok = i0 + 32 * V * u < k;
                float f[V];
                wf_vec<WT>(wv[u], f);
#pragma unroll
                for (int j = 0; j < MT; j++) {
                    float s = 0.0f;
#pragma unroll
                    for (int e = 0; e < V / 4; e++)
                        s += f[4 * e] * xv[u][j][e].x + f[4 * e + 1] * xv[u][j][e].y + f[4 * e + 2] * xv[u][j][e].z +
                             f[4 * e + 3] * xv[u][j][e].w;
                    acc[j] += ok && j < mc ? s : 0.0f;
                }
            }
        }
    } else {
        for (int64_t i = lane; i < k; i += 32) {
            const float wv = wf<WT>(wr, i);
#pragma unroll
            for (int j = 0; j < MT; j++)
                if (j < mc) acc[j] += wv * __ldg(x + (m0 + j) * x_stride_f + i);
        }
    }
#pragma unroll
    for (int j = 0; j < MT; j++) {
        const float v = tsc_warp_sum(acc[j]);
        if (lane == 0 && j < mc) y[(m0 + j) * y_stride_f + row] = v;
    }
}

/* Decode (m = 1) with F16/BF16/F32 weights, 16-byte aligned rows and x, k a multiple of the
 * 16-byte vector: as k_matvec_async, tiles of 32 lanes x TSC_MV_UNROLL vectors of 16 bytes
 * (lane i takes vectors i, i+32, ...) copied by cp.async into a per-warp ring of S slots. */
template <int WT>
__global__ void __launch_bounds__(32 * TSC_MM_WARPS, 8) k_matvec_async_f(const tsc_mv_parts P, const float *__restrict__ x,
                                                                        int64_t n, int64_t k, int S) {
    TSC_DYN_SMEM(int4, tsc_mv_smem, 16);
    const int64_t row = (int64_t)blockIdx.x * TSC_MM_WARPS + threadIdx.y;
    if (row >= n) return;
    constexpr int U = TSC_MV_UNROLL, V = WT == TS_TYPE_F32 ? 4 : 8; /* elements per vector */
    constexpr int64_t TB = 32 * U * 16;
    uint8_t *ring = (uint8_t *)tsc_mv_smem + (int64_t)threadIdx.y * S * TB;
    const int lane = threadIdx.x;
    const int64_t nv = k / V, rb = nv * 16, tiles = (rb + TB - 1) / TB;
    const mv_row r = mv_row_of(P, row);
    const uint8_t *wr = r.w;
    auto issue = [&](int64_t t) {
        if (t < tiles) {
            const int64_t bytes = rb - t * TB < TB ? rb - t * TB : TB;
            uint8_t *dst = ring + (t % S) * TB;
            const uint8_t *src = wr + t * TB;
            for (int c = lane; c < (int)(bytes / 16); c += 32) cp_async16(dst + 16 * c, src + 16 * c);
        }
        cp_async_commit();
    };
    pdl_trigger();
    if (!P.early) pdl_wait(); /* as k_matvec_async */
    for (int t = 0; t < S - 1; t++) issue(t);
    pdl_wait();
    float acc = 0.0f;
    for (int64_t t = 0; t < tiles; t++) {
        issue(t + S - 1);
        const int64_t vt = t * 32 * U, left = nv - vt;
        float4 xv[U][V / 4];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int64_t vl = lane + 32 * u < left ? lane + 32 * u : left - 1;
            const float4 *xp = (const float4 *)(x + (vt + vl) * V);
#pragma unroll
            for (int e = 0; e < V / 4; e++) xv[u][e] = __ldg(xp + e);
        }
        cp_async_wait(S - 1);
        __syncwarp();
        const int4 *tile = (const int4 *)(ring + (t % S) * TB);
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int64_t vl = lane + 32 * u < left ? lane + 32 * u : left - 1;
            float f[V];
            wf_vec<WT>(tile[vl], f);
            float s = 0.0f;
#pragma unroll
            for (int e = 0; e < V / 4; e++)
                s += f[4 * e] * xv[u][e].x + f[4 * e + 1] * xv[u][e].y + f[4 * e + 2] * xv[u][e].z + f[4 * e + 3] * xv[u][e].w;
            acc += lane + 32 * u < left ? s : 0.0f;
        }
        __syncwarp();
    }
    const float v = tsc_warp_sum(acc);
    if (lane == 0) mv_store(r, v);
}

/* ---- dequantization ----------------------------------------------------------------------- */

/* Rows of a block type to F32, one thread per group of 32, with the CPU's float operations
 * (d·sc first, then ·q, then the min subtracted), so the values equal ts_dequantize's. */
template <int T>
__global__ void k_dequantize_q(float *y, int64_t y_stride_f, const uint8_t *__restrict__ x, int64_t x_stride, int64_t rows,
                               int64_t ng) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * ng) return;
    const int64_t r = i / ng, g = i % ng;
    qraw R;
    qgroup G;
    qload<T>(wptr_of(x + r * x_stride), (uint32_t)g, R);
    qfinish<T>(R, G);
    float *o = y + r * y_stride_f + g * 32;
#pragma unroll
    for (int e = 0; e < 32; e++) {
        const int q = (int)(int8_t)(G.q[e / 4] >> (8 * (e % 4))) - qtype<T>::off; /* levels are < 128 */
        const float dl = __fmul_rn(G.D, (float)(e < 16 ? G.scl0 : G.scl1));
        float v = __fmul_rn(dl, (float)q);
        if (qtype<T>::has_min) v = __fadd_rn(v, __fmul_rn(G.M, (float)(e < 16 ? G.mi0 : G.mi1)));
        o[e] = v;
    }
}

template <int WT>
__global__ void k_dequantize_f(float *y, int64_t y_stride_f, const uint8_t *__restrict__ x, int64_t x_stride, int64_t rows,
                               int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * n) return;
    const int64_t r = i / n, e = i % n;
    y[r * y_stride_f + e] = wf<WT>(x + r * x_stride, e);
}

#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY) /* host code */

static int aligned(const void *p, int64_t a) { return ((uintptr_t)p % (uintptr_t)a) == 0; }

template <int T> struct type_tag {
    static constexpr int value = T;
};
/* Calls f(type_tag<T>()) when t is one of the block types of qtype above; false otherwise. */
template <class F> static bool for_block_type(int32_t t, F &&f) {
    switch (t) {
    case TS_TYPE_Q4_0: f(type_tag<TS_TYPE_Q4_0>()); return true;
    case TS_TYPE_Q4_1: f(type_tag<TS_TYPE_Q4_1>()); return true;
    case TS_TYPE_Q5_0: f(type_tag<TS_TYPE_Q5_0>()); return true;
    case TS_TYPE_Q5_1: f(type_tag<TS_TYPE_Q5_1>()); return true;
    case TS_TYPE_Q8_0: f(type_tag<TS_TYPE_Q8_0>()); return true;
    case TS_TYPE_Q2_K: f(type_tag<TS_TYPE_Q2_K>()); return true;
    case TS_TYPE_Q3_K: f(type_tag<TS_TYPE_Q3_K>()); return true;
    case TS_TYPE_Q4_K: f(type_tag<TS_TYPE_Q4_K>()); return true;
    case TS_TYPE_Q5_K: f(type_tag<TS_TYPE_Q5_K>()); return true;
    case TS_TYPE_Q6_K: f(type_tag<TS_TYPE_Q6_K>()); return true;
    default: return false;
    }
}

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
    TSC_LAUNCH((unsigned)tsc_cdiv(total, TSC_Q8_WARPS), 32 * TSC_Q8_WARPS, 0, c->stream, k_quantize_q8_0_blocks)((tsc_block_q8_0 *)dst, x,
                                                                                                        x_stride / 4, rows, k / 32);
    return tsc_launch_status("tsc_quantize_q8_0");
}

/* TSC_MATVEC_KERNEL (read at every call, for benchmarks comparing the paths on one GPU):
 * "regs" makes m = 1 use the register-load kernels instead of the cp.async ones, "nopdl"
 * launches without programmatic dependent launch, "apart" gives each part of
 * tsc_matmul_parts and each addend a kernel of its own; several may be given ("regs,nopdl"). */
static int matvec_option(const char *what) {
    const char *e = getenv("TSC_MATVEC_KERNEL");
    return e != NULL && strstr(e, what) != NULL;
}

/* Blocks of k_matvec_async for n rows: one warp per row, or with TSC_MATVEC_BLOCKS=B in the
 * environment (read at every call, for tuning on a GPU) at most B blocks per SM, each warp
 * then taking several rows in turn. */
static unsigned matvec_blocks(const struct tsc_context *c, int64_t n) {
    int64_t blocks = tsc_cdiv(n, TSC_MM_WARPS);
    const char *e = getenv("TSC_MATVEC_BLOCKS");
    if (e != NULL) {
        const long per_sm = strtol(e, NULL, 10);
        if (per_sm > 0 && per_sm <= 64 && c->sm_count > 0 && per_sm * c->sm_count < blocks) blocks = per_sm * c->sm_count;
    }
    return (unsigned)blocks;
}

/* tsc_launch_pdl, unless TSC_MATVEC_KERNEL has "nopdl". */
template <typename... KArgs, typename... Args>
static void launch_pdl(struct tsc_context *c, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, Args... args) {
    if (matvec_option("nopdl")) TSC_LAUNCH(grid, block, smem, c->stream, kernel)(args...);
    else tsc_launch_pdl(c, kernel, grid, block, smem, args...);
}

/* A matmul's own operands, beside those its call shares (x, weight type, k, m): one part of
 * tsc_matmul_parts; tsc_matmul is one part without addend. */
struct mm_part {
    float *y;
    int64_t y_stride;
    const uint8_t *w;
    int64_t w_stride;
    int64_t n;
    const float *add; /* NULL: none */
    int64_t add_stride;
};

/* The parts' rows (of row_bytes each) as one column for the m = 1 kernels. */
static tsc_mv_parts mv_parts(const struct tsc_context *c, const mm_part *p, int count, int64_t row_bytes) {
    tsc_mv_parts P = {};
    int64_t end = 0;
    P.early = 1;
    for (int j = 0; j < TSC_MATMUL_PARTS; j++) {
        if (j < count) {
            P.w[j] = p[j].w, P.w_stride[j] = p[j].w_stride, P.y[j] = p[j].y, P.add[j] = p[j].add, end += p[j].n;
            if (p[j].n > 0) P.early &= tsc_pool_weights(c, p[j].w, (p[j].n - 1) * p[j].w_stride + row_bytes);
        }
        P.end[j] = end;
    }
    return P;
}

/* The addends of parts whose product kernel did not add them: one kernel each. */
static void add_parts(struct tsc_context *c, const mm_part *p, int count, int64_t m) {
    for (int j = 0; j < count; j++)
        if (p[j].add != NULL && p[j].n > 0) tsc_add_rows(c, p[j].y, p[j].y_stride, p[j].add, p[j].add_stride, m, p[j].n);
}

/* k_matvec_async on blocks thread blocks (warps taking rows in turn when they are fewer than
 * the rows). One warp per row: ring of 2 slots, so while a warp waits for tile t, tile t + 1 is
 * in flight too, and with 8 blocks of 4 warps per SM (registers) that is 64 tiles (>= 70 KB)
 * per SM; 2 slots (<= 35 KB per block) keep 8 blocks resident, so a 4096-row matrix (1024
 * blocks) runs in one wave on 132 SMs. Resident warps: the deeper ring of mv_slots. */
template <int T>
static void launch_mv(struct tsc_context *c, const tsc_mv_parts &P, int64_t n, const int8_t *xq, const tsc_xs *xs, int64_t k,
                      bool a4, unsigned blocks) {
    const dim3 grid(blocks), block(32, TSC_MM_WARPS);
    const bool multi = (int64_t)blocks * TSC_MM_WARPS < n;
    const size_t smem = multi ? mv_smem_bytes<T, true>() : mv_smem_bytes<T>();
    auto go = [&](void (*kernel)(const tsc_mv_parts, const int8_t *, const tsc_xs *, int64_t, int64_t)) {
        if (smem > 48 * 1024) cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        launch_pdl(c, kernel, grid, block, smem, P, xq, xs, n, k);
    };
    if constexpr (qtype<T>::bs % 4 == 0) {
        if (a4) {
            if (multi) go(k_matvec_async<T, true, true>);
            else go(k_matvec_async<T, false, true>);
            return;
        }
    }
    if (multi) go(k_matvec_async<T, true, false>);
    else go(k_matvec_async<T, false, false>);
}

/* Launches the products of block-type weights; true when the kernel also added the addends
 * (m = 1: every part's rows in one launch), false when add_parts must. glu (m = 1 only, not
 * with TSC_MATVEC_KERNEL=regs): the GLU of parts 0 and 1 in the same kernel. */
template <int T>
static bool launch_q(struct tsc_context *c, const mm_part *p, int count, int64_t n_all, const int8_t *xq, const tsc_xs *xs,
                     int64_t k, int64_t m, const mv_glu *glu = nullptr) {
    dim3 block(32, TSC_MM_WARPS);
    if (m == 1 && !matvec_option("regs")) {
        uintptr_t bits = 0;
        for (int j = 0; j < count; j++) bits |= (uintptr_t)p[j].w | (uintptr_t)p[j].w_stride;
        const bool a4 = (bits & 3) == 0; /* every row 4-byte aligned */
        tsc_mv_parts P = mv_parts(c, p, count, k / qtype<T>::qk * qtype<T>::bs);
        if (glu) P.glu = *glu;
        launch_mv<T>(c, P, n_all, xq, xs, k, a4, matvec_blocks(c, n_all));
        return true;
    }
    for (int j = 0; j < count; j++) {
        const int64_t n = p[j].n, ys = p[j].y_stride / 4;
        if (n == 0) continue;
        if (m == 1) {
            dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), 1);
            TSC_LAUNCH(grid, block, 0, c->stream, k_matmul_q<T, 1, TSC_MV_UNROLL>)(p[j].y, ys, p[j].w, p[j].w_stride, xq, xs, n, k, m);
        } else {
            dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), (unsigned)tsc_cdiv(m, 8));
            TSC_LAUNCH(grid, block, 0, c->stream, k_matmul_q<T, 8, 1>)(p[j].y, ys, p[j].w, p[j].w_stride, xq, xs, n, k, m);
        }
    }
    return false;
}

/* As launch_q for F16/BF16/F32 weights (x as given). */
template <int WT>
static bool launch_f(struct tsc_context *c, const mm_part *p, int count, int64_t n_all, const float *x, int64_t xs, int64_t k,
                     int64_t m) {
    dim3 block(32, TSC_MM_WARPS);
    const int64_t V = WT == TS_TYPE_F32 ? 4 : 8;
    const bool xvec = aligned(x, 16) && (m == 1 || xs % 16 == 0) && k % V == 0;
    auto wvec = [](const mm_part &q) { return aligned(q.w, 16) && (q.n <= 1 || q.w_stride % 16 == 0); };
    bool all_vec = xvec;
    for (int j = 0; j < count; j++) all_vec = all_vec && wvec(p[j]);
    if (m == 1 && all_vec && !matvec_option("regs")) {
        const int64_t tb = 32 * TSC_MV_UNROLL * 16;
        const int64_t S = 2; /* 2 slots of 2 KiB per warp, as launch_q */
        launch_pdl(c, k_matvec_async_f<WT>, dim3((unsigned)tsc_cdiv(n_all, TSC_MM_WARPS)), block, (size_t)(S * tb * TSC_MM_WARPS),
                   mv_parts(c, p, count, k * (WT == TS_TYPE_F32 ? 4 : 2)), x, n_all, k, (int)S);
        return true;
    }
    for (int j = 0; j < count; j++) {
        const int64_t n = p[j].n, ys = p[j].y_stride / 4, ws = p[j].w_stride;
        float *y = p[j].y;
        const void *w = p[j].w;
        if (n == 0) continue;
        const bool vec = xvec && wvec(p[j]);
        dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS), (unsigned)tsc_cdiv(m, m == 1 ? 1 : 8));
        if (m == 1) {
            if (vec) TSC_LAUNCH(grid, block, 0, c->stream, k_matmul_f<WT, 1, 4, 1>)(y, ys, w, ws, x, xs / 4, n, k, m);
            else TSC_LAUNCH(grid, block, 0, c->stream, k_matmul_f<WT, 1, 1, 0>)(y, ys, w, ws, x, xs / 4, n, k, m);
        } else {
            if (vec) TSC_LAUNCH(grid, block, 0, c->stream, k_matmul_f<WT, 8, 1, 1>)(y, ys, w, ws, x, xs / 4, n, k, m);
            else TSC_LAUNCH(grid, block, 0, c->stream, k_matmul_f<WT, 8, 1, 0>)(y, ys, w, ws, x, xs / 4, n, k, m);
        }
    }
    return false;
}

/* Bytes of one row of k elements of w_type and its elements per block (0: not a matmul type). */
static int64_t mm_row_bytes(int32_t t, int64_t k, int64_t *qk) {
    int64_t bytes = 0;
    *qk = 0;
    if (for_block_type(t, [&](auto tag) {
            using Q = qtype<decltype(tag)::value>;
            *qk = Q::qk, bytes = k / Q::qk * Q::bs;
        }))
        return bytes;
    if (t == TS_TYPE_F32) return *qk = 1, 4 * k;
    if (t == TS_TYPE_F16 || t == TS_TYPE_BF16) return *qk = 1, 2 * k;
    return 0;
}

/* The operands the parts of a call share, checked as tsc_matmul documents them; fn names the
 * function in the messages. *qk_out: elements per weight block (1: a float type). */
static int32_t mm_check_shared(const char *fn, int32_t w_type, const float *x, int64_t x_stride, int64_t k, int64_t m,
                               int64_t *qk_out) {
    int64_t qk = 0;
    (void)mm_row_bytes(w_type, 0, &qk);
    *qk_out = qk;
    if (qk == 0)
        return tsc_set_error(TS_ERR_UNSUPPORTED,
                             "%s: weight type %d is not supported on CUDA (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, "
                             "Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)",
                             fn, (int)w_type);
    if (k < 0 || m < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: k=%lld, m=%lld must be >= 0", fn, (long long)k, (long long)m);
    if (k % qk != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: k=%lld is not a multiple of the block size %lld", fn, (long long)k,
                             (long long)qk);
    if (m > 65535LL * 8) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: m=%lld too large for one launch", fn, (long long)m);
    if (m == 0) return TS_OK;
    if (k == 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: k must be > 0", fn);
    const int64_t wsz = mm_row_bytes(w_type, k, &qk);
    if (wsz > 0x7fffffffLL) /* the decoders address a row with 32-bit offsets */
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: a weight row of %lld bytes is over 2 GiB", fn, (long long)wsz);
    if (x == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: x is NULL", fn);
    if (!aligned(x, 4) || x_stride % 4) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: x or x_stride misaligned (4 bytes)", fn);
    if (m > 1 && x_stride < 4 * k) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: a row stride is shorter than its row", fn);
    return TS_OK;
}

/* One part's own operands (after mm_check_shared); what names the part in the messages. */
static int32_t mm_check_part(const char *what, const mm_part &p, int32_t w_type, int64_t k, int64_t m) {
    int64_t qk;
    const int64_t wsz = mm_row_bytes(w_type, k, &qk), wal = w_type == TS_TYPE_F32 ? 4 : 2;
    if (p.n < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: n=%lld must be >= 0", what, (long long)p.n);
    if (p.n > 0x7fffffffLL * TSC_MM_WARPS)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: n=%lld too large for one launch", what, (long long)p.n);
    if (p.n == 0 || m == 0) return TS_OK;
    if (p.y == NULL || p.w == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: %s is NULL", what, p.y == NULL ? "y" : "w");
    if (!aligned(p.y, 4) || !aligned(p.w, wal) || p.y_stride % 4 || p.w_stride % wal)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: pointers/strides misaligned (y, x: 4 bytes; w: %lld bytes)", what,
                             (long long)wal);
    if (p.add != NULL && (!aligned(p.add, 4) || p.add_stride % 4))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: addend or its stride misaligned (4 bytes)", what);
    if ((p.n > 1 && p.w_stride < wsz) || (m > 1 && (p.y_stride < 4 * p.n || (p.add != NULL && p.add_stride < 4 * p.n))))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: a row stride is shorter than its row", what);
    return TS_OK;
}

/* x's Q8_0 copy for the block-type kernels: the cached one, or a new one being made. */
static int32_t mm_xq(struct tsc_context *c, const float *x, int64_t x_stride, int64_t k, int64_t m, int8_t **xq, tsc_xs **xs) {
    if (tsc_xq_find(c, x, x_stride, k, m, xq, xs)) return TS_OK;
    const int32_t st = tsc_xq_make(c, x, x_stride, k, m, xq, xs);
    if (st) return st;
    const int64_t nb = k / 32;
    launch_pdl(c, k_quantize_q8_0_split, dim3((unsigned)tsc_cdiv(m * nb, TSC_Q8_WARPS)), dim3(32 * TSC_Q8_WARPS), 0, *xq, *xs, x,
               x_stride / 4, m, nb);
    return TS_OK;
}

/* The parts' products of x, each plus its addend, after the checks: for the block types x is
 * quantized once (or its cached copy taken); at m = 1 one kernel computes every part. */
static int32_t mm_run(struct tsc_context *c, const char *fn, const mm_part *p, int count, int32_t w_type, const float *x,
                      int64_t x_stride, int64_t k, int64_t m) {
    int64_t n_all = 0, qk;
    for (int j = 0; j < count; j++) n_all += p[j].n;
    if (n_all == 0 || m == 0) return TS_OK;
    if (n_all > 0x7fffffffLL * TSC_MM_WARPS)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: %lld rows in all, too many for one launch", fn, (long long)n_all);
    bool any_add = false;
    for (int j = 0; j < count; j++) any_add |= p[j].add != NULL;
    if ((count > 1 || any_add) && matvec_option("apart")) { /* each part and each addend its own kernel, to compare */
        for (int j = 0; j < count; j++) {
            mm_part q = p[j];
            q.add = NULL;
            const int32_t st = mm_run(c, fn, &q, 1, w_type, x, x_stride, k, m);
            if (st) return st;
        }
        add_parts(c, p, count, m);
        return tsc_launch_status(fn);
    }
    mm_part rest[TSC_MATMUL_PARTS];
    if (m > 1) { /* tensor cores where they take the type and shape, the plain kernels for the rest */
        int left = 0;
        for (int j = 0; j < count; j++) {
            if (p[j].n == 0) continue;
            const int32_t st = tsc_matmul_mma(c, p[j].y, p[j].y_stride, p[j].w, w_type, p[j].w_stride, x, x_stride, p[j].n, k, m);
            if (st == TSC_NOT_HANDLED) {
                rest[left++] = p[j];
                continue;
            }
            tsc_xq_release(c);
            if (st) return st;
            add_parts(c, &p[j], 1, m);
        }
        if (left == 0) return tsc_launch_status(fn);
        p = rest, count = left, n_all = 0;
        for (int j = 0; j < count; j++) n_all += p[j].n;
    }
    (void)mm_row_bytes(w_type, 0, &qk);
    bool added = false;
    if (qk > 1) {
        int8_t *xq;
        tsc_xs *xs;
        const int32_t st = mm_xq(c, x, x_stride, k, m, &xq, &xs);
        if (st) return st;
        for_block_type(w_type, [&](auto tag) { added = launch_q<decltype(tag)::value>(c, p, count, n_all, xq, xs, k, m); });
        /* y written over x: the next call must quantize the new values */
        const tsc_span xspan = tsc_span_of(x, m, x_stride, 4 * k);
        for (int j = 0; j < count; j++)
            if (p[j].n > 0 && tsc_spans_meet(tsc_span_of(p[j].y, m, p[j].y_stride, 4 * p[j].n), xspan)) tsc_xq_release(c);
    } else {
        tsc_xq_release(c);
        if (w_type == TS_TYPE_F16) added = launch_f<TS_TYPE_F16>(c, p, count, n_all, x, x_stride, k, m);
        else if (w_type == TS_TYPE_BF16) added = launch_f<TS_TYPE_BF16>(c, p, count, n_all, x, x_stride, k, m);
        else added = launch_f<TS_TYPE_F32>(c, p, count, n_all, x, x_stride, k, m);
    }
    if (!added) add_parts(c, p, count, m);
    const int32_t st = tsc_launch_status(fn);
    if (st) tsc_xq_release(c);
    return st;
}

extern "C" TS_API int32_t tsc_matmul(void *ctx, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride,
                                     const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter_keep_xq(ctx, "tsc_matmul", &c); /* mm_run decides about the cache */
    if (st) return st;
    const mm_part part = {y, y_stride, (const uint8_t *)w, w_stride, n, NULL, 0};
    int64_t qk;
    st = mm_check_shared("tsc_matmul", w_type, x, x_stride, k, m, &qk);
    if (!st) st = mm_check_part("tsc_matmul", part, w_type, k, m);
    return st ? st : mm_run(c, "tsc_matmul", &part, 1, w_type, x, x_stride, k, m);
}

/* The checks of tsc_matmul_parts (fn names the caller in the messages): each part's operands,
 * and no output overlapping x, an addend or another output, so no part reads what another
 * writes, whichever kernel runs first. */
static int32_t mm_check_parts(const char *fn, const mm_part *p, int parts, int32_t w_type, const float *x, int64_t x_stride,
                              int64_t k, int64_t m) {
    int64_t qk;
    int32_t st = mm_check_shared(fn, w_type, x, x_stride, k, m, &qk);
    if (st) return st;
    for (int j = 0; j < parts; j++) {
        char what[64];
        snprintf(what, sizeof what, "%s, part %d", fn, j);
        st = mm_check_part(what, p[j], w_type, k, m);
        if (st) return st;
    }
    if (m == 0) return TS_OK;
    const tsc_span xspan = tsc_span_of(x, m, x_stride, 4 * k);
    for (int j = 0; j < parts; j++) {
        if (p[j].n == 0) continue;
        const tsc_span yj = tsc_span_of(p[j].y, m, p[j].y_stride, 4 * p[j].n);
        bool meets = tsc_spans_meet(yj, xspan);
        for (int i = 0; i < parts && !meets; i++) {
            if (p[i].n == 0) continue;
            meets = (i != j && tsc_spans_meet(yj, tsc_span_of(p[i].y, m, p[i].y_stride, 4 * p[i].n))) ||
                    (p[i].add != NULL && tsc_spans_meet(yj, tsc_span_of(p[i].add, m, p[i].add_stride, 4 * p[i].n)));
        }
        if (meets)
            return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: the output of part %d overlaps x, an addend or another output", fn, j);
    }
    return TS_OK;
}

extern "C" TS_API int32_t tsc_matmul_parts(void *ctx, int32_t parts, float *const *y, const int64_t *y_stride, const void *const *w,
                                           const int64_t *w_stride, const int64_t *n, const float *const *add,
                                           const int64_t *add_stride, int32_t w_type, const float *x, int64_t x_stride, int64_t k,
                                           int64_t m) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter_keep_xq(ctx, "tsc_matmul_parts", &c);
    if (st) return st;
    if (parts < 1 || parts > TSC_MATMUL_PARTS)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul_parts: parts=%d must be in [1, %d]", (int)parts, TSC_MATMUL_PARTS);
    if (y == NULL || y_stride == NULL || w == NULL || w_stride == NULL || n == NULL || (add != NULL && add_stride == NULL))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_matmul_parts: a host array is NULL");
    mm_part p[TSC_MATMUL_PARTS];
    for (int j = 0; j < parts; j++)
        p[j] = {y[j], y_stride[j], (const uint8_t *)w[j], w_stride[j], n[j], add ? add[j] : NULL, add ? add_stride[j] : 0};
    st = mm_check_parts("tsc_matmul_parts", p, parts, w_type, x, x_stride, k, m);
    return st || m == 0 ? st : mm_run(c, "tsc_matmul_parts", p, parts, w_type, x, x_stride, k, m);
}

extern "C" TS_API int32_t tsc_matmul_glu(void *ctx, float *y, int64_t y_stride, float *gate, int64_t gate_stride, float *up,
                                         int64_t up_stride, const void *w_gate, int64_t w_gate_stride, const void *w_up,
                                         int64_t w_up_stride, int32_t w_type, int32_t act, const float *x, int64_t x_stride, int64_t n,
                                         int64_t k, int64_t m) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter_keep_xq(ctx, "tsc_matmul_glu", &c);
    if (!st) st = tsc_check_act("tsc_matmul_glu", act);
    if (st) return st;
    const mm_part p[3] = {{gate, gate_stride, (const uint8_t *)w_gate, w_gate_stride, n, NULL, 0},
                          {up, up_stride, (const uint8_t *)w_up, w_up_stride, n, NULL, 0},
                          {y, y_stride, (const uint8_t *)w_gate, w_gate_stride, n, NULL, 0}}; /* y checked as a third output */
    st = mm_check_parts("tsc_matmul_glu", p, 3, w_type, x, x_stride, k, m);
    if (st || m == 0 || n == 0) return st;
    int64_t qk;
    (void)mm_row_bytes(w_type, 0, &qk);
    /* One kernel: one row of block-type weights (the decode kernels at one row per warp), n whole
     * blocks of 32 for the tickets and the Q8_0 copy, and that copy wanted (TSC_FUSED_QUANTIZE). */
    const bool fused = m == 1 && qk > 1 && n % 32 == 0 && n / 32 <= TSC_GLU_TICKETS && c->fuse_q8 && !matvec_option("regs") &&
                       !matvec_option("apart");
    if (!fused) {
        st = mm_run(c, "tsc_matmul_glu", p, 2, w_type, x, x_stride, k, m);
        return st ? st : tsc_glu(ctx, y, y_stride, gate, gate_stride, up, up_stride, act, m, n);
    }
    int8_t *xq, *yq;
    tsc_xs *xs, *ys;
    st = mm_xq(c, x, x_stride, k, 1, &xq, &xs);
    if (!st) st = tsc_xq_make(c, y, 0, n, 1, &yq, &ys); /* the kernel reads x's copy and writes y's, kept for ffn_down */
    if (st) return st;
    const mv_glu g = {y, yq, ys, c->glu_tickets, n, act};
    for_block_type(w_type, [&](auto tag) { (void)launch_q<decltype(tag)::value>(c, p, 2, 2 * n, xq, xs, k, 1, &g); });
    st = tsc_launch_status("tsc_matmul_glu");
    if (st) tsc_xq_release(c); /* no copy was written */
    return st;
}

extern "C" TS_API int32_t tsc_dequantize(void *ctx, float *y, int64_t y_stride, const void *x, int32_t type, int64_t x_stride,
                                         int64_t rows, int64_t n) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_dequantize", &c);
    if (st) return st;
    int64_t qk = 0;
    (void)mm_row_bytes(type, 0, &qk);
    if (qk == 0)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_dequantize: type %d is not supported on CUDA (the tsc_matmul weight types)",
                             (int)type);
    if (rows < 0 || n < 0 || n % qk != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_dequantize: rows=%lld, n=%lld (a multiple of %lld) must be >= 0",
                             (long long)rows, (long long)n, (long long)qk);
    if (rows == 0 || n == 0) return TS_OK;
    const int64_t xal = type == TS_TYPE_F32 ? 4 : 2, row = mm_row_bytes(type, n, &qk);
    if (y == NULL || x == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_dequantize: %s is NULL", y ? "x" : "y");
    if (!aligned(y, 4) || y_stride % 4 || !aligned(x, xal) || x_stride % xal)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_dequantize: misaligned pointer or stride (y: 4 bytes, x: %lld)",
                             (long long)xal);
    if (rows > 1 && (y_stride < 4 * n || x_stride < row))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_dequantize: a row stride is shorter than its row");
    if (row > 0x7fffffffLL) /* the decoders address a row with 32-bit offsets */
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_dequantize: a row of %lld bytes is over 2 GiB", (long long)row);
    const int64_t ys = y_stride / 4, ng = n / 32;
    const uint8_t *xb = (const uint8_t *)x;
    const unsigned gq = (unsigned)tsc_cdiv(rows * ng, 128), gf = (unsigned)tsc_cdiv(rows * n, 256);
    if (gq == 0 || (int64_t)gq != tsc_cdiv(rows * ng, 128) || (int64_t)gf != tsc_cdiv(rows * n, 256))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_dequantize: too many elements for one launch");
    if (!for_block_type(type, [&](auto tag) {
            TSC_LAUNCH(gq, 128, 0, c->stream, k_dequantize_q<decltype(tag)::value>)(y, ys, xb, x_stride, rows, ng);
        })) {
        if (type == TS_TYPE_F16) TSC_LAUNCH(gf, 256, 0, c->stream, k_dequantize_f<TS_TYPE_F16>)(y, ys, xb, x_stride, rows, n);
        else if (type == TS_TYPE_BF16) TSC_LAUNCH(gf, 256, 0, c->stream, k_dequantize_f<TS_TYPE_BF16>)(y, ys, xb, x_stride, rows, n);
        else TSC_LAUNCH(gf, 256, 0, c->stream, k_dequantize_f<TS_TYPE_F32>)(y, ys, xb, x_stride, rows, n);
    }
    return tsc_launch_status("tsc_dequantize");
}

#endif /* host code */
