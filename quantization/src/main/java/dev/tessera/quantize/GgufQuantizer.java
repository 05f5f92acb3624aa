package dev.tessera.quantize;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Quantizes the 2-D weights of a GGUF file to one type, as llama-quantize does without an
 * importance matrix: 1-D tensors (norms, biases) and tensors already quantized are copied as
 * they are; a weight whose row length does not fit the type's block falls back to a type
 * that fits. Metadata and tensor order are kept; general.file_type and
 * general.quantization_version are set.
 */
public final class GgufQuantizer {

    /** What happened to one tensor; rmse is NaN when the tensor was copied unchanged. */
    public record TensorReport(String name, DType from, DType to, long bytesBefore, long bytesAfter, double rmse, String note) {}

    public record Report(long bytesBefore, long bytesAfter, List<TensorReport> tensors) {}

    /** Called after each tensor (for progress). */
    @FunctionalInterface
    public interface Listener {
        void onTensor(int done, int total, TensorReport report);
    }

    /** Target types of {@code tessera quantize --type}. */
    public static final List<DType> TARGETS = List.of(DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K);

    /** llama.cpp's llama_ftype of a file that is mostly of the given type. */
    private static final Map<DType, Integer> FILE_TYPE = Map.of(DType.Q4_0, 2, DType.Q4_1, 3, DType.Q8_0, 7,
            DType.Q5_0, 8, DType.Q5_1, 9, DType.Q2_K, 10, DType.Q3_K, 11, DType.Q4_K, 14, DType.Q5_K, 16, DType.Q6_K, 18);

    /** The legacy 32-element type a K-quant falls back to when rows are not multiples of 256. */
    private static final Map<DType, DType> FALLBACK = Map.of(DType.Q2_K, DType.Q4_0, DType.Q3_K, DType.Q4_0,
            DType.Q4_K, DType.Q4_0, DType.Q5_K, DType.Q5_0, DType.Q6_K, DType.Q8_0);

    private GgufQuantizer() {}

    /**
     * The type a tensor gets: {@code type} for a 2-D F32/F16/BF16 weight whose rows fit its
     * block, a fallback where they do not, and the tensor's own type otherwise.
     */
    public static DType targetFor(GgufTensorInfo info, DType type) {
        DType from = info.type();
        boolean weight = info.nDims() == 2 && (from == DType.F32 || from == DType.F16 || from == DType.BF16);
        if (!weight) {
            return from;
        }
        long rowLength = info.ne()[0];
        if (rowLength % type.blockSize() == 0) {
            return type;
        }
        DType fallback = FALLBACK.get(type);
        return fallback != null && rowLength % fallback.blockSize() == 0 ? fallback : from;
    }

    public static Report quantize(Path in, Path out, DType type, boolean measureRmse, Listener listener) throws IOException {
        if (!TARGETS.contains(type)) {
            throw new IllegalArgumentException("cannot quantize to " + type + "; supported: " + TARGETS);
        }
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("output must differ from the input: " + in);
        }
        // Quantized tensors live in native memory until the writer has written them.
        List<Tensor> quantized = new ArrayList<>();
        try (GgufFile src = GgufFile.open(in)) {
            GgufWriter writer = new GgufWriter().alignment(src.alignment());
            writer.putAll(src.metadata());
            writer.putUInt32("general.quantization_version", 2);
            writer.putUInt32("general.file_type", FILE_TYPE.get(type));
            List<TensorReport> reports = new ArrayList<>();
            List<GgufTensorInfo> infos = src.tensorInfos();
            long before = 0;
            long after = 0;
            for (int i = 0; i < infos.size(); i++) {
                GgufTensorInfo info = infos.get(i);
                Tensor view = src.tensor(info);
                DType to = targetFor(info, type);
                TensorReport report;
                if (to == info.type()) {
                    writer.addTensor(info.name(), view);
                    String note = info.nDims() == 2 && to != type && !info.type().isQuantized()
                            ? "row length " + info.ne()[0] + " fits no block of " + type + ": kept " + to : "";
                    report = new TensorReport(info.name(), info.type(), to, info.byteSize(), info.byteSize(), Double.NaN, note);
                } else {
                    report = quantizeOne(info, view, to, type, measureRmse, quantized, writer);
                }
                before += report.bytesBefore();
                after += report.bytesAfter();
                reports.add(report);
                if (listener != null) {
                    listener.onTensor(i + 1, infos.size(), report);
                }
            }
            writer.write(out);
            return new Report(before, after, List.copyOf(reports));
        } finally {
            quantized.forEach(Tensor::close);
        }
    }

    private static TensorReport quantizeOne(GgufTensorInfo info, Tensor view, DType to, DType asked, boolean measureRmse,
                                            List<Tensor> quantized, GgufWriter writer) {
        try (Tensor f32 = Ops.convert(view, DType.F32)) {
            Tensor q = Ops.quantize(f32, to);
            quantized.add(q);
            writer.addTensor(info.name(), q);
            double rmse = Double.NaN;
            if (measureRmse) {
                try (Tensor back = Ops.dequantize(q)) {
                    float[] a = f32.toFloatArray();
                    float[] b = back.toFloatArray();
                    double sum = 0;
                    for (int i = 0; i < a.length; i++) {
                        double d = (double) a[i] - b[i];
                        sum += d * d;
                    }
                    rmse = Math.sqrt(sum / Math.max(1, a.length));
                }
            }
            String note = to == asked ? "" : "row length " + info.ne()[0] + " is not a multiple of " + asked.blockSize() + ": fell back to " + to;
            return new TensorReport(info.name(), info.type(), to, info.byteSize(), q.byteSize(), rmse, note);
        }
    }
}
