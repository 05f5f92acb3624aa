/* Every kernel level's quantized-format kernels against the scalar references: activation
 * quantizers byte-identical (finite inputs), row dequantizers bit-identical (also on random
 * block bytes), dot products equal to float rounding, on
 * random data, zero blocks, extreme scales, exact rounding ties, an all-zero super-block with
 * opposite-sign maxima after it, tiny (~1e-38) activations, a single block / super-block, odd
 * block counts (tails of unrolled loops), plain rows of odd length, and unaligned rows. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"

#define MAXK 4096
#define NMODES 8

static void fill(float *x, int64_t k, uint64_t *seed, int mode) {
    int64_t big = 0; /* mode 5: index of this block's +-127 */
    for (int64_t i = 0; i < k; i++) {
        double g = ts_test_gauss(seed);
        switch (mode) {
            case 0: x[i] = (float)g; break;
            case 1: x[i] = (i / 32) % 3 == 1 ? 0.0f : (float)g; break;   /* zero blocks */
            case 2: x[i] = (float)(g * ((i / 32) % 2 ? 1e-20 : 1e4)); break; /* extreme scales */
            case 3: x[i] = (float)((int64_t)(g * 4)) * 0.25f; break;    /* repeated values */
            case 4: /* huge and tiny blocks (activation quantizers only) */
                x[i] = (float)(g * ((i / 32) % 3 == 0 ? 1e30 : (i / 32) % 3 == 1 ? 1e-30 : 1.0));
                break;
            case 6: x[i] = i < 256 ? 0.0f : (float)g; break;              /* zero super-block */
            /* Tiny first super-block: 1/d (Q8_0/Q8_1) and -127/max (Q8_K) overflow to inf.
             * Q8_K's reference maps the inf/NaN products to 0; Q8_0/Q8_1's float->int8 cast
             * of them is undefined in C (x86 gives 0), which SIMD levels must reproduce. */
            case 7: x[i] = (float)(g * ((i / 256) % 2 ? 1.0 : 1e-38)); break;
            default: {
                /* Exact rounding ties: one element of each 32 is +-127, the rest n + 0.5, so
                 * the Q8 scales are exactly 1 and every x/d is a tie (roundf for Q8_0/Q8_1,
                 * ties-to-even for Q8_K); +127 and -127 in one Q8_K block test that the
                 * first largest |x| sets the sign. */
                uint64_t r = ts_test_rand(seed);
                if (i % 32 == 0) big = i + (int64_t)((r >> 8) % 32);
                if (i == big)
                    x[i] = (r & 1) ? 127.0f : -127.0f;
                else
                    x[i] = (float)((int64_t)((r >> 16) % 253) - 126) + ((r >> 4) & 1 ? 0.5f : -0.5f);
                break;
            }
        }
    }
    if (mode == 6) {
        /* Equal |max| of both signs in each later super-block: the Q8_K quantizer must keep
         * the sign of the first one (scale sign and rounding direction depend on it). */
        for (int64_t b = 256; b + 256 <= k; b += 256) {
            x[b + 37] = -9.0f;
            x[b + 200] = 9.0f;
        }
    }
}

/* Activation quantizers alone, on every input mode (the dot loop below only feeds them
 * moderate values): bytes must equal the reference's. */
static void check_act_quantizers(const struct ts_kernels *lk, const struct ts_kernels *ref, const char *level, uint64_t *seed) {
    static float x[MAXK];
    static unsigned char got[MAXK * 2 + 64], want[MAXK * 2 + 64];
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q8_1, TS_TYPE_Q8_K};
    static const int64_t ks[] = {256, 768, 4096};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int32_t type = types[ti];
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            for (int mode = 0; mode < NMODES; mode++) {
                const int off = mode & 1; /* half the rows at odd addresses */
                const size_t row = ts_qtype_row_size(type, ks[ki]);
                fill(x, ks[ki], seed, mode);
                memset(got, 0x5a, sizeof got);
                memset(want, 0x5a, sizeof want);
                ref->quantize_row[type](x, want + off, ks[ki]);
                lk->quantize_row[type](x, got + off, ks[ki]);
                CHECK(memcmp(got, want, row + 64) == 0, "%s: quantize_row %s differs (k=%lld mode %d)", level,
                      ts_get_type_traits(type)->name, (long long)ks[ki], mode);
            }
        }
    }
}

/* Non-finite activations (a NaN or inf in the first super-block; their bytes are not
 * specified): the quantizer must stop at the row's end, leave the finite super-block after it
 * byte-identical to the reference, and, for Q8_K, keep the reference's scale (NaN ignored). */
static void check_act_nonfinite(const struct ts_kernels *lk, const struct ts_kernels *ref, const char *level, uint64_t *seed) {
    enum { K = 512 };
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q8_1, TS_TYPE_Q8_K};
    static const int at[] = {0, 3, 255};
    float x[K];
    unsigned char got[2 * K + 64], want[2 * K + 64];
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int32_t type = types[ti];
        const size_t row = ts_qtype_row_size(type, K), half = row / 2;
        for (size_t ai = 0; ai < sizeof at / sizeof at[0]; ai++) {
            for (int kind = 0; kind < 3; kind++) {
                fill(x, K, seed, 0);
                x[at[ai]] = kind == 0 ? NAN : kind == 1 ? INFINITY : -INFINITY;
                if (kind == 0) x[(at[ai] + 7) % 256] = NAN;
                memset(got, 0x5a, sizeof got);
                memset(want, 0x5a, sizeof want);
                ref->quantize_row[type](x, want, K);
                lk->quantize_row[type](x, got, K);
                CHECK(memcmp(got + half, want + half, row - half + 64) == 0,
                      "%s: quantize_row %s: finite block or guard differs after a non-finite value (at %d kind %d)", level,
                      ts_get_type_traits(type)->name, at[ai], kind);
                if (type == TS_TYPE_Q8_K && kind == 0)
                    CHECK(memcmp(got, want, sizeof(float)) == 0, "%s: q8_K scale differs with a NaN at %d", level, at[ai]);
            }
        }
    }
}

/* The level's row dequantizer against the reference: bit-identical floats (NaN: any NaN). */
static void check_dequant(const struct ts_kernels *lk, const ts_type_traits *t, const void *q, int64_t k, const char *level,
                          int mode) {
    static float got[MAXK], want[MAXK];
    lk->dequantize_row[t->type](q, got, k);
    t->dequantize(q, want, k);
    for (int64_t i = 0; i < k; i++) {
        if (isnan(got[i]) && isnan(want[i])) continue;
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            CHECK(0, "%s: dequantize_row %s k=%lld mode %d: y[%lld] = %a, ref %a", level, t->name, (long long)k, mode,
                  (long long)i, got[i], want[i]);
            return;
        }
    }
}

/* Dequantizers on arbitrary block bytes (codes and scales no quantizer writes, inf/NaN
 * half scales): a hostile file's weights dequantize the same on every level. */
static void check_dequant_random_bytes(const struct ts_kernels *lk, const char *level, uint64_t *seed) {
    static unsigned char q[MAXK * 4 + 64];
    for (int32_t type = 0; type < TS_KERNEL_TYPES; type++) {
        const ts_type_traits *t = ts_get_type_traits(type);
        if (t == NULL || lk->dequantize_row[type] == NULL || t->blck_size == 1) continue;
        for (int rep = 0; rep < 20; rep++) {
            for (size_t i = 0; i < sizeof q; i++) q[i] = (unsigned char)(ts_test_rand(seed) >> 24);
            check_dequant(lk, t, q + (rep & 1), 1024, level, -1);
        }
    }
}

static void check_level(const struct ts_kernels *lk, const struct ts_kernels *ref, const char *level, uint64_t *seed) {
    static float w[MAXK], x[MAXK];
    static unsigned char wq[MAXK * 4 + 64], aq[MAXK * 4 + 64], aq_ref[MAXK * 4 + 64];
    /* 96, 288 and 768: odd block counts (tails of 2-block unrolled loops); 37: plain types only. */
    static const int64_t ks[] = {32, 37, 96, 256, 288, 512, 768, 4096};
    for (int32_t type = 0; type < TS_KERNEL_TYPES; type++) {
        const ts_type_traits *t = ts_get_type_traits(type);
        if (t == NULL || lk->vec_dot[type] == NULL) continue;
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            int64_t k = ks[ki];
            if (k % t->blck_size || k % ts_get_type_traits(t->vec_dot_type)->blck_size) continue;
            for (int mode = 0; mode < NMODES; mode++) {
                if (mode == 4) continue; /* 1e30 weights overflow the f16 scales: inf/NaN dots */
                for (int off = 0; off < 2; off++) { /* off = 1: rows at odd addresses */
                    fill(w, k, seed, mode == 7 ? 0 : mode); /* tiny values: activations only */
                    fill(x, k, seed, mode == 2 ? 0 : mode);
                    t->quantize(w, wq + off, k);
                    ref->quantize_row[t->vec_dot_type](x, aq_ref + off, k);
                    lk->quantize_row[t->vec_dot_type](x, aq + off, k);
                    size_t arow = ts_qtype_row_size(t->vec_dot_type, k);
                    CHECK(memcmp(aq + off, aq_ref + off, arow) == 0, "%s: activation quantizer for %s differs (k=%lld mode %d)",
                          level, ts_get_type_traits(t->vec_dot_type)->name, (long long)k, mode);
                    check_dequant(lk, t, wq + off, k, level, mode);
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
        check_act_quantizers(&lk, &ref, ts_isa_name(levels[i]), &seed);
        check_act_nonfinite(&lk, &ref, ts_isa_name(levels[i]), &seed);
        check_level(&lk, &ref, ts_isa_name(levels[i]), &seed);
        check_dequant_random_bytes(&lk, ts_isa_name(levels[i]), &seed);
        int own = 0; /* kernels this level (or a lower SIMD level) replaces */
        for (int32_t t = 0; t < TS_KERNEL_TYPES; t++)
            own += (lk.vec_dot[t] != ref.vec_dot[t]) + (lk.quantize_row[t] != ref.quantize_row[t]) +
                   (lk.dequantize_row[t] != ref.dequantize_row[t]);
        fprintf(stderr, "level %s: checked (%d kernels differ from scalar)\n", ts_isa_name(levels[i]), own);
    }
    TS_TEST_EXIT();
}
