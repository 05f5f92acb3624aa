/*
 * tsc_device.cuh — device-side helpers the kernels share (internal): GGUF block structs,
 * half conversions, warp reductions, dynamic shared memory.
 *
 * With TSC_EMU defined, native/cuda/emu/cuda_emu.h has already supplied the CUDA built-ins
 * on the host, and the kernel files compile as C++ for the CPU emulator (their host entry
 * points and PTX helpers are left out there).
 */
#ifndef TSC_DEVICE_CUH
#define TSC_DEVICE_CUH

#include <stdint.h>

#include "tessera.h"

#ifdef TSC_EMU
#define TSC_DYN_SMEM(type, name, align) type *name = (type *)tsc_emu_smem()
#else
#include <cuda_fp16.h>
/* The kernel's dynamic shared memory as an array of type, aligned to align bytes. */
#define TSC_DYN_SMEM(type, name, align) extern __shared__ __align__(align) type name[]
#endif

/* Q8_0 / Q4_0 blocks as GGUF stores them: 2-byte aligned (18 and 34 bytes). */
struct tsc_block_q8_0 {
    uint16_t d;
    int8_t qs[32];
};
struct tsc_block_q4_0 {
    uint16_t d;
    uint8_t qs[16];
};
static_assert(sizeof(struct tsc_block_q8_0) == 34, "q8_0 block");
static_assert(sizeof(struct tsc_block_q4_0) == 18, "q4_0 block");

#ifdef TSC_EMU
static inline float tsc_h2f(uint16_t h) { return tsc_emu_h2f(h); }
static inline uint16_t tsc_f2h(float f) { return tsc_emu_f2h(f); }
#else
static __device__ __forceinline__ float tsc_h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
static __device__ __forceinline__ uint16_t tsc_f2h(float f) { return __half_as_ushort(__float2half_rn(f)); }
#endif

static __device__ __forceinline__ float tsc_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
static __device__ __forceinline__ float tsc_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

static inline int64_t tsc_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

#endif /* TSC_DEVICE_CUH */
