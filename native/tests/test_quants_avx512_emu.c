/* The avx512 quantized dots (src/arch/x86/quants_avx512.c: Q8_0, Q4_0, Q5_0, Q4_1, Q5_1,
 * Q2_K ... Q6_K), with and without their VNNI variants, run on a plain-C emulation of the AVX-512 intrinsics (ts_avx512_emu.h) and
 * checked against the scalar references. Most machines building this have no AVX-512, so
 * test_quants_levels skips that level; this catches lane-order, pairing, odd-tail and
 * scale-selection mistakes anywhere AVX2 runs. It does not prove the real instructions
 * behave as emulated: test_quants_levels does that on AVX-512 hardware. */
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

int main(void) {
#if TS_EMU_AVX512
    uint64_t cpu = ts_cpu_detect(), seed = 11;
    if (!ts_cpu_level_ok(TS_ISA_AVX2, cpu)) {
        fprintf(stderr, "no AVX2: emulated avx512 kernels skipped\n");
        TS_TEST_EXIT();
    }
    struct ts_kernels ref;
    ts_kernels_fill(&ref, TS_ISA_SCALAR, cpu);
    static float w[MAXK], x[MAXK], wd[MAXK], ad[MAXK];
    static unsigned char wq[MAXK * 2], aq[MAXK * 2];
    /* 1, 2, 3 and 9 blocks: pairs and an odd last block; 256: one K-quant super-block. */
    static const int64_t ks[] = {32, 64, 96, 256, 288, 512, 4096};
    int n_checked = 0;
    struct ts_kernels flavours[2];
    for (int vnni = 0; vnni < 2; vnni++) {
        struct ts_kernels k;
        memset(&k, 0, sizeof k);
        emu_register_quants_avx512(&k, vnni ? cpu | TS_CPU_AVX512VNNI : cpu & ~(uint64_t)TS_CPU_AVX512VNNI);
        flavours[vnni] = k;
        for (int32_t type = 0; type < TS_KERNEL_TYPES; type++) {
            if (k.vec_dot[type] == NULL) continue;
            const ts_type_traits *t = ts_get_type_traits(type);
            n_checked++;
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                const int64_t n = ks[ki];
                if (n % t->blck_size) continue;
                for (int mode = 0; mode < 3; mode++) {
                    for (int off = 0; off < 2; off++) {
                        for (int64_t i = 0; i < n; i++) {
                            double g = ts_test_gauss(&seed);
                            /* mode 1: every third 32-block zero; mode 2: alternating 1e4 / 1e-20 scales */
                            w[i] = mode == 1 && (i / 32) % 3 == 1 ? 0.0f : (float)(mode == 2 ? g * ((i / 32) % 2 ? 1e-20 : 1e4) : g);
                            x[i] = (float)ts_test_gauss(&seed);
                        }
                        t->quantize(w, wq + off, n);
                        ref.quantize_row[t->vec_dot_type](x, aq + off, n);
                        const float got = k.vec_dot[type](n, wq + off, aq + off);
                        const float want = ref.vec_dot[type](n, wq + off, aq + off);
                        t->dequantize(wq + off, wd, n);
                        ts_get_type_traits(t->vec_dot_type)->dequantize(aq + off, ad, n);
                        double mag = 0;
                        for (int64_t i = 0; i < n; i++) mag += fabs((double)wd[i] * ad[i]);
                        CHECK(fabs((double)got - want) <= 1e-5 * mag + 1e-30, "emulated avx512%s vec_dot %s k=%lld mode %d off %d: %g vs ref %g",
                              vnni ? " (vnni)" : "", t->name, (long long)n, mode, off, got, want);
                    }
                }
            }
        }
    }
    /* Every weight type with a SIMD dot at the avx2 level, in both flavours. */
    static const int32_t want_types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_Q5_0, TS_TYPE_Q4_1, TS_TYPE_Q5_1,
                                         TS_TYPE_Q2_K, TS_TYPE_Q3_K, TS_TYPE_Q4_K, TS_TYPE_Q5_K, TS_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof want_types / sizeof want_types[0]; i++)
        CHECK(flavours[0].vec_dot[want_types[i]] && flavours[1].vec_dot[want_types[i]], "no avx512 dot for %s",
              ts_get_type_traits(want_types[i])->name);
    /* The VNNI variants are chosen exactly when the bit is set (32-element formats only). */
    static const int32_t vnni_types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0, TS_TYPE_Q5_0, TS_TYPE_Q4_1, TS_TYPE_Q5_1};
    for (size_t i = 0; i < sizeof vnni_types / sizeof vnni_types[0]; i++)
        CHECK(flavours[0].vec_dot[vnni_types[i]] != flavours[1].vec_dot[vnni_types[i]], "no vnni variant for %s",
              ts_get_type_traits(vnni_types[i])->name);
    CHECK(n_checked == 20, "expected 10 dots in both flavours, found %d", n_checked);
#else
    fprintf(stderr, "not x86-64 GCC: emulated avx512 kernels not built\n");
#endif
    TS_TEST_EXIT();
}
