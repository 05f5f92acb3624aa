package dev.tessera.runtime;

import dev.tessera.tensor.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which nodes of a graph a backend that runs several matmuls at once ({@link
 * Backend#matMulGroupLimit}) gets as one step: consecutive matmuls of one input by constant
 * weights of one type (Q, K and V of a norm's output; gate and up), and a lone matmul together
 * with the add right after it when that add is its product's only use (a projection added into
 * the residual stream). Every other node is a step of its own. Buffers are planned by step
 * ({@link BufferPlan#of(Graph, int[])}), so nothing a step reads shares memory with what it writes.
 */
final class MatMulFusion {
    /** One step of several nodes: matmul nodes of one input, and the add of the only one's product (-1: none). */
    record Group(int[] matmuls, int add) {
        int last() {
            return add >= 0 ? add : matmuls[matmuls.length - 1];
        }
    }

    /** The groups by first node (null where a node is a step of its own), and each node's step. */
    record Plan(Group[] groupAt, int[] stepOf) {}

    private MatMulFusion() {}

    /** No groups: every node its own step. */
    static Plan none(Graph graph) {
        int n = graph.nodes().size();
        int[] stepOf = new int[n];
        Arrays.setAll(stepOf, i -> i);
        return new Plan(new Group[n], stepOf);
    }

    /** Groups of at most limit matmuls (limit <= 0: none). */
    static Plan plan(Graph graph, int limit) {
        if (limit <= 0) {
            return none(graph);
        }
        List<Node> nodes = graph.nodes();
        int n = nodes.size();
        int[] uses = new int[graph.values().size()];
        for (Node node : nodes) {
            for (Value in : node.inputs()) {
                uses[in.root().id()]++;
            }
        }
        for (Value out : graph.outputs().values()) {
            uses[out.root().id()]++;
        }
        Group[] groupAt = new Group[n];
        int[] stepOf = new int[n];
        int step = 0;
        for (int i = 0; i < n; step++) {
            Group g = groupFrom(nodes, i, limit, uses);
            int end = g == null ? i + 1 : g.last() + 1;
            groupAt[i] = g;
            Arrays.fill(stepOf, i, end, step);
            i = end;
        }
        return new Plan(groupAt, stepOf);
    }

    private static Group groupFrom(List<Node> nodes, int i, int limit, int[] uses) {
        Node first = nodes.get(i);
        if (!isConstantMatMul(first)) {
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
        return new Group(matmuls.stream().mapToInt(Integer::intValue).toArray(), add);
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
}
