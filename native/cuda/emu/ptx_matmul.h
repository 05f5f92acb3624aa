/*
 * ptx_matmul.h — the PTX helpers tsc_matmul.cu leaves out under TSC_EMU, on cuda_emu.h (shared by
 * matmul_emu and the emulated library, emu/lib/).
 */
#ifndef TSC_EMU_PTX_MATMUL_H
#define TSC_EMU_PTX_MATMUL_H

#include "cuda_emu.h"

static inline void cp_async16(void *smem, const void *gmem) { emu_cp_async(__cvta_generic_to_shared(smem), gmem, 16, 16); }
static inline void cp_async_commit() { emu_cp_commit(); }
static inline void cp_async_wait(int n) { emu_cp_wait(n); }

#endif /* TSC_EMU_PTX_MATMUL_H */
