/*
 * ts_cpu.c — what the CPU and the OS let us run.
 *
 * x86: cpuid says what the silicon has, but AVX/AVX-512/AMX registers are only usable
 * when the OS saves them on context switch, which XCR0 (read with xgetbv) reports. AMX
 * additionally needs a per-process permission from Linux (arch_prctl
 * ARCH_REQ_XCOMP_PERM); without it the first tile instruction raises SIGILL, so AMX is
 * only offered when that request succeeds.
 * AArch64: the kernel reports features in AT_HWCAP.
 */
#include "ts_cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tessera.h"

#if defined(__x86_64__) || defined(__i386__)
#define TS_X86 1
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#define TS_ARM64 1
#include <sys/auxv.h>
#endif

#if defined(TS_X86)
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    /* Raw encoding of xgetbv so no -mxsave is needed for this file. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int amx_request_permission(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
    /* ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18. Kernels before 5.16 do
     * not know it and fail: then AMX is simply not offered. */
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return 0;
#endif
}

static uint64_t detect(void) {
    uint32_t a, b, c, d;
    uint64_t f = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    uint32_t max_leaf = a;
    __cpuid(1, a, b, c, d);
    uint32_t ecx1 = c;
    if (ecx1 & (1u << 0)) f |= TS_CPU_SSE3;

    int osxsave = (ecx1 >> 27) & 1;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int ymm_ok = (xcr0 & 0x6) == 0x6;             /* SSE + AVX state */
    int zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    int tile_ok = (xcr0 & 0x60000) == 0x60000;    /* XTILECFG + XTILEDATA */

    if (ymm_ok) {
        if (ecx1 & (1u << 28)) f |= TS_CPU_AVX;
        if (ecx1 & (1u << 12)) f |= TS_CPU_FMA;
        if (ecx1 & (1u << 29)) f |= TS_CPU_F16C;
    }
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        uint32_t ebx7 = b, ecx7 = c, edx7 = d;
        uint32_t eax71 = 0;
        if (a >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            eax71 = a;
        }
        if (ymm_ok) {
            if (ebx7 & (1u << 5)) f |= TS_CPU_AVX2;
            if (eax71 & (1u << 4)) f |= TS_CPU_AVXVNNI;
        }
        if (zmm_ok) {
            if (ebx7 & (1u << 16)) f |= TS_CPU_AVX512F;
            if (ebx7 & (1u << 17)) f |= TS_CPU_X_AVX512DQ;
            if (ebx7 & (1u << 30)) f |= TS_CPU_AVX512BW;
            if (ebx7 & (1u << 31)) f |= TS_CPU_AVX512VL;
            if (ecx7 & (1u << 11)) f |= TS_CPU_AVX512VNNI;
            if (eax71 & (1u << 5)) f |= TS_CPU_AVX512BF16;
            if (edx7 & (1u << 23)) f |= TS_CPU_AVX512FP16;
        }
        if (tile_ok) {
            if (edx7 & (1u << 24)) f |= TS_CPU_AMX_TILE;
            if (edx7 & (1u << 25)) f |= TS_CPU_AMX_INT8;
            if (edx7 & (1u << 22)) f |= TS_CPU_AMX_BF16;
            if ((f & TS_CPU_AMX_TILE) && amx_request_permission()) f |= TS_CPU_AMX_PERMITTED;
        }
    }
    return f;
}
#elif defined(TS_ARM64)
static uint64_t detect(void) {
    unsigned long hw = getauxval(AT_HWCAP);
    uint64_t f = 0;
    /* Bit numbers of the Linux arm64 ABI (asm/hwcap.h), spelled out so the file does not
     * depend on kernel headers of the cross toolchain. */
    if (hw & (1ul << 1)) f |= TS_CPU_NEON;        /* HWCAP_ASIMD */
    if (hw & (1ul << 10)) f |= TS_CPU_FP16_ARITH; /* HWCAP_ASIMDHP */
    if (hw & (1ul << 20)) f |= TS_CPU_DOTPROD;    /* HWCAP_ASIMDDP */
    return f;
}
#else
static uint64_t detect(void) { return 0; }
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint64_t g_features;

static void detect_once(void) { g_features = detect(); }

uint64_t ts_cpu_detect(void) {
    pthread_once(&g_once, detect_once);
    return g_features;
}

int ts_cpu_level_ok(int32_t isa, uint64_t f) {
#if defined(TS_X86)
    const uint64_t avx2 = TS_CPU_AVX | TS_CPU_AVX2 | TS_CPU_FMA | TS_CPU_F16C;
    const uint64_t avx512 = avx2 | TS_CPU_AVX512F | TS_CPU_AVX512BW | TS_CPU_AVX512VL | TS_CPU_X_AVX512DQ;
    const uint64_t amx = avx512 | TS_CPU_AMX_TILE | TS_CPU_AMX_INT8 | TS_CPU_AMX_PERMITTED;
#elif defined(TS_ARM64)
    /* The dotprod files are built with -march=armv8.2-a+dotprod+fp16, so require both. */
    const uint64_t dotprod = TS_CPU_NEON | TS_CPU_DOTPROD | TS_CPU_FP16_ARITH;
#endif
    switch (isa) {
    case TS_ISA_SCALAR: return 1;
#if defined(TS_X86)
    case TS_ISA_AVX2: return (f & avx2) == avx2;
    case TS_ISA_AVX512: return (f & avx512) == avx512;
    case TS_ISA_AMX: return (f & amx) == amx;
#elif defined(TS_ARM64)
    case TS_ISA_NEON: return (f & TS_CPU_NEON) != 0;
    case TS_ISA_DOTPROD: return (f & dotprod) == dotprod;
#endif
    default: return 0;
    }
}

int32_t ts_cpu_best_level(uint64_t f) {
    static const int32_t order[] = {TS_ISA_AMX, TS_ISA_AVX512, TS_ISA_AVX2, TS_ISA_DOTPROD, TS_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (ts_cpu_level_ok(order[i], f)) return order[i];
    return TS_ISA_SCALAR;
}

static const struct {
    int32_t isa;
    const char *name;
} k_levels[] = {
    {TS_ISA_SCALAR, "scalar"}, {TS_ISA_AVX2, "avx2"}, {TS_ISA_AVX512, "avx512"},
    {TS_ISA_AMX, "amx"},       {TS_ISA_NEON, "neon"}, {TS_ISA_DOTPROD, "dotprod"},
};

int32_t ts_isa_from_name(const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < sizeof k_levels / sizeof k_levels[0]; i++)
        if (strcmp(name, k_levels[i].name) == 0) return k_levels[i].isa;
    return -1;
}

TS_API TS_CRITICAL const char *ts_isa_name(int32_t isa) {
    for (size_t i = 0; i < sizeof k_levels / sizeof k_levels[0]; i++)
        if (k_levels[i].isa == isa) return k_levels[i].name;
    return "unknown";
}

TS_API TS_CRITICAL uint64_t ts_cpu_features(void) { return ts_cpu_detect() & TS_CPU_PUBLIC_MASK; }

TS_API TS_CRITICAL int32_t ts_isa_best(void) { return ts_cpu_best_level(ts_cpu_detect()); }

void ts_cpu_describe(uint64_t f, char *buf, int32_t size) {
    static const struct {
        uint64_t bit;
        const char *name;
    } names[] = {
        {TS_CPU_SSE3, "sse3"}, {TS_CPU_AVX, "avx"}, {TS_CPU_AVX2, "avx2"}, {TS_CPU_F16C, "f16c"},
        {TS_CPU_FMA, "fma"}, {TS_CPU_AVX512F, "avx512f"}, {TS_CPU_X_AVX512DQ, "avx512dq"},
        {TS_CPU_AVX512BW, "avx512bw"}, {TS_CPU_AVX512VL, "avx512vl"},
        {TS_CPU_AVX512VNNI, "avx512vnni"}, {TS_CPU_AVX512BF16, "avx512bf16"},
        {TS_CPU_AVX512FP16, "avx512fp16"}, {TS_CPU_AVXVNNI, "avxvnni"},
        {TS_CPU_AMX_TILE, "amx-tile"}, {TS_CPU_AMX_INT8, "amx-int8"}, {TS_CPU_AMX_BF16, "amx-bf16"},
        {TS_CPU_AMX_PERMITTED, "amx-permitted"}, {TS_CPU_NEON, "neon"}, {TS_CPU_DOTPROD, "dotprod"},
        {TS_CPU_FP16_ARITH, "fp16"},
    };
    if (size <= 0) return;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(f & names[i].bit)) continue;
        int w = snprintf(buf + used, (size_t)size - used, "%s%s", used ? " " : "", names[i].name);
        if (w < 0 || (size_t)w >= (size_t)size - used) break;
        used += (size_t)w;
    }
    if (used == 0) snprintf(buf, (size_t)size, "%s", "none");
}
