package dev.tessera.runtime;

import dev.tessera.bindings.CudaLibrary;
import dev.tessera.bindings.TesseraCudaNative;
import dev.tessera.bindings.TesseraNative;
import dev.tessera.core.TesseraException;
import dev.tessera.ops.Nn;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs graphs on one NVIDIA GPU through libtessera_cuda: one context (one stream, one pool of
 * device memory) per instance. Weights and other constants are uploaded the first time a graph
 * uses them and stay on the device until their host memory is freed or this backend closes;
 * workspaces and memory from {@link #allocate} (e.g. a KV cache) live on the device. A compiled
 * graph moves its inputs in and its outputs out around each run; nothing else crosses.
 *
 * <p>Device memory is handed out as {@link MemorySegment}s whose address is a device address:
 * only this backend's ops may use them (the host must never read or write them), which is why
 * {@link #hostAccessible()} is false and the runtime keeps such tensors to itself.
 *
 * <p>One thread at a time runs on a context (graph runs take this backend's lock). Ops are
 * enqueued on the context's stream and run while the host enqueues the next ones, so a graph's
 * per-op profile here measures enqueueing, not the GPU's time. With {@link #setGraphs} on, each
 * run's ops are recorded instead and submitted as CUDA graphs of {@link #graphOps} ops each, the
 * last at the end of the run (recorded anew every run, since positions and lengths change, and
 * updated in place when its kernels are those of the same piece of the compiled graph's previous
 * run): the GPU starts on the first piece while the host records the next. Close it to free the
 * device memory; graphs compiled on it must not run afterwards.
 */
public final class CudaBackend implements Backend, AutoCloseable {
    /**
     * Ops per recorded graph by default: the GPU waits for at most this many ops' recording. A
     * 7B-shaped decode on an H200: 307 tokens/s with 16, 293 with 32, 190 with whole runs (one
     * run); an earlier run had 32 ahead of 64, 128 and 256.
     */
    public static final int DEFAULT_GRAPH_OPS = 16;

    private final int device;
    private final String deviceName;
    private final MemorySegment ctx;
    /** Small host arrays passed by pointer (strides, shapes); used under the lock. */
    private final Arena hostArena = Arena.ofShared();
    private final MemorySegment scratch;
    /** Device allocations handed out by allocate/resident: start address → end address. */
    private final TreeMap<Long, Long> deviceRanges = new TreeMap<>();
    private final Map<ResidentKey, Resident> residents = new HashMap<>();
    /** Host copies of graph inputs and I32 constants that ops read on the host (token ids, positions), by device address. */
    private final Map<Long, Tensor> hostCopies = new HashMap<>();
    /** Device addresses of uploaded constants a graph writes (a KV cache): never declared weights. */
    private final Set<Long> writtenResidents = new HashSet<>();
    private long residentBytes;
    private boolean graphs;
    private int graphOps = DEFAULT_GRAPH_OPS;
    /** Steps of several nodes (StepPlan) for graphs compiled from now on; TESSERA_CUDA_GROUPS=0 turns them off. */
    private boolean groupedSteps = !"0".equals(System.getenv("TESSERA_CUDA_GROUPS"));
    private boolean recording;
    /** While recording: the run's key, the piece being recorded, its ops so far, the run's nodes so far. */
    private long runKey;
    private int piece;
    private int pieceOps;
    private long runNodes;
    private long lastRunNodes;
    private boolean closed;

    /**
     * Counters of the runs submitted as CUDA graphs: graphs run, of which updated in place and
     * instantiated anew, and the nodes (kernels, copies, memsets) of the last run, all its graphs.
     */
    public record GraphStats(long launches, long updates, long builds, long lastNodes) {}

    private record ResidentKey(long address, long bytes, MemorySegment.Scope scope) {}

    private record Resident(MemorySegment device, MemorySegment.Scope scope) {}

    private CudaBackend(int device, String deviceName, MemorySegment ctx) {
        this.device = device;
        this.deviceName = deviceName;
        this.ctx = ctx;
        this.scratch = hostArena.allocate(4096, 8);
    }

    /**
     * Opens a context on a GPU (0 is the first).
     *
     * @throws IllegalStateException naming the reason when the CUDA library, a driver or the device is missing
     */
    public static CudaBackend open(int device) {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) {
            throw new IllegalStateException("CUDA is not available: " + probe.reason());
        }
        if (device < 0 || device >= probe.devices().size()) {
            throw new IllegalArgumentException("CUDA device " + device + " does not exist (" + probe.devices().size() + " found)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(TesseraCudaNative.tsc_init(device, 0, out));
            return new CudaBackend(device, probe.devices().get(device).name(), out.get(ValueLayout.ADDRESS, 0));
        }
    }

    @Override
    public String name() {
        return "cuda:" + device;
    }

    /** The device's name, e.g. "NVIDIA H100 80GB HBM3". */
    public String deviceName() {
        return deviceName;
    }

    @Override
    public boolean hostAccessible() {
        return false;
    }

    /** Bytes of device memory the pool hands out now (workspaces, constants, caches). */
    public synchronized long deviceBytesInUse() {
        checkOpen();
        return TesseraCudaNative.tsc_pool_used(ctx);
    }

    /** Bytes of constants (weights) uploaded and still held. */
    public synchronized long residentBytes() {
        return residentBytes;
    }

    /**
     * Device-to-device copy speed over two buffers of bytes each, counting bytes read and written
     * (best of 5 after a warm-up): the bandwidth a memory-bound kernel can reach.
     */
    public synchronized double copyBandwidth(long bytes) {
        checkOpen();
        MemorySegment a = deviceAlloc(bytes), b = deviceAlloc(bytes);
        try {
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 6; i++) {
                check(TesseraCudaNative.tsc_synchronize(ctx));
                long t0 = System.nanoTime();
                check(TesseraCudaNative.tsc_copy(ctx, b, a, bytes));
                check(TesseraCudaNative.tsc_synchronize(ctx));
                if (i > 0) {
                    best = Math.min(best, System.nanoTime() - t0);
                }
            }
            return 2.0 * bytes * 1e9 / best;
        } finally {
            release(a.address());
            release(b.address());
        }
    }

    /** Whether compiled graph runs are submitted as CUDA graphs (off unless turned on). */
    public synchronized void setGraphs(boolean on) {
        checkOpen();
        graphs = on;
    }

    public synchronized boolean graphs() {
        return graphs;
    }

    /**
     * Ops (a node, or nodes run as one step) recorded into one CUDA graph before it is submitted
     * and the next begun ({@link #DEFAULT_GRAPH_OPS}); 0 records each run whole, the GPU then
     * idle until the host is done.
     */
    public synchronized void setGraphOps(int ops) {
        checkOpen();
        if (ops < 0) {
            throw new IllegalArgumentException("ops per CUDA graph " + ops + " < 0");
        }
        if (recording) {
            throw new IllegalStateException("a run is being recorded");
        }
        graphOps = ops;
    }

    public synchronized int graphOps() {
        return graphOps;
    }

    /**
     * Whether graphs compiled from now on hand this backend nodes that run together as one step
     * (on by default, unless the environment has TESSERA_CUDA_GROUPS=0): matmuls of one input, a
     * lone matmul with the add of its product (at m = 1 one kernel then computes Q, K and V, or a
     * projection added to the residual: tsc_matmul_parts), the RoPE of Q and K with the K and V
     * cache stores (one tsc_rope_parts kernel rotating K into its cache and copying V into its
     * own), and gate and up with their SwiGLU (tsc_matmul_glu: at m = 1 one kernel). The same
     * values either way; off runs every node by itself, for comparison.
     */
    public synchronized void setGroupedSteps(boolean on) {
        checkOpen();
        groupedSteps = on;
    }

    @Override
    public synchronized int matMulGroupLimit() {
        return groupedSteps ? TesseraCudaNative.TSC_MATMUL_PARTS : 0;
    }

    @Override
    public synchronized int runLimit(Op op) {
        if (!groupedSteps) {
            return 1;
        }
        return switch (op) {
            case Op.Rope _ -> TesseraCudaNative.TSC_ROPE_PARTS;
            case Op.StoreKv _ -> 2;
            default -> 1;
        };
    }

    /** How runs are submitted, for a device's description: null launched, else "CUDA graphs [of N ops]". */
    public synchronized String graphsDescription() {
        return !graphs ? null : graphOps == 0 ? "CUDA graphs" : "CUDA graphs of " + graphOps + " ops";
    }

    public synchronized GraphStats graphStats() {
        checkOpen();
        MemorySegment c = graphCounters();
        return new GraphStats(c.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_GRAPH_LAUNCHES),
                c.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_GRAPH_UPDATES),
                c.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_GRAPH_BUILDS), lastRunNodes);
    }

    /** The context's TSC_GRAPH_* counters, in the scratch segment. */
    private MemorySegment graphCounters() {
        MemorySegment out = scratch.asSlice(0, 8L * TesseraCudaNative.TSC_GRAPH_STATS_COUNT);
        check(TesseraCudaNative.tsc_graph_stats(ctx, out, TesseraCudaNative.TSC_GRAPH_STATS_COUNT));
        return out;
    }

    @Override
    public synchronized void beginRun(long key) {
        checkOpen();
        if (graphs) {
            check(TesseraCudaNative.tsc_graph_begin(ctx));
            recording = true;
            runKey = key;
            piece = 0;
            pieceOps = 0;
            runNodes = 0;
        }
    }

    @Override
    public synchronized boolean endRun(long key, boolean completed) {
        if (!recording) {
            return false;
        }
        recording = false;
        endPiece(completed);
        if (completed) {
            lastRunNodes = runNodes;
        }
        return completed;
    }

    /** Submits (or drops) the piece being recorded, kept under the run's key and its index. */
    private void endPiece(boolean launch) {
        check(TesseraCudaNative.tsc_graph_end(ctx, (runKey << 20) + piece, launch ? 1 : 0));
        if (launch) {
            runNodes += graphCounters().getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_GRAPH_NODES);
        }
    }

    /**
     * After an op recorded (a node, or nodes run as one step: what the host records between the
     * GPU's kernels): a full piece goes to the GPU and the next begins.
     */
    private void opRecorded() {
        if (recording && graphOps > 0 && ++pieceOps == graphOps && piece < (1 << 20) - 1) {
            recording = false; // until the next piece has begun: a failure leaves nothing open
            endPiece(true);
            check(TesseraCudaNative.tsc_graph_begin(ctx));
            recording = true;
            piece++;
            pieceOps = 0;
        }
    }

    // ---------------------------------------------------------------- memory

    /** Zero-filled device memory freed when arena closes (or when this backend closes, if first). */
    @Override
    @SuppressWarnings("restricted") // a device address wrapped for bookkeeping only: never dereferenced by the host
    public synchronized MemorySegment allocate(Arena arena, long bytes) {
        checkOpen();
        MemorySegment dev = deviceAlloc(bytes);
        check(TesseraCudaNative.tsc_memset(ctx, dev, 0, bytes));
        long address = dev.address();
        return MemorySegment.ofAddress(address).reinterpret(bytes, arena, s -> release(address));
    }

    private synchronized void release(long address) {
        if (!closed && deviceRanges.remove(address) != null) {
            check(TesseraCudaNative.tsc_free(ctx, MemorySegment.ofAddress(address)));
        }
    }

    @SuppressWarnings("restricted")
    private MemorySegment deviceAlloc(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device allocation of " + bytes + " bytes");
        }
        MemorySegment out = scratch.asSlice(0, ValueLayout.ADDRESS.byteSize());
        check(TesseraCudaNative.tsc_alloc(ctx, bytes, out));
        long address = out.get(ValueLayout.ADDRESS, 0).address();
        deviceRanges.put(address, address + bytes);
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    private boolean onDevice(MemorySegment s) {
        var e = deviceRanges.floorEntry(s.address());
        return e != null && s.address() + s.byteSize() <= e.getValue();
    }

    /**
     * The constant on the device: memory of this backend as it is, anything else uploaded once per
     * host memory range and kept while that memory is alive (a closed model file frees its copies at
     * the next upload). Uploads no graph writes are declared weights (tsc_declare_weights), which a
     * one-row matmul may start streaming while the kernel before it still runs.
     */
    @Override
    public synchronized Tensor resident(Tensor constant, boolean written) {
        checkOpen();
        MemorySegment host = constant.segment();
        if (onDevice(host)) {
            return constant;
        }
        if (!host.isNative()) {
            throw new IllegalArgumentException("constant " + constant + " is not in native memory");
        }
        ResidentKey key = new ResidentKey(host.address(), host.byteSize(), host.scope());
        Resident r = residents.get(key);
        if (r == null) {
            evictDead();
            MemorySegment dev = deviceAlloc(Math.max(host.byteSize(), 1));
            check(TesseraCudaNative.tsc_upload(ctx, dev, host, host.byteSize()));
            r = new Resident(dev, host.scope());
            residents.put(key, r);
            residentBytes += host.byteSize();
            if (constant.dtype() == DType.I32) {
                hostCopies.put(dev.address(), constant); // constant ids/positions: ops read them on the host too
            }
        }
        long address = r.device().address();
        if (written ? writtenResidents.add(address) : !writtenResidents.contains(address)) {
            check(TesseraCudaNative.tsc_declare_weights(ctx, r.device(), written ? 0 : 1));
        }
        return Tensor.wrap(constant.dtype(), r.device(), constant.shape(), constant.strides());
    }

    private void evictDead() {
        for (Iterator<Map.Entry<ResidentKey, Resident>> it = residents.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().scope().isAlive()) {
                hostCopies.remove(e.getValue().device().address());
                writtenResidents.remove(e.getValue().device().address());
                release(e.getValue().device().address());
                residentBytes -= e.getKey().bytes();
                it.remove();
            }
        }
    }

    @Override
    public synchronized void upload(Tensor host, Tensor device) {
        checkOpen();
        requireSameDense(host, device);
        check(TesseraCudaNative.tsc_upload(ctx, device.segment(), host.segment(), host.byteSize()));
    }

    /** Waits for every op enqueued before, then copies. */
    @Override
    public synchronized void download(Tensor device, Tensor host) {
        checkOpen();
        requireSameDense(host, device);
        check(TesseraCudaNative.tsc_download(ctx, host.segment(), device.segment(), host.byteSize()));
    }

    private static void requireSameDense(Tensor host, Tensor device) {
        if (host.dtype() != device.dtype() || !Arrays.equals(host.shape(), device.shape()) || !host.isContiguous()
                || !device.isContiguous()) {
            throw new IllegalArgumentException("host " + host + " and device " + device + " must be contiguous and alike");
        }
    }

    @Override
    public synchronized void hostCopy(Tensor device, Tensor host) {
        if (host == null) {
            hostCopies.remove(device.segment().address());
        } else {
            hostCopies.put(device.segment().address(), host);
        }
    }

    /** The host copy of a graph input an op reads on the host (ids, positions). */
    private MemorySegment hostValues(Tensor device, String role) {
        Tensor h = hostCopies.get(device.segment().address());
        if (h == null) {
            throw new IllegalArgumentException("on CUDA, " + role + " must be a graph input or a constant (read on the host), got "
                    + device);
        }
        return h.segment();
    }

    // ---------------------------------------------------------------- ops

    @Override
    public synchronized void execute(Op op, Tensor out, Tensor[] in) {
        checkOpen();
        submit(op, out, in);
        opRecorded();
    }

    @Override
    public synchronized void executeMatMuls(Tensor x, Tensor[] weights, Tensor[] addends, Tensor[] outputs) {
        checkOpen();
        matmuls(x, weights, addends, outputs);
        opRecorded();
    }

    @Override
    public synchronized void executeRun(Op op, Tensor[] outputs, Tensor[][] inputs) {
        checkOpen();
        run(op, outputs, inputs);
        opRecorded();
    }

    /** A run of op's nodes: one kernel where the op has a kernel for several, else node by node. */
    private void run(Op op, Tensor[] outputs, Tensor[][] inputs) {
        boolean together = switch (op) {
            case Op.Rope r -> ropes(r, outputs, inputs);
            case Op.StoreKv _ -> storesKv(inputs);
            default -> false;
        };
        if (!together) {
            for (int i = 0; i < outputs.length; i++) {
                submit(op, outputs[i], inputs[i]);
            }
        }
    }

    @Override
    public synchronized boolean fusesRopeStores() {
        return groupedSteps;
    }

    @Override
    public synchronized boolean fusesMatMulGlu() {
        return groupedSteps;
    }

    /** One tsc_matmul_glu call: at one row (decode), one kernel for both products and the GLU. */
    @Override
    public synchronized void executeMatMulGlu(Tensor x, Tensor wGate, Tensor wUp, Tensor gate, Tensor up, Tensor out) {
        checkOpen();
        requireLastContiguous(x, "matmul input");
        requireMatMulWeights(wGate);
        requireMatMulWeights(wUp);
        long m = x.shape(0), k = x.shape(1), n = wGate.shape(0);
        long[] shape = {m, n};
        if (wUp.dtype() != wGate.dtype() || wGate.rank() != 2 || !Arrays.equals(wUp.shape(), wGate.shape()) || wGate.shape(1) != k) {
            throw new IllegalArgumentException("gate and up weights must be alike [N, " + k + "], got " + wGate + " and " + wUp);
        }
        for (Tensor t : new Tensor[] {gate, up, out}) {
            if (!Arrays.equals(t.shape(), shape)) {
                throw new IllegalArgumentException("gate, up and GLU outputs must be " + Arrays.toString(shape) + ", got " + t);
            }
            requireLastContiguous(t, "matmul output");
        }
        check(TesseraCudaNative.tsc_matmul_glu(ctx, out.segment(), out.stride(0), gate.segment(), gate.stride(0), up.segment(), up.stride(0),
                wGate.segment(), wGate.stride(0), wUp.segment(), wUp.stride(0), wGate.dtype().ggmlId(), Nn.Activation.SILU.code(),
                x.segment(), x.stride(0), n, k, m));
        opRecorded();
    }

    /** One tsc_rope_parts kernel where they fit one; else as the runs of RoPE and stores would go. */
    @Override
    public synchronized void executeRopeStores(Op.Rope op, Tensor[] outputs, Tensor[][] inputs, boolean[] onlyStored, Tensor[][] stores,
            int[] storedRope) {
        checkOpen();
        if (!ropeIntoCaches(op, outputs, inputs, onlyStored, stores, storedRope)) {
            run(op, outputs, inputs);
            run(new Op.StoreKv(), new Tensor[stores.length], stores);
        }
        opRecorded();
    }

    private void submit(Op op, Tensor out, Tensor[] in) {
        switch (op) {
            case Op.MatMul m -> matmul(in[0], in[1], out);
            case Op.GetRows g -> getRows(in[0], in[1], out);
            case Op.RmsNorm r -> {
                Nn.Rows x = Nn.rows(in[0], "rms_norm input", DType.F32);
                Nn.Rows y = Nn.rows(out, "rms_norm output", DType.F32);
                check(TesseraCudaNative.tsc_rms_norm(ctx, out.segment(), y.stride(), in[0].segment(), x.stride(), in[1].segment(), x.rows(),
                        x.n(), r.eps()));
            }
            case Op.Rope r -> rope(r, in[0], in[1], out);
            case Op.Add a -> binary(in[0], in[1], out, TesseraNative.TS_BINARY_ADD);
            case Op.Mul m -> binary(in[0], in[1], out, TesseraNative.TS_BINARY_MUL);
            case Op.SwiGlu s -> {
                Nn.Rows g = Nn.rows(in[0], "gate", DType.F32);
                Nn.Rows u = Nn.rows(in[1], "up", DType.F32);
                Nn.Rows y = Nn.rows(out, "glu output", DType.F32);
                check(TesseraCudaNative.tsc_glu(ctx, out.segment(), y.stride(), in[0].segment(), g.stride(), in[1].segment(), u.stride(),
                        Nn.Activation.SILU.code(), g.rows(), g.n()));
            }
            case Op.StoreKv s -> storeKv(in[0], in[1], in[2]);
            case Op.CausalAttention a -> causalAttention(a, in[0], in[1], in[2], in[3], out);
            case Op.Activation a -> {
                Nn.Rows x = Nn.rows(in[0], "activation input", DType.F32);
                Nn.Rows y = Nn.rows(out, "activation output", DType.F32);
                check(TesseraCudaNative.tsc_activation(ctx, out.segment(), y.stride(), in[0].segment(), x.stride(), a.act().code(), x.rows(),
                        x.n()));
            }
            case Op.Attention a -> {
                for (long i = 0; i < in[0].shape(0); i++) {
                    attention(in[0].select(0, i).permute(1, 0, 2), in[1].select(0, i).permute(1, 0, 2),
                            in[2].select(0, i).permute(1, 0, 2), a.scale(), a.causal(), 0, out.select(0, i).permute(1, 0, 2));
                }
            }
            case Op.Concat c -> {
                long at = 0;
                for (Tensor t : in) {
                    long len = t.shape(c.dim());
                    copy(t, out.slice(c.dim(), at, at + len));
                    at += len;
                }
            }
            case Op.LayerNorm l -> {
                Nn.Rows x = Nn.rows(in[0], "layer_norm input", DType.F32);
                Nn.Rows y = Nn.rows(out, "layer_norm output", DType.F32);
                check(TesseraCudaNative.tsc_layer_norm(ctx, out.segment(), y.stride(), in[0].segment(), x.stride(), in[1].segment(),
                        in[2].segment(), x.rows(), x.n(), l.eps()));
            }
            case Op.Conv2d c -> conv2d(c, in[0], in[1], in.length > 2 ? in[2] : null, out);
        }
    }

    /** NCHW contiguous input and output; F32 or F16 weights [cout, cin, kh, kw] (as the op's CPU path after dequantizing). */
    private void conv2d(Op.Conv2d c, Tensor x, Tensor w, Tensor bias, Tensor y) {
        if (w.dtype() != DType.F32 && w.dtype() != DType.F16) {
            throw new UnsupportedOperationException("conv2d with " + w.dtype() + " weights does not run on CUDA (F32 or F16)");
        }
        for (Tensor t : bias == null ? new Tensor[] {x, w, y} : new Tensor[] {x, w, y, bias}) {
            if (!t.isContiguous()) {
                throw new IllegalArgumentException("conv2d on CUDA needs contiguous tensors, got " + t);
            }
        }
        int wType = w.dtype() == DType.F16 ? TesseraNative.TS_TYPE_F16 : TesseraNative.TS_TYPE_F32;
        check(TesseraCudaNative.tsc_conv2d(ctx, y.segment(), x.segment(), w.segment(), wType, bias == null ? MemorySegment.NULL
                : bias.segment(), x.shape(0), x.shape(1), x.shape(2), x.shape(3), w.shape(0), w.shape(2), w.shape(3), c.stride(),
                c.stride(), c.padding(), c.padding(), 1, 1, 1));
    }

    /** y [M, N] = x [M, K] · wᵀ for w [N, K] of any type the CUDA library takes (it refuses others by name). */
    private void matmul(Tensor w, Tensor x, Tensor y) {
        requireLastContiguous(x, "matmul input");
        requireLastContiguous(y, "matmul output");
        requireMatMulWeights(w);
        long n = w.shape(0), k = w.shape(1), m = x.shape(0);
        check(TesseraCudaNative.tsc_matmul(ctx, y.segment(), y.stride(0), w.segment(), w.dtype().ggmlId(), w.stride(0), x.segment(),
                x.stride(0), n, k, m));
    }

    /** outputs[i] [M, N_i] = x [M, K] · weights[i]ᵀ (+ addends[i] [M, N_i]), one tsc_matmul_parts call. */
    private void matmuls(Tensor x, Tensor[] weights, Tensor[] addends, Tensor[] outputs) {
        int p = weights.length;
        if (p < 1 || p > TesseraCudaNative.TSC_MATMUL_PARTS || addends.length != p || outputs.length != p) {
            throw new IllegalArgumentException(p + " matmuls with " + addends.length + " addends and " + outputs.length + " outputs (1 to "
                    + TesseraCudaNative.TSC_MATMUL_PARTS + " of each)");
        }
        requireLastContiguous(x, "matmul input");
        long m = x.shape(0), k = x.shape(1);
        DType type = weights[0].dtype();
        MemorySegment y = slot(0), ys = slot(1), w = slot(2), ws = slot(3), n = slot(4), a = slot(5), as = slot(6);
        boolean anyAdd = false;
        for (int i = 0; i < p; i++) {
            Tensor wi = weights[i], yi = outputs[i], ai = addends[i];
            requireMatMulWeights(wi);
            if (wi.dtype() != type || wi.rank() != 2 || wi.shape(1) != k) {
                throw new IllegalArgumentException("matmul group weights must be " + type + " [N, " + k + "], got " + wi);
            }
            long[] shape = {m, wi.shape(0)};
            if (!Arrays.equals(yi.shape(), shape) || (ai != null && !Arrays.equals(ai.shape(), shape))) {
                throw new IllegalArgumentException("matmul group output " + yi + (ai == null ? "" : " and addend " + ai) + " must be "
                        + Arrays.toString(shape));
            }
            requireLastContiguous(yi, "matmul output");
            setLong(y, i, yi.segment().address());
            setLong(ys, i, yi.stride(0));
            setLong(w, i, wi.segment().address());
            setLong(ws, i, wi.stride(0));
            setLong(n, i, wi.shape(0));
            if (ai != null) {
                requireLastContiguous(ai, "matmul addend");
                anyAdd = true;
            }
            setLong(a, i, ai == null ? 0 : ai.segment().address());
            setLong(as, i, ai == null ? 0 : ai.stride(0));
        }
        check(TesseraCudaNative.tsc_matmul_parts(ctx, p, y, ys, w, ws, n, anyAdd ? a : MemorySegment.NULL, anyAdd ? as : MemorySegment.NULL,
                type.ggmlId(), x.segment(), x.stride(0), k, m));
    }

    private static void requireMatMulWeights(Tensor w) {
        if (w.stride(1) != (w.dtype().isQuantized() ? w.dtype().blockBytes() : w.dtype().elementBytes()) && w.shape(1) > 1) {
            throw new IllegalArgumentException("matmul weights must have contiguous rows, got " + w);
        }
    }

    private void getRows(Tensor table, Tensor ids, Tensor y) {
        requireLastContiguous(y, "embedding output");
        MemorySegment host = hostValues(ids, "token ids");
        check(TesseraCudaNative.tsc_get_rows(ctx, y.segment(), y.stride(0), table.segment(), table.dtype().ggmlId(), table.stride(0),
                table.shape(0), table.shape(1), host, ids.shape(0)));
    }

    private void rope(Op.Rope r, Tensor x, Tensor positions, Tensor y) {
        requireLastContiguous(x, "rope input");
        requireLastContiguous(y, "rope output");
        MemorySegment pos = hostValues(positions, "positions");
        check(TesseraCudaNative.tsc_rope(ctx, y.segment(), y.stride(0), y.stride(1), x.segment(), x.stride(0), x.stride(1), pos,
                x.shape(0), x.shape(1), x.shape(2), r.nDims(), (r.neox() ? Nn.RopeMode.NEOX : Nn.RopeMode.NORMAL).code(), r.freqBase()));
    }

    /**
     * RoPE of several x [n, heads_i, d] at the same positions in one tsc_rope_parts call; false
     * (nothing done) unless they share the positions, n and d.
     */
    private boolean ropes(Op.Rope r, Tensor[] outputs, Tensor[][] inputs) {
        return ropeIntoCaches(r, outputs, inputs, new boolean[outputs.length], new Tensor[0][], new int[0]);
    }

    /**
     * RoPE nodes and the cache stores after them as one tsc_rope_parts call: each RoPE output
     * that something besides the stores reads (F32), each store of a RoPE output as the RoPE of
     * that node's input into the cache rows, each other store as a copy into them. False (nothing
     * done) unless they share the positions, n and d and fit one call.
     */
    private boolean ropeIntoCaches(Op.Rope r, Tensor[] outputs, Tensor[][] inputs, boolean[] onlyStored, Tensor[][] stores,
            int[] storedRope) {
        long posAddress = inputs[0][1].segment().address();
        List<RopePart> parts = new ArrayList<>();
        for (int i = 0; i < outputs.length; i++) {
            if (inputs[i][1].segment().address() != posAddress) {
                return false;
            }
            if (!onlyStored[i]) {
                parts.add(new RopePart(outputs[i], inputs[i][0], true));
            }
        }
        MemorySegment pos = hostValues(inputs[0][1], "positions");
        for (int j = 0; j < stores.length; j++) {
            Tensor cache = stores[j][0], src = stores[j][1];
            if (stores[j][2].segment().address() != posAddress) {
                return false;
            }
            int n = (int) src.shape(0);
            int first = CpuBackend.firstPosition(pos, n, cache.shape(1));
            Tensor rows = cache.slice(1, first, first + n).permute(1, 0, 2);
            parts.add(storedRope[j] >= 0 ? new RopePart(rows, inputs[storedRope[j]][0], true) : new RopePart(rows, src, false));
        }
        return ropeParts(r, parts, pos);
    }

    /** One part of a tsc_rope_parts call: x [n, heads, d] (F32) rotated, or copied, into y of its shape (F32 or F16). */
    private record RopePart(Tensor y, Tensor x, boolean rotate) {}

    /** The parts in one tsc_rope_parts call at the host positions pos; false (nothing done) unless they fit one. */
    private boolean ropeParts(Op.Rope r, List<RopePart> parts, MemorySegment pos) {
        if (parts.isEmpty() || parts.size() > TesseraCudaNative.TSC_ROPE_PARTS) {
            return false;
        }
        Tensor x0 = parts.get(0).x();
        for (RopePart p : parts) {
            if (p.x().dtype() != DType.F32 || (p.y().dtype() != DType.F32 && p.y().dtype() != DType.F16) || p.x().rank() != 3
                    || !Arrays.equals(p.y().shape(), p.x().shape()) || p.x().shape(0) != x0.shape(0) || p.x().shape(2) != x0.shape(2)) {
                return false;
            }
        }
        MemorySegment y = slot(0), yts = slot(1), yhs = slot(2), x = slot(3), xts = slot(4), xhs = slot(5), heads = slot(6);
        MemorySegment types = slot(7), rotate = slot(8);
        for (int i = 0; i < parts.size(); i++) {
            Tensor xi = parts.get(i).x(), yi = parts.get(i).y();
            requireLastContiguous(xi, "rope input");
            requireLastContiguous(yi, "rope output");
            setLong(y, i, yi.segment().address());
            setLong(yts, i, yi.stride(0));
            setLong(yhs, i, yi.stride(1));
            setLong(x, i, xi.segment().address());
            setLong(xts, i, xi.stride(0));
            setLong(xhs, i, xi.stride(1));
            setLong(heads, i, xi.shape(1));
            types.setAtIndex(ValueLayout.JAVA_INT, i, yi.dtype().ggmlId());
            rotate.setAtIndex(ValueLayout.JAVA_INT, i, parts.get(i).rotate() ? 1 : 0);
        }
        check(TesseraCudaNative.tsc_rope_parts(ctx, parts.size(), y, types, yts, yhs, x, xts, xhs, heads, rotate, pos, x0.shape(0),
                x0.shape(2), r.nDims(), (r.neox() ? Nn.RopeMode.NEOX : Nn.RopeMode.NORMAL).code(), r.freqBase()));
        return true;
    }

    /**
     * Two cache stores (K and V) at the same positions as one strided copy: the two sources and
     * the two cache slices are read as one view each with a leading dimension of 2 whose stride
     * is the distance between them (device memory is one address space, and the copy kernel only
     * adds index × stride). False (nothing done) unless they share the positions and their views
     * are alike in type, shape and strides.
     */
    private boolean storesKv(Tensor[][] inputs) {
        if (inputs.length != 2 || inputs[0][2].segment().address() != inputs[1][2].segment().address()) {
            return false;
        }
        Tensor c0 = inputs[0][0], c1 = inputs[1][0], s0 = inputs[0][1], s1 = inputs[1][1];
        if (c0.dtype() != c1.dtype() || s0.dtype() != s1.dtype() || !Arrays.equals(c0.shape(), c1.shape())
                || !Arrays.equals(c0.strides(), c1.strides()) || !Arrays.equals(s0.shape(), s1.shape())
                || !Arrays.equals(s0.strides(), s1.strides())) {
            return false;
        }
        int n = (int) s0.shape(0);
        int first = CpuBackend.firstPosition(hostValues(inputs[0][2], "positions"), n, c0.shape(1));
        Tensor src0 = s0.permute(1, 0, 2), src1 = s1.permute(1, 0, 2);
        Tensor dst0 = c0.slice(1, first, first + n), dst1 = c1.slice(1, first, first + n);
        long[] shape = new long[4], ds = new long[4], ss = new long[4];
        shape[0] = 2;
        ds[0] = dst1.segment().address() - dst0.segment().address();
        ss[0] = src1.segment().address() - src0.segment().address();
        for (int d = 0; d < 3; d++) {
            shape[d + 1] = src0.shape(d);
            ds[d + 1] = dst0.stride(d);
            ss[d + 1] = src0.stride(d);
        }
        check(TesseraCudaNative.tsc_copy_strided(ctx, dst0.segment(), dst0.dtype().ggmlId(), longs(0, ds), src0.segment(),
                src0.dtype().ggmlId(), longs(8, ss), longs(16, shape), 4));
        return true;
    }

    private void binary(Tensor a, Tensor b, Tensor y, int op) {
        long[] shape = y.shape();
        if (shape.length > 4) {
            throw new IllegalArgumentException("element-wise op of rank " + shape.length + " (at most 4 on CUDA)");
        }
        int n = shape.length;
        MemorySegment ys = longs(0, y.strides());
        MemorySegment as = longs(8, Nn.broadcastStrides(a, shape));
        MemorySegment bs = longs(16, Nn.broadcastStrides(b, shape));
        MemorySegment sh = longs(24, shape);
        check(TesseraCudaNative.tsc_binary(ctx, y.segment(), ys, a.segment(), as, b.segment(), bs, sh, n, op));
    }

    /** cache [kvHeads, ctx, d] rows first..first+n ← src [n, kvHeads, d], converted to the cache's type. */
    private void storeKv(Tensor cache, Tensor src, Tensor positions) {
        int n = (int) src.shape(0);
        int first = CpuBackend.firstPosition(hostValues(positions, "positions"), n, cache.shape(1));
        copy(src.permute(1, 0, 2), cache.slice(1, first, first + n));
    }

    private void causalAttention(Op.CausalAttention a, Tensor q, Tensor k, Tensor v, Tensor positions, Tensor out) {
        int n = (int) q.shape(0);
        int first = CpuBackend.firstPosition(hostValues(positions, "positions"), n, k.shape(1));
        attention(q.permute(1, 0, 2), k.slice(1, 0, first + n), v.slice(1, 0, first + n), a.scale(), true, first, out.permute(1, 0, 2));
    }

    /** q [heads, Lq, d], k/v [kvHeads, Lk, d], out like q. */
    private void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, long kvOffset, Tensor out) {
        for (Tensor t : new Tensor[] {q, k, v, out}) {
            requireLastContiguous(t, "attention operand");
        }
        int kvType = k.dtype() == DType.F16 ? TesseraNative.TS_TYPE_F16 : TesseraNative.TS_TYPE_F32;
        check(TesseraCudaNative.tsc_attention(ctx, out.segment(), out.stride(0), out.stride(1), q.segment(), q.stride(0), q.stride(1),
                k.segment(), k.stride(0), k.stride(1), v.segment(), v.stride(0), v.stride(1), kvType, MemorySegment.NULL, 0,
                q.shape(0), k.shape(0), q.shape(1), k.shape(1), q.shape(2), scale, causal ? 1 : 0, kvOffset));
    }

    /** A strided copy (F32/F16/BF16, converting) between two device views of one shape. */
    private void copy(Tensor src, Tensor dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("copy of " + src + " into " + dst + ": shapes differ");
        }
        int n = src.rank();
        check(TesseraCudaNative.tsc_copy_strided(ctx, dst.segment(), dst.dtype().ggmlId(), longs(0, dst.strides()), src.segment(),
                src.dtype().ggmlId(), longs(8, src.strides()), longs(16, src.shape()), n));
    }

    private static void requireLastContiguous(Tensor t, String role) {
        int last = t.rank() - 1;
        if (t.shape(last) > 1 && t.stride(last) != t.dtype().elementBytes()) {
            throw new IllegalArgumentException(role + " must have a contiguous last dim on CUDA, got " + t);
        }
    }

    /** values written into the host scratch at slot (8 longs per slot). */
    private MemorySegment longs(int slot, long[] values) {
        MemorySegment s = slot(slot);
        for (int i = 0; i < values.length; i++) {
            setLong(s, i, values[i]);
        }
        return s;
    }

    /** Slot i of the host scratch: room for 8 longs (a host array of strides, shapes or a call's parts). */
    private MemorySegment slot(int i) {
        return scratch.asSlice(64L * i, 64);
    }

    private static void setLong(MemorySegment s, int i, long v) {
        s.setAtIndex(ValueLayout.JAVA_LONG, i, v);
    }

    static void check(int status) {
        if (status != TesseraNative.TS_OK) {
            String message = TesseraCudaNative.tsc_last_error().reinterpret(1024).getString(0);
            throw new TesseraException(status, message.isEmpty() ? "CUDA call failed with status " + status : message);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA backend is closed");
        }
    }

    /** Frees every device allocation (constants, workspaces, caches) and the context. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            residents.clear();
            deviceRanges.clear();
            hostCopies.clear();
            try {
                check(TesseraCudaNative.tsc_shutdown(ctx));
            } finally {
                hostArena.close();
            }
        }
    }

    @Override
    public String toString() {
        return "CudaBackend[" + name() + ", " + deviceName + ", library " + CudaLibrary.path() + "]";
    }
}
