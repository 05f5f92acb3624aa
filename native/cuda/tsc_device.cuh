/*
 * tsc_device.cuh — device-side helpers the kernels share (internal): GGUF block structs,
 * half conversions, warp reductions, dynamic shared memory, programmatic dependent launch,
 * the activation quantizer of the quantized matmul.
 *
 * With TSC_EMU defined, native/cuda/emu/cuda_emu.h has already supplied the CUDA built-ins
 * on the host, and the kernel files compile as C++ for the CPU emulator (their host entry
 * points and PTX helpers are left out there).
 */
#ifndef TSC_DEVICE_CUH
#define TSC_DEVICE_CUH

#include <float.h>
#include <math.h>
#include <stdint.h>

#include "tessera.h"

#ifdef TSC_EMU
#define TSC_DYN_SMEM(type, name, align) type *name = (type *)tsc_emu_smem()
#else /* emu/cuda_emu.h supplies the half and bfloat16 conversions */
#include <cuda_bf16.h>
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

/* v stored as type (TS_TYPE_F32, F16 or BF16) bit-identically to the CPU's conversions
 * (ts_fp16.h): round to nearest even, NaN quieted with its top payload bits kept (the
 * intrinsics would return a canonical NaN). */
static __device__ __forceinline__ void tsc_store_as(char *p, int32_t type, float v) {
    const uint32_t x = __float_as_uint(v);
    const int nan = (x & 0x7fffffffu) > 0x7f800000u;
    if (type == TS_TYPE_F16)
        *(uint16_t *)p = nan ? (uint16_t)(((x >> 16) & 0x8000u) | 0x7e00u | (((x & 0x7fffffffu) >> 13) & 0x3ffu))
                             : __half_as_ushort(__float2half_rn(v));
    else if (type == TS_TYPE_BF16)
        *(uint16_t *)p = nan ? (uint16_t)((x >> 16) | 0x0040u) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
    else
        *(float *)p = v;
}

/* The activations of tsc_activation and tsc_glu (TS_ACT_*), one formula for every kernel that
 * applies them, so fused and separate kernels give the same bits. */
static __device__ __forceinline__ float tsc_act(int act, float x) {
    switch (act) {
    case TS_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case TS_ACT_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case TS_ACT_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    default: return x / (1.0f + expf(-x)); /* TS_ACT_SILU */
    }
}

/* One finisher of `count` taking its ticket (called by one thread after its group's results
 * are stored): whether it is the last, the one that may then read them all (after another
 * __threadfence). The threadfence-reduction pattern: each finisher's stores are made visible
 * device-wide before it counts; the last one resets the counter for the next kernel, with an
 * atomic as every other access to it is (a plain store would race with the others' adds in
 * the PTX memory model: ci/emu-racecheck.sh). */
static __device__ __forceinline__ bool tsc_ticket_last(uint32_t *ticket, uint32_t count) {
    __threadfence();
    const bool last = atomicAdd(ticket, 1u) == count - 1;
    if (last) atomicExch(ticket, 0u);
    return last;
}

static __device__ __forceinline__ float tsc_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
static __device__ __forceinline__ float tsc_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

static inline int64_t tsc_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* The CPU's ts_q8_block for one block of 32 held one element per lane (all 32 lanes call it
 * with their x): returns the lane's quant and, in *d_out, the block's float scale d. amax
 * follows the CPU's sequential `amax > a ? amax : a` exactly, NaN included: a NaN replaces
 * amax and the next element replaces the NaN, so amax is the largest |x| after the last NaN
 * (that NaN itself when it is the last element). */
static __device__ __forceinline__ int8_t q8_lane(float xv, float *d_out) {
    const float a = fabsf(xv);
    const unsigned nan = __ballot_sync(0xffffffffu, a != a);
    const int lane = (int)(threadIdx.x & 31);
    const int last = nan ? 31 - __clz((int)nan) : -1;
    float m = lane > last ? a : 0.0f;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    const float a31 = __shfl_sync(0xffffffffu, a, 31);
    const float amax = last == 31 ? a31 : m;
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    *d_out = d;
    return id <= FLT_MAX ? (int8_t)(int)roundf(__fmul_rn(xv, id)) : (int8_t)0;
}

/* Q8_0 activations beside the int8 quants, one per block of 32: the float scale d (rounded
 * through half) and the sums of the block's two halves of 16 quants (int16 each, the first
 * half in the low bits), which give the dots their level offsets and min terms without a
 * per-byte step. 8 bytes, one load. */
struct __align__(8) tsc_xs {
    float d;
    int32_t sums;
};

/* Quantizes one block of 32 values held one per lane (all 32 lanes call it) into the split
 * layout the dot kernels read: quants at xq[b * 32 + lane], scale and half sums at xs[b]. */
static __device__ __forceinline__ void tsc_q8_split_store(float v, int8_t *xq, tsc_xs *xs, int64_t b) {
    const int lane = (int)(threadIdx.x & 31);
    float d;
    const int8_t q = q8_lane(v, &d);
    xq[b * 32 + lane] = q;
    int sum = q; /* over each half of 16 lanes: |sum| <= 2032 fits 16 bits */
#pragma unroll
    for (int o = 8; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const int hi = __shfl_sync(0xffffffffu, sum, 16);
    if (lane == 0) xs[b] = tsc_xs{tsc_h2f(tsc_f2h(d)), (int32_t)(((uint32_t)sum & 0xffffu) | ((uint32_t)hi << 16))};
}

/* Bytes of the split Q8_0 activations of m rows of k (k a multiple of 32): the quants, then
 * from *xs_off (256-byte aligned) one tsc_xs per block. */
static inline int64_t tsc_xq_bytes(int64_t k, int64_t m, int64_t *xs_off) {
    *xs_off = (m * k + 255) / 256 * 256;
    return *xs_off + m * (k / 32) * (int64_t)sizeof(struct tsc_xs);
}

/* Programmatic dependent launch (sm_90; tsc_launch_pdl in tsc_internal.cuh): a kernel launched
 * with it may start while the kernel before it on the stream is still running, so it must
 * execute pdl_wait() before it reads anything an earlier kernel wrote or writes anything an
 * earlier kernel may still read. pdl_trigger() lets the next kernel start early. Both are
 * no-ops when the kernel was launched normally, and compiled out below sm_90; the emulator
 * counts the waits (a kernel launched this way that never waits aborts there), and its race
 * check lets the next kernel overlap this one only after a trigger. */
#ifdef TSC_EMU
static inline void pdl_wait() { tsc_emu_pdl_wait(); }
static inline void pdl_trigger() { tsc_emu_pdl_trigger(); }
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
