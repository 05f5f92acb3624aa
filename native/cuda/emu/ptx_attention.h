/*
 * ptx_attention.h — the PTX helpers tsc_attention.cu leaves out under TSC_EMU, on cuda_emu.h (shared by
 * attention_emu and the emulated library, emu/lib/).
 */
#ifndef TSC_EMU_PTX_ATTENTION_H
#define TSC_EMU_PTX_ATTENTION_H

#include "cuda_emu.h"

static inline uint32_t tsc_smem_addr(const void *p) { return __cvta_generic_to_shared(p); }
static inline void tsc_cp16(void *dst, const void *src) { emu_cp_async(tsc_smem_addr(dst), src, 16, 16); }
static inline void tsc_cp_commit() { emu_cp_commit(); }
template <int N> static inline void tsc_cp_wait() { emu_cp_wait(N); }
static inline void tsc_ldsm_x4(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) {
    emu_ldmatrix_x4(addr, r0, r1, r2, r3);
}
static inline void tsc_ldsm_x4_t(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) {
    emu_ldmatrix_x4(addr, r0, r1, r2, r3, true);
}
static inline void tsc_mma16816(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    const uint32_t b[2] = {b0, b1};
    float acc[4];
    memcpy(acc, c, 16);
    emu_mma_f16(c, a, b, acc);
}
static inline float tsc_exp2(float x) { /* ex2.approx.ftz: subnormal results flush to zero */
    const float y = exp2f(x);
    return y < 1.17549435e-38f ? 0.0f : y;
}

#endif /* TSC_EMU_PTX_ATTENTION_H */
