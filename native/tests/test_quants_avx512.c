/* The avx512 quantized dots (src/arch/x86/quants_avx512.c: Q8_0, Q4_0, Q5_0, Q4_1, Q5_1,
 * Q2_K ... Q6_K), with and without their VNNI variants, against the scalar references:
 *  - always (x86-64 GCC with AVX2): the kernel source compiled a second time over a plain-C
 *    emulation of the AVX-512 intrinsics (ts_avx512_emu.h). Most machines building this have
 *    no AVX-512, so this catches lane-order, pairing, odd-tail and scale-selection mistakes
 *    anywhere AVX2 runs, but cannot prove the real instructions behave as emulated;
 *  - on a CPU that runs the avx512 level: the real kernels, the plain flavour always and the
 *    VNNI flavour when the CPU reports it (test_quants_levels runs only the flavour the
 *    dispatch picks, so without this the plain one would never run on a VNNI machine).
 * Data: gaussian, zero blocks, extreme block scales (1e4 / 1e-20), a zero super-block, tiny
 * activations (~1e-38), one block or super-block,
 * odd block counts, rows at odd addresses. The output names each flavour checked. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TS_EMU_AVX512 1
/* The kernel's 128/256-bit parts need AVX2 + FMA + F16C; only this region is compiled so. */
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "ts_avx512_emu.h"
#define TS_TARGET_AVX512VNNI
#define ts_register_quants_avx512 emu_register_quants_avx512
#include "arch/x86/quants_avx512.c"
#undef ts_register_quants_avx512
#pragma GCC pop_options
#endif

#define MAXK 4096

/* Every weight type with a SIMD dot at the avx2 level. */
static const int32_t k_types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_Q5_0, TS_TYPE_Q4_1, TS_TYPE_Q5_1,
                                  TS_TYPE_Q2_K, TS_TYPE_Q3_K, TS_TYPE_Q4_K, TS_TYPE_Q5_K, TS_TYPE_Q6_K};
/* Those with a VNNI variant (the 32-element formats). */
static const int32_t k_vnni_types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_Q5_0, TS_TYPE_Q4_1, TS_TYPE_Q5_1};

/* Checks the dots of table k (only those of k_types) against ref; returns how many ran. */
static int check_dots(const struct ts_kernels *k, const struct ts_kernels *ref, const char *what, uint64_t *seed) {
    static float w[MAXK], x[MAXK], wd[MAXK], ad[MAXK];
    static unsigned char wq[MAXK * 2], aq[MAXK * 2];
    /* 1, 2, 3 and 9 blocks: pairs and an odd last block; 256: one K-quant super-block. */
    static const int64_t ks[] = {32, 64, 96, 256, 288, 512, 4096};
    int n_checked = 0;
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const int32_t type = k_types[ti];
        const ts_type_traits *t = ts_get_type_traits(type);
        CHECK(k->vec_dot[type] != NULL, "%s: no dot for %s", what, t->name);
        if (k->vec_dot[type] == NULL) continue;
        n_checked++;
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            const int64_t n = ks[ki];
            if (n % t->blck_size) continue;
            for (int mode = 0; mode < 5; mode++) {
                for (int off = 0; off < 2; off++) {
                    for (int64_t i = 0; i < n; i++) {
                        double g = ts_test_gauss(seed);
                        /* mode 1: every third 32-block zero; mode 2: alternating 1e4 / 1e-20 scales;
                         * mode 3: an all-zero first super-block; mode 4: activations ~1e-38 in the
                         * first super-block (tiny and subnormal activation scales) */
                        w[i] = mode == 1 && (i / 32) % 3 == 1 ? 0.0f : (float)(mode == 2 ? g * ((i / 32) % 2 ? 1e-20 : 1e4) : g);
                        if (mode == 3 && i < 256) w[i] = 0.0f;
                        x[i] = (float)(ts_test_gauss(seed) * (mode == 4 && i < 256 ? 1e-38 : 1.0));
                    }
                    t->quantize(w, wq + off, n);
                    ref->quantize_row[t->vec_dot_type](x, aq + off, n);
                    const float got = k->vec_dot[type](n, wq + off, aq + off);
                    const float want = ref->vec_dot[type](n, wq + off, aq + off);
                    t->dequantize(wq + off, wd, n);
                    ts_get_type_traits(t->vec_dot_type)->dequantize(aq + off, ad, n);
                    double mag = 0;
                    for (int64_t i = 0; i < n; i++) mag += fabs((double)wd[i] * ad[i]);
                    CHECK(fabs((double)got - want) <= 1e-5 * mag + 1e-30, "%s vec_dot %s k=%lld mode %d off %d: %g vs ref %g", what,
                          t->name, (long long)n, mode, off, got, want);
                }
            }
        }
    }
    fprintf(stderr, "%s: %d dots checked\n", what, n_checked);
    return n_checked;
}

/* The VNNI variants are chosen exactly when the bit is set. */
static void check_flavours(const struct ts_kernels *plain, const struct ts_kernels *vnni, const char *what) {
    for (size_t i = 0; i < sizeof k_vnni_types / sizeof k_vnni_types[0]; i++)
        CHECK(plain->vec_dot[k_vnni_types[i]] != vnni->vec_dot[k_vnni_types[i]], "%s: no vnni variant for %s", what,
              ts_get_type_traits(k_vnni_types[i])->name);
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 11;
    struct ts_kernels ref;
    ts_kernels_fill(&ref, TS_ISA_SCALAR, cpu);
    const uint64_t no_vnni = cpu & ~(uint64_t)TS_CPU_AVX512VNNI;
#if TS_EMU_AVX512
    if (ts_cpu_level_ok(TS_ISA_AVX2, cpu)) {
        struct ts_kernels flavours[2];
        for (int vnni = 0; vnni < 2; vnni++) {
            memset(&flavours[vnni], 0, sizeof flavours[vnni]);
            emu_register_quants_avx512(&flavours[vnni], vnni ? cpu | TS_CPU_AVX512VNNI : no_vnni);
            CHECK(check_dots(&flavours[vnni], &ref, vnni ? "emulated avx512 (vnni)" : "emulated avx512", &seed) == 10,
                  "expected 10 emulated dots");
        }
        check_flavours(&flavours[0], &flavours[1], "emulated avx512");
    } else {
        fprintf(stderr, "no AVX2: emulated avx512 kernels skipped\n");
    }
#else
    fprintf(stderr, "not x86-64 GCC: emulated avx512 kernels not built\n");
#endif
#if defined(__x86_64__)
    if (ts_cpu_level_ok(TS_ISA_AVX512, cpu)) {
        struct ts_kernels plain, vnni, avx2;
        ts_kernels_fill(&plain, TS_ISA_AVX512, no_vnni);
        ts_kernels_fill(&avx2, TS_ISA_AVX2, cpu);
        for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) /* the level's own dots, not inherited */
            CHECK(plain.vec_dot[k_types[i]] != avx2.vec_dot[k_types[i]], "avx512 level inherits the avx2 dot for %s",
                  ts_get_type_traits(k_types[i])->name);
        check_dots(&plain, &ref, "real avx512 (plain)", &seed);
        if (cpu & TS_CPU_AVX512VNNI) {
            ts_kernels_fill(&vnni, TS_ISA_AVX512, cpu);
            check_dots(&vnni, &ref, "real avx512 (vnni)", &seed);
            check_flavours(&plain, &vnni, "real avx512");
        } else {
            fprintf(stderr, "real avx512 (vnni): CPU has no AVX512-VNNI, skipped\n");
        }
    } else {
        fprintf(stderr, "real avx512: not on this CPU, skipped (only the emulation ran)\n");
    }
#endif
    TS_TEST_EXIT();
}
