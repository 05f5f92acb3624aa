/*
 * tsc_conv.cu — 2-D convolution (NCHW, as ts_conv2d) as an implicit GEMM on tensor cores.
 *
 * Per group g: Y_g[co][p] = sum_k W_g[co][k] * X_g[k][p], with M = cout/groups output
 * channels, N = n * oh * ow output pixels (the batch folded into N) and K = cin/groups * kh
 * * kw taps. X_g is the im2col matrix, never stored: each block gathers its BK x BN slice
 * of it straight from the NCHW input into shared memory (cp.async, zero-filled in the
 * padding). A table of K entries (built on the device once per call) turns a tap index k
 * = (ci, ky, kx) into its input offset ci*h*w + ky*dh*w + kx*dw, its (ky*dh, kx*dw) shift
 * and its tap number; how an element is tested against the image depends on the geometry
 * (see GATHER_* below). 1x1, 3x3 with any stride, dilation and patchify (kernel == stride)
 * are all this one kernel.
 *
 * Products: mma.sync m16n8k8 TF32 (both operands rounded to nearest, 10-bit mantissa),
 * F32 accumulation: per output |error| <= ~2^-10 * sum_k |w_k x_k| plus F32 summation
 * error (cuDNN's default for F32 convolutions is TF32 too). Weights are read in place when
 * their rows are whole 16-byte chunks: F32 (K % 4 == 0; fragments by ldmatrix, rounded to
 * TF32 as loaded) or F16 (K % 8 == 0; the A tile stays F16 in shared memory, each fragment
 * element widened exactly). Other weights are converted once per call into pool scratch,
 * rounded to TF32, rows padded to a multiple of 4 floats. The gathered inputs are rounded
 * as their fragments are loaded.
 * Tiles: 128 x 256, 128 x 128, 64 x 128 or 64 x 64 (output channels x pixels), the largest
 * that still gives every SM work; when even 64 x 64 tiles are too few and K is deep, K is
 * split over blocks and a second kernel adds the partial sums in a fixed order.
 * Groups of <= 8 output channels (depthwise and the like) would waste most of a 64-row
 * tile: they run a direct F32 kernel, one thread per output, on the exact weights.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* TSC_EMU: the CPU emulator (native/cuda/emu) compiles this file as C++ to check it without
 * a GPU: the PTX helpers are left out (emu/ptx_conv.h stands in), and so are the host entry
 * points except in the emulated library (TSC_EMU_LIBRARY). */
#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY)
#include "tsc_internal.cuh"
#endif

#define CONV_THREADS 256
#define CONV_BK 32
#define CONV_STAGES 3
#define CONV_APAD 4 /* A rows of BK + 4 floats: fragment loads hit 32 different banks */
#define CONV_BPAD 8 /* B rows of BN + 8 floats: likewise */

struct conv_args {
    const float *x, *w, *bias;
    float *y;
    const int4 *tab; /* per tap k = (ci, ky, kx): {input offset, ky*dh, kx*dw, ky*kw + kx} */
    int32_t h, iw, ow, ohw, sh, sw, ph, pw; /* iw: input width */
    int32_t cin_g, cout_g, k;
    int32_t kp;           /* weight row stride in floats: k rounded up to 4 (mma path), k (direct) */
    int32_t kh, kw, dh, dw;
    int32_t groups;
    int32_t kt_split; /* k-tiles per split of K (all of them when K is not split) */
    float *part;      /* split K: partial sums [split][cout][npix], reduced by k_conv_reduce; else NULL */
    int32_t w_raw;    /* the caller's F32 weights, not rounded to TF32: round A fragments as loaded */
    const uint16_t *wh; /* AH kernels: the caller's F16 weights, rows of kp == k halves */
    int32_t npix;         /* n * oh * ow */
    int64_t x_img, y_img; /* floats per image of x and y */
};

#ifndef TSC_EMU
static __device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* 4-byte cp.async; src_bytes 0 writes a zero without reading. */
static __device__ __forceinline__ void cp_async4(uint32_t dst, const void *src, int src_bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
static __device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
static __device__ __forceinline__ void ldsm_x4(uint32_t *r, uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> static __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

static __device__ __forceinline__ uint32_t to_tf32(float f) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(f));
    return r;
}

/* An F16 value as a TF32 operand: exact (10-bit mantissa, and F16's exponents fit). */
static __device__ __forceinline__ uint32_t h_to_tf32(uint16_t h) { return __float_as_uint(__half2float(__ushort_as_half(h))); }

static __device__ __forceinline__ void mma_tf32(float *d, const uint32_t *a, const uint32_t *b) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif /* TSC_EMU */

/* How the B tile is gathered (the bounds test is the costly part of the gather):
 *  GATHER_BOUNDS: each element tests its input row and column against the image;
 *  GATHER_NOPAD: no padding, so every tap of every output pixel is inside the image
 *    (oh, ow are defined so): no test at all (patchify, unpadded convolutions);
 *  GATHER_MASK: kernels of <= 32 taps: each thread works out once which taps of its pixel
 *    fall inside the image (a bit mask), then an element tests one bit;
 *  GATHER_VEC: 1x1 stride-1 unpadded, oh*ow a multiple of 4, x 16-byte aligned: 4 pixels
 *    of a channel are 16 contiguous bytes, one 16-byte cp.async, no table. */
enum { GATHER_BOUNDS, GATHER_NOPAD, GATHER_MASK, GATHER_VEC };

/* Block tile BM (output channels) x BN (pixels), 8 warps as 2 (M) x 4 (N), each WM x WN.
 * AH: the A tile holds the caller's F16 weights as they are (rows of BK + 8 halves, 16-byte
 * cp.async of 8 halves, K a multiple of 8): no F32 copy of the weights per call; each
 * fragment element is one 16-bit shared load widened to F32 (exact in TF32). */
template <int BM, int BN, int MODE, bool AH>
__global__ void __launch_bounds__(CONV_THREADS) k_conv_mma(const struct conv_args a) {
    constexpr int BK = CONV_BK, AS = BK + CONV_APAD, BS = BN + CONV_BPAD;
    constexpr int WM = BM / 2, WN = BN / 4, MT = WM / 16, NT = WN / 8;
    constexpr int A_PER = BM * BK / 4 / CONV_THREADS, B_PER = BK * BN / CONV_THREADS;
    constexpr int B_KSTEP = CONV_THREADS / BN;
    constexpr int BV_PER = BK * BN / 4 / CONV_THREADS, BV_KSTEP = CONV_THREADS / (BN / 4);
    constexpr int ASH = BK + 8, AH_PER = BM * BK / 8 / CONV_THREADS; /* AH: row stride (halves), chunks per thread */
    static_assert(BM * ASH * 2 <= BM * AS * 4, "the F16 A tile fits the F32 one's space");
    TSC_DYN_SMEM(float, smem, 16);
    float *As = smem;                        /* [STAGES][BM][AS] */
    float *Bs = smem + CONV_STAGES * BM * AS; /* [STAGES][BK][BS] */

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int g = blockIdx.z % a.groups, split = blockIdx.z / a.groups;
    const int kt0 = split * a.kt_split; /* this block's first k-tile */
    const int m0 = blockIdx.y * BM;
    const int n0 = blockIdx.x * BN;

    /* A loads: 16 bytes each, chunk c = tid + 256 i is row c / 8, floats 4 (c % 8) on. */
    const float *wg = a.w + (int64_t)g * a.cout_g * a.kp;
    const uint16_t *whg = AH ? a.wh + (int64_t)g * a.cout_g * a.kp : NULL;
    /* B loads: one fixed pixel (VEC: 4 pixels) per thread, taps tid / BN + B_KSTEP i
     * (VEC: tid / (BN / 4) + BV_KSTEP i). */
    constexpr bool VEC = MODE == GATHER_VEC;
    const int b_n = VEC ? (tid % (BN / 4)) * 4 : tid % BN, b_k = VEC ? tid / (BN / 4) : tid / BN;
    const int p = n0 + b_n;
    const bool p_ok = p < a.npix;
    int iy0 = 0, ix0 = 0;
    const float *xb = a.x;
    if (p_ok) {
        const int img = p / a.ohw, rem = p - img * a.ohw, oy = rem / a.ow, ox = rem - oy * a.ow;
        iy0 = oy * a.sh - a.ph;
        ix0 = ox * a.sw - a.pw;
        xb = a.x + img * a.x_img + (int64_t)g * a.cin_g * a.h * a.iw;
        if (VEC) xb += rem; /* 1x1, stride 1, no padding: input pixel = output pixel */
    }
    const int pix_off = iy0 * a.iw + ix0;
    uint32_t tap_ok = 0; /* GATHER_MASK: bit ky*kw + kx set when that tap of pixel p is inside */
    if (MODE == GATHER_MASK && p_ok)
        for (int ky = 0; ky < a.kh; ky++)
            for (int kx = 0; kx < a.kw; kx++) {
                const int iy = iy0 + ky * a.dh, ix = ix0 + kx * a.dw;
                if ((unsigned)iy < (unsigned)a.h && (unsigned)ix < (unsigned)a.iw) tap_ok |= 1u << (ky * a.kw + kx);
            }

    auto load_tile = [&](int stage, int kt) {
        const int kbase = (kt0 + kt) * BK;
        float *as = As + stage * BM * AS;
        float *bs = Bs + stage * BK * BS;
        if constexpr (AH) {
            uint16_t *ash = (uint16_t *)as;
#pragma unroll
            for (int i = 0; i < AH_PER; i++) {
                const int ch = tid + CONV_THREADS * i, m = ch >> 2, kq = (ch & 3) * 8, gm = m0 + m, gk = kbase + kq;
                const bool ok = gm < a.cout_g && gk < a.kp; /* kp is a multiple of 8: all 8 in or all out */
                cp_async16(smem_u32(ash + m * ASH + kq), ok ? whg + (int64_t)gm * a.kp + gk : a.wh, ok ? 16 : 0);
            }
        } else {
#pragma unroll
            for (int i = 0; i < A_PER; i++) {
                const int ch = tid + CONV_THREADS * i, m = ch >> 3, kq = (ch & 7) * 4, gm = m0 + m, gk = kbase + kq;
                const bool ok = gm < a.cout_g && gk < a.kp; /* kp is a multiple of 4: all 4 in or all out */
                cp_async16(smem_u32(as + m * AS + kq), ok ? wg + (int64_t)gm * a.kp + gk : a.w, ok ? 16 : 0);
            }
        }
        if constexpr (VEC) {
#pragma unroll
            for (int i = 0; i < BV_PER; i++) {
                const int kk = b_k + BV_KSTEP * i, gk = kbase + kk;
                const bool ok = p_ok && gk < a.k; /* npix is a multiple of 4: the 4 pixels are all in or all out */
                cp_async16(smem_u32(bs + kk * BS + b_n), ok ? xb + gk * a.ohw : a.x, ok ? 16 : 0);
            }
        } else {
#pragma unroll
            for (int i = 0; i < B_PER; i++) {
                const int kk = b_k + B_KSTEP * i, gk = kbase + kk;
                bool ok = p_ok && gk < a.k;
                const float *src = a.x;
                if (ok) {
                    const int4 t = __ldg(a.tab + gk);
                    if constexpr (MODE == GATHER_BOUNDS) {
                        const int iy = iy0 + t.y, ix = ix0 + t.z;
                        ok = (unsigned)iy < (unsigned)a.h && (unsigned)ix < (unsigned)a.iw;
                    } else if constexpr (MODE == GATHER_MASK) {
                        ok = (tap_ok >> t.w) & 1u;
                    }
                    if (ok) src = xb + (t.x + pix_off);
                }
                cp_async4(smem_u32(bs + kk * BS + b_n), src, ok ? 4 : 0);
            }
        }
    };

    float acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

    const int KT = min((a.k + BK - 1) / BK - kt0, a.kt_split);
#pragma unroll
    for (int s = 0; s < CONV_STAGES - 1; s++) {
        if (s < KT) load_tile(s, s);
        cp_async_commit();
    }
    const int gq = lane >> 2, tq = lane & 3;
    const int lrow = (lane & 7) + ((lane >> 3) & 1) * 8, lcol = (lane >> 4) * 4; /* this lane's ldmatrix row */
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait<CONV_STAGES - 2>();
        __syncthreads(); /* tile kt is in; every warp is done with the stage refilled below */
        {
            const int nk = kt + CONV_STAGES - 1;
            if (nk < KT) load_tile(nk % CONV_STAGES, nk);
            cp_async_commit();
        }
        const float *as = As + (kt % CONV_STAGES) * BM * AS + (wm * WM) * AS;
        const float *bs = Bs + (kt % CONV_STAGES) * BK * BS + wn * WN;
#pragma unroll
        for (int ks = 0; ks < BK / 8; ks++) {
            uint32_t af[MT][4], bf[NT][2];
            /* The weights are TF32 already (rounded once per call): one ldmatrix.x4 per
             * 16 x 8 tile, its four 8 x 4-float quarters landing as a0 (rows 0-7, k 0-3),
             * a1 (rows 8-15, k 0-3), a2 (rows 0-7, k 4-7), a3 (rows 8-15, k 4-7). */
            if constexpr (AH) {
                /* a0 (row g, k t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4) */
                const uint16_t *ash = (const uint16_t *)(As + (kt % CONV_STAGES) * BM * AS) + (wm * WM) * ASH;
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    const uint16_t *r = ash + (i * 16 + gq) * ASH + ks * 8 + tq;
                    af[i][0] = h_to_tf32(r[0]);
                    af[i][1] = h_to_tf32(r[8 * ASH]);
                    af[i][2] = h_to_tf32(r[4]);
                    af[i][3] = h_to_tf32(r[8 * ASH + 4]);
                }
            } else {
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    ldsm_x4(af[i], smem_u32(as + (i * 16 + lrow) * AS + ks * 8 + lcol));
                    if (a.w_raw)
#pragma unroll
                        for (int e = 0; e < 4; e++) af[i][e] = to_tf32(__uint_as_float(af[i][e]));
                }
            }
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const float *c = bs + (ks * 8 + tq) * BS + j * 8 + gq;
                bf[j][0] = to_tf32(c[0]);
                bf[j][1] = to_tf32(c[4 * BS]);
            }
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int j = 0; j < NT; j++) mma_tf32(acc[i][j], af[i], bf[j]);
        }
    }
    cp_async_wait<0>();

    /* Accumulator (i, j, e): row gq (+8 for e >= 2), column 2 tq (+1 for odd e). */
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int e2 = 0; e2 < 2; e2++) {
            const int m = m0 + wm * WM + i * 16 + gq + 8 * e2;
            if (m >= a.cout_g) continue;
            const int co = g * a.cout_g + m;
            const float bv = a.bias && !a.part ? a.bias[co] : 0.0f;
            float *prow = a.part ? a.part + ((int64_t)split * a.groups * a.cout_g + co) * a.npix : NULL;
#pragma unroll
            for (int j = 0; j < NT; j++)
#pragma unroll
                for (int e1 = 0; e1 < 2; e1++) {
                    const int pp = n0 + wn * WN + j * 8 + 2 * tq + e1;
                    if (pp >= a.npix) continue;
                    if (prow) {
                        prow[pp] = acc[i][j][2 * e2 + e1];
                        continue;
                    }
                    const int img = pp / a.ohw, rem = pp - img * a.ohw;
                    a.y[img * a.y_img + (int64_t)co * a.ohw + rem] = acc[i][j][2 * e2 + e1] + bv;
                }
        }
}

/* Direct F32 convolution, one thread per output: for groups with few output channels. */
__global__ void k_conv_direct(const struct conv_args a, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t img = i / a.y_img, r = i % a.y_img;
    const int co = (int)(r / a.ohw), pix = (int)(r % a.ohw);
    const int g = co / a.cout_g, oy = pix / a.ow, ox = pix % a.ow;
    const int iy0 = oy * a.sh - a.ph, ix0 = ox * a.sw - a.pw;
    const float *xg = a.x + img * a.x_img + (int64_t)g * a.cin_g * a.h * a.iw;
    const float *wc = a.w + (int64_t)co * a.kp;
    float s = a.bias ? a.bias[co] : 0.0f;
    for (int k = 0; k < a.k; k++) {
        const int4 t = __ldg(a.tab + k);
        const int iy = iy0 + t.y, ix = ix0 + t.z;
        if ((unsigned)iy < (unsigned)a.h && (unsigned)ix < (unsigned)a.iw) s = fmaf(wc[k], xg[t.x + iy0 * a.iw + ix0], s);
    }
    a.y[i] = s;
}

/* Split K: y = bias + the splits' partial sums, added in split order (deterministic). */
__global__ void k_conv_reduce(float *y, const float *part, const float *bias, int32_t splits, int64_t cout, int64_t npix, int64_t ohw) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= cout * npix) return;
    const int64_t co = i / npix, p = i % npix, img = p / ohw, rem = p % ohw;
    float s = bias ? bias[co] : 0.0f;
    for (int32_t sp = 0; sp < splits; sp++) s += part[sp * cout * npix + i];
    y[(img * cout + co) * ohw + rem] = s;
}

__global__ void k_conv_table(int4 *tab, int32_t k, int32_t kh, int32_t kw, int32_t h, int32_t w, int32_t dh, int32_t dw) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= k) return;
    const int ci = i / (kh * kw), r = i % (kh * kw), ky = r / kw, kx = r % kw;
    tab[i] = make_int4(ci * h * w + ky * dh * w + kx * dw, ky * dh, kx * dw, r);
}

/* Weights [cout][k] (F32 or F16) into [cout][kp] F32, zero beyond k; rounded to TF32 for
 * the tensor-core path (then every fragment is ready as loaded), exact for the direct one. */
__global__ void k_conv_weights(float *dst, const void *src, int32_t f16, int64_t cout, int64_t k, int64_t kp, int32_t tf32) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= cout * kp) return;
    const int64_t co = i / kp, j = i % kp;
    float v = 0.0f;
    if (j < k) v = f16 ? tsc_h2f(((const uint16_t *)src)[co * k + j]) : ((const float *)src)[co * k + j];
    dst[i] = tf32 ? __uint_as_float(to_tf32(v)) : v;
}

/* Which kernel runs a convolution: the direct one, or the tensor-core one with its tile,
 * gather mode and K split. force: TSC_CONV_TILE's value or NULL. */
struct conv_choice {
    int direct;   /* k_conv_direct */
    int w_raw;    /* the caller's F32 weights are used as they are (no converted copy) */
    int w_half;   /* the caller's F16 weights are used as they are (AH kernels) */
    int64_t kp;   /* weight row stride in floats */
    int64_t splits, kt_split;
    int mode;     /* GATHER_* */
    int bm, bn;   /* block tile: 64 x 64, 64 x 128, 128 x 128 or 128 x 256 */
};

static struct conv_choice conv_choose(const char *force, int64_t sm_count, int64_t npix, int64_t cout, int64_t cout_g, int64_t groups,
                                      int64_t k, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t ohw,
                                      int x_aligned16, int w_f32, int w_aligned16, int w_f16) {
    struct conv_choice ch;
    if (force && !*force) force = NULL;
    ch.direct = cout_g <= 8 || groups > 65535 || (force && strcmp(force, "direct") == 0);
    /* F32 weights need no converted copy (a pass over all of them per call) when the kernel
     * can read them in place: always for the direct kernel, for the tensor-core one when the
     * rows are whole 16-byte chunks (it then rounds the A fragments itself). */
    ch.w_raw = w_f32 && (ch.direct || (k % 4 == 0 && w_aligned16));
    /* F16 in place costs 4 shared loads and widenings per A fragment where F32 takes one
     * ldmatrix; the copy costs a pass over the weights (6 bytes each), about 120 / npix of
     * the products' time at ~100 TFLOP/s: in place only where that pass would matter. */
    ch.w_half = w_f16 && !ch.direct && k % 8 == 0 && w_aligned16 && npix <= 1024;
    ch.kp = ch.direct || ch.w_raw || ch.w_half ? k : (k + 3) / 4 * 4;
    /* Split K when even 64 x 64 tiles leave most SMs idle and K is deep (SD's 8x8 and
     * 16x16 levels: 64-256 pixels, K up to 11520): each split's blocks write partial sums,
     * one more kernel adds them. Splits keep >= 8 k-tiles each. */
    const int64_t kt_total = (k + CONV_BK - 1) / CONV_BK;
    const int64_t small = (npix + 63) / 64 * ((cout_g + 63) / 64) * groups;
    ch.splits = 1;
    if (!ch.direct && force && strcmp(force, "split") == 0) {
        ch.splits = kt_total < 4 ? kt_total : 4;
    } else if (!ch.direct && !force && small < sm_count && kt_total >= 16) {
        ch.splits = (2 * sm_count + small - 1) / small;
        if (ch.splits > kt_total / 8) ch.splits = kt_total / 8;
        if (ch.splits > 32) ch.splits = 32;
    }
    if (ch.splits < 1 || ch.splits * groups > 65535 || (double)ch.splits * (double)cout * (double)npix * 4.0 > (double)(256 << 20))
        ch.splits = 1;
    ch.kt_split = (kt_total + ch.splits - 1) / ch.splits;
    ch.splits = (kt_total + ch.kt_split - 1) / ch.kt_split;
    ch.mode = GATHER_BOUNDS;
    if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && ohw % 4 == 0 && x_aligned16) ch.mode = GATHER_VEC;
    else if (ph == 0 && pw == 0) ch.mode = GATHER_NOPAD;
    else if (kh * kw <= 32) ch.mode = GATHER_MASK;
    /* Bigger tiles reuse each shared-memory fragment more (the limit of this kernel: per
     * mma, 64 x 64 tiles read 3 wavefronts of shared memory, 64 x 128 2, 128 x 128 1.5,
     * 128 x 256 1) but need enough blocks: 128 x 256 (one block per SM) when its waves are
     * >= 85% full, the others at >= one block per SM. */
    const int64_t huge = (npix + 255) / 256 * ((cout_g + 127) / 128) * groups;
    const int64_t big = (npix + 127) / 128 * ((cout_g + 127) / 128) * groups;
    const int64_t mid = (npix + 127) / 128 * ((cout_g + 63) / 64) * groups;
    const int64_t huge_waves = (huge + sm_count - 1) / sm_count;
    ch.bm = 64, ch.bn = 64;
    if (force) {
        if (strcmp(force, "256") == 0) ch.bm = 128, ch.bn = 256;
        else if (strcmp(force, "128") == 0) ch.bm = 128, ch.bn = 128;
        else if (strcmp(force, "64x128") == 0) ch.bm = 64, ch.bn = 128;
    } else if (huge >= sm_count && (double)huge >= 0.85 * (double)(huge_waves * sm_count)) {
        ch.bm = 128, ch.bn = 256;
    } else if (big >= sm_count) {
        ch.bm = 128, ch.bn = 128;
    } else if (mid >= sm_count) {
        ch.bm = 64, ch.bn = 128;
    }
    if (ch.splits > 1) ch.bm = 64, ch.bn = 64;
    return ch;
}

template <int BM, int BN> static size_t conv_smem() {
    return (size_t)CONV_STAGES * (BM * (CONV_BK + CONV_APAD) + CONV_BK * (BN + CONV_BPAD)) * sizeof(float);
}

#if !defined(TSC_EMU) || defined(TSC_EMU_LIBRARY) /* host code */

template <int BM, int BN, int MODE, bool AH>
static int32_t launch_mma(struct tsc_context *c, const struct conv_args &a, int64_t groups) {
    const size_t smem = conv_smem<BM, BN>();
    cudaError_t e = cudaFuncSetAttribute(k_conv_mma<BM, BN, MODE, AH>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return tsc_cuda_status(e, "tsc_conv2d: shared memory");
    const dim3 grid((unsigned)tsc_cdiv(a.npix, BN), (unsigned)tsc_cdiv(a.cout_g, BM), (unsigned)groups);
    TSC_LAUNCH(grid, CONV_THREADS, smem, c->stream, k_conv_mma<BM, BN, MODE, AH>)(a);
    return tsc_launch_status("tsc_conv2d");
}

template <int BM, int BN, bool AH> static int32_t launch_modes(struct tsc_context *c, const struct conv_args &a, int64_t groups, int mode) {
    switch (mode) {
    case GATHER_VEC: return launch_mma<BM, BN, GATHER_VEC, AH>(c, a, groups);
    case GATHER_NOPAD: return launch_mma<BM, BN, GATHER_NOPAD, AH>(c, a, groups);
    case GATHER_MASK: return launch_mma<BM, BN, GATHER_MASK, AH>(c, a, groups);
    default: return launch_mma<BM, BN, GATHER_BOUNDS, AH>(c, a, groups);
    }
}

template <int BM, int BN> static int32_t launch_tiles(struct tsc_context *c, const struct conv_args &a, int64_t groups, int mode) {
    return a.wh ? launch_modes<BM, BN, true>(c, a, groups, mode) : launch_modes<BM, BN, false>(c, a, groups, mode);
}

static int mul_ok(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out) && *out < ((int64_t)1 << 60); }

extern "C" TS_API int32_t tsc_conv2d(void *ctx, float *y, const float *x, const void *w, int32_t w_type, const float *bias, int64_t n,
                                     int64_t cin, int64_t h, int64_t width, int64_t cout, int64_t kh, int64_t kw, int32_t stride_h,
                                     int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
    const char *fn = "tsc_conv2d";
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, fn, &c);
    if (st) return st;
    /* The CPU op's checks and messages (ts_conv.c conv_plan_make). */
    if (w_type != TS_TYPE_F32 && w_type != TS_TYPE_F16)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "%s: weight type %d is not supported (F32 or F16)", fn, (int)w_type);
    if (n < 0 || cin < 1 || h < 1 || width < 1 || cout < 1 || kh < 1 || kw < 1)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: bad sizes n=%lld cin=%lld h=%lld w=%lld cout=%lld kernel %lldx%lld", fn,
                             (long long)n, (long long)cin, (long long)h, (long long)width, (long long)cout, (long long)kh,
                             (long long)kw);
    const int64_t sh = stride_h, sw = stride_w, ph = pad_h, pw = pad_w, dh = dil_h, dw = dil_w;
    if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || ph < 0 || pw < 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: stride %lldx%lld and dilation %lldx%lld must be >= 1, padding %lldx%lld >= 0",
                             fn, (long long)sh, (long long)sw, (long long)dh, (long long)dw, (long long)ph, (long long)pw);
    if (groups < 1 || cin % groups != 0 || cout % groups != 0)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: groups %lld must divide cin %lld and cout %lld", fn, (long long)groups,
                             (long long)cin, (long long)cout);
    int64_t t1, t2;
    if (!mul_ok(dh, kh - 1, &t1) || !mul_ok(dw, kw - 1, &t2) || h > ((int64_t)1 << 40) || width > ((int64_t)1 << 40))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: sizes overflow", fn);
    const int64_t eh = h + 2 * ph - t1, ew = width + 2 * pw - t2;
    if (eh < 1 || ew < 1)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: the dilated kernel (%lldx%lld) is larger than the padded input (%lldx%lld)",
                             fn, (long long)(t1 + 1), (long long)(t2 + 1), (long long)(h + 2 * ph), (long long)(width + 2 * pw));
    const int64_t oh = (eh - 1) / sh + 1, ow = (ew - 1) / sw + 1;
    const int64_t cin_g = cin / groups, cout_g = cout / groups;
    int64_t ohw, k, x_img, y_img, npix, wn;
    if (!mul_ok(oh, ow, &ohw) || !mul_ok(cin_g * kh, kw, &k) || !mul_ok(cin * h, width, &x_img) || !mul_ok(cout, ohw, &y_img) ||
        !mul_ok(n, ohw, &npix) || !mul_ok(cout, k, &wn))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: sizes overflow", fn);
    if (n == 0) return TS_OK;
    if (y == NULL || x == NULL || w == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: null pointer", fn);
    /* 32-bit offsets inside one image (the batch offset is 64-bit). */
    const int64_t lim = (int64_t)1 << 31;
    if (x_img >= lim || y_img >= lim || npix >= lim || k >= lim - 4 || ph >= lim || pw >= lim ||
        (double)(h + 2 * ph) * (double)(width + 2 * pw) * (double)cin_g >= (double)lim)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "%s: an image of %lld input or %lld output floats exceeds 2^31", fn, (long long)x_img,
                             (long long)y_img);
    if (((uintptr_t)y & 3) || ((uintptr_t)x & 3) || ((uintptr_t)bias & 3) || ((uintptr_t)w & (w_type == TS_TYPE_F32 ? 3 : 1)))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: misaligned pointer", fn);

    /* TSC_CONV_TILE (tests, tuning) forces a kernel: "direct", "64" (64 x 64 tiles),
     * "64x128", "128" (128 x 128), "256" (128 x 256) or "split" (64 x 64 tiles, K split in 4
     * where it has >= 4 k-tiles). */
    const struct conv_choice ch = conv_choose(getenv("TSC_CONV_TILE"), c->sm_count, npix, cout, cout_g, groups, k, kh, kw, sh, sw, ph, pw,
                                              ohw, ((uintptr_t)x & 15) == 0, w_type == TS_TYPE_F32, ((uintptr_t)w & 15) == 0,
                                              w_type == TS_TYPE_F16);
    const bool direct = ch.direct;
    const int64_t splits = ch.splits, kt_split = ch.kt_split, kp = ch.kp;

    /* Scratch: the tap table, the weights as F32 rows of kp floats (unless used in place), the
     * split partial sums. */
    const int64_t tab_bytes = tsc_cdiv(k * 16, 256) * 256, w_bytes = ch.w_raw || ch.w_half ? 0 : tsc_cdiv(cout * kp * 4, 256) * 256;
    const int64_t part_bytes = splits > 1 ? splits * cout * npix * 4 : 0;
    void *scratch;
    st = tsc_scratch(c, tab_bytes + w_bytes + part_bytes, &scratch);
    if (st) return st;
    int4 *tab = (int4 *)scratch;
    /* with w_half, a.w is not read (the AH kernels read a.wh) */
    const float *wf = ch.w_raw || ch.w_half ? (const float *)w : (const float *)((char *)scratch + tab_bytes);
    float *part = splits > 1 ? (float *)((char *)scratch + tab_bytes + w_bytes) : NULL;
    TSC_LAUNCH((unsigned)tsc_cdiv(k, 256), 256, 0, c->stream, k_conv_table)(tab, (int32_t)k, (int32_t)kh, (int32_t)kw, (int32_t)h,
                                                                    (int32_t)width, (int32_t)dh, (int32_t)dw);
    if (!ch.w_raw && !ch.w_half)
        TSC_LAUNCH((unsigned)tsc_cdiv(cout * kp, 256), 256, 0, c->stream, k_conv_weights)((float *)wf, w, w_type == TS_TYPE_F16, cout, k, kp,
                                                                                !direct);
    st = tsc_launch_status(fn);
    if (!st) {
        struct conv_args a;
        a.x = x, a.w = wf, a.bias = bias, a.y = y, a.tab = tab;
        a.h = (int32_t)h, a.iw = (int32_t)width, a.ow = (int32_t)ow, a.ohw = (int32_t)ohw;
        a.sh = (int32_t)sh, a.sw = (int32_t)sw, a.ph = (int32_t)ph, a.pw = (int32_t)pw;
        a.cin_g = (int32_t)cin_g, a.cout_g = (int32_t)cout_g, a.k = (int32_t)k, a.npix = (int32_t)npix;
        a.kp = (int32_t)kp, a.x_img = x_img, a.y_img = y_img;
        a.kh = (int32_t)kh, a.kw = (int32_t)kw, a.dh = (int32_t)dh, a.dw = (int32_t)dw;
        a.groups = (int32_t)groups, a.kt_split = (int32_t)kt_split, a.part = part, a.w_raw = ch.w_raw && !direct;
        a.wh = ch.w_half ? (const uint16_t *)w : NULL;
        if (direct) {
            const int64_t total = n * y_img;
            TSC_LAUNCH((unsigned)tsc_cdiv(total, 256), 256, 0, c->stream, k_conv_direct)(a, total);
            st = tsc_launch_status(fn);
        } else {
            const int mode = ch.mode;
            if (splits > 1) st = launch_tiles<64, 64>(c, a, groups * splits, mode);
            else if (ch.bn == 256) st = launch_tiles<128, 256>(c, a, groups, mode);
            else if (ch.bm == 128) st = launch_tiles<128, 128>(c, a, groups, mode);
            else if (ch.bn == 128) st = launch_tiles<64, 128>(c, a, groups, mode);
            else st = launch_tiles<64, 64>(c, a, groups, mode);
            if (!st && splits > 1) {
                TSC_LAUNCH((unsigned)tsc_cdiv(cout * npix, 256), 256, 0, c->stream, k_conv_reduce)(y, part, bias, (int32_t)splits, cout, npix, ohw);
                st = tsc_launch_status(fn);
            }
        }
    }
    int32_t st2 = tsc_pool_free(c, scratch);
    return st ? st : st2;
}
#endif /* host code */
