package dev.tessera.runtime;

import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Runs ops on one kind of device. The models only build graphs; which backend runs them is chosen
 * when a graph is compiled, so a new device (CUDA) plugs in here without touching model code.
 */
public interface Backend {
    String name();

    /** Memory for a compiled graph's workspace, owned by arena. */
    MemorySegment allocate(Arena arena, long bytes);

    /**
     * Runs one node. out is the node's output (null for a side-effect op) and inputs its inputs, all
     * bound to memory this backend can address; shapes were checked when the graph was built.
     */
    void execute(Op op, Tensor out, Tensor[] inputs);

    /**
     * How many matmuls of one input {@link #executeMatMuls} takes at once; 0 (the default) when
     * every node runs by itself. A graph compiled for this backend then hands it such matmuls (and
     * an add of a lone matmul's product) as one step; see StepPlan.
     */
    default int matMulGroupLimit() {
        return 0;
    }

    /**
     * outputs[i] = x · weights[i]ᵀ, plus addends[i] where that is not null (a tensor of the
     * output's shape, the graph's add of the product), for i < weights.length <= {@link
     * #matMulGroupLimit}; every weight of one type. The values those nodes would have one by one.
     */
    default void executeMatMuls(Tensor x, Tensor[] weights, Tensor[] addends, Tensor[] outputs) {
        throw new UnsupportedOperationException(name() + " runs every matmul by itself");
    }

    /**
     * How many consecutive nodes of op (equal ops, none reading what another writes) {@link
     * #executeRun} takes at once; 1 (the default): each runs by itself.
     */
    default int runLimit(Op op) {
        return 1;
    }

    /** Runs consecutive nodes of op as one step: outputs[i] and inputs[i] as {@link #execute} takes them, the same values. */
    default void executeRun(Op op, Tensor[] outputs, Tensor[][] inputs) {
        for (int i = 0; i < outputs.length; i++) {
            execute(op, outputs[i], inputs[i]);
        }
    }

    /**
     * Whether a graph compiled for this backend hands it RoPE nodes and the KV-cache stores right
     * after them as one step ({@link #executeRopeStores}) when the stores keep what the RoPE
     * rotates; false (the default): they run as the runs {@link #runLimit} allows.
     */
    default boolean fusesRopeStores() {
        return false;
    }

    /**
     * RoPE nodes of op (outputs[i] = RoPE of inputs[i] = {x, positions}) and then cache stores
     * (stores[j] = {cache, source, positions}, the positions the RoPE nodes take) as one step;
     * storedRope[j] = i where store j's source is outputs[i], else -1. onlyStored[i]: nothing but
     * these stores reads outputs[i], so it need not be written. The values of running the nodes
     * one by one (the default does).
     */
    default void executeRopeStores(Op.Rope op, Tensor[] outputs, Tensor[][] inputs, boolean[] onlyStored, Tensor[][] stores,
            int[] storedRope) {
        executeRun(op, outputs, inputs);
        executeRun(new Op.StoreKv(), new Tensor[stores.length], stores);
    }

    /**
     * Whether a graph compiled for this backend hands it two matmuls of one input and the SwiGLU of
     * their products (a feed-forward's gate and up) as one step ({@link #executeMatMulGlu}); false
     * (the default): they run as other matmuls and ops do.
     */
    default boolean fusesMatMulGlu() {
        return false;
    }

    /**
     * gate = x · wGateᵀ, up = x · wUpᵀ (weights of one type), out = SwiGLU(gate, up), as one step:
     * the values of those three nodes one by one (the default runs them so).
     */
    default void executeMatMulGlu(Tensor x, Tensor wGate, Tensor wUp, Tensor gate, Tensor up, Tensor out) {
        execute(new Op.MatMul(), gate, new Tensor[] {wGate, x});
        execute(new Op.MatMul(), up, new Tensor[] {wUp, x});
        execute(new Op.SwiGlu(), out, new Tensor[] {gate, up});
    }

    /**
     * Whether the host may read and write this backend's memory. When false (a GPU), a compiled
     * graph keeps host copies of its inputs and outputs and moves them with {@link #upload} and
     * {@link #download} around each run, under this backend's lock.
     */
    default boolean hostAccessible() {
        return true;
    }

    /**
     * The constant (weights, a cache) as this backend's ops address it: itself here, a device copy on
     * a GPU. written: an op of the graph writes it (a KV cache), so it is not read-only weights.
     */
    default Tensor resident(Tensor constant, boolean written) {
        return constant;
    }

    /** Copies a contiguous host tensor into this backend's memory of the same type and shape. */
    default void upload(Tensor host, Tensor device) {
        throw new UnsupportedOperationException(name() + " has no separate device memory");
    }

    /** Copies this backend's memory into a contiguous host tensor of the same type and shape, after the ops before it. */
    default void download(Tensor device, Tensor host) {
        throw new UnsupportedOperationException(name() + " has no separate device memory");
    }

    /**
     * Tells a backend without host access that host holds the values of the graph input device, for
     * ops that read them on the host (token ids, positions); null forgets it.
     */
    default void hostCopy(Tensor device, Tensor host) {}

    /**
     * Starts one run of a compiled graph's ops on a backend without host access (called after the
     * run's inputs are in): it may record the ops that follow and submit them together at
     * {@link #endRun}. key names the compiled graph, the same on every run of it.
     */
    default void beginRun(long key) {}

    /**
     * Ends the run {@link #beginRun} started, before its outputs are read. completed is false when
     * an op failed: what was recorded is dropped. Returns whether this submitted recorded ops.
     */
    default boolean endRun(long key, boolean completed) {
        return false;
    }

    /** A context on the first GPU, which the caller closes; IllegalStateException saying why when there is none. */
    static CudaBackend cuda() {
        return CudaBackend.open(0);
    }
}
