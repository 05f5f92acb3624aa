/*
 * bench_clock.h — the wall clock the bench programs time rounds with (header only: they are
 * built against different library builds, so nothing of theirs is shared through a library).
 */
#ifndef TS_BENCH_CLOCK_H
#define TS_BENCH_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#endif /* TS_BENCH_CLOCK_H */
