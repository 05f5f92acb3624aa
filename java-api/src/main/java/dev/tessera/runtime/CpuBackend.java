package dev.tessera.runtime;

import dev.tessera.ops.Attention;
import dev.tessera.ops.Conv2d;
import dev.tessera.ops.Nn;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Runs graphs on the CPU kernels of the native library (dev.tessera.ops), which use the
 * library's one thread pool. Stateless: one instance serves every graph and thread.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public MemorySegment allocate(Arena arena, long bytes) {
        return arena.allocate(bytes, BufferPlan.ALIGNMENT);
    }

    @Override
    public void execute(Op op, Tensor out, Tensor[] in) {
        switch (op) {
            case Op.MatMul m -> Ops.matmulInto(in[0], in[1], out);
            case Op.GetRows g -> Nn.embeddingInto(in[0], in[1], out);
            case Op.RmsNorm r -> Nn.rmsNormInto(in[0], in[1], r.eps(), out);
            case Op.Rope r -> Nn.ropeInto(in[0], in[1], r.nDims(), r.neox() ? Nn.RopeMode.NEOX : Nn.RopeMode.NORMAL, r.freqBase(), out);
            case Op.Add a -> Nn.addInto(in[0], in[1], out);
            case Op.Mul m -> Nn.mulInto(in[0], in[1], out);
            case Op.SwiGlu s -> Nn.gluInto(in[0], in[1], Nn.Activation.SILU, out);
            case Op.StoreKv s -> storeKv(in[0], in[1], in[2]);
            case Op.CausalAttention a -> causalAttention(a, in[0], in[1], in[2], in[3], out);
            case Op.LayerNorm l -> Nn.layerNormInto(in[0], in[1], in[2], l.eps(), out);
            case Op.Activation a -> Nn.activationInto(in[0], a.act(), out);
            case Op.Attention a -> batchAttention(a, in[0], in[1], in[2], out);
            case Op.Conv2d c -> Conv2d.conv2dInto(in[0], in[1], in.length > 2 ? in[2] : null, Conv2d.Pair.of(c.stride()),
                    Conv2d.Pair.of(c.padding()), Conv2d.Pair.of(1), 1, out);
            case Op.Concat c -> concat(c.dim(), in, out);
        }
    }

    /** Each batch item's [L, heads, d] attends to itself (the kernel takes [heads, L, d] views). */
    private static void batchAttention(Op.Attention a, Tensor q, Tensor k, Tensor v, Tensor out) {
        long b = q.shape(0);
        for (long i = 0; i < b; i++) {
            Attention.attentionInto(q.select(0, i).permute(1, 0, 2), k.select(0, i).permute(1, 0, 2), v.select(0, i).permute(1, 0, 2),
                    null, a.scale(), a.causal(), 0, out.select(0, i).permute(1, 0, 2));
        }
    }

    /** One strided copy per input into its slice of the output. */
    private static void concat(int dim, Tensor[] in, Tensor out) {
        long at = 0;
        for (Tensor t : in) {
            long len = t.shape(dim);
            Ops.copy(t, out.slice(dim, at, at + len));
            at += len;
        }
    }

    /** First of n consecutive positions (I32 at p), checked against the cache's capacity; shared with the CUDA backend. */
    static int firstPosition(MemorySegment p, int n, long capacity) {
        int first = p.getAtIndex(ValueLayout.JAVA_INT, 0);
        for (int i = 1; i < n; i++) {
            if (p.getAtIndex(ValueLayout.JAVA_INT, i) != first + i) {
                throw new IllegalArgumentException("positions must be consecutive, got " + p.getAtIndex(ValueLayout.JAVA_INT, i)
                        + " after " + (first + i - 1));
            }
        }
        if (first < 0 || (long) first + n > capacity) {
            throw new IllegalArgumentException("positions " + first + ".." + (first + n - 1) + " are outside the cache of " + capacity);
        }
        return first;
    }

    /** cache [kvHeads, ctx, d] rows first..first+n ← src [n, kvHeads, d] (converted to the cache's type). */
    private static void storeKv(Tensor cache, Tensor src, Tensor positions) {
        int n = (int) src.shape(0);
        int first = firstPosition(positions.segment(), n, cache.shape(1));
        Ops.copy(src.permute(1, 0, 2), cache.slice(1, first, first + n));
    }

    /** Queries [n, heads, d] at consecutive positions over cache rows 0..last. */
    private static void causalAttention(Op.CausalAttention a, Tensor q, Tensor k, Tensor v, Tensor positions, Tensor out) {
        int n = (int) q.shape(0);
        int first = firstPosition(positions.segment(), n, k.shape(1));
        Attention.attentionInto(q.permute(1, 0, 2), k.slice(1, 0, first + n), v.slice(1, 0, first + n), null, a.scale(), true, first,
                out.permute(1, 0, 2));
    }
}
