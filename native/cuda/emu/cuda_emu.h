/*
 * cuda_emu.h — runs CUDA kernels on the CPU, so their index arithmetic, tails and warp-level
 * exchanges are checked where there is no GPU (the *_emu.cpp programs, ctest label cuda).
 *
 * A kernel file is compiled as C++ after this header, with TSC_EMU defined (it leaves out its
 * PTX helpers, which ptx_*.h map onto the emu_* functions here, and its host entry points
 * unless cuda_runtime_emu.h supplies the CUDA runtime for them: the emulated library).
 * launch() runs the grid's blocks one after another; the threads of a block are coroutines
 * (own stacks, switched by a few instructions), each running until it reaches a barrier:
 * __syncthreads() waits for the whole block, warp-level operations (__syncwarp, shuffles,
 * ballots, ldmatrix, mma.sync) for the 32 threads of the warp. A thread that leaves while
 * others of its group wait is reported, as a deadlock would be. A cp.async fills its
 * destination with 0x7f bytes (huge values) when issued and copies when its thread waits for
 * the group (the oldest groups first): the two ends of the window in which the GPU may write,
 * so reading a tile before waiting for it, or refilling a slot that other lanes still read,
 * gives wrong results. Shared memory starts filled with 0x7f bytes too. Global reads by
 * cp.async are checked against the ranges the program registers (cudaMalloc's allocations in
 * the emulated library). What this does not find: races the schedule does not expose (each
 * coroutine runs alone up to its next barrier), memory ordering, performance. Built with
 * -fsanitize=thread (ci/emu-racecheck.sh) it finds those races too: each thread is a
 * ThreadSanitizer fiber and only what orders memory on a GPU orders it here (see "race
 * checking" below).
 */
#ifndef TSC_CUDA_EMU_H
#define TSC_CUDA_EMU_H


#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define TSC_EMU_TSAN 1
/* libtsan's, not in its public header */
extern "C" void __tsan_ignore_thread_begin(void);
extern "C" void __tsan_ignore_thread_end(void);
extern "C" void __tsan_read_range(void *addr, long size); /* as GCC's built-ins have them */
extern "C" void __tsan_write_range(void *addr, long size);
extern "C" void AnnotateIgnoreSyncBegin(const char *file, int line);
extern "C" void AnnotateIgnoreSyncEnd(const char *file, int line);
#endif

#define TSC_EMU 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n)
#define __shared__ static /* a block's static shared arrays: blocks run one at a time */

struct int4 {
    int x, y, z, w;
};
struct float4 {
    float x, y, z, w;
};
struct uint2 {
    unsigned x, y;
};
struct float2 {
    float x, y;
};
static inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
static dim3 threadIdx, blockIdx, blockDim, gridDim;
#ifdef TSC_EMU_TSAN
#define EMU_UNCHECKED __attribute__((no_sanitize_thread, noinline, unused))
/* The emulator's own bookkeeping, done by a kernel's threads and the scheduler alike (which
 * also sets threadIdx and the others between the threads' turns), is no access of the
 * kernel's: left out of the race check. */
struct emu_quiet {
    emu_quiet() { __tsan_ignore_thread_begin(); }
    ~emu_quiet() { __tsan_ignore_thread_end(); }
};
/* Inside a quiet stretch: what the kernel's thread itself does. */
struct emu_loud {
    emu_loud() { __tsan_ignore_thread_end(); }
    ~emu_loud() { __tsan_ignore_thread_begin(); }
};
#else
#define EMU_UNCHECKED inline
struct emu_quiet {
    emu_quiet() {}
};
struct emu_loud {
    emu_loud() {}
};
#endif
using std::isfinite;
using std::isinf;
using std::isnan;
using std::max;
using std::min;

/* ---- scalar built-ins ------------------------------------------------------------------ */
template <class T> static inline T __ldg(const T *p) { return *p; }
template <class T> static inline T __ldcg(const T *p) { return *p; }
static inline float __uint_as_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned)v); }
static inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; i++) c += (int)(int8_t)(a >> (8 * i)) * (int)(int8_t)(b >> (8 * i));
    return c;
}
static inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned sh) {
    return (unsigned)((((uint64_t)hi << 32) | lo) >> (sh & 31));
}
static inline float tsc_emu_h2f(uint16_t h) {
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}
static inline uint16_t tsc_emu_f2h(float f) { /* round to nearest even, as __float2half_rn */
    const _Float16 v = (_Float16)f;
    uint16_t h;
    memcpy(&h, &v, 2);
    return h;
}

/* Half precision as bits, converted with the compiler's _Float16 (round to nearest even). */
struct __half {
    uint16_t x;
};
static inline __half tsc_emu_half(_Float16 v) {
    __half h;
    memcpy(&h.x, &v, 2);
    return h;
}
static inline __half __float2half_rn(float f) { return tsc_emu_half((_Float16)f); }
static inline __half __int2half_rn(int i) { return tsc_emu_half((_Float16)i); }
static inline float __half2float(__half h) {
    _Float16 v;
    memcpy(&v, &h.x, 2);
    return (float)v;
}
static inline unsigned short __half_as_ushort(__half h) { return h.x; }
static inline __half __ushort_as_half(unsigned short u) { return __half{u}; }
/* bfloat16 as bits; finite values round to nearest even (NaN is the callers' business). */
struct __nv_bfloat16 {
    uint16_t x;
};
static inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return __nv_bfloat16{(uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}
static inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.x; }
static inline float __int_as_float(int i) {
    float f;
    memcpy(&f, &i, 4);
    return f;
}
static inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
struct uint4 {
    unsigned x, y, z, w;
};
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
static inline __half __float2half(float f) { return __float2half_rn(f); }
struct __half2 {
    __half x, y;
};
static inline __half2 __floats2half2_rn(float lo, float hi) { return __half2{__float2half_rn(lo), __float2half_rn(hi)}; }
static inline float2 __half22float2(__half2 h) { return float2{__half2float(h.x), __half2float(h.y)}; }

/* ---- shared memory and checked global reads --------------------------------------------- */
/* pdl_wait() calls of the kernel running (tsc_device.cuh, tsc_emu_pdl_wait below): a kernel
 * launched as a programmatic dependent launch must make at least one (cuda_runtime_emu.h checks). */
static int64_t g_emu_pdl_waits;

static char *g_smem;
static size_t g_smem_bytes;
EMU_UNCHECKED static void *tsc_emu_smem() { return g_smem; }
/* Global memory cp.async may read: set by a program, or by cuda_runtime_emu.h's cudaMalloc
 * (inline: one list for every file of the emulated library). */
inline std::vector<std::pair<const char *, const char *>> g_ranges;
static inline void emu_fail(const char *what) {
    emu_quiet q;
    fprintf(stderr, "emu: %s (block %u,%u,%u thread %u,%u,%u)\n", what, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x,
            threadIdx.y, threadIdx.z);
    exit(2);
}
static inline void check_read(const void *src, size_t n) {
    emu_quiet q;
    for (auto &r : g_ranges)
        if ((const char *)src >= r.first && (const char *)src + n <= r.second) return;
    emu_fail("cp.async reads outside every registered input");
}
static inline void check_smem(size_t off, size_t n) {
    if (off + n > g_smem_bytes) emu_fail("shared memory access beyond the launch's dynamic shared memory");
}
static inline uint32_t __cvta_generic_to_shared(const void *p) {
    emu_quiet q;
    const size_t off = (size_t)((const char *)p - g_smem);
    check_smem(off, 1);
    return (uint32_t)off;
}

/* ---- the threads of one block ------------------------------------------------------------- */
enum { EMU_READY, EMU_BLOCK_BAR, EMU_WARP_BAR, EMU_DONE };
struct emu_copy {
    char *dst;
    const char *src; /* NULL: zero-fill */
    int n;
};
/* Switching between the block's threads and the scheduler: the callee-saved registers go on
 * the stack and the stack pointers are swapped (System V x86-64 ABI; the CUDA build, hence
 * this emulator, is x86-64 only). ucontext's swapcontext would also make a signal-mask system
 * call at every switch, several times the cost of the kernels' own work in barrier-heavy code. */
#if !defined(__x86_64__)
#error "cuda_emu.h switches coroutines with x86-64 code"
#endif
extern "C" void tsc_emu_switch(void **save_sp, void *to_sp);
/* weak and hidden: every file of the emulated library includes this header */
__asm__(".pushsection .text\n.weak tsc_emu_switch\n.hidden tsc_emu_switch\n.type tsc_emu_switch,@function\ntsc_emu_switch:\n"
        "pushq %rbp\npushq %rbx\npushq %r12\npushq %r13\npushq %r14\npushq %r15\n"
        "movq %rsp, (%rdi)\nmovq %rsi, %rsp\n"
        "popq %r15\npopq %r14\npopq %r13\npopq %r12\npopq %rbx\npopq %rbp\nret\n.popsection\n");
struct emu_ctx {
    void *sp;
};
static inline void emu_switch(emu_ctx *from, emu_ctx *to) { tsc_emu_switch(&from->sp, to->sp); }
/* A context that starts entry() on stack [stack, stack + size) at its first switch. */
static inline void emu_make_ctx(emu_ctx *c, char *stack, size_t size, void (*entry)()) {
    void **sp = (void **)(((uintptr_t)stack + size) & ~(uintptr_t)15);
    *--sp = NULL;                             /* entry's return address: it never returns */
    *--sp = (void *)entry;                    /* where the first switch's ret goes */
    for (int i = 0; i < 6; i++) *--sp = NULL; /* rbp, rbx, r12-r15 */
    c->sp = sp;
}

struct emu_thread {
    emu_ctx ctx;
    char *stack;
    int state;
    bool orders;                                  /* waits at __syncwarp, not at a shuffle */
    std::vector<emu_copy> pending;                /* copies not yet committed */
    std::vector<std::vector<emu_copy>> groups;    /* committed groups, oldest first */
    bool fenced;                                  /* has executed __threadfence() */
    bool waited;                                  /* has executed pdl_wait() */
#ifdef TSC_EMU_TSAN
    std::vector<unsigned *> atomics; /* atomics it or a thread it met at a barrier touched */
    void *fiber;
#endif
};
static emu_ctx g_main;
static std::vector<emu_thread> g_thr;
static int g_cur, g_nthreads;
static std::function<void()> g_body;
static const size_t EMU_STACK = 256 << 10;

/* ---- race checking (built with -fsanitize=thread: ci/emu-racecheck.sh) ------------------------
 * Each thread of a block is a ThreadSanitizer fiber, switched without synchronization, so two
 * threads' accesses to one address race unless something a GPU orders memory with lies between:
 * __syncthreads() and __syncwarp() (release and acquire on the block's or warp's barrier),
 * __threadfence() with the atomics a thread touched (below), the end of a kernel and the
 * host's calls around it. Shuffles, ballots, ldmatrix and mma.sync exchange registers only, so
 * they do not order memory here. A cp.async writes its destination when issued and again at
 * the wait, ldmatrix reads the row each lane names. Blocks alternate between two sets of
 * fibers, each set with its own shared memory (__shared__ variables are static thread_local
 * here, and no two sets run blocks on one thread), and a block of a set starts
 * after the set's last block has ended: races between blocks of different sets show (a
 * block's global stores racing with another's, a ticket's last block reading the others'
 * results), those within a set do not. A block's set is the parity of its index bits, so
 * blocks 2i and 2i + 1 along any axis are of different sets, and about half of other pairs.
 * A programmatic dependent launch right after a kernel that let it start (pdl_trigger() before
 * waiting itself; nothing else on the stream between) may run beside that kernel on a GPU until
 * its pdl_wait(), and beside the kernels before it while each let the next start so: a chain.
 * Here its threads start ordered after what the host did before the chain's first kernel
 * ended, not after the blocks of the chain's kernels, which they meet at pdl_wait(). So a read
 * of an earlier kernel's output, or a write of what it reads, before pdl_wait() shows. For
 * that a kernel's blocks run on fibers no kernel of its chain ran on: successive kernels take
 * EMU_GROUPS groups of fiber sets in turn (each set with its own thread, barriers and shared
 * memory), and a set's fibers carry what its earlier blocks did and acquired, so overlap is
 * modelled with the EMU_GROUPS - 1 kernels before, not further back. */
#ifdef TSC_EMU_TSAN
#include <condition_variable>
#include <mutex>
#include <thread>
#undef __shared__
#define __shared__ static thread_local
enum { EMU_SETS = 2, EMU_GROUPS = 4 };
struct emu_fiber {
    void *fiber;
    char *stack;
};
/* Shared by the files of the emulated library: fibers cost milliseconds to create. */
inline std::vector<emu_fiber> g_emu_fibers[EMU_GROUPS][EMU_SETS];
inline unsigned long g_emu_kernels;                /* kernels launched: kernel i runs on group i % EMU_GROUPS */
inline char g_emu_launched, g_emu_finished;        /* the host's and the kernels' sync points */
inline char g_emu_host_pre; /* the host before it took in the end of the last chain's first kernel */
/* Stream operations other than kernels (copies, sets, allocations), and their count when the
 * last kernel ended: a dependent launch overlaps that kernel only with none between, and only
 * when that kernel triggered. */
inline unsigned long g_emu_stream_ops, g_emu_kernel_end_ops = ~0ul;
inline bool g_emu_triggered; /* a thread of the last kernel (or the one running) triggered before its wait */
static char *g_emu_start; /* what the threads of the kernel running acquire as they start */
inline char g_emu_bars[EMU_GROUPS][EMU_SETS][1 + 32]; /* per set: the block's barrier, then each warp's */
/* Per set, by the parity of its blocks: where they release at their end. A block's threads
 * acquire the other parity's, which its own threads never release to before they end. */
inline char g_emu_set_done[EMU_GROUPS][EMU_SETS][2];
inline unsigned g_emu_set_blocks[EMU_GROUPS][EMU_SETS];
static void *g_main_fiber;
static char *g_bars, *g_set_before, *g_set_this;
/* Runs a set's blocks on a thread of its own (its __shared__ variables), one at a time, while
 * the caller waits; the first group's first set runs on the host's thread. */
struct emu_runner {
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> job;
    bool busy = false;
    char start; /* released by its thread as it starts (its thread-local storage is written) */
    emu_runner() { std::thread([this] { loop(); }).detach(); }
    void run(std::function<void()> f) {
        std::unique_lock<std::mutex> l(mu);
        job = std::move(f), busy = true;
        cv.notify_all();
        cv.wait(l, [this] { return !busy; });
    }
    void loop() {
        __tsan_release(&start);
        std::unique_lock<std::mutex> l(mu);
        for (;;) {
            cv.wait(l, [this] { return busy; });
            job();
            busy = false;
            cv.notify_all();
        }
    }
};
/* Made at the first launch, before any kernel has run: a thread starts ordered after what its
 * creator did. Never destroyed: their threads outlive main(). */
inline emu_runner *g_emu_runners[EMU_GROUPS][EMU_SETS];
inline char g_emu_host_start; /* the host at the first launch, for the fibers on its thread */
static inline void emu_make_runners() {
    if (g_emu_runners[0][1]) return;
    __tsan_release(&g_emu_host_start);
    for (int g = 0; g < EMU_GROUPS; g++)
        for (int s = 0; s < EMU_SETS; s++)
            if (g || s) g_emu_runners[g][s] = new emu_runner;
}
#else
enum { EMU_SETS = 1, EMU_GROUPS = 1 };
#endif

static inline void emu_set_index(int t) {
    threadIdx = dim3((unsigned)t % blockDim.x, (unsigned)t / blockDim.x % blockDim.y, (unsigned)t / (blockDim.x * blockDim.y));
}
/* From a thread to the scheduler. */
static inline void emu_yield() {
#ifdef TSC_EMU_TSAN
    __tsan_switch_to_fiber(g_main_fiber, __tsan_switch_to_fiber_no_sync);
#endif
    emu_switch(&g_thr[g_cur].ctx, &g_main);
}
EMU_UNCHECKED static void emu_trampoline() {
#ifdef TSC_EMU_TSAN
    __tsan_acquire(g_emu_start);  /* the host before the launch (a dependent one: before its chain's first kernel ended) */
    __tsan_acquire(g_set_before); /* the set's last block: its shared memory is this one's */
#endif
    g_body();
#ifdef TSC_EMU_TSAN
    __tsan_release(g_set_this);
    __tsan_release(&g_emu_finished); /* what the host sees after the launch */
#endif
    g_thr[g_cur].state = EMU_DONE;
    emu_yield();
}
/* griddepcontrol.wait: the kernel before has ended and its memory is visible. */
EMU_UNCHECKED static void tsc_emu_pdl_wait() {
    g_emu_pdl_waits++;
    g_thr[g_cur].waited = true;
#ifdef TSC_EMU_TSAN
    __tsan_acquire(&g_emu_launched);
#endif
}
/* griddepcontrol.launch_dependents: the next kernel may start (noted before the thread's wait). */
EMU_UNCHECKED static void tsc_emu_pdl_trigger() {
#ifdef TSC_EMU_TSAN
    if (!g_thr[g_cur].waited) g_emu_triggered = true;
#endif
}
/* A stream operation other than a kernel, run by the host: a dependent launch after it waits
 * for the kernel before as a plain launch does. */
static inline void emu_stream_op() {
#ifdef TSC_EMU_TSAN
    g_emu_stream_ops++;
#endif
}
static inline void emu_wait(int state) {
    emu_quiet q;
    g_thr[g_cur].state = state;
    emu_yield();
}
static inline void __syncthreads() {
    emu_quiet q;
#ifdef TSC_EMU_TSAN
    __tsan_release(g_bars);
#endif
    emu_wait(EMU_BLOCK_BAR);
#ifdef TSC_EMU_TSAN
    __tsan_acquire(g_bars);
#endif
}
/* A warp-level exchange of registers (shuffle, ballot, ldmatrix, mma): no memory ordering. */
static inline void emu_warp_sync() { emu_wait(EMU_WARP_BAR); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) {
    if (mask != 0xffffffffu) emu_fail("__syncwarp with a partial mask");
    emu_quiet q;
    g_thr[g_cur].orders = true;
#ifdef TSC_EMU_TSAN
    __tsan_release(g_bars + 1 + (g_cur >> 5));
#endif
    emu_warp_sync();
#ifdef TSC_EMU_TSAN
    __tsan_acquire(g_bars + 1 + (g_cur >> 5));
#endif
}

/* Device-wide ordering, as the PTX memory model has it for fence.sc and relaxed atomics: a
 * fence makes the atomics after it release what came before it, and acquires what was
 * released to the atomics its thread touched before it, or that a thread it met since at a
 * __syncthreads or __syncwarp touched (a ticket taken by thread 0, then a barrier, then every
 * thread's fence and reads). Without -fsanitize=thread blocks run one at a time, so ordering
 * and atomicity hold by construction. */
static inline void __threadfence() {
    emu_quiet q;
    emu_thread &th = g_thr[g_cur];
#ifdef TSC_EMU_TSAN
    for (unsigned *p : th.atomics) __tsan_acquire(p);
#endif
    th.fenced = true;
}
/* An atomic on p by this thread, remembered for its fences: whether it releases (a fence came
 * before it). */
static inline bool emu_atomic(unsigned *p) {
    emu_quiet q;
    emu_thread &th = g_thr[g_cur];
#ifdef TSC_EMU_TSAN
    if (std::find(th.atomics.begin(), th.atomics.end(), p) == th.atomics.end()) th.atomics.push_back(p);
#else
    (void)p;
#endif
    return th.fenced;
}
static inline unsigned atomicAdd(unsigned *p, unsigned v) {
    return emu_atomic(p) ? __atomic_fetch_add(p, v, __ATOMIC_RELEASE) : __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
static inline unsigned atomicExch(unsigned *p, unsigned v) {
    return emu_atomic(p) ? __atomic_exchange_n(p, v, __ATOMIC_RELEASE) : __atomic_exchange_n(p, v, __ATOMIC_RELAXED);
}
/* Threads t0 .. t1 - 1 met at a barrier: each learns the atomics the others touched (for the
 * race check's fences only). */
static inline void emu_share_atomics(int t0, int t1) {
#ifdef TSC_EMU_TSAN
    std::vector<unsigned *> all;
    for (int t = t0; t < t1; t++)
        for (unsigned *p : g_thr[t].atomics)
            if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
    if (!all.empty())
        for (int t = t0; t < t1; t++) g_thr[t].atomics = all;
#else
    (void)t0, (void)t1;
#endif
}

/* Releases every barrier group whose threads have all arrived; false when none could be. */
static bool emu_release() {
    bool any = false;
    int waiting = 0, done = 0;
    for (int t = 0; t < g_nthreads; t++) waiting += g_thr[t].state == EMU_BLOCK_BAR, done += g_thr[t].state == EMU_DONE;
    if (waiting && waiting + done == g_nthreads) {
        if (done) emu_fail("threads left the kernel while others wait at __syncthreads");
        emu_share_atomics(0, g_nthreads);
        for (int t = 0; t < g_nthreads; t++) g_thr[t].state = EMU_READY;
        return true;
    }
    for (int w0 = 0; w0 < g_nthreads; w0 += 32) {
        const int w1 = std::min(w0 + 32, g_nthreads);
        int at = 0, gone = 0;
        bool orders = false;
        for (int t = w0; t < w1; t++) at += g_thr[t].state == EMU_WARP_BAR, gone += g_thr[t].state == EMU_DONE, orders |= g_thr[t].orders;
        if (at && at + gone == w1 - w0) {
            if (gone) emu_fail("lanes left the kernel while others of their warp wait at a warp-level operation");
            if (orders) emu_share_atomics(w0, w1);
            for (int t = w0; t < w1; t++) g_thr[t].state = EMU_READY, g_thr[t].orders = false;
            any = true;
        }
    }
    return any;
}

/* Runs one block on fiber set `set` of group `group` (0 and 0 without -fsanitize=thread). */
static inline void run_block(const std::function<void()> &body, int group, int set) {
    g_body = body;
    g_nthreads = (int)(blockDim.x * blockDim.y * blockDim.z);
    if ((int)g_thr.size() < g_nthreads) {
        const size_t had = g_thr.size();
        g_thr.resize(g_nthreads);
        if (EMU_SETS == 1)
            for (size_t t = had; t < g_thr.size(); t++) g_thr[t].stack = (char *)malloc(EMU_STACK);
    }
#ifdef TSC_EMU_TSAN
    std::vector<emu_fiber> &fib = g_emu_fibers[group][set];
    g_main_fiber = __tsan_get_current_fiber();
    if ((int)fib.size() < g_nthreads) {
        /* A new fiber would start ordered after all its creator did, the kernels before
         * included: it starts ordered after its thread's start only. */
        char *start = group || set ? &g_emu_runners[group][set]->start : &g_emu_host_start;
        AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
        while ((int)fib.size() < g_nthreads) {
            void *f = __tsan_create_fiber(0);
            __tsan_switch_to_fiber(f, __tsan_switch_to_fiber_no_sync);
            __tsan_acquire(start);
            __tsan_switch_to_fiber(g_main_fiber, __tsan_switch_to_fiber_no_sync);
            fib.push_back(emu_fiber{f, (char *)malloc(EMU_STACK)});
        }
        AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
    }
    const unsigned k = g_emu_set_blocks[group][set]++;
    g_bars = g_emu_bars[group][set];
    g_set_before = &g_emu_set_done[group][set][(k + 1) & 1], g_set_this = &g_emu_set_done[group][set][k & 1];
#else
    (void)group, (void)set;
#endif
    for (int t = 0; t < g_nthreads; t++) {
        emu_thread &th = g_thr[t];
        th.state = EMU_READY;
        th.orders = th.fenced = th.waited = false;
        th.pending.clear(), th.groups.clear();
#ifdef TSC_EMU_TSAN
        th.atomics.clear();
        th.fiber = fib[t].fiber, th.stack = fib[t].stack;
#endif
        emu_make_ctx(&th.ctx, th.stack, EMU_STACK, emu_trampoline);
    }
    for (;;) {
        bool ran = false;
        for (int t = 0; t < g_nthreads; t++) {
            if (g_thr[t].state != EMU_READY) continue;
            g_cur = t;
            emu_set_index(t);
            void *to = g_thr[t].ctx.sp; /* read before the switch: the fiber is not ordered after the host */
#ifdef TSC_EMU_TSAN
            __tsan_switch_to_fiber(g_thr[t].fiber, __tsan_switch_to_fiber_no_sync);
#endif
            tsc_emu_switch(&g_main.sp, to);
            ran = true;
        }
        int done = 0;
        for (int t = 0; t < g_nthreads; t++) done += g_thr[t].state == EMU_DONE;
        if (done == g_nthreads) return;
        if (!emu_release() && !ran) emu_fail("deadlock: threads wait at barriers that can never complete");
    }
}

/* Runs kernel body f over grid x block threads with smem bytes of dynamic shared memory; pdl:
 * launched as a programmatic dependent launch (see race checking). */
template <class F> static void launch(dim3 grid, dim3 block, size_t smem, F f, bool pdl = false) {
    emu_quiet q;
    std::vector<char> buf[EMU_SETS];
    for (auto &b : buf) b.resize(smem + 64);
    g_smem_bytes = smem;
    blockDim = block;
    gridDim = grid;
    const std::function<void()> body = f;
#ifdef TSC_EMU_TSAN
    emu_make_runners();
    __tsan_release(&g_emu_launched);
    const bool overlaps = pdl && g_emu_stream_ops == g_emu_kernel_end_ops && g_emu_triggered;
    g_emu_start = overlaps ? &g_emu_host_pre : &g_emu_launched;
    g_emu_triggered = false;
    const int group = (int)(g_emu_kernels++ % EMU_GROUPS);
#else
    (void)pdl;
    const int group = 0;
#endif
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = dim3(x, y, z);
#ifdef TSC_EMU_TSAN
                /* the parity of the index bits: blocks 2i and 2i + 1 along any axis differ */
                const int set = (__builtin_popcount(x) + __builtin_popcount(y) + __builtin_popcount(z)) & 1;
#else
                const int set = 0;
#endif
                g_smem = (char *)(((uintptr_t)buf[set].data() + 15) & ~(uintptr_t)15);
                memset(g_smem, 0x7f, smem);
#ifdef TSC_EMU_TSAN
                if (group || set) {
                    g_emu_runners[group][set]->run([&] {
                        emu_quiet q1;
                        run_block(body, group, set);
                    });
                    continue;
                }
#endif
                run_block(body, group, set);
            }
#ifdef TSC_EMU_TSAN
    if (!overlaps) __tsan_release(&g_emu_host_pre); /* a chain's first kernel (or one alone) */
    __tsan_acquire(&g_emu_finished);
    g_emu_kernel_end_ops = g_emu_stream_ops;
#endif
}

/* ---- warp-level exchanges ------------------------------------------------------------------ */
static uint32_t g_xchg[1024];
static inline int emu_lane() { return g_cur & 31; }
/* Every lane posts v; returns what lane src posted. */
static inline uint32_t emu_exchange(uint32_t v, int src) {
    emu_quiet q;
    g_xchg[g_cur] = v;
    emu_warp_sync();
    const uint32_t r = g_xchg[(g_cur & ~31) + (src & 31)];
    emu_warp_sync();
    return r;
}
/* A 32- or 64-bit value from lane src of the warp (64 bits as two exchanges, as the GPU does). */
template <class T> static inline T emu_shfl(unsigned mask, T v, int src) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "32- and 64-bit shuffles");
    if (mask != 0xffffffffu) emu_fail("shuffle with a partial mask");
    uint32_t u[2] = {0, 0};
    memcpy(u, &v, sizeof(T));
    for (size_t i = 0; i < sizeof(T) / 4; i++) u[i] = emu_exchange(u[i], src);
    memcpy(&v, u, sizeof(T));
    return v;
}
template <class T> static inline T __shfl_xor_sync(unsigned mask, T v, int o) { return emu_shfl(mask, v, emu_lane() ^ o); }
template <class T> static inline T __shfl_sync(unsigned mask, T v, int src) { return emu_shfl(mask, v, src); }
static inline unsigned __ballot_sync(unsigned mask, int pred) {
    if (mask != 0xffffffffu) emu_fail("ballot with a partial mask");
    emu_quiet q;
    g_xchg[g_cur] = pred != 0;
    emu_warp_sync();
    unsigned r = 0;
    for (int l = 0; l < 32; l++) r |= (g_xchg[(g_cur & ~31) + l] ? 1u : 0u) << l;
    emu_warp_sync();
    return r;
}

/* What the kernel's thread reads or writes through an instruction emulated here (not its own
 * loads and stores, which the compiler instruments): n bytes at p, shared or global. */
EMU_UNCHECKED static void emu_note_read(const void *p, size_t n) {
#ifdef TSC_EMU_TSAN
    __tsan_read_range((void *)p, (long)n);
#else
    (void)p, (void)n;
#endif
}
EMU_UNCHECKED static void emu_note_write(void *p, size_t n) {
#ifdef TSC_EMU_TSAN
    __tsan_write_range(p, (long)n);
#else
    (void)p, (void)n;
#endif
}

/* ldmatrix.sync.aligned.m8n8.x4.shared.b16: lane l receives 32-bit word l % 4 of row l / 4
 * of matrix j (j = 0..3, into r[j]) from the row address lane 8j + l / 4 supplies. */
static uint32_t g_ldsm_addr[1024];
static inline void emu_ldmatrix_x4(uint32_t addr, uint32_t *r) {
    if (addr % 16) emu_fail("misaligned ldmatrix row address");
    check_smem(addr, 16);
    emu_note_read((char *)tsc_emu_smem() + addr, 16); /* the row this lane names */
    emu_quiet q;
    const int lane = emu_lane(), w0 = g_cur & ~31;
    g_ldsm_addr[g_cur] = addr;
    emu_warp_sync();
    for (int j = 0; j < 4; j++) {
        const uint32_t a = g_ldsm_addr[w0 + 8 * j + lane / 4] + 4 * (lane % 4);
        check_smem(a, 4);
        memcpy(&r[j], g_smem + a, 4);
    }
    emu_warp_sync();
}

/* ldmatrix...x4.trans: as emu_ldmatrix_x4 with each 8x8 matrix transposed: lane l receives
 * the 16-bit elements (row 2(l % 4), column l / 4) and (row 2(l % 4) + 1, column l / 4) of
 * matrix j, rows being the addresses lanes 8j .. 8j + 7 supply. */
static inline void emu_ldmatrix_x4_trans(uint32_t addr, uint32_t *r) {
    if (addr % 16) emu_fail("misaligned ldmatrix row address");
    check_smem(addr, 16);
    emu_note_read((char *)tsc_emu_smem() + addr, 16);
    emu_quiet q;
    const int lane = emu_lane(), w0 = g_cur & ~31;
    g_ldsm_addr[g_cur] = addr;
    emu_warp_sync();
    for (int j = 0; j < 4; j++) {
        uint16_t h[2];
        for (int e = 0; e < 2; e++) {
            const uint32_t a = g_ldsm_addr[w0 + 8 * j + 2 * (lane % 4) + e] + 2 * (lane / 4);
            check_smem(a, 2);
            memcpy(&h[e], g_smem + a, 2);
        }
        r[j] = (uint32_t)h[0] | ((uint32_t)h[1] << 16);
    }
    emu_warp_sync();
}

/* The same into four registers, as the kernels' PTX wrappers take them. */
static inline void emu_ldmatrix_x4(uint32_t addr, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3, bool trans = false) {
    uint32_t r[4];
    if (trans) emu_ldmatrix_x4_trans(addr, r);
    else emu_ldmatrix_x4(addr, r);
    r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
}

/* mma.sync m16n8k32 and m16n8k16 s8, m16n8k16 f16/bf16 (row.col), from their PTX fragment layouts; g =
 * lane / 4, t = lane % 4. s8: A regs 0/1/2/3 hold rows g / g+8 / g / g+8, the bytes of
 * columns 4t.. (regs 2, 3: 16 + 4t..); B regs 0/1 hold k = 4t.. / 16 + 4t.. of column g.
 * f16: A regs hold (row, columns 2t, 2t+1) for rows g, g+8, g, g+8 at column offsets 0, 0,
 * 8, 8; B regs k = 2t, 2t+1 (+8) of column g. C/D: c0, c1 (g, 2t + 0/1), c2, c3 (g+8, ...).
 * Each lane posts its fragments, and after a warp barrier computes its own four outputs. */
struct emu_mma_x {
    uint32_t a[32][4], b[32][2];
};
static emu_mma_x g_mx[32];
static inline emu_mma_x &emu_mma_post(const uint32_t *a, const uint32_t *b) {
    emu_mma_x &w = g_mx[g_cur >> 5];
    memcpy(w.a[emu_lane()], a, 16);
    memcpy(w.b[emu_lane()], b, 8);
    emu_warp_sync();
    return w;
}
/* d = a·b + c (c the same in all four: the C operand as the kernels pass it), exact with
 * 32-bit wrap-around; K 32, or 16 (m16n8k16: A regs 0, 1 and B reg 0 only, which hold the
 * same elements as k 0-15 of the k32 layout). */
static inline void emu_mma_s8(int32_t *d, const uint32_t *a, const uint32_t *b, uint32_t c, int K = 32) {
    emu_quiet q;
    emu_mma_x &w = emu_mma_post(a, b);
    const int g = emu_lane() / 4, t = emu_lane() % 4;
    int32_t out[4];
    for (int e = 0; e < 4; e++) {
        const int row = g + 8 * (e >> 1), col = 2 * t + (e & 1);
        uint32_t s = c;
        for (int k = 0; k < K; k++) {
            const uint32_t ra = w.a[(row % 8) * 4 + (k % 16) / 4][(row >= 8) + 2 * (k >= 16)];
            const uint32_t rb = w.b[col * 4 + (k % 16) / 4][k >= 16];
            s += (uint32_t)((int)(int8_t)(ra >> (8 * (k % 4))) * (int)(int8_t)(rb >> (8 * (k % 4))));
        }
        out[e] = (int32_t)s;
    }
    emu_warp_sync();
    memcpy(d, out, 16);
}
/* d = a·b + c (c NULL: zeros); the exact products summed in double, rounded once. bf: the
 * elements are bf16 (the bf16 mma: the same fragment layouts). */
static inline float emu_elem16(uint16_t e, bool bf) { return bf ? __uint_as_float((uint32_t)e << 16) : tsc_emu_h2f(e); }
static inline void emu_mma_f16(float *d, const uint32_t *a, const uint32_t *b, const float *c, bool bf = false) {
    emu_quiet q;
    emu_mma_x &w = emu_mma_post(a, b);
    const int g = emu_lane() / 4, t = emu_lane() % 4;
    float out[4];
    for (int e = 0; e < 4; e++) {
        const int row = g + 8 * (e >> 1), col = 2 * t + (e & 1);
        double s = c ? c[e] : 0.0;
        for (int k = 0; k < 16; k++) {
            const uint32_t ra = w.a[(row % 8) * 4 + (k % 8) / 2][(row >= 8) + 2 * (k >= 8)];
            const uint32_t rb = w.b[col * 4 + (k % 8) / 2][k >= 8];
            s += (double)emu_elem16((uint16_t)(ra >> (16 * (k % 2))), bf) * emu_elem16((uint16_t)(rb >> (16 * (k % 2))), bf);
        }
        out[e] = (float)s;
    }
    emu_warp_sync();
    memcpy(d, out, 16);
}

/* ---- cp.async: queued per thread, done at the wait ------------------------------------------ */
/* n bytes (4 or 16) from src to shared offset dst; src_bytes 0 zero-fills without reading.
 * The race check sees the copy at both ends of its window: issue and wait. */
static inline void emu_cp_async(uint32_t dst, const void *src, int n, int src_bytes) {
    if (dst % (uint32_t)n || (src_bytes && (uintptr_t)src % (uintptr_t)n)) emu_fail("misaligned cp.async");
    check_smem(dst, (size_t)n);
    if (src_bytes) check_read(src, (size_t)n), emu_note_read(src, (size_t)n);
    char *d = (char *)tsc_emu_smem() + dst;
    emu_note_write(d, (size_t)n);
    emu_quiet q;
    memset(d, 0x7f, (size_t)n);
    g_thr[g_cur].pending.push_back(emu_copy{d, src_bytes ? (const char *)src : NULL, n});
}
static inline void emu_cp_commit() {
    emu_quiet q;
    emu_thread &th = g_thr[g_cur];
    th.groups.push_back(std::move(th.pending));
    th.pending.clear();
}
/* Completes the oldest groups until at most n are in flight. */
static inline void emu_cp_wait(int n) {
    emu_quiet q;
    emu_thread &th = g_thr[g_cur];
    while ((int)th.groups.size() > n) {
        for (const emu_copy &c : th.groups.front()) {
            {
                emu_loud l;
                if (c.src) emu_note_read(c.src, (size_t)c.n);
                emu_note_write(c.dst, (size_t)c.n);
            }
            if (c.src) memcpy(c.dst, c.src, (size_t)c.n);
            else memset(c.dst, 0, (size_t)c.n);
        }
        th.groups.erase(th.groups.begin());
    }
}

#endif /* TSC_CUDA_EMU_H */
