package dev.tessera.bench;

import dev.tessera.core.Tessera;
import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CudaBackend;
import dev.tessera.runtime.Op;
import dev.tessera.runtime.TensorSpec;
import dev.tessera.ops.Nn;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host's time per op of a LLaMA-7B decode step on the CUDA backend, the ops as the compiled
 * graph calls them: launched one by one (the Java checks, the library's checks and the CUDA
 * launches), and recorded for a CUDA graph (the same, with the launches captured instead; the
 * recording is dropped, so nothing runs). Each figure is the best of 5 batches of 200 calls, after
 * 12,000 recorded calls of each op for the JIT, the GPU drained before each batch so its queue
 * never makes the host wait. Multiplied by the ops of a step it says how much of a token's time
 * the host needs before the GPU's share.
 *
 * <p>Run: {@code java -cp ... dev.tessera.bench.CudaHostCost [--recorded-only]} (the first GPU; on
 * the CPU emulator, {@code TESSERA_CUDA_LIBRARY} naming libtessera_cuda_emu.so, launched ops run
 * their kernels in the call, so only the recorded column means what it says there: pass
 * --recorded-only).
 */
public final class CudaHostCost {
    private static final int DIM = 4096, HEADS = 32, HEAD_DIM = 128, FF = 11008, CTX = 512, BATCH = 200, BATCHES = 5,
            WARMUP_ROUNDS = 10;

    private CudaHostCost() {}

    public static void main(String[] args) {
        boolean recordedOnly = args.length == 1 && args[0].equals("--recorded-only");
        if (args.length > 0 && !recordedOnly) {
            System.err.println("usage: CudaHostCost [--recorded-only]");
            System.exit(2);
        }
        Tessera.ensureInitialized();
        try (CudaBackend cuda = Backend.cuda(); Arena arena = Arena.ofShared()) {
            Tensor x = device(cuda, arena, DType.F32, 1, DIM), y = device(cuda, arena, DType.F32, 1, DIM);
            Tensor norm = device(cuda, arena, DType.F32, DIM);
            Tensor w = device(cuda, arena, DType.Q4_0, DIM, DIM);
            Tensor q = device(cuda, arena, DType.F32, 1, HEADS, HEAD_DIM), att = device(cuda, arena, DType.F32, 1, HEADS, HEAD_DIM);
            Tensor cache = device(cuda, arena, DType.F16, HEADS, CTX, HEAD_DIM);
            Tensor gate = device(cuda, arena, DType.F32, 1, FF), up = device(cuda, arena, DType.F32, 1, FF);
            Tensor glu = device(cuda, arena, DType.F32, 1, FF);
            Tensor pos = device(cuda, arena, DType.I32, 1);
            Tensor posHost = Tensor.allocate(arena, DType.I32, 1);
            posHost.segment().set(ValueLayout.JAVA_INT, 0, CTX / 2);
            cuda.hostCopy(pos, posHost); // the graph input's host values, as a compiled graph registers them
            Tensor sync = Tensor.allocate(arena, DType.F32, 1, DIM);

            record Call(Op op, Tensor out, Tensor[] in) {}
            Map<String, Call> calls = new LinkedHashMap<>();
            calls.put("RmsNorm", new Call(new Op.RmsNorm(1e-5f), y, new Tensor[] {x, norm}));
            calls.put("MatMul Q4_0 4096x4096", new Call(new Op.MatMul(), y, new Tensor[] {w, x}));
            calls.put("Rope", new Call(new Op.Rope(HEAD_DIM, 10000f, false), q, new Tensor[] {q, pos}));
            calls.put("StoreKv", new Call(new Op.StoreKv(), null, new Tensor[] {cache, q, pos}));
            calls.put("CausalAttention", new Call(new Op.CausalAttention(0.088f), att, new Tensor[] {q, cache, cache, pos}));
            calls.put("Add", new Call(new Op.Add(), y, new Tensor[] {x, y}));
            calls.put("SwiGlu", new Call(new Op.SwiGlu(), glu, new Tensor[] {gate, up}));
            calls.put("Activation (GELU)", new Call(new Op.Activation(Nn.Activation.GELU), glu, new Tensor[] {gate}));

            // the JIT's steady state first: every op recorded (nothing runs) until compiled
            for (int round = 0; round < WARMUP_ROUNDS; round++) {
                for (Call c : calls.values()) {
                    perCall(cuda, c.op(), c.out(), c.in(), true, y, sync);
                }
            }
            System.out.printf("host time per op, %s: best of %d batches of %d calls, microseconds%n", cuda.deviceName(), BATCHES, BATCH);
            System.out.printf("%-24s %10s %10s%n", "op", "launched", "recorded");
            for (var e : calls.entrySet()) {
                Call c = e.getValue();
                String launched = recordedOnly ? "-" : String.format("%.2f", perCall(cuda, c.op(), c.out(), c.in(), false, y, sync));
                double recorded = perCall(cuda, c.op(), c.out(), c.in(), true, y, sync);
                System.out.printf("%-24s %10s %10.2f%n", e.getKey(), launched, recorded);
            }
        }
    }

    /** Best per-call host time over the batches (after one warm-up batch). */
    private static double perCall(CudaBackend cuda, Op op, Tensor out, Tensor[] in, boolean record, Tensor any, Tensor sync) {
        cuda.setGraphs(record);
        cuda.setGraphOps(0); // the batch recorded whole and dropped: no piece is submitted on the way
        long best = Long.MAX_VALUE;
        for (int b = 0; b <= BATCHES; b++) {
            cuda.download(any, sync); // drains the GPU
            cuda.beginRun(1);
            long t0 = System.nanoTime();
            for (int i = 0; i < BATCH; i++) {
                cuda.execute(op, out, in);
            }
            long t = System.nanoTime() - t0;
            cuda.endRun(1, false); // recorded: dropped, nothing runs
            if (b > 0) {
                best = Math.min(best, t);
            }
        }
        cuda.setGraphs(false);
        return best / 1e3 / BATCH;
    }

    /** Zero-filled device memory of that type and shape (values do not change the host's work). */
    private static Tensor device(CudaBackend cuda, Arena arena, DType type, long... shape) {
        return Tensor.wrap(type, cuda.allocate(arena, TensorSpec.of(type, shape).byteSize()), shape);
    }
}
