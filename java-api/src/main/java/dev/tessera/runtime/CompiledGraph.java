package dev.tessera.runtime;

import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A graph bound to a backend and to one workspace planned by {@link BufferPlan}: every input,
 * intermediate and output has its memory from the start, so {@link #run()} allocates nothing.
 * Fill {@link #input}s, run, read {@link #output}s (valid until the next run).
 *
 * <p>On a backend whose memory the host cannot touch (a GPU), the workspace is device memory, the
 * constants are the backend's {@link Backend#resident} copies, and {@link #input}/{@link #output}
 * are host copies that {@link #run()} moves in before and out after the ops.
 *
 * <p>Not thread-safe: one thread runs a compiled graph at a time. Closing frees the workspace; the
 * constants (weights, caches) belong to whoever bound them.
 */
public final class CompiledGraph implements AutoCloseable {
    /**
     * Profile entries of a device backend's runs: copying the inputs in, and copying the outputs
     * out, which waits until the device has run every op the host enqueued before.
     */
    public static final String INPUTS_ENTRY = "(inputs in)", OUTPUTS_ENTRY = "(outputs, wait)";
    /** Profile entry of a backend that records a run's ops and submits them at its end (CUDA graphs). */
    public static final String SUBMIT_ENTRY = "(recorded ops submitted)";
    private static final AtomicLong KEYS = new AtomicLong();

    private final Graph graph;
    private final Backend backend;
    private final BufferPlan plan;
    private final Arena arena;
    private final Tensor[] tensors;
    private final Tensor[][] nodeInputs;
    private final Tensor[] nodeOutputs;
    private final Op[] ops;
    private final String[] opNames;
    /** Steps of several nodes, by first node (null: the node runs by itself); see StepPlan. */
    private final Step[] steps;
    /** Host copies of inputs and outputs when the backend's memory is not the host's, else null. */
    private final Map<String, Tensor> hostInputs;
    private final Map<String, Tensor> hostOutputs;
    /** Names this graph to a backend across runs ({@link Backend#beginRun}). */
    private final long key = KEYS.incrementAndGet();
    private final Profile profile = new Profile();
    private boolean profiling;
    private boolean closed;

    public CompiledGraph(Graph graph, Backend backend) {
        this.graph = graph;
        this.backend = backend;
        StepPlan.Plan stepPlan = StepPlan.of(graph, backend);
        this.plan = BufferPlan.of(graph, stepPlan.stepOf());
        this.arena = Arena.ofShared();
        try {
            MemorySegment workspace = backend.allocate(arena, Math.max(plan.workspaceBytes(), BufferPlan.ALIGNMENT));
            List<Value> values = graph.values();
            Set<Value> written = writtenConstants(graph);
            tensors = new Tensor[values.size()];
            for (Value v : values) {
                tensors[v.id()] = bind(v, workspace, written.contains(v));
            }
            List<Node> nodes = graph.nodes();
            nodeInputs = new Tensor[nodes.size()][];
            nodeOutputs = new Tensor[nodes.size()];
            ops = new Op[nodes.size()];
            opNames = new String[nodes.size()];
            for (Node n : nodes) {
                Tensor[] in = new Tensor[n.inputs().size()];
                for (int i = 0; i < in.length; i++) {
                    in[i] = tensors[n.inputs().get(i).id()];
                }
                nodeInputs[n.index()] = in;
                nodeOutputs[n.index()] = n.output() == null ? null : tensors[n.output().id()];
                ops[n.index()] = n.op();
                opNames[n.index()] = n.op().name();
            }
            steps = new Step[nodes.size()];
            int[] uses = StepPlan.uses(graph);
            for (int i = 0; i < steps.length; i++) {
                steps[i] = switch (stepPlan.groupAt()[i]) {
                    case null -> null;
                    case StepPlan.MatMuls g -> matMulStep(nodes, g);
                    case StepPlan.Run r -> new RunStep(ops[i], Arrays.copyOfRange(nodeOutputs, i, r.last() + 1),
                            Arrays.copyOfRange(nodeInputs, i, r.last() + 1), r.last() + 1);
                    case StepPlan.RopeStores g -> ropeStoreStep(graph, g, uses);
                    case StepPlan.MatMulGlu g -> new MatMulGluStep(nodeInputs[i][1], nodeInputs[i][0], nodeInputs[i + 1][0], nodeOutputs[i],
                            nodeOutputs[i + 1], nodeOutputs[i + 2], g.last() + 1);
                };
            }
            if (backend.hostAccessible()) {
                hostInputs = null;
                hostOutputs = null;
            } else {
                hostInputs = hostCopies(graph.inputs());
                hostOutputs = hostCopies(graph.outputs());
                hostInputs.forEach((name, host) -> backend.hostCopy(tensors[graph.inputs().get(name).id()], host));
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Nodes run as one step, up to node next - 1. */
    private sealed interface Step permits MatMulStep, RunStep, RopeStoreStep, MatMulGluStep {
        int next();
    }

    /** A group's tensors: the matmuls' input and weights, the add's other operand and output or the product. */
    private record MatMulStep(Tensor x, Tensor[] weights, Tensor[] addends, Tensor[] outputs, int next) implements Step {
        /** The profile's entry: a projection with its residual add apart from plain matmuls. */
        String name() {
            return addends[0] != null ? "MatMul+Add" : "MatMul";
        }
    }

    /** Nodes of one op with their outputs and inputs. */
    private record RunStep(Op op, Tensor[] outputs, Tensor[][] inputs, int next) implements Step {}

    /** Gate and up matmuls and their SwiGLU, as {@link Backend#executeMatMulGlu} takes them. */
    private record MatMulGluStep(Tensor x, Tensor wGate, Tensor wUp, Tensor gate, Tensor up, Tensor out, int next) implements Step {}

    /** RoPE nodes and the cache stores after them, as {@link Backend#executeRopeStores} takes them. */
    private record RopeStoreStep(Op.Rope op, Tensor[] outputs, Tensor[][] inputs, boolean[] onlyStored, Tensor[][] stores,
            int[] storedRope, int next) implements Step {}

    private RopeStoreStep ropeStoreStep(Graph graph, StepPlan.RopeStores g, int[] uses) {
        return new RopeStoreStep((Op.Rope) ops[g.first()], Arrays.copyOfRange(nodeOutputs, g.first(), g.storeFirst()),
                Arrays.copyOfRange(nodeInputs, g.first(), g.storeFirst()), StepPlan.onlyStored(graph, g, uses),
                Arrays.copyOfRange(nodeInputs, g.storeFirst(), g.last() + 1), StepPlan.storedRope(graph, g), g.last() + 1);
    }

    private MatMulStep matMulStep(List<Node> nodes, StepPlan.MatMuls g) {
        int p = g.matmuls().length;
        Tensor[] weights = new Tensor[p], addends = new Tensor[p], outputs = new Tensor[p];
        for (int j = 0; j < p; j++) {
            Node mm = nodes.get(g.matmuls()[j]);
            weights[j] = tensors[mm.inputs().get(0).id()];
            outputs[j] = tensors[mm.output().id()];
        }
        if (g.add() >= 0) {
            Node add = nodes.get(g.add());
            addends[0] = tensors[StepPlan.addend(add, nodes.get(g.matmuls()[0]).output()).id()];
            outputs[0] = tensors[add.output().id()];
        }
        Tensor x = tensors[nodes.get(g.matmuls()[0]).inputs().get(1).id()];
        return new MatMulStep(x, weights, addends, outputs, g.last() + 1);
    }

    private Map<String, Tensor> hostCopies(Map<String, Value> values) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        values.forEach((name, v) -> out.put(name, Tensor.allocate(arena, v.spec().dtype(), v.spec().shape())));
        return out;
    }

    /** The constants an op writes into (StoreKv's cache, through any views of it). */
    private static Set<Value> writtenConstants(Graph graph) {
        Set<Value> out = new HashSet<>();
        for (Node n : graph.nodes()) {
            if (n.op() instanceof Op.StoreKv) {
                Value v = n.inputs().get(0);
                while (v.kind() == Value.Kind.VIEW) {
                    v = v.base();
                }
                if (v.kind() == Value.Kind.CONSTANT) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    private Tensor bind(Value v, MemorySegment workspace, boolean written) {
        return switch (v.kind()) {
            case CONSTANT -> backend.resident(graph.constants().get(v), written);
            case INPUT, NODE -> Tensor.wrap(v.spec().dtype(), workspace.asSlice(plan.offset(v), v.spec().byteSize()), v.spec().shape());
            case VIEW -> {
                Tensor base = tensors[v.base().id()];
                yield switch (v.viewOp()) {
                    case Value.ViewOp.Reshape r -> base.reshape(r.shape());
                    case Value.ViewOp.Permute p -> base.permute(p.dims());
                    case Value.ViewOp.Slice s -> base.slice(s.dim(), s.start(), s.end());
                };
            }
        };
    }

    public Graph graph() {
        return graph;
    }

    public Backend backend() {
        return backend;
    }

    public BufferPlan plan() {
        return plan;
    }

    /** The memory of a named input, to fill before {@link #run()}. */
    public Tensor input(String name) {
        Tensor t = tensorOf(graph.inputs().get(name), "input", name);
        return hostInputs == null ? t : hostInputs.get(name);
    }

    /** The memory of a named output, valid after {@link #run()} until the next one. */
    public Tensor output(String name) {
        Tensor t = tensorOf(graph.outputs().get(name), "output", name);
        return hostOutputs == null ? t : hostOutputs.get(name);
    }

    private Tensor tensorOf(Value v, String role, String name) {
        checkOpen();
        if (v == null) {
            throw new IllegalArgumentException("no " + role + " named '" + name + "'");
        }
        return tensors[v.id()];
    }

    /** Runs every node in order. */
    public void run() {
        checkOpen();
        if (hostInputs == null) {
            runNodes();
            return;
        }
        synchronized (backend) { // one stream per device context: a run's copies and ops stay together
            long t0 = profiling ? System.nanoTime() : 0;
            hostInputs.forEach((name, host) -> backend.upload(host, tensors[graph.inputs().get(name).id()]));
            if (profiling) {
                profile.add(INPUTS_ENTRY, System.nanoTime() - t0);
            }
            backend.beginRun(key);
            try {
                runNodes();
            } catch (RuntimeException | Error e) {
                try {
                    backend.endRun(key, false);
                } catch (RuntimeException dropFailed) {
                    e.addSuppressed(dropFailed);
                }
                throw e;
            }
            long t1 = profiling ? System.nanoTime() : 0;
            if (backend.endRun(key, true) && profiling) {
                profile.add(SUBMIT_ENTRY, System.nanoTime() - t1);
                t1 = System.nanoTime();
            }
            hostOutputs.forEach((name, host) -> backend.download(tensors[graph.outputs().get(name).id()], host));
            if (profiling) {
                profile.add(OUTPUTS_ENTRY, System.nanoTime() - t1);
            }
        }
    }

    private void runNodes() {
        for (int i = 0; i < ops.length; ) {
            Step s = steps[i];
            long t0 = profiling ? System.nanoTime() : 0;
            switch (s) {
                case null -> backend.execute(ops[i], nodeOutputs[i], nodeInputs[i]);
                case MatMulStep m -> backend.executeMatMuls(m.x(), m.weights(), m.addends(), m.outputs());
                case RunStep r -> backend.executeRun(r.op(), r.outputs(), r.inputs());
                case RopeStoreStep r -> backend.executeRopeStores(r.op(), r.outputs(), r.inputs(), r.onlyStored(), r.stores(), r.storedRope());
                case MatMulGluStep g -> backend.executeMatMulGlu(g.x(), g.wGate(), g.wUp(), g.gate(), g.up(), g.out());
            }
            if (profiling) {
                switch (s) {
                    case null -> profile.add(opNames[i], System.nanoTime() - t0);
                    case MatMulStep m -> profile.add(m.name(), m.weights().length, System.nanoTime() - t0);
                    case RunStep r -> profile.add(opNames[i], r.outputs().length, System.nanoTime() - t0);
                    case RopeStoreStep r -> profile.add("Rope+StoreKv", r.outputs().length + r.stores().length, System.nanoTime() - t0);
                    case MatMulGluStep g -> profile.add("MatMul+SwiGlu", 3, System.nanoTime() - t0);
                }
            }
            i = s == null ? i + 1 : s.next();
        }
    }

    /**
     * Turns per-op timing on or off (off by default: it adds two clock reads per node). On a device
     * backend an op's time is the host's time to check and enqueue (or record) it; the device's time
     * shows in {@link #OUTPUTS_ENTRY}, as far as it outlasts the enqueueing.
     */
    public void setProfiling(boolean on) {
        profiling = on;
    }

    /** Accumulated per-op times of the runs made while profiling was on. */
    public Profile profile() {
        return profile;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (hostInputs != null) {
                hostInputs.keySet().forEach(name -> backend.hostCopy(tensors[graph.inputs().get(name).id()], null));
            }
            arena.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("compiled graph is closed");
        }
    }
}
