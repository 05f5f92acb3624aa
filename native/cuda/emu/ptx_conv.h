/*
 * ptx_conv.h — the PTX helpers tsc_conv.cu leaves out under TSC_EMU, on cuda_emu.h (shared by
 * conv_emu and the emulated library, emu/lib/).
 */
#ifndef TSC_EMU_PTX_CONV_H
#define TSC_EMU_PTX_CONV_H

#include "cuda_emu.h"

static inline uint32_t smem_u32(const void *p) { return __cvta_generic_to_shared(p); }
static inline void cp_async4(uint32_t dst, const void *src, int n) { emu_cp_async(dst, src, 4, n); }
static inline void cp_async16(uint32_t dst, const void *src, int n) { emu_cp_async(dst, src, 16, n); }
static inline void cp_async_commit() { emu_cp_commit(); }
template <int N> static inline void cp_async_wait() { emu_cp_wait(N); }
static inline uint32_t h_to_tf32(uint16_t h) { return __float_as_uint(tsc_emu_h2f(h)); }
static inline uint32_t to_tf32(float f) { /* cvt.rna: nearest, ties away from zero */
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7f800000u) != 0x7f800000u) u += 0x1000u;
    return u & 0xffffe000u;
}

struct warp_x {
    uint32_t a[32][4], b[32][2];
    float c[32][4];
};
static warp_x g_wx[32];

static void ldsm_x4(uint32_t *r, uint32_t addr) { emu_ldmatrix_x4(addr, r); }

static void mma_tf32(float *d, const uint32_t *a, const uint32_t *b) {
    emu_quiet q;
    const int lane = emu_lane(), g = lane / 4, t = lane % 4;
    warp_x &w = g_wx[g_cur >> 5];
    memcpy(w.a[lane], a, 16);
    memcpy(w.b[lane], b, 8);
    memcpy(w.c[lane], d, 16);
    emu_warp_sync();
    float out[4];
    for (int e = 0; e < 4; e++) {
        const int row = g + 8 * (e >> 1), col = 2 * t + (e & 1);
        double s = w.c[lane][e];
        for (int k = 0; k < 8; k++) {
            const uint32_t av = w.a[(row % 8) * 4 + k % 4][(row >= 8) + 2 * (k >= 4)] & 0xffffe000u;
            const uint32_t bv = w.b[col * 4 + k % 4][k >= 4] & 0xffffe000u;
            s += (double)__uint_as_float(av) * (double)__uint_as_float(bv);
        }
        out[e] = (float)s;
    }
    emu_warp_sync();
    memcpy(d, out, 16);
}

#endif /* TSC_EMU_PTX_CONV_H */
