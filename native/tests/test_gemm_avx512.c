/* The avx512 VNNI matmul tiles (src/arch/x86/gemm_avx512.c: Q8_0 and Q4_0 weights) against
 * the scalar reference dot of every (row, column) pair:
 *  - always (x86-64 GCC with AVX2): the source compiled over the plain-C emulation of the
 *    AVX-512 intrinsics (ts_avx512_emu.h), which checks the algebra (the a + 128 and
 *    nibble corrections), the block pairing and odd tails, tile edges and strides;
 *  - on a CPU with AVX-512 + VNNI: the real tiles as the avx512 level installs them (also
 *    covered by test_gemm there); on other CPUs it says so and checks that the level keeps
 *    the avx2 tiles when VNNI is missing.
 * Shapes: not multiples of the 4 x 4 register tile, the one-column path (M = 1, 2), one
 * block, odd and even block counts, odd strides and base addresses, output padding that
 * must stay untouched, zero blocks and block scales over 1e-3..1e3. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"
#include "ts_test_gemm.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TS_EMU_AVX512 1
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "ts_avx512_emu.h"
#define TS_TARGET_AVX512VNNI
#define ts_register_gemm_avx512 emu_register_gemm_avx512
#include "arch/x86/gemm_avx512.c"
#undef ts_register_gemm_avx512
#pragma GCC pop_options
#endif

static void check_tiles(const struct ts_kernels *k, const char *what, uint64_t *seed) {
    static const int64_t shapes[][2] = {{37, 13}, {1, 1}, {1, 7}, {5, 1}, {7, 2}, {3, 4}, {4, 5}, {9, 3}, {48, 64}, {9, 66}};
    static const int64_t ks[] = {32, 64, 96, 4096};
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0};
    for (size_t ti = 0; ti < 2; ti++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                ts_test_gemm_shape(k->gemm[types[ti]], NULL, what, types[ti], shapes[s][0], shapes[s][1], ks[ki], 0, seed);
        for (int mode = 1; mode < 3; mode++) {
            ts_test_gemm_shape(k->gemm[types[ti]], NULL, what, types[ti], 37, 13, 288, mode, seed);
            ts_test_gemm_shape(k->gemm[types[ti]], NULL, what, types[ti], 13, 1, 288, mode, seed);
        }
    }
    fprintf(stderr, "%s: Q8_0 and Q4_0 tiles checked\n", what);
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 5;
#if TS_EMU_AVX512
    if (ts_cpu_level_ok(TS_ISA_AVX2, cpu)) {
        struct ts_kernels none, emu;
        memset(&none, 0, sizeof none);
        emu_register_gemm_avx512(&none, cpu & ~(uint64_t)TS_CPU_AVX512VNNI);
        CHECK(none.gemm[TS_TYPE_Q8_0] == NULL && none.gemm[TS_TYPE_Q4_0] == NULL, "tiles registered without VNNI");
        memset(&emu, 0, sizeof emu);
        emu_register_gemm_avx512(&emu, cpu | TS_CPU_AVX512VNNI);
        CHECK(emu.gemm[TS_TYPE_Q8_0] != NULL && emu.gemm[TS_TYPE_Q4_0] != NULL, "no tiles with VNNI");
        if (emu.gemm[TS_TYPE_Q8_0] && emu.gemm[TS_TYPE_Q4_0]) check_tiles(&emu, "emulated avx512 (vnni)", &seed);
    } else {
        fprintf(stderr, "no AVX2: emulated avx512 tiles skipped\n");
    }
#else
    fprintf(stderr, "not x86-64 GCC: emulated avx512 tiles not built\n");
#endif
#if defined(__x86_64__)
    if (ts_cpu_level_ok(TS_ISA_AVX512, cpu)) {
        struct ts_kernels lk, avx2, plain;
        ts_kernels_fill(&avx2, TS_ISA_AVX2, cpu);
        ts_kernels_fill(&plain, TS_ISA_AVX512, cpu & ~(uint64_t)TS_CPU_AVX512VNNI);
        CHECK(plain.gemm[TS_TYPE_Q8_0] == avx2.gemm[TS_TYPE_Q8_0] && plain.gemm[TS_TYPE_Q4_0] == avx2.gemm[TS_TYPE_Q4_0],
              "avx512 without VNNI must keep the avx2 tiles");
        if (cpu & TS_CPU_AVX512VNNI) {
            ts_kernels_fill(&lk, TS_ISA_AVX512, cpu);
            CHECK(lk.gemm[TS_TYPE_Q8_0] != avx2.gemm[TS_TYPE_Q8_0] && lk.gemm[TS_TYPE_Q4_0] != avx2.gemm[TS_TYPE_Q4_0],
                  "avx512 with VNNI: the level's own tiles expected");
            check_tiles(&lk, "real avx512 (vnni)", &seed);
        } else {
            fprintf(stderr, "real avx512: CPU has no AVX512-VNNI, the level keeps the avx2 tiles (checked by test_gemm)\n");
        }
    } else {
        fprintf(stderr, "real avx512: not on this CPU, skipped (only the emulation ran)\n");
    }
#endif
    TS_TEST_EXIT();
}
