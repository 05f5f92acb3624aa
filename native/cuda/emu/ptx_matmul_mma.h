/*
 * ptx_matmul_mma.h — the PTX helpers tsc_matmul_mma.cu leaves out under TSC_EMU, on cuda_emu.h (shared by
 * mma_emu and the emulated library, emu/lib/).
 */
#ifndef TSC_EMU_PTX_MATMUL_MMA_H
#define TSC_EMU_PTX_MATMUL_MMA_H

#include "cuda_emu.h"

static inline uint32_t smem_u32(const void *p) { return __cvta_generic_to_shared(p); }
static inline void cp16(uint32_t dst, const void *src) { emu_cp_async(dst, src, 16, 16); }
static inline void cp16_zfill(uint32_t dst, const void *src, int src_bytes) { emu_cp_async(dst, src, 16, src_bytes); }
static inline void cp8(uint32_t dst, const void *src) { emu_cp_async(dst, src, 8, 8); }
static inline void cp_commit() { emu_cp_commit(); }
template <int N> static inline void cp_wait() { emu_cp_wait(N); }
static inline void ldsm_x4(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) { emu_ldmatrix_x4(addr, r0, r1, r2, r3); }

static void mma_s8(int32_t *d, const uint32_t *a, const uint32_t *b) { emu_mma_s8(d, a, b, 0x4B400000); /* MMA_MAGIC */ }
static void mma_s8_k16(int32_t *d, uint32_t a0, uint32_t a1, uint32_t b0) {
    const uint32_t a[4] = {a0, a1, 0, 0}, b[2] = {b0, 0};
    emu_mma_s8(d, a, b, 0x4B400000, 16);
}
static void mma_f16(float *acc, const uint32_t *a, const uint32_t *b) {
    float c[4];
    memcpy(c, acc, 16);
    emu_mma_f16(acc, a, b, c);
}
static void mma_f16_z(float *d, const uint32_t *a, const uint32_t *b) { emu_mma_f16(d, a, b, NULL); }
static void mma_bf16(float *acc, const uint32_t *a, const uint32_t *b) {
    float c[4];
    memcpy(c, acc, 16);
    emu_mma_f16(acc, a, b, c, true);
}
static void mma_bf16_z(float *d, const uint32_t *a, const uint32_t *b) { emu_mma_f16(d, a, b, NULL, true); }

#endif /* TSC_EMU_PTX_MATMUL_MMA_H */
