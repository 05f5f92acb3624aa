package dev.tessera.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Where each planned value (inputs and node outputs) lives in one workspace: values whose
 * lifetimes overlap never share bytes, the others reuse them. A value lives from the node (or
 * step of nodes run together) that writes it to the last that reads it or any view of it;
 * inputs and outputs live for the whole run. Offsets come from greedy placement by decreasing
 * size (each value at the lowest offset free of every placed value it overlaps in time), which
 * keeps the workspace close to the peak of simultaneously live bytes for the chain-shaped graphs
 * models build.
 */
public final class BufferPlan {
    /** Offsets are multiples of this: a cache line, enough for any SIMD load. */
    public static final long ALIGNMENT = 64;

    private final long[] offsets;
    private final long[] sizes;
    private final int[] first;
    private final int[] last;
    private final long workspaceBytes;
    private final long peakLiveBytes;

    private BufferPlan(long[] offsets, long[] sizes, int[] first, int[] last, long workspaceBytes, long peakLiveBytes) {
        this.offsets = offsets;
        this.sizes = sizes;
        this.first = first;
        this.last = last;
        this.workspaceBytes = workspaceBytes;
        this.peakLiveBytes = peakLiveBytes;
    }

    public static BufferPlan of(Graph graph) {
        return of(graph, StepPlan.none(graph).stepOf());
    }

    /**
     * A plan for running the nodes in steps: stepOf[i] is node i's step (non-decreasing, from 0),
     * and a value lives from the step that writes it to the last step that reads it, so the values
     * one step reads and writes never share memory, whichever of its nodes runs first.
     */
    static BufferPlan of(Graph graph, int[] stepOf) {
        List<Value> values = graph.values();
        int nv = values.size();
        int end = stepOf.length == 0 ? 0 : stepOf[stepOf.length - 1] + 1;
        long[] sizes = new long[nv];
        int[] first = new int[nv];
        int[] last = new int[nv];
        Arrays.fill(first, Integer.MAX_VALUE);
        Arrays.fill(last, -1);
        List<Value> planned = new ArrayList<>();
        for (Value v : values) {
            if (v.kind() == Value.Kind.INPUT || v.kind() == Value.Kind.NODE) {
                sizes[v.id()] = align(v.spec().byteSize());
                planned.add(v);
                if (v.kind() == Value.Kind.INPUT) {
                    first[v.id()] = -1;
                    last[v.id()] = end;
                }
            }
        }
        for (Node n : graph.nodes()) {
            int step = stepOf[n.index()];
            if (n.output() != null) {
                int id = n.output().id();
                first[id] = Math.min(first[id], step);
                last[id] = Math.max(last[id], step);
            }
            for (Value in : n.inputs()) {
                int id = in.root().id();
                last[id] = Math.max(last[id], step);
            }
        }
        for (Value out : graph.outputs().values()) {
            last[out.root().id()] = end;
        }
        // Largest first; ties by definition order so plans are deterministic.
        planned.sort(Comparator.comparingLong((Value v) -> -sizes[v.id()]).thenComparingInt(Value::id));
        long[] offsets = new long[nv];
        Arrays.fill(offsets, -1);
        List<Value> placed = new ArrayList<>();
        long total = 0;
        for (Value v : planned) {
            int id = v.id();
            // Candidate offsets: 0 and the end of every placed value alive at the same time.
            List<long[]> busy = new ArrayList<>();
            for (Value p : placed) {
                int pid = p.id();
                if (first[pid] <= last[id] && first[id] <= last[pid]) {
                    busy.add(new long[] {offsets[pid], offsets[pid] + sizes[pid]});
                }
            }
            busy.sort(Comparator.comparingLong(b -> b[0]));
            long offset = 0;
            for (long[] b : busy) {
                if (offset + sizes[id] <= b[0]) {
                    break;
                }
                offset = Math.max(offset, b[1]);
            }
            offsets[id] = offset;
            total = Math.max(total, offset + sizes[id]);
            placed.add(v);
        }
        long peak = 0;
        for (int t = -1; t <= end; t++) {
            long live = 0;
            for (Value v : planned) {
                if (first[v.id()] <= t && t <= last[v.id()]) {
                    live += sizes[v.id()];
                }
            }
            peak = Math.max(peak, live);
        }
        return new BufferPlan(offsets, sizes, first, last, total, peak);
    }

    /** Byte offset of a planned value in the workspace. */
    public long offset(Value v) {
        long o = offsets[v.id()];
        if (o < 0) {
            throw new IllegalArgumentException(v + " is not planned (a constant or a view)");
        }
        return o;
    }

    /** Bytes the workspace needs. */
    public long workspaceBytes() {
        return workspaceBytes;
    }

    /** Most bytes live at one time: a lower bound for any plan. */
    public long peakLiveBytes() {
        return peakLiveBytes;
    }

    /** Whether two planned values are alive at the same time. */
    public boolean overlapInTime(Value a, Value b) {
        return first[a.id()] <= last[b.id()] && first[b.id()] <= last[a.id()];
    }

    /** Planned size of a value (its bytes rounded up to the alignment). */
    public long size(Value v) {
        return sizes[v.id()];
    }

    private static long align(long bytes) {
        return Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
    }
}
