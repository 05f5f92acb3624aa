/*
 * ts_test.h — the whole test framework: CHECK records a failure and goes on, so one run
 * reports every broken case; TS_TEST_EXIT() makes the exit status non-zero on failure.
 */
#ifndef TS_TEST_H
#define TS_TEST_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Atomic: CHECK runs inside pool workers too. */
static atomic_int ts_test_failures;
static atomic_int ts_test_checks;

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        ts_test_checks++;                                                         \
        if (!(cond)) {                                                            \
            if (ts_test_failures++ < 50) {                                        \
                fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
                fprintf(stderr, __VA_ARGS__);                                     \
                fputc('\n', stderr);                                              \
            }                                                                     \
        }                                                                         \
    } while (0)

#define TS_TEST_EXIT()                                                                    \
    do {                                                                                  \
        fprintf(stderr, "%s: %d checks, %d failures\n", __FILE__, atomic_load(&ts_test_checks), atomic_load(&ts_test_failures)); \
        return ts_test_failures ? 1 : 0;                                                  \
    } while (0)

/* xorshift64*: deterministic data without depending on libc rand(). */
static inline uint64_t ts_test_rand(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Approximately standard normal: sum of 4 uniforms, centred and scaled (enough for tests). */
static inline double ts_test_gauss(uint64_t *s) {
    double u = 0;
    for (int i = 0; i < 4; i++) u += (double)(ts_test_rand(s) >> 11) * (1.0 / 9007199254740992.0);
    return (u - 2.0) * 1.7320508075688772;
}

static inline uint32_t ts_test_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float ts_test_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#endif /* TS_TEST_H */
