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

/* Programmatic dependent launch (sm_90; tsc_launch_pdl in tsc_internal.cuh): a kernel launched
 * with it may start while the kernel before it on the stream is still running, so it must
 * execute pdl_wait() before it reads anything an earlier kernel wrote or writes anything an
 * earlier kernel may still read. pdl_trigger() lets the next kernel start early. Both are
 * no-ops when the kernel was launched normally, and compiled out below sm_90; the emulator
 * counts the waits (a kernel launched this way that never waits aborts there). */
#ifdef TSC_EMU
static inline void pdl_wait() { tsc_emu_pdl_wait(); }
static inline void pdl_trigger() {}
#else
static __device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
static __device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
#endif
/* The first statement of a small kernel launched with tsc_launch_pdl: the next kernel may be
 * scheduled now (its blocks wait in their own pdl_wait), and nothing is touched before the
 * kernels before this one are done. What is gained is their launch latency, not overlap of work. */
static __device__ __forceinline__ void tsc_pdl_enter() {
    pdl_trigger();
    pdl_wait();
}

#endif /* TSC_DEVICE_CUH */
