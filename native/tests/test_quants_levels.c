/* Every kernel level's quantized-format kernels against the scalar references: activation
 * quantizers byte-identical (finite inputs), dot products equal to float rounding, on
 * random data, zero blocks, extreme scales, rounding ties, an all-zero super-block with
 * opposite-sign maxima after it, tiny (~1e-38) activations, a single block / super-block,
 * and unaligned rows. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"

#define MAXK 4096

static void fill(float *x, int64_t k, uint64_t *seed, int mode) {
    for (int64_t i = 0; i < k; i++) {
        double g = ts_test_gauss(seed);
        switch (mode) {
            case 0: x[i] = (float)g; break;
            case 1: x[i] = (i / 32) % 3 == 1 ? 0.0f : (float)g; break;   /* zero blocks */
            case 2: x[i] = (float)(g * ((i / 32) % 2 ? 1e-20 : 1e4)); break; /* extreme scales */
            case 3: x[i] = (float)((int64_t)(g * 4)) * 0.25f; break;     /* ties */
            case 4: x[i] = i < 256 ? 0.0f : (float)g; break;              /* zero super-block */
            /* Tiny first super-block: 1/d (Q8_0/Q8_1) and -127/max (Q8_K) overflow to inf.
             * Q8_K's reference maps the inf/NaN products to 0; Q8_0/Q8_1's float->int8 cast
             * of them is undefined in C (x86 gives 0), which SIMD levels must reproduce. */
            default: x[i] = (float)(g * ((i / 256) % 2 ? 1.0 : 1e-38)); break;
        }
    }
    if (mode == 4) {
        /* Equal |max| of both signs in each later super-block: the Q8_K quantizer must keep
         * the sign of the first one (scale sign and rounding direction depend on it). */
        for (int64_t b = 256; b + 256 <= k; b += 256) {
            x[b + 37] = -9.0f;
            x[b + 200] = 9.0f;
        }
    }
}

static void check_level(const struct ts_kernels *lk, const struct ts_kernels *ref, const char *level, uint64_t *seed) {
    static float w[MAXK], x[MAXK];
    static unsigned char wq[MAXK * 4 + 64], aq[MAXK * 4 + 64], aq_ref[MAXK * 4 + 64];
    static const int64_t ks[] = {32, 256, 288, 512, 4096}; /* 288: an odd number of 32-blocks */
    for (int32_t type = 0; type < TS_KERNEL_TYPES; type++) {
        const ts_type_traits *t = ts_get_type_traits(type);
        if (t == NULL || lk->vec_dot[type] == NULL) continue;
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            int64_t k = ks[ki];
            if (k % t->blck_size || k % ts_get_type_traits(t->vec_dot_type)->blck_size) continue;
            for (int mode = 0; mode < 6; mode++) {
                for (int off = 0; off < 2; off++) { /* off = 1: rows at odd addresses */
                    fill(w, k, seed, mode == 5 ? 0 : mode);
                    fill(x, k, seed, mode == 2 ? 0 : mode);
                    t->quantize(w, wq + off, k);
                    ref->quantize_row[t->vec_dot_type](x, aq_ref + off, k);
                    lk->quantize_row[t->vec_dot_type](x, aq + off, k);
                    size_t arow = ts_qtype_row_size(t->vec_dot_type, k);
                    CHECK(memcmp(aq + off, aq_ref + off, arow) == 0, "%s: activation quantizer for %s differs (k=%lld mode %d)",
                          level, ts_get_type_traits(t->vec_dot_type)->name, (long long)k, mode);
                    float got = lk->vec_dot[type](k, wq + off, aq_ref + off);
                    float want = ref->vec_dot[type](k, wq + off, aq_ref + off);
                    /* Same integer block sums; only the float summation order differs. */
                    float wd[MAXK], ad[MAXK];
                    t->dequantize(wq + off, wd, k);
                    ts_get_type_traits(t->vec_dot_type)->dequantize(aq_ref + off, ad, k);
                    double mag = 0;
                    for (int64_t i = 0; i < k; i++) mag += fabs((double)wd[i] * ad[i]);
                    CHECK(fabs((double)got - want) <= 1e-5 * mag + 1e-30, "%s: vec_dot %s k=%lld mode %d: %g vs ref %g", level,
                          t->name, (long long)k, mode, got, want);
                    if (mode == 1 && k == 32) { /* a single all-zero or gaussian block */
                        CHECK(isfinite(got), "%s: %s single block not finite", level, t->name);
                    }
                }
            }
        }
    }
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 7;
    struct ts_kernels ref, lk;
    ts_kernels_fill(&ref, TS_ISA_SCALAR, cpu);
    static const int32_t levels[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (!ts_cpu_level_ok(levels[i], cpu)) {
            fprintf(stderr, "level %s: not on this CPU, skipped\n", ts_isa_name(levels[i]));
            continue;
        }
        ts_kernels_fill(&lk, levels[i], cpu);
        check_level(&lk, &ref, ts_isa_name(levels[i]), &seed);
        fprintf(stderr, "level %s: checked\n", ts_isa_name(levels[i]));
    }
    TS_TEST_EXIT();
}
