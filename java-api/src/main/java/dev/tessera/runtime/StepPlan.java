package dev.tessera.runtime;

import dev.tessera.tensor.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Which nodes of a graph its backend runs together as one step, where the backend asks for it:
 * consecutive matmuls of one input by constant weights of one type (Q, K and V of a norm's
 * output; gate and up) and a lone matmul with the add right after it when that add is its
 * product's only use (a projection added into the residual stream), up to {@link
 * Backend#matMulGroupLimit}; and runs of consecutive nodes of one op of which none reads what
 * another writes (RoPE of Q and K, the K and V cache stores), up to {@link Backend#runLimit};
 * where the backend {@link Backend#fusesRopeStores fuses them}, such a RoPE run with the cache
 * stores right after it when they store what it rotates (K); and where it {@link
 * Backend#fusesMatMulGlu fuses those}, two matmuls of one input and the SwiGLU of their products
 * right after them (gate, up, act). Every other node is a step of its own. Buffers are planned by
 * step ({@link BufferPlan#of(Graph, int[])}), so nothing a step reads shares memory with what it
 * writes.
 */
final class StepPlan {
    /** Nodes run as one step, from the node it is kept at to last(). */
    sealed interface Group permits MatMuls, Run, RopeStores, MatMulGlu {
        int last();
    }

    /** Matmul nodes of one input, and the add of the only one's product (-1: none). */
    record MatMuls(int[] matmuls, int add) implements Group {
        @Override
        public int last() {
            return add >= 0 ? add : matmuls[matmuls.length - 1];
        }
    }

    /** Nodes first..last, all of one op. */
    record Run(int first, int last) implements Group {}

    /**
     * RoPE nodes first..storeFirst - 1 and KV-cache stores storeFirst..last, at one set of
     * positions; at least one store's source is one of those RoPE nodes' outputs.
     */
    record RopeStores(int first, int storeFirst, int last) implements Group {}

    /** Matmul nodes gate and gate + 1 (up) of one input and weights of one type, and gate + 2 the SwiGLU of their products. */
    record MatMulGlu(int gate) implements Group {
        @Override
        public int last() {
            return gate + 2;
        }
    }

    /** The groups by first node (null where a node is a step of its own), and each node's step. */
    record Plan(Group[] groupAt, int[] stepOf) {}

    private StepPlan() {}

    /** No groups: every node its own step. */
    static Plan none(Graph graph) {
        int n = graph.nodes().size();
        int[] stepOf = new int[n];
        Arrays.setAll(stepOf, i -> i);
        return new Plan(new Group[n], stepOf);
    }

    /** The steps backend asks for. */
    static Plan of(Graph graph, Backend backend) {
        return plan(graph, backend.matMulGroupLimit(), backend::runLimit, backend.fusesRopeStores(), backend.fusesMatMulGlu());
    }

    /** Groups of at most matMulLimit matmuls (<= 0: none) and runs of at most runLimit(op) nodes. */
    static Plan plan(Graph graph, int matMulLimit, ToIntFunction<Op> runLimit) {
        return plan(graph, matMulLimit, runLimit, false, false);
    }

    /**
     * As {@link #plan(Graph, int, ToIntFunction)}, and RoPE runs with their stores where ropeStores,
     * gate and up matmuls with their SwiGLU where matMulGlu.
     */
    static Plan plan(Graph graph, int matMulLimit, ToIntFunction<Op> runLimit, boolean ropeStores, boolean matMulGlu) {
        List<Node> nodes = graph.nodes();
        int n = nodes.size();
        int[] uses = uses(graph);
        Group[] groupAt = new Group[n];
        int[] stepOf = new int[n];
        int step = 0;
        for (int i = 0; i < n; step++) {
            Group g = matMulGlu ? matMulGluFrom(nodes, i) : null;
            if (g == null) {
                g = matMulsFrom(nodes, i, matMulLimit, uses);
            }
            if (g == null && ropeStores) {
                g = ropeStoresFrom(nodes, i, runLimit);
            }
            if (g == null) {
                g = runFrom(nodes, i, runLimit.applyAsInt(nodes.get(i).op()));
            }
            int end = g == null ? i + 1 : g.last() + 1;
            groupAt[i] = g;
            Arrays.fill(stepOf, i, end, step);
            i = end;
        }
        return new Plan(groupAt, stepOf);
    }

    /** How often each value (by root) is read: by nodes, and once more if it is a graph output. */
    static int[] uses(Graph graph) {
        int[] uses = new int[graph.values().size()];
        for (Node node : graph.nodes()) {
            for (Value in : node.inputs()) {
                uses[in.root().id()]++;
            }
        }
        for (Value out : graph.outputs().values()) {
            uses[out.root().id()]++;
        }
        return uses;
    }

    /** For each store of g: the index (from g.first()) of the RoPE node whose output it stores, or -1. */
    static int[] storedRope(Graph graph, RopeStores g) {
        List<Node> nodes = graph.nodes();
        int[] from = new int[g.last() - g.storeFirst() + 1];
        Arrays.fill(from, -1);
        for (int s = g.storeFirst(); s <= g.last(); s++) {
            for (int r = g.first(); r < g.storeFirst(); r++) {
                if (nodes.get(r).output() == nodes.get(s).inputs().get(1)) {
                    from[s - g.storeFirst()] = r - g.first();
                }
            }
        }
        return from;
    }

    /**
     * For each RoPE node of g: whether the group's stores are all that read its output, which the
     * backend then need not write.
     */
    static boolean[] onlyStored(Graph graph, RopeStores g, int[] uses) {
        int[] stored = new int[g.storeFirst() - g.first()];
        for (int r : storedRope(graph, g)) {
            if (r >= 0) {
                stored[r]++;
            }
        }
        boolean[] only = new boolean[stored.length];
        for (int r = 0; r < stored.length; r++) {
            only[r] = stored[r] > 0 && uses[graph.nodes().get(g.first() + r).output().id()] == stored[r];
        }
        return only;
    }

    /** Nodes i, i + 1: matmuls of one input by constant weights of one type; i + 2: the SwiGLU of their products in that order. */
    private static Group matMulGluFrom(List<Node> nodes, int i) {
        if (i + 2 >= nodes.size() || !isConstantMatMul(nodes.get(i)) || !isConstantMatMul(nodes.get(i + 1))) {
            return null;
        }
        Node gate = nodes.get(i), up = nodes.get(i + 1), glu = nodes.get(i + 2);
        boolean fits = gate.inputs().get(1) == up.inputs().get(1)
                && gate.inputs().get(0).spec().dtype() == up.inputs().get(0).spec().dtype()
                && glu.op() instanceof Op.SwiGlu && glu.inputs().get(0) == gate.output() && glu.inputs().get(1) == up.output();
        return fits ? new MatMulGlu(i) : null;
    }

    private static Group matMulsFrom(List<Node> nodes, int i, int limit, int[] uses) {
        Node first = nodes.get(i);
        if (limit <= 0 || !isConstantMatMul(first)) {
            return null;
        }
        Value x = first.inputs().get(1);
        DType type = first.inputs().get(0).spec().dtype();
        List<Integer> matmuls = new ArrayList<>(List.of(i));
        int next = i + 1;
        while (next < nodes.size() && matmuls.size() < limit && isConstantMatMul(nodes.get(next))
                && nodes.get(next).inputs().get(1) == x && nodes.get(next).inputs().get(0).spec().dtype() == type) {
            matmuls.add(next++);
        }
        int add = matmuls.size() == 1 && next < nodes.size() && addsOnlyUseOf(nodes.get(next), first.output(), uses) ? next : -1;
        if (matmuls.size() == 1 && add < 0) {
            return null;
        }
        return new MatMuls(matmuls.stream().mapToInt(Integer::intValue).toArray(), add);
    }

    private static boolean isConstantMatMul(Node node) {
        return node.op() instanceof Op.MatMul && node.inputs().get(0).kind() == Value.Kind.CONSTANT;
    }

    /** node is product + other (either order) of one shape, and the product has no other use. */
    private static boolean addsOnlyUseOf(Node node, Value product, int[] uses) {
        if (!(node.op() instanceof Op.Add) || uses[product.id()] != 1) {
            return false;
        }
        Value other = addend(node, product);
        return other != null && other.spec().dtype() == DType.F32 && Arrays.equals(other.spec().shape(), product.spec().shape());
    }

    /** The input of an add node (product + other) that is not the product; null if the product is not one of them. */
    static Value addend(Node add, Value product) {
        Value a = add.inputs().get(0), b = add.inputs().get(1);
        return a == product ? b : b == product ? a : null;
    }

    /**
     * The RoPE run (or node) at i and the run (or node) of cache stores right after it, when they
     * share the positions, no RoPE reads a cache the stores write, and a store keeps a RoPE output
     * (the value itself, not a view of it); null otherwise.
     */
    private static Group ropeStoresFrom(List<Node> nodes, int i, ToIntFunction<Op> runLimit) {
        if (!(nodes.get(i).op() instanceof Op.Rope)) {
            return null;
        }
        Group ropes = runFrom(nodes, i, runLimit.applyAsInt(nodes.get(i).op()));
        int storeFirst = ropes == null ? i + 1 : ropes.last() + 1;
        if (storeFirst >= nodes.size() || !(nodes.get(storeFirst).op() instanceof Op.StoreKv)) {
            return null;
        }
        Group stores = runFrom(nodes, storeFirst, runLimit.applyAsInt(nodes.get(storeFirst).op()));
        int last = stores == null ? storeFirst : stores.last();
        Value positions = nodes.get(i).inputs().get(1);
        Set<Integer> rotated = new HashSet<>(), caches = new HashSet<>();
        for (int r = i; r < storeFirst; r++) {
            if (nodes.get(r).inputs().get(1) != positions) {
                return null;
            }
            rotated.add(nodes.get(r).output().id());
        }
        boolean keepsRotated = false;
        for (int s = storeFirst; s <= last; s++) {
            List<Value> in = nodes.get(s).inputs();
            if (in.get(2) != positions) {
                return null;
            }
            caches.add(in.get(0).root().id());
            keepsRotated |= rotated.contains(in.get(1).id());
        }
        for (int r = i; r < storeFirst; r++) {
            if (caches.contains(nodes.get(r).inputs().get(0).root().id())) {
                return null;
            }
        }
        return keepsRotated ? new RopeStores(i, storeFirst, last) : null;
    }

    /** Nodes i.. of node i's op (equal records), at most limit, none reading or writing what another writes. */
    private static Group runFrom(List<Node> nodes, int i, int limit) {
        if (limit <= 1 || i + 1 >= nodes.size() || !nodes.get(i + 1).op().equals(nodes.get(i).op())) {
            return null;
        }
        Op op = nodes.get(i).op();
        Set<Integer> written = new HashSet<>(), read = new HashSet<>();
        int end = i;
        while (end < nodes.size() && end - i < limit && nodes.get(end).op().equals(op)) {
            Node node = nodes.get(end);
            int writes = writes(node);
            boolean independent = !written.contains(writes) && !read.contains(writes);
            for (Value in : node.inputs()) {
                independent &= !written.contains(in.root().id());
            }
            if (!independent) {
                break;
            }
            written.add(writes);
            node.inputs().forEach(in -> read.add(in.root().id()));
            end++;
        }
        return end - i > 1 ? new Run(i, end - 1) : null;
    }

    /** The value a node writes: its output, or for an op without one the input it writes into (the first). */
    private static int writes(Node node) {
        return node.output() != null ? node.output().id() : node.inputs().get(0).root().id();
    }
}
