/*
 * ts_threadpool.c — persistent pthread pool with spin-then-sleep workers.
 *
 * Why this shape: kernels are called per tensor op, often on small data, so creating
 * threads per call (or waking them through a mutex each time) would dominate. Workers
 * spin briefly on a job word after each job, so back-to-back ops start within a
 * cache-line transfer; after the spin budget they sleep on a condvar so an idle library
 * burns no CPU (the JVM shares the cores).
 *
 * Publication: the caller writes fn/ctx/pending, then stores one 64-bit word
 * (generation << 16 | nth). A worker reads that word, so it learns the generation and
 * whether it takes part (ith < nth) in one atomic load; only participants read fn/ctx,
 * and the caller cannot post the next job until every participant has decremented
 * `pending`, so those reads never race with the next job's writes. Non-participants may
 * skip generations; they owe those jobs nothing.
 *
 * Lost wake-ups are excluded Dekker-style: a sleeping worker increments n_sleeping and
 * re-reads the word under the mutex before waiting; the caller stores the word, then
 * reads n_sleeping (both seq_cst) and broadcasts under the mutex if anyone sleeps.
 *
 * One job at a time: `busy` is taken with an atomic exchange; whoever fails to get it (a
 * second Java thread, a nested call, a resize in progress) runs its job alone.
 */
#include "ts_threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "ts_core.h"

#define TS_SPIN_ITERS 4096 /* ~20-100 us of pause instructions before sleeping */
#define TS_NTH_BITS 16

#if defined(__x86_64__) || defined(__i386__)
#define ts_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define ts_cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define ts_cpu_relax() ((void)0)
#endif

static struct {
    pthread_t threads[TS_POOL_MAX_THREADS];
    int32_t n_workers;     /* threads created (pool size - 1) */
    atomic_int size;       /* pool size seen by ts_pool_size, 1 when stopped */
    atomic_int running;
    atomic_int busy;       /* 1 while a job (or start/stop) owns the pool */
    _Atomic uint64_t word; /* generation << 16 | nth of the current job */
    atomic_int stop;
    atomic_int pending;    /* participating workers that have not finished */
    atomic_int n_sleeping;
    _Atomic(ts_task_fn) fn;
    _Atomic(void *) ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} g_pool = {.size = 1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Waits until the job word differs from `seen` (or stop); returns the new word. */
static uint64_t wait_for_job(uint64_t seen) {
    for (int i = 0; i < TS_SPIN_ITERS; i++) {
        uint64_t w = atomic_load_explicit(&g_pool.word, memory_order_acquire);
        if (w != seen) return w;
        ts_cpu_relax();
    }
    pthread_mutex_lock(&g_pool.mu);
    atomic_fetch_add(&g_pool.n_sleeping, 1);
    uint64_t w;
    while ((w = atomic_load(&g_pool.word)) == seen && !atomic_load(&g_pool.stop))
        pthread_cond_wait(&g_pool.cv, &g_pool.mu);
    atomic_fetch_sub(&g_pool.n_sleeping, 1);
    pthread_mutex_unlock(&g_pool.mu);
    return w;
}

static void *worker_main(void *arg) {
    const int32_t ith = (int32_t)(intptr_t)arg;
    uint64_t seen = 0; /* the word is reset to 0 before workers are created */
    for (;;) {
        seen = wait_for_job(seen);
        if (atomic_load_explicit(&g_pool.stop, memory_order_acquire)) break;
        int32_t nth = (int32_t)(seen & ((1u << TS_NTH_BITS) - 1));
        if (ith >= nth) continue;
        ts_task_fn fn = atomic_load_explicit(&g_pool.fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&g_pool.ctx, memory_order_relaxed);
        fn(ctx, ith, nth);
        atomic_fetch_sub_explicit(&g_pool.pending, 1, memory_order_release);
    }
    return NULL;
}

static int32_t online_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > TS_POOL_MAX_THREADS ? TS_POOL_MAX_THREADS : (int32_t)n);
}

/* Stops and joins workers [0, n); the caller holds `busy`. */
static void join_workers(int32_t n) {
    atomic_store(&g_pool.stop, 1);
    atomic_fetch_add(&g_pool.word, (uint64_t)1 << TS_NTH_BITS);
    pthread_mutex_lock(&g_pool.mu);
    pthread_cond_broadcast(&g_pool.cv);
    pthread_mutex_unlock(&g_pool.mu);
    for (int32_t i = 0; i < n; i++) pthread_join(g_pool.threads[i], NULL);
}

/* Takes `busy`, waiting for an in-flight job to finish; new jobs then run serially. */
static void acquire_busy(void) {
    int expected = 0;
    while (!atomic_compare_exchange_weak(&g_pool.busy, &expected, 1)) {
        expected = 0;
        sched_yield();
    }
}

/* Stops the workers; the caller holds `busy`. */
static void stop_locked(void) {
    if (atomic_load(&g_pool.running)) {
        atomic_store(&g_pool.running, 0);
        atomic_store(&g_pool.size, 1);
        join_workers(g_pool.n_workers);
        g_pool.n_workers = 0;
    }
}

int32_t ts_pool_start(int32_t n_threads) {
    if (n_threads <= 0) n_threads = online_cores();
    if (n_threads > TS_POOL_MAX_THREADS) n_threads = TS_POOL_MAX_THREADS;
    /* Stop and restart under one hold of `busy`, so no job can slip in between. */
    acquire_busy();
    stop_locked();
    atomic_store(&g_pool.stop, 0);
    atomic_store(&g_pool.word, 0);
    atomic_store(&g_pool.pending, 0);
    g_pool.n_workers = 0;

    /* Workers must not receive the process's asynchronous signals (in a JVM those belong
     * to the JVM's own threads), so create them with every blockable signal blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = 0;
    for (int32_t i = 0; i < n_threads - 1; i++) {
        err = pthread_create(&g_pool.threads[i], NULL, worker_main, (void *)(intptr_t)(i + 1));
        if (err) break;
        g_pool.n_workers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        int32_t created = g_pool.n_workers;
        join_workers(created);
        g_pool.n_workers = 0;
        atomic_store(&g_pool.size, 1);
        atomic_store(&g_pool.busy, 0);
        return ts_set_error(TS_ERR_INTERNAL, "cannot create worker thread %d of %d: %s", (int)created + 1,
                            (int)n_threads - 1, strerror(err));
    }
    atomic_store(&g_pool.size, n_threads);
    atomic_store(&g_pool.running, 1);
    atomic_store_explicit(&g_pool.busy, 0, memory_order_release);
    return TS_OK;
}

void ts_pool_stop(void) {
    acquire_busy();
    stop_locked();
    atomic_store_explicit(&g_pool.busy, 0, memory_order_release);
}

int32_t ts_pool_size(void) { return atomic_load_explicit(&g_pool.size, memory_order_relaxed); }

int32_t ts_threads_for(int64_t work, int64_t min_per_thread) {
    int32_t size = ts_pool_size();
    if (min_per_thread < 1) min_per_thread = 1;
    int64_t n = work / min_per_thread;
    if (n < 1) return 1;
    return n < size ? (int32_t)n : size;
}

void ts_parallel(ts_task_fn fn, void *ctx, int32_t max_threads) {
    if (max_threads <= 1 || atomic_load_explicit(&g_pool.size, memory_order_relaxed) <= 1 ||
        atomic_exchange_explicit(&g_pool.busy, 1, memory_order_acquire) != 0) {
        fn(ctx, 0, 1);
        return;
    }
    if (!atomic_load_explicit(&g_pool.running, memory_order_relaxed)) {
        atomic_store_explicit(&g_pool.busy, 0, memory_order_release);
        fn(ctx, 0, 1);
        return;
    }
    int32_t nth = g_pool.n_workers + 1;
    if (max_threads < nth) nth = max_threads;

    atomic_store_explicit(&g_pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&g_pool.ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&g_pool.pending, nth - 1, memory_order_relaxed);
    uint64_t gen = (atomic_load_explicit(&g_pool.word, memory_order_relaxed) >> TS_NTH_BITS) + 1;
    atomic_store(&g_pool.word, (gen << TS_NTH_BITS) | (uint64_t)nth); /* seq_cst: see top */
    if (atomic_load(&g_pool.n_sleeping) > 0) {
        pthread_mutex_lock(&g_pool.mu);
        pthread_cond_broadcast(&g_pool.cv);
        pthread_mutex_unlock(&g_pool.mu);
    }

    fn(ctx, 0, nth);

    for (uint32_t spins = 0; atomic_load_explicit(&g_pool.pending, memory_order_acquire) > 0; spins++) {
        if (spins < TS_SPIN_ITERS) ts_cpu_relax();
        else sched_yield(); /* a worker was descheduled: let it run */
    }
    atomic_store_explicit(&g_pool.busy, 0, memory_order_release);
}
