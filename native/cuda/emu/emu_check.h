/*
 * emu_check.h — what the *_emu.cpp programs share to check kernels against the CPU library:
 * its internal quant header, random inputs, aligned buffers and output fingerprints.
 */
#ifndef TSC_EMU_CHECK_H
#define TSC_EMU_CHECK_H

#include <cstdint>
#include <cstring>
#include <vector>

#define _Static_assert static_assert /* ts_quants.h is C11 */
extern "C" {
#include "ts_quants.h"
}

static uint64_t g_rng = 1;
static inline void emu_seed(uint64_t s) { g_rng = s; }
/* Irwin-Hall(4) from xorshift64, scaled to variance 1: deterministic test data. */
static inline float randn() {
    float s = 0;
    for (int i = 0; i < 4; i++) {
        g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
        s += (float)(g_rng >> 40) / (float)(1 << 24);
    }
    return (s - 2.0f) * 1.7320508f;
}

/* Fingerprint of a result's bits, printed with each case: a kernel change meant to keep the
 * arithmetic must keep it (compare the output of two builds). */
static inline uint32_t fnv1a(const void *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)p)[i]) * 16777619u;
    return h;
}

/* bytes (zeroed) at a 16-byte boundary inside buf. */
template <class T> static T *align16(std::vector<char> &buf, size_t bytes) {
    std::vector<char>(bytes + 64).swap(buf); /* zeroed (assign() draws a false -Wnonnull from gcc 12) */
    return (T *)(((uintptr_t)buf.data() + 15) & ~(uintptr_t)15);
}

#endif /* TSC_EMU_CHECK_H */
