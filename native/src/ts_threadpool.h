/*
 * ts_threadpool.h — the one persistent worker pool every parallel kernel uses (internal).
 *
 * Usage from a kernel:
 *     static void work(void *ctx, int32_t ith, int32_t nth) {
 *         struct my_job *j = ctx;
 *         int64_t b, e;
 *         ts_split_range(j->n, 64, ith, nth, &b, &e);   // this thread's slice
 *         ...process [b, e)...
 *     }
 *     ts_parallel(work, &job, ts_threads_for(n, 16384));
 *
 * Contract of ts_parallel:
 *  - runs fn(ctx, ith, nth) once for every ith in [0, nth) and returns when all are done
 *    (so ctx may live on the caller's stack); the caller thread itself is ith 0, so
 *    nth == 1 costs one direct call;
 *  - nth = min(max_threads, pool size); the pool is never grown for a job;
 *  - if the pool is busy with another caller's job (two Java threads calling kernels at
 *    once), if called from inside a job (nesting), during a resize, or before ts_init, the
 *    job runs on the calling thread alone as fn(ctx, 0, 1). Nothing ever waits for another
 *    job, so this cannot deadlock; results are the same, only the speed-up is lost. fn
 *    must therefore be correct for any nth >= 1, not just max_threads.
 *  - fn must not call ts_init/ts_shutdown/ts_set_threads, pthread_exit or longjmp out.
 */
#ifndef TS_THREADPOOL_H
#define TS_THREADPOOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Most threads the pool holds, caller included. */
#define TS_POOL_MAX_THREADS 512

typedef void (*ts_task_fn)(void *ctx, int32_t ith, int32_t nth);

void ts_parallel(ts_task_fn fn, void *ctx, int32_t max_threads);

/* Threads worth using for `work` units when each thread should get at least
 * `min_per_thread` of them: in [1, pool size]. */
int32_t ts_threads_for(int64_t work, int64_t min_per_thread);

/* Pool size including the caller thread (1 when the pool is stopped). */
int32_t ts_pool_size(void);

/* Lifecycle, called by ts_init/ts_set_threads/ts_shutdown under the lifecycle mutex.
 * ts_pool_start stops the current workers first; n_threads <= 0 means one per online
 * core; sets the thread's error and leaves the pool stopped on failure. ts_pool_stop
 * waits for a job in flight, then joins the workers. */
int32_t ts_pool_start(int32_t n_threads);
void ts_pool_stop(void);

/* Slice of [0, n) for thread ith of nth: contiguous, in order, balanced, and every
 * boundary except the final n is a multiple of align (>= 1), e.g. a cache line's worth of
 * elements (no two threads write one line) or a quant block count. */
static inline void ts_split_range(int64_t n, int64_t align, int32_t ith, int32_t nth, int64_t *begin, int64_t *end) {
    if (align < 1) align = 1;
    if (nth < 1) nth = 1;
    int64_t blocks = (n + align - 1) / align;
    int64_t per = blocks / nth, extra = blocks % nth;
    int64_t b = (int64_t)ith * per + (ith < extra ? ith : extra);
    int64_t e = b + per + (ith < extra ? 1 : 0);
    b *= align;
    e *= align;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}

/* Dynamic sharing of [0, n): every thread claims `chunk` items at a time from one counter
 * (zeroed before ts_parallel) until none are left, so a thread the OS or a VM's host holds
 * back does less of the work instead of keeping the others waiting at the end of the job,
 * as a static split does. For jobs whose chunks cost about the same and number a few per
 * thread or more; `chunk` aligns the boundaries as in ts_split_range. */
static inline bool ts_claim_chunk(_Atomic int64_t *next, int64_t n, int64_t chunk, int64_t *begin, int64_t *end) {
    int64_t b = atomic_fetch_add_explicit(next, chunk, memory_order_relaxed);
    if (b >= n) return false;
    *begin = b;
    *end = n - b < chunk ? n : b + chunk;
    return true;
}

#endif /* TS_THREADPOOL_H */
