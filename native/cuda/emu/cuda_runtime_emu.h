/*
 * cuda_runtime_emu.h — the part of the CUDA runtime API libtessera_cuda calls, on the CPU, so
 * the whole library (host entry points, validation, planning, pool, kernels) compiles as C++
 * and the GPU test programs (tests/test_cuda_*.c) run unchanged against it: the emulated
 * library tessera_cuda_emu (emu/lib/, ctest label cuda).
 *
 * One emulated device, shaped like an H100/H200 where the library asks (compute capability
 * 9.0, 132 SMs, 227 KiB of opt-in shared memory per block), so it takes the paths it takes
 * there. Kernels run at their launch (cuda_emu.h), so every call is synchronous. What a GPU
 * refuses is refused here too, with the runtime's error codes: launch configurations out of
 * range, more than 48 KiB of dynamic shared memory without cudaFuncSetAttribute, copies whose
 * device side is not inside a cudaMalloc'd allocation. Device memory is host memory filled
 * with 0xff bytes (NaN as floats) when allocated, so results a kernel never wrote show.
 *
 * Stream capture records launches, device copies and memsets as nodes run when the graph is
 * launched; what a GPU refuses while capturing is refused here and spoils the capture as
 * there: copies to or from host memory (they would read or write it at launch, not at the
 * call) and stream synchronisation. An instantiated graph updates in place when the new one
 * has as many nodes of the same kinds, in the same order (its topology: a captured stream is
 * a chain), as cudaGraphExecUpdate requires.
 */
#ifndef TSC_CUDA_RUNTIME_EMU_H
#define TSC_CUDA_RUNTIME_EMU_H

#include "cuda_emu.h"

#include <map>
#include <tuple>
#include <utility>

#define TSC_EMU_LIBRARY 1
#define CUDART_VERSION 13000 /* the toolkit the emulated runtime stands for; its driver supports it */

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInsufficientDriver = 35,
    cudaErrorInvalidDevice = 101,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorGraphExecUpdateFailure = 910,
};
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1, cudaStreamCaptureModeRelaxed = 2 };
typedef struct emu_stream *cudaStream_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum cudaDeviceAttr {
    cudaDevAttrMultiProcessorCount = 16,
    cudaDevAttrComputeCapabilityMajor = 75,
    cudaDevAttrComputeCapabilityMinor = 76,
    cudaDevAttrMemoryClockRate = 36,
    cudaDevAttrGlobalMemoryBusWidth = 37,
    cudaDevAttrL2CacheSize = 38,
    cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaLaunchAttributeID { cudaLaunchAttributeProgrammaticStreamSerialization = 5 };
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int major, minor, multiProcessorCount;
};
union cudaLaunchAttributeValue {
    int programmaticStreamSerializationAllowed;
};
struct cudaLaunchAttribute {
    cudaLaunchAttributeID id;
    cudaLaunchAttributeValue val;
};
struct cudaLaunchConfig_t {
    dim3 gridDim, blockDim;
    size_t dynamicSmemBytes;
    cudaStream_t stream;
    cudaLaunchAttribute *attrs;
    unsigned numAttrs;
};
#define cudaStreamNonBlocking 0x01

/* ---- the emulated device -------------------------------------------------------------------- */
/* An H100's figures by default; TSC_EMU_DEVICE=sm_80 gives an A100's (108 SMs, 163 KB of shared
 * memory per block), so the host code's choices on sm_80 (GEMM stage counts, kernels that do not
 * fit and fall back, splits and tilings by SM count) run on the CPU too. */
struct emu_device {
    int major, sms, smem_optin, mem_clock_khz, l2_bytes;
};
inline const emu_device &emu_dev() {
    static const emu_device d = [] {
        const char *e = getenv("TSC_EMU_DEVICE");
        if (e == NULL || strcmp(e, "sm_90") == 0) return emu_device{9, 132, 227 * 1024, 2619000, 50 << 20};
        if (strcmp(e, "sm_80") == 0) return emu_device{8, 108, 163 * 1024, 1593000, 40 << 20};
        fprintf(stderr, "TSC_EMU_DEVICE=%s: the emulator has sm_80 and sm_90\n", e);
        abort();
    }();
    return d;
}
#define TSC_EMU_SMEM_DEFAULT (48 * 1024)

inline cudaError_t g_emu_error = cudaSuccess; /* the runtime's last error, shared by every file */
/* cudaMalloc'd ranges, start -> end, and each kernel's dynamic shared memory limit. */
inline std::map<const char *, const char *> g_emu_allocs;
inline std::map<const void *, int> g_emu_smem_limit;

static inline cudaError_t emu_error(cudaError_t e) {
    if (e != cudaSuccess) g_emu_error = e;
    return e;
}
static inline cudaError_t cudaGetLastError() {
    const cudaError_t e = g_emu_error;
    g_emu_error = cudaSuccess;
    return e;
}
/* Each error code the emulator raises with the runtime's name and message for it. */
struct emu_error_text {
    cudaError_t code;
    const char *name, *text;
};
static const emu_error_text g_emu_error_texts[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported", "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated", "operation failed due to a previous error during capture"},
    {cudaErrorGraphExecUpdateFailure, "cudaErrorGraphExecUpdateFailure",
     "the graph update was not performed because it included changes which violated constraints specific to instantiated graph update"},
};
static inline const emu_error_text *emu_error_entry(cudaError_t e) {
    for (const emu_error_text &t : g_emu_error_texts)
        if (t.code == e) return &t;
    return NULL;
}
static inline const char *cudaGetErrorName(cudaError_t e) {
    const emu_error_text *t = emu_error_entry(e);
    return t ? t->name : "cudaErrorUnknown";
}
static inline const char *cudaGetErrorString(cudaError_t e) {
    const emu_error_text *t = emu_error_entry(e);
    return t ? t->text : "unrecognized error code";
}

static inline cudaError_t cudaDriverGetVersion(int *v) { return *v = CUDART_VERSION, cudaSuccess; }
static inline cudaError_t cudaGetDeviceCount(int *n) { return *n = 1, cudaSuccess; }
static inline cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : emu_error(cudaErrorInvalidDevice); }
static inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d) {
    if (d != 0) return emu_error(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulator (native/cuda/emu)");
    p->totalGlobalMem = (size_t)16 << 30, p->major = emu_dev().major, p->minor = 0, p->multiProcessorCount = emu_dev().sms;
    return cudaSuccess;
}
static inline cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int d) {
    if (d != 0) return emu_error(cudaErrorInvalidDevice);
    switch (a) {
    case cudaDevAttrMultiProcessorCount: *v = emu_dev().sms; break;
    case cudaDevAttrComputeCapabilityMajor: *v = emu_dev().major; break;
    case cudaDevAttrComputeCapabilityMinor: *v = 0; break;
    case cudaDevAttrMemoryClockRate: *v = emu_dev().mem_clock_khz; break;
    case cudaDevAttrGlobalMemoryBusWidth: *v = 5120; break;
    case cudaDevAttrL2CacheSize: *v = emu_dev().l2_bytes; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = emu_dev().smem_optin; break;
    default: return emu_error(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}

/* ---- stream capture and graphs --------------------------------------------------------------- */
enum emu_node_kind { EMU_NODE_KERNEL, EMU_NODE_MEMCPY, EMU_NODE_MEMSET };
struct emu_node {
    emu_node_kind kind;
    std::function<void()> run;
};
struct emu_graph {
    std::vector<emu_node> nodes;
};
typedef emu_graph *cudaGraph_t;
typedef emu_graph *cudaGraphExec_t;
typedef struct emu_graph_node *cudaGraphNode_t;
struct cudaGraphExecUpdateResultInfo {
    int result;
    cudaGraphNode_t errorNode, errorFromNode;
};

/* The graph being captured (every stream is the one emulated stream), and whether the capture
 * was spoilt by an operation a capturing stream refuses. */
inline emu_graph *g_emu_capture = nullptr;
inline bool g_emu_capture_spoilt = false;

/* A call a capturing stream refuses: fails and spoils the capture. */
static inline cudaError_t emu_capture_refuse() {
    g_emu_capture_spoilt = true;
    return emu_error(cudaErrorStreamCaptureUnsupported);
}
/* Records a node when capturing (true), or says to run it now (false). */
static inline bool emu_capture(emu_node_kind kind, std::function<void()> run) {
    if (!g_emu_capture) return false;
    if (!g_emu_capture_spoilt) g_emu_capture->nodes.push_back({kind, std::move(run)});
    else emu_error(cudaErrorStreamCaptureInvalidated);
    return true;
}

static inline cudaError_t cudaStreamCreate(cudaStream_t *s) { return *s = (cudaStream_t)&g_emu_error, cudaSuccess; }
static inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned) { return cudaStreamCreate(s); }
static inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
static inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return g_emu_capture ? emu_capture_refuse() : cudaSuccess; }
static inline cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
    if (g_emu_capture) return emu_error(cudaErrorInvalidValue); /* already capturing */
    g_emu_capture = new emu_graph();
    g_emu_capture_spoilt = false;
    return cudaSuccess;
}
static inline cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t *g) {
    emu_graph *c = g_emu_capture;
    if (!c) return emu_error(cudaErrorInvalidValue);
    g_emu_capture = nullptr;
    if (g_emu_capture_spoilt) {
        delete c;
        *g = nullptr;
        return emu_error(cudaErrorStreamCaptureInvalidated);
    }
    *g = c;
    return cudaSuccess;
}
static inline cudaError_t cudaGraphGetNodes(cudaGraph_t g, cudaGraphNode_t *, size_t *n) { return *n = g->nodes.size(), cudaSuccess; }
static inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long = 0) {
    *e = new emu_graph(*g);
    return cudaSuccess;
}
static inline cudaError_t cudaGraphExecUpdate(cudaGraphExec_t e, cudaGraph_t g, cudaGraphExecUpdateResultInfo *info) {
    bool same = e->nodes.size() == g->nodes.size();
    for (size_t i = 0; same && i < g->nodes.size(); i++) same = e->nodes[i].kind == g->nodes[i].kind;
    memset(info, 0, sizeof *info);
    if (!same) return info->result = 1, emu_error(cudaErrorGraphExecUpdateFailure);
    e->nodes = g->nodes;
    return cudaSuccess;
}
static inline cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t) {
    if (g_emu_capture) return emu_capture_refuse(); /* not nested into a capture here */
    for (auto &n : e->nodes) n.run();
    return cudaSuccess;
}
static inline cudaError_t cudaGraphDestroy(cudaGraph_t g) { return delete g, cudaSuccess; }
static inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) { return delete e, cudaSuccess; }

/* ---- memory -------------------------------------------------------------------------------- */
static inline cudaError_t cudaMalloc(void **p, size_t bytes) {
    char *m = (char *)aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (m == NULL) return emu_error(cudaErrorMemoryAllocation);
    emu_stream_op();
    memset(m, 0xff, bytes);
    g_emu_allocs[m] = m + bytes;
    g_ranges.emplace_back(m, m + bytes); /* where cp.async may read */
    *p = m;
    return cudaSuccess;
}
static inline cudaError_t cudaFree(void *p) {
    if (p == NULL) return cudaSuccess;
    auto it = g_emu_allocs.find((const char *)p);
    if (it == g_emu_allocs.end()) return emu_error(cudaErrorInvalidValue);
    g_ranges.erase(std::find(g_ranges.begin(), g_ranges.end(), std::make_pair(it->first, it->second)));
    g_emu_allocs.erase(it);
    free(p);
    return cudaSuccess;
}
/* Whether [p, p + n) lies inside one allocation. */
static inline bool emu_on_device(const void *p, size_t n) {
    auto it = g_emu_allocs.upper_bound((const char *)p);
    if (it == g_emu_allocs.begin()) return false;
    --it;
    return (const char *)p >= it->first && (const char *)p + n <= it->second;
}
static inline cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind kind, cudaStream_t = NULL) {
    const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (n == 0) return cudaSuccess;
    if ((dst_dev && !emu_on_device(dst, n)) || (src_dev && !emu_on_device(src, n))) return emu_error(cudaErrorInvalidValue);
    if (g_emu_capture && kind != cudaMemcpyDeviceToDevice) return emu_capture_refuse();
    auto op = [=] { emu_stream_op(), memmove(dst, src, n); };
    if (!emu_capture(EMU_NODE_MEMCPY, op)) op();
    return cudaSuccess;
}
static inline cudaError_t cudaMemsetAsync(void *dst, int v, size_t n, cudaStream_t = NULL) {
    if (n == 0) return cudaSuccess;
    if (!emu_on_device(dst, n)) return emu_error(cudaErrorInvalidValue);
    auto op = [=] { emu_stream_op(), memset(dst, v, n); };
    if (!emu_capture(EMU_NODE_MEMSET, op)) op();
    return cudaSuccess;
}

/* ---- launches --------------------------------------------------------------------------------- */
template <class K> static inline cudaError_t cudaFuncSetAttribute(K *kernel, cudaFuncAttribute, int bytes) {
    if (bytes < 0 || bytes > emu_dev().smem_optin) return emu_error(cudaErrorInvalidValue);
    g_emu_smem_limit[(const void *)kernel] = bytes;
    return cudaSuccess;
}

/* A launch as the GPU checks it, then run on the CPU (cuda_emu.h's launch) with the arguments
 * converted to the kernel's parameter types. In an unnamed namespace: each file's launches
 * must run on that file's own emulator state (launch, threadIdx, ... are static), so the
 * linker must not merge two files' instantiations of one parameter list. */
namespace {
/* The kernel called with the launch's copy of its arguments: the host made that copy at the
 * launch or when recording it, so reading it is no access of the kernel's threads (a
 * dependent launch's threads are not ordered after all the host did, cuda_emu.h). */
template <class... KArgs, class T, size_t... I> EMU_UNCHECKED void emu_call(void (*kernel)(KArgs...), const T *args, std::index_sequence<I...>) {
    kernel((KArgs)std::get<I>(*args)...);
}
template <class... KArgs> struct emu_launcher {
    dim3 grid, block;
    size_t smem;
    void (*kernel)(KArgs...);
    bool pdl; /* a programmatic dependent launch: the kernel must call pdl_wait() */
    template <class... Args> void operator()(Args... args) const {
        const uint64_t threads = (uint64_t)block.x * block.y * block.z;
        auto lim = g_emu_smem_limit.find((const void *)kernel);
        const size_t smem_max = lim == g_emu_smem_limit.end() ? TSC_EMU_SMEM_DEFAULT : (size_t)lim->second;
        if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu ||
            grid.y > 65535 || grid.z > 65535) {
            emu_error(cudaErrorInvalidConfiguration);
            return;
        }
        if (smem > smem_max) {
            emu_error(cudaErrorInvalidValue);
            return;
        }
        /* Captured: the launch and its arguments copied now, as a launch copies its parameters
         * at the call. */
        auto run = [*this, args...] {
            g_emu_pdl_waits = 0;
            const auto a = std::make_tuple(args...);
            launch(grid, block, smem, [k = kernel, p = &a] { emu_call(k, p, std::index_sequence_for<Args...>()); }, pdl);
            if (pdl && g_emu_pdl_waits == 0) {
                /* on a GPU it would run beside the kernel before it: a race no test sees */
                fprintf(stderr, "cuda emulator: a kernel launched as a programmatic dependent launch never called pdl_wait()\n");
                abort();
            }
        };
        if (!emu_capture(EMU_NODE_KERNEL, run)) run();
    }
};
} // namespace
template <class... KArgs>
static inline emu_launcher<KArgs...> emu_make_launcher(dim3 g, dim3 b, size_t s, void (*k)(KArgs...), bool pdl = false) {
    return emu_launcher<KArgs...>{g, b, s, k, pdl};
}
#define TSC_LAUNCH(grid, block, smem, stream, ...) emu_make_launcher(dim3(grid), dim3(block), (size_t)(smem), __VA_ARGS__)

template <class... KArgs, class... Args>
static inline cudaError_t cudaLaunchKernelEx(const cudaLaunchConfig_t *cfg, void (*kernel)(KArgs...), Args... args) {
    const cudaError_t before = cudaGetLastError();
    bool pdl = false;
    for (unsigned i = 0; i < cfg->numAttrs; i++)
        pdl |= cfg->attrs[i].id == cudaLaunchAttributeProgrammaticStreamSerialization && cfg->attrs[i].val.programmaticStreamSerializationAllowed;
    emu_make_launcher(cfg->gridDim, cfg->blockDim, cfg->dynamicSmemBytes, kernel, pdl)(args...);
    const cudaError_t e = g_emu_error;
    if (before != cudaSuccess && e == cudaSuccess) g_emu_error = before;
    return e;
}

#endif /* TSC_CUDA_RUNTIME_EMU_H */
