package dev.tessera.quantize;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.io.gguf.GgufValue;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Quantizes the weights of a GGUF file, following llama-quantize's rules.
 *
 * <ul>
 *   <li>Every F32/F16/BF16 tensor of rank 2 or more (the weight matrices) becomes the target type,
 *       row by row along its last dim (ggml ne[0]).</li>
 *   <li>1-D tensors (norms, biases) and tensors that are already quantized are copied unchanged.</li>
 *   <li>A weight whose row length is not a multiple of the target's block size falls back: the
 *       K-quants (block 256) to the legacy type of similar size (Q2_K, Q3_K, Q4_K to Q4_0; Q5_K to
 *       Q5_0; Q6_K to Q8_0); if that does not fit either, or the target is a legacy type, the tensor
 *       keeps its source type. Every fallback is reported in {@link TensorReport#note()}.</li>
 *   <li>Metadata, tensor names and their order are kept; {@code general.file_type} is set to the
 *       llama ftype of the target and {@code general.quantization_version} to 2.</li>
 * </ul>
 *
 * <p>Streaming: the input is memory-mapped and unchanged tensors are written straight from the
 * mapping; tensors are quantized one at a time into a memory-mapped scratch file next to the
 * output (deleted afterwards), so neither the heap nor native memory holds the whole model.
 */
public final class GgufQuantizer {

    /** The types {@link #quantize} accepts, in the order the CLI lists them. */
    public static final List<DType> TARGETS = List.of(DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K);

    /** GGUF key of the llama file type. */
    public static final String FILE_TYPE_KEY = "general.file_type";
    /** GGUF key of the quantization format version. */
    public static final String QUANTIZATION_VERSION_KEY = "general.quantization_version";
    /** ggml's current quantization format version. */
    public static final int QUANTIZATION_VERSION = 2;

    /** What happened to one tensor; {@code rmse} is NaN when not computed or the tensor was copied. */
    public record TensorReport(String name, DType from, DType to, long bytesBefore, long bytesAfter, double rmse, String note) {
        public TensorReport {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(note, "note");
        }

        /** Whether the tensor was re-encoded (not copied unchanged). */
        public boolean quantized() {
            return from != to;
        }
    }

    /** The whole run; byte counts are the tensors' data, without alignment padding. */
    public record Report(long bytesBefore, long bytesAfter, List<TensorReport> tensors) {
        public Report {
            tensors = List.copyOf(tensors);
        }
    }

    /** Called after each tensor, in file order; {@code done} counts from 1 to {@code total}. */
    @FunctionalInterface
    public interface Listener {
        void onTensor(int done, int total, TensorReport tensor);

        Listener NONE = (done, total, tensor) -> {};
    }

    private GgufQuantizer() {}

    /** The llama.cpp {@code general.file_type} (LLAMA_FTYPE_MOSTLY_*) of a target type. */
    public static int llamaFileType(DType target) {
        return switch (target) {
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q2_K -> 10;
            case Q3_K -> 11; // Q3_K_S
            case Q4_K -> 14; // Q4_K_S
            case Q5_K -> 16; // Q5_K_S
            case Q6_K -> 18;
            default -> throw new IllegalArgumentException("not a quantization target: " + target + "; expected one of " + TARGETS);
        };
    }

    /**
     * The type a tensor falls back to when its rows do not fit the target's block: llama.cpp's
     * choices (llama-quant.cpp's tensor_type_fallback), so both tools write the same file.
     */
    static DType fallback(DType target) {
        return switch (target) {
            case Q2_K, Q3_K -> DType.Q4_0;
            case Q4_K -> DType.Q5_0;
            case Q5_K -> DType.Q5_1;
            case Q6_K -> DType.Q8_0;
            default -> null;
        };
    }

    private record Plan(GgufTensorInfo info, DType to, String note) {}

    /**
     * The type a tensor gets: {@code target} for an F32/F16/BF16 weight (rank 2 or more) whose
     * rows fit its block, the fallback where they do not, and the tensor's own type otherwise.
     */
    public static DType targetFor(GgufTensorInfo info, DType target) {
        return plan(info, target).to();
    }

    /**
     * Quantizes {@code in} into {@code out} (replaced atomically if it exists).
     *
     * @param computeRmse also dequantize each re-encoded tensor and report its RMSE against the original
     */
    public static Report quantize(Path in, Path out, DType target, boolean computeRmse, Listener listener)
            throws IOException {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(target, "target");
        Listener progress = listener == null ? Listener.NONE : listener;
        int fileType = llamaFileType(target);
        if (!Files.isRegularFile(in)) {
            throw new java.nio.file.NoSuchFileException(in.toString());
        }
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())
                || (Files.exists(out) && Files.isSameFile(in, out))) {
            throw new IllegalArgumentException("output " + out + " is the input file");
        }
        try (GgufFile src = GgufFile.open(in)) {
            List<GgufTensorInfo> infos = src.tensorInfos();
            List<Plan> plans = new ArrayList<>(infos.size());
            long scratchBytes = 0;
            for (GgufTensorInfo info : infos) {
                Plan p = plan(info, target);
                plans.add(p);
                if (p.to() != info.type()) {
                    scratchBytes = Math.addExact(scratchBytes, align(p.to().byteSize(info.numel())));
                }
            }

            GgufWriter writer = new GgufWriter();
            boolean hasFileType = false;
            boolean hasVersion = false;
            for (Map.Entry<String, GgufValue> e : src.metadata().asMap().entrySet()) {
                switch (e.getKey()) {
                    case FILE_TYPE_KEY -> {
                        writer.putUInt32(FILE_TYPE_KEY, fileType);
                        hasFileType = true;
                    }
                    case QUANTIZATION_VERSION_KEY -> {
                        writer.putUInt32(QUANTIZATION_VERSION_KEY, QUANTIZATION_VERSION);
                        hasVersion = true;
                    }
                    default -> writer.put(e.getKey(), e.getValue());
                }
            }
            if (!hasFileType) {
                writer.putUInt32(FILE_TYPE_KEY, fileType);
            }
            if (!hasVersion) {
                writer.putUInt32(QUANTIZATION_VERSION_KEY, QUANTIZATION_VERSION);
            }

            Path dir = out.toAbsolutePath().getParent();
            Path scratch = Files.createTempFile(dir, "." + out.getFileName() + ".", ".scratch");
            try (Arena arena = Arena.ofConfined();
                 FileChannel ch = FileChannel.open(scratch, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment scratchMap = scratchBytes == 0 ? MemorySegment.NULL
                        : ch.map(FileChannel.MapMode.READ_WRITE, 0, scratchBytes, arena);
                List<TensorReport> reports = new ArrayList<>(plans.size());
                long before = 0;
                long after = 0;
                long cursor = 0;
                int done = 0;
                for (Plan p : plans) {
                    GgufTensorInfo info = p.info();
                    Tensor view = src.tensor(info);
                    TensorReport report;
                    if (p.to() == info.type()) {
                        writer.addTensor(info.name(), info.type(), info.ne(), view.segment());
                        report = new TensorReport(info.name(), info.type(), info.type(), info.byteSize(), info.byteSize(),
                                Double.NaN, p.note());
                    } else {
                        long size = p.to().byteSize(info.numel());
                        MemorySegment slot = scratchMap.asSlice(cursor, size);
                        cursor += align(size);
                        double rmse = encode(view, p.to(), slot, computeRmse);
                        writer.addTensor(info.name(), p.to(), info.ne(), slot);
                        report = new TensorReport(info.name(), info.type(), p.to(), info.byteSize(), size, rmse, p.note());
                    }
                    before += report.bytesBefore();
                    after += report.bytesAfter();
                    reports.add(report);
                    progress.onTensor(++done, plans.size(), report);
                }
                writer.write(out);
                return new Report(before, after, reports);
            } finally {
                Files.deleteIfExists(scratch);
            }
        }
    }

    private static Plan plan(GgufTensorInfo info, DType target) {
        DType type = info.type();
        boolean weight = info.nDims() >= 2 && (type == DType.F32 || type == DType.F16 || type == DType.BF16);
        if (!weight) {
            return new Plan(info, type, "");
        }
        long k = info.ne()[0];
        if (k % target.blockSize() == 0) {
            return new Plan(info, target, "");
        }
        DType alt = fallback(target);
        if (alt != null && k % alt.blockSize() == 0) {
            return new Plan(info, alt, "row length " + k + " is not a multiple of " + target + "'s block size "
                    + target.blockSize() + ": " + alt + " instead");
        }
        String tried = alt == null ? target.toString() : target + " or " + alt;
        return new Plan(info, type, "row length " + k + " fits no block of " + tried + ": kept " + type);
    }

    /** Quantizes {@code view} into {@code slot}; returns the RMSE against the source when asked, else NaN. */
    private static double encode(Tensor view, DType to, MemorySegment slot, boolean computeRmse) {
        Tensor f32 = view.dtype() == DType.F32 && view.isContiguous() ? view : Ops.convert(view, DType.F32);
        try (Tensor q = Ops.quantize(f32, to)) {
            slot.copyFrom(q.segment().asSlice(0, slot.byteSize()));
            return computeRmse ? rmse(f32, q) : Double.NaN;
        } finally {
            if (f32 != view) {
                f32.close();
            }
        }
    }

    /** Root mean square of (dequantize(q) - reference), reference a contiguous F32 tensor. */
    public static double rmse(Tensor reference, Tensor q) {
        try (Tensor back = Ops.dequantize(q)) {
            MemorySegment a = reference.segment();
            MemorySegment b = back.segment();
            long n = reference.numel();
            double sum = 0;
            for (long i = 0; i < n; i++) {
                double d = (double) a.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i) - b.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                sum += d * d;
            }
            return n == 0 ? 0 : Math.sqrt(sum / n);
        }
    }

    private static long align(long bytes) {
        return (bytes + 63) & ~63L;
    }
}
