/* The avx512 level's CPU rules (ts_cpu.c): it needs AVX2 + FMA + F16C + AVX-512 F, BW, VL
 * and DQ (the flags its files are compiled with), VNNI only selects variants within the
 * level, and AMX is offered only on top of it with the OS permission. ts_cpu_detect sets
 * the AVX-512 bits only when XCR0 shows the OS saves opmask + ZMM state (bits 5-7) as well
 * as SSE + AVX state (bits 1-2): here that is cross-checked against GCC's own detection
 * (which reads CPUID and XCR0 independently) and against a fresh XGETBV. Prints the level
 * this CPU gets and the kernel flavour it implies. */
#include "tessera.h"
#include "ts_cpu.h"
#include "ts_test.h"

int main(void) {
#if defined(__x86_64__)
    const uint64_t avx2 = TS_CPU_AVX | TS_CPU_AVX2 | TS_CPU_FMA | TS_CPU_F16C;
    const uint64_t avx512 = avx2 | TS_CPU_AVX512F | TS_CPU_AVX512BW | TS_CPU_AVX512VL | TS_CPU_X_AVX512DQ;
    const uint64_t amx = TS_CPU_AMX_TILE | TS_CPU_AMX_INT8 | TS_CPU_AMX_PERMITTED;
    /* Synthetic feature sets: each AVX-512 part is required, VNNI is not. */
    CHECK(ts_cpu_best_level(avx512) == TS_ISA_AVX512, "F+BW+VL+DQ on AVX2 -> avx512");
    CHECK(ts_cpu_best_level(avx512 | TS_CPU_AVX512VNNI) == TS_ISA_AVX512, "VNNI does not change the level");
    static const uint64_t parts[] = {TS_CPU_AVX512F, TS_CPU_AVX512BW, TS_CPU_AVX512VL, TS_CPU_X_AVX512DQ, TS_CPU_AVX2, TS_CPU_F16C};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        CHECK(!ts_cpu_level_ok(TS_ISA_AVX512, (avx512 | TS_CPU_AVX512VNNI) & ~parts[i]), "avx512 allowed without part %zu", i);
        CHECK(ts_cpu_best_level((avx512 | TS_CPU_AVX512VNNI) & ~parts[i]) != TS_ISA_AVX512, "best avx512 without part %zu", i);
    }
    CHECK(ts_cpu_best_level(avx512 | amx) == TS_ISA_AMX, "AMX with permission -> amx");
    CHECK(ts_cpu_best_level(avx512 | (amx & ~TS_CPU_AMX_PERMITTED)) == TS_ISA_AVX512, "AMX without permission -> avx512");
    CHECK(ts_cpu_best_level(avx2 | amx) == TS_ISA_AVX2, "AMX without AVX-512 -> avx2");

    /* This CPU. */
    const uint64_t f = ts_cpu_detect();
    uint32_t lo, hi;
    int osxsave = 0;
    {
        unsigned int a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
        osxsave = (c >> 27) & 1;
    }
    uint64_t xcr0 = 0;
    if (osxsave) {
        __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((uint64_t)hi << 32) | lo;
    }
    const int zmm_state = (xcr0 & 0xe6) == 0xe6;
    if (!zmm_state)
        CHECK((f & (TS_CPU_AVX512F | TS_CPU_AVX512BW | TS_CPU_AVX512VL | TS_CPU_X_AVX512DQ | TS_CPU_AVX512VNNI)) == 0,
              "AVX-512 bits reported although XCR0 %#llx lacks the ZMM state", (unsigned long long)xcr0);
    __builtin_cpu_init();
    /* GCC's runtime also requires the XCR0 ZMM state for these. */
    CHECK(!!__builtin_cpu_supports("avx512f") == !!(f & TS_CPU_AVX512F), "avx512f differs from GCC's detection");
    CHECK(!!__builtin_cpu_supports("avx512bw") == !!(f & TS_CPU_AVX512BW), "avx512bw differs from GCC's detection");
    CHECK(!!__builtin_cpu_supports("avx512vl") == !!(f & TS_CPU_AVX512VL), "avx512vl differs from GCC's detection");
    CHECK(!!__builtin_cpu_supports("avx512dq") == !!(f & TS_CPU_X_AVX512DQ), "avx512dq differs from GCC's detection");
    CHECK(!!__builtin_cpu_supports("avx512vnni") == !!(f & TS_CPU_AVX512VNNI), "avx512vnni differs from GCC's detection");
    const int32_t best = ts_cpu_best_level(f);
    char names[512];
    ts_cpu_describe(f, names, (int32_t)sizeof names);
    const int has512 = ts_cpu_level_ok(TS_ISA_AVX512, f);
    fprintf(stderr, "xcr0 %#llx (zmm state %s); features: %s\n", (unsigned long long)xcr0, zmm_state ? "on" : "off", names);
    fprintf(stderr, "chosen level: %s; avx512 kernels: %s\n", ts_isa_name(best),
            !has512 ? "not on this CPU" : (f & TS_CPU_AVX512VNNI) ? "yes, VNNI variants (dots and Q8_0/Q4_0 tiles)" : "yes, plain variants (no VNNI)");
    const char *forced = getenv("TESSERA_ISA"); /* ts_init(.., NULL) honours it */
    if (forced == NULL || forced[0] == '\0') {
        CHECK(ts_init(1, NULL) == TS_OK, "%s", ts_last_error());
        CHECK(ts_isa() == best, "ts_init picked %s, best is %s", ts_isa_name(ts_isa()), ts_isa_name(best));
        ts_shutdown();
    } else {
        fprintf(stderr, "TESSERA_ISA=%s set: ts_init's default choice not checked\n", forced);
    }
#else
    fprintf(stderr, "not x86-64: nothing to check\n");
#endif
    TS_TEST_EXIT();
}
