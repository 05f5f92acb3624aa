/*
 * test_convert_levels.c — every kernel level this CPU can run against the scalar
 * references, bit for bit: special values (NaN payloads, subnormals, ties, inf), random
 * data, odd lengths, unaligned pointers, and no writes past the end.
 */
#include "tessera.h"
#include "ts_convert.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_test.h"

#define MAXN 4200
#define GUARD 8

static const int64_t k_lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 1023, 4096};

static uint32_t g_f32[MAXN + 16];
static uint16_t g_f16[MAXN + 16];

static void fill_inputs(uint64_t seed) {
    static const uint32_t specials[] = {
        0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00400000, 0x7f800000, 0xff800000, 0x7f800001,
        0x7fc00000, 0xffffffff, 0x7fbfffff, 0x7f7fffff, 0x477ff000, 0x477fefff, 0x33000000, 0x33000001,
        0x387fe000, 0x3f808000, 0x3f818000, 0x3f807fff, 0x00008000, 0x00018000, 0x7fa00000, 0x38800000,
    };
    for (int i = 0; i < MAXN + 16; i++) {
        uint64_t r = ts_test_rand(&seed);
        uint32_t x;
        switch (r & 3) {
        case 0: x = specials[(r >> 8) % (sizeof specials / sizeof specials[0])]; break;
        case 1: x = (uint32_t)(r >> 32); break; /* any bit pattern */
        default: x = ts_test_f32_bits((float)((int64_t)(r >> 40) - (1 << 23)) * 1e-4f); break; /* in f16 range */
        }
        g_f32[i] = x;
        g_f16[i] = (uint16_t)(r >> 16);
    }
}

typedef void (*row_fn)(void *dst, const void *src, int64_t n);

static void check_kernel(const char *level, const char *name, row_fn fn, row_fn ref, const void *src_base,
                         int32_t src_size, int32_t dst_size) {
    static unsigned char got[(MAXN + 2 * GUARD) * 4], want[(MAXN + 2 * GUARD) * 4];
    for (size_t li = 0; li < sizeof k_lengths / sizeof k_lengths[0]; li++) {
        for (int soff = 0; soff < 3; soff++) {
            for (int doff = 0; doff < 2; doff++) {
                int64_t n = k_lengths[li];
                const unsigned char *src = (const unsigned char *)src_base + (size_t)(soff + li) * (size_t)src_size;
                memset(got, 0xa5, sizeof got);
                memset(want, 0xa5, sizeof want);
                /* doff shifts the destination by one element, so it is not vector-aligned */
                unsigned char *g = got + (GUARD + doff) * dst_size, *w = want + (GUARD + doff) * dst_size;
                fn(g, src, n);
                ref(w, src, n);
                int same = memcmp(got, want, sizeof got) == 0;
                CHECK(same, "%s %s n=%lld soff=%d doff=%d differs from scalar", level, name, (long long)n, soff, doff);
                if (!same) {
                    for (int64_t i = 0; i < n; i++) {
                        if (memcmp(g + i * dst_size, w + i * dst_size, (size_t)dst_size) != 0) {
                            uint32_t in = 0, a = 0, b = 0;
                            memcpy(&in, src + i * src_size, (size_t)src_size);
                            memcpy(&a, g + i * dst_size, (size_t)dst_size);
                            memcpy(&b, w + i * dst_size, (size_t)dst_size);
                            fprintf(stderr, "  first difference at %lld: input %08x got %08x want %08x\n",
                                    (long long)i, in, a, b);
                            break;
                        }
                    }
                    return;
                }
            }
        }
    }
}

static void test_level(int32_t isa, uint64_t cpu) {
    struct ts_kernels k;
    ts_kernels_fill(&k, isa, cpu);
    const char *name = ts_isa_name(isa);
    CHECK(k.isa == isa, "table isa");
    CHECK(k.f32_to_f16 && k.f16_to_f32 && k.f32_to_bf16 && k.bf16_to_f32, "%s: table has a NULL entry", name);
    check_kernel(name, "f32_to_f16", (row_fn)k.f32_to_f16, (row_fn)ts_f32_to_f16_ref, g_f32, 4, 2);
    check_kernel(name, "f16_to_f32", (row_fn)k.f16_to_f32, (row_fn)ts_f16_to_f32_ref, g_f16, 2, 4);
    check_kernel(name, "f32_to_bf16", (row_fn)k.f32_to_bf16, (row_fn)ts_f32_to_bf16_ref, g_f32, 4, 2);
    check_kernel(name, "bf16_to_f32", (row_fn)k.bf16_to_f32, (row_fn)ts_bf16_to_f32_ref, g_f16, 2, 4);

    /* Every half through the widening kernel, and every f32 with a half-ish exponent
     * (one in 61 bit patterns of [2^-26, 2^17)) through the narrowing ones. */
    static uint16_t all16[65536];
    static float w_got[65536], w_want[65536];
    for (uint32_t i = 0; i < 65536; i++) all16[i] = (uint16_t)i;
    k.f16_to_f32(w_got, all16, 65536);
    ts_f16_to_f32_ref(w_want, all16, 65536);
    CHECK(memcmp(w_got, w_want, sizeof w_got) == 0, "%s: f16_to_f32 over all 65536 halves", name);
    k.bf16_to_f32(w_got, all16, 65536);
    ts_bf16_to_f32_ref(w_want, all16, 65536);
    CHECK(memcmp(w_got, w_want, sizeof w_got) == 0, "%s: bf16_to_f32 over all 65536 values", name);

    static float sweep[65536];
    static uint16_t n_got[65536], n_want[65536];
    uint32_t x = 0x32800000;
    int bad16 = 0, badbf = 0;
    while (x < 0x48000000) {
        for (int i = 0; i < 65536; i++, x += 61) sweep[i] = ts_test_bits_f32(x ^ (i & 1 ? 0x80000000u : 0));
        k.f32_to_f16(n_got, sweep, 65536);
        ts_f32_to_f16_ref(n_want, sweep, 65536);
        bad16 |= memcmp(n_got, n_want, sizeof n_got) != 0;
        k.f32_to_bf16(n_got, sweep, 65536);
        ts_f32_to_bf16_ref(n_want, sweep, 65536);
        badbf |= memcmp(n_got, n_want, sizeof n_got) != 0;
    }
    CHECK(!bad16, "%s: f32_to_f16 sweep differs from scalar", name);
    CHECK(!badbf, "%s: f32_to_bf16 sweep differs from scalar", name);
    fprintf(stderr, "level %s checked\n", name);
}

int main(void) {
    uint64_t cpu = ts_cpu_detect();
    fill_inputs(42);
    static const int32_t levels[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    int tested = 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (!ts_cpu_level_ok(levels[i], cpu)) {
            fprintf(stderr, "level %s: not supported by this CPU, skipped\n", ts_isa_name(levels[i]));
            continue;
        }
        test_level(levels[i], cpu);
        tested++;
        /* avx512 with and without the optional AVX512-BF16 path */
        if (levels[i] == TS_ISA_AVX512 && (cpu & TS_CPU_AVX512BF16)) {
            fprintf(stderr, "level avx512 without AVX512-BF16:\n");
            test_level(levels[i], cpu & ~(uint64_t)TS_CPU_AVX512BF16);
        }
    }
    CHECK(tested >= 1, "no level tested");
    CHECK(ts_cpu_level_ok(ts_cpu_best_level(cpu), cpu), "best level must be runnable");
    TS_TEST_EXIT();
}
