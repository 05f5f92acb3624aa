/*
 * test_fp16.c — the scalar reference conversions (ts_fp16.h) against independent
 * definitions: exhaustive F16 round trip, RNE edge cases, subnormals, inf, NaN; BF16 too.
 */
#include <math.h>

#include "ts_fp16.h"
#include "ts_test.h"

static int f16_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }

/* Independent float -> half: value of every positive half computed with ldexp, nearest one
 * found by binary search, ties to the even encoding. */
static double g_half_value[0x7c01];

static uint16_t ref_f32_to_f16(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (isnan(f)) return 0xffff; /* not used for NaN */
    if (a >= 65520.0) return sign | 0x7c00;
    int lo = 0, hi = 0x7bff; /* largest half <= a */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (g_half_value[mid] <= a) lo = mid;
        else hi = mid - 1;
    }
    double below = g_half_value[lo], above = g_half_value[lo + 1];
    int r;
    if (a - below < above - a) r = lo;
    else if (a - below > above - a) r = lo + 1;
    else r = (lo & 1) ? lo + 1 : lo;
    return (uint16_t)(sign | r);
}

static void init_half_values(void) {
    for (int h = 0; h <= 0x7c00; h++) {
        int e = h >> 10, m = h & 0x3ff;
        g_half_value[h] = e == 0 ? ldexp(m, -24) : e == 31 ? INFINITY : ldexp(1024 + m, e - 25);
    }
}

static void check_f32_to_f16(float f) {
    uint16_t got = ts_f32_to_f16(f), want = ref_f32_to_f16(f);
    CHECK(got == want, "f32 %08x (%.9g): got %04x want %04x", ts_test_f32_bits(f), (double)f, got, want);
}

static void test_f16_exhaustive(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ts_f16_to_f32((uint16_t)h);
        uint16_t back = ts_f32_to_f16(f);
        if (f16_is_nan((uint16_t)h)) {
            CHECK(isnan(f), "half %04x should widen to NaN", h);
            CHECK(f16_is_nan(back) && (back & 0x8000) == (h & 0x8000), "NaN %04x came back as %04x", h, back);
            CHECK(back == (h | 0x200), "NaN %04x should come back quieted as %04x, got %04x", h, h | 0x200, back);
        } else {
            CHECK(back == h, "half %04x -> %08x -> %04x", h, ts_test_f32_bits(f), back);
            double want = (h & 0x8000) ? -g_half_value[h & 0x7fff] : g_half_value[h & 0x7fff];
            CHECK((double)f == want, "half %04x widened to %.9g, want %.9g", h, (double)f, want);
        }
    }
}

static void test_f32_to_f16_edges(void) {
    /* Every half value, the midpoints between neighbours and one float ulp either side. */
    for (uint32_t h = 0; h < 0x7c00; h++) {
        float v = (float)g_half_value[h];
        float mid = (float)((g_half_value[h] + g_half_value[h + 1]) / 2); /* exact in float */
        for (int s = 0; s < 2; s++) {
            float sg = s ? -1.0f : 1.0f;
            check_f32_to_f16(sg * v);
            check_f32_to_f16(sg * mid);
            check_f32_to_f16(sg * nextafterf(mid, 0.0f));
            check_f32_to_f16(sg * nextafterf(mid, INFINITY));
        }
    }
    /* Named cases. */
    CHECK(ts_f32_to_f16(65504.0f) == 0x7bff, "max half");
    CHECK(ts_f32_to_f16(65519.99f) == 0x7bff, "just below the overflow midpoint");
    CHECK(ts_f32_to_f16(65520.0f) == 0x7c00, "65520 ties to even = inf");
    CHECK(ts_f32_to_f16(1e30f) == 0x7c00 && ts_f32_to_f16(-1e30f) == 0xfc00, "overflow to inf");
    CHECK(ts_f32_to_f16(INFINITY) == 0x7c00 && ts_f32_to_f16(-INFINITY) == 0xfc00, "inf");
    CHECK(ts_f32_to_f16(ldexpf(1, -24)) == 0x0001, "smallest subnormal");
    CHECK(ts_f32_to_f16(ldexpf(1, -25)) == 0x0000, "half of smallest subnormal ties to 0");
    CHECK(ts_f32_to_f16(nextafterf(ldexpf(1, -25), 1)) == 0x0001, "just above ties up");
    CHECK(ts_f32_to_f16(ldexpf(3, -25)) == 0x0002, "1.5 ulp ties to even 2");
    CHECK(ts_f32_to_f16(-0.0f) == 0x8000, "-0");
    CHECK(ts_f32_to_f16(1.0f + ldexpf(1, -11)) == 0x3c00, "1 + half ulp ties down to even");
    CHECK(ts_f32_to_f16(1.0f + 3 * ldexpf(1, -11)) == 0x3c02, "1 + 1.5 ulp ties up to even");
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0x387fe000)) == 0x0400, "subnormal rounding carries into normal");
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0x00000001)) == 0x0000, "f32 subnormal -> 0");
    /* NaN: quiet, keeps sign and top payload bits, never inf. */
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0x7f800001)) == 0x7e00, "sNaN low payload");
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0xff800001)) == 0xfe00, "negative sNaN");
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0x7fc00000)) == 0x7e00, "qNaN");
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0x7fa00000)) == 0x7f00, "payload kept");
    CHECK(ts_f32_to_f16(ts_test_bits_f32(0x7fffffff)) == 0x7fff, "all-ones NaN");
    /* Random finite floats over the whole range. */
    uint64_t seed = 0x1234567;
    for (int i = 0; i < 300000; i++) {
        uint32_t x = (uint32_t)ts_test_rand(&seed);
        if ((x & 0x7f800000) == 0x7f800000) continue;
        check_f32_to_f16(ts_test_bits_f32(x));
    }
    /* Dense sweep around the half range [2^-26, 2^17). */
    for (uint32_t x = 0x32800000; x < 0x48000000; x += 97) check_f32_to_f16(ts_test_bits_f32(x));
}

static void test_bf16(void) {
    /* bf16 -> f32 is a shift; every value round-trips except that sNaN is quieted. */
    for (uint32_t b = 0; b < 65536; b++) {
        float f = ts_bf16_to_f32((uint16_t)b);
        CHECK(ts_test_f32_bits(f) == b << 16, "bf16 %04x widened wrong", b);
        uint16_t back = ts_f32_to_bf16(f);
        int nan = (b & 0x7f80) == 0x7f80 && (b & 0x7f);
        if (nan) CHECK(back == (b | 0x40), "NaN %04x -> %04x", b, back);
        else CHECK(back == b, "bf16 %04x -> %04x", b, back);
    }
    struct { uint32_t in; uint16_t out; const char *what; } cases[] = {
        {0x3f808000, 0x3f80, "tie to even (down)"},
        {0x3f818000, 0x3f82, "tie to even (up)"},
        {0x3f808001, 0x3f81, "above the tie"},
        {0x3f807fff, 0x3f80, "below the tie"},
        {0x7f7fffff, 0x7f80, "max float rounds to inf (RNE)"},
        {0x7f7f7fff, 0x7f7f, "largest that stays finite"},
        {0xff7fffff, 0xff80, "negative overflow"},
        {0x7f800000, 0x7f80, "inf"},
        {0x7f800001, 0x7fc0, "sNaN with low payload stays NaN (not inf)"},
        {0x7fffffff, 0x7fff, "NaN all ones (no carry into sign)"},
        {0xff800001, 0xffc0, "negative NaN"},
        {0x7fc00000, 0x7fc0, "qNaN"},
        {0x00000001, 0x0000, "tiny subnormal rounds to 0"},
        {0x00008000, 0x0000, "subnormal tie to even 0"},
        {0x00018000, 0x0002, "subnormal tie to even 2"},
        {0x007fffff, 0x0080, "largest subnormal rounds to smallest normal"},
        {0x80000000, 0x8000, "-0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = ts_f32_to_bf16(ts_test_bits_f32(cases[i].in));
        CHECK(got == cases[i].out, "%s: %08x -> %04x, want %04x", cases[i].what, cases[i].in, got, cases[i].out);
    }
    /* Random values against a double-based RNE definition. */
    uint64_t seed = 99;
    for (int i = 0; i < 200000; i++) {
        uint32_t x = (uint32_t)ts_test_rand(&seed);
        if ((x & 0x7f800000) == 0x7f800000) continue;
        float f = ts_test_bits_f32(x);
        uint32_t lo = x & 0xffff0000u, hi = lo + 0x10000u;
        double dl = fabs((double)ts_test_bits_f32(lo)), a = fabs((double)f);
        double dh = (hi & 0x7f800000) == 0x7f800000 ? ldexp(1, 128) : fabs((double)ts_test_bits_f32(hi));
        uint16_t want;
        if (a - dl < dh - a) want = (uint16_t)(lo >> 16);
        else if (a - dl > dh - a) want = (uint16_t)(hi >> 16);
        else want = (uint16_t)(((lo >> 16) & 1) ? hi >> 16 : lo >> 16);
        uint16_t got = ts_f32_to_bf16(f);
        CHECK(got == want, "bf16 of %08x: got %04x want %04x", x, got, want);
    }
}

int main(void) {
    init_half_values();
    test_f16_exhaustive();
    test_f32_to_f16_edges();
    test_bf16();
    TS_TEST_EXIT();
}
