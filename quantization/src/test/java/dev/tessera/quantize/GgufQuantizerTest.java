package dev.tessera.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.ops.Ops;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class GgufQuantizerTest {
    private static final Path STORIES = Path.of("..", "models", "stories260K.gguf");

    /**
     * stories260K rows are 64 (attention, FFN gate/up, embeddings) or 172 (FFN down) long:
     * 64 fits the 32-element types but not K-quant super-blocks (they fall back to the legacy
     * type), 172 fits nothing and stays F32. RMSE bounds: half a quantization step of the
     * largest block scale in these tensors (|w| < 1): amax/127/2 for 8-bit, /15/2 for 4-bit.
     */
    @ParameterizedTest
    @CsvSource({"Q8_0, Q8_0, 0.004", "Q4_0, Q4_0, 0.05", "Q5_1, Q5_1, 0.03", "Q4_K, Q5_0, 0.03", "Q6_K, Q8_0, 0.004"})
    void quantizesTwoDimensionalWeightsKeepsTheRestAndStaysReadable(DType type, DType expected, double maxRmse,
                                                                 @TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.gguf");
        GgufQuantizer.Report report = GgufQuantizer.quantize(STORIES, out, type, true, null);
        assertTrue(report.bytesAfter() < report.bytesBefore() / 2, report.bytesBefore() + " -> " + report.bytesAfter());
        try (GgufFile src = GgufFile.open(STORIES); GgufFile q = GgufFile.open(out)) {
            for (String key : src.metadata().keys()) {
                assertEquals(src.metadata().get(key), q.metadata().get(key), key);
            }
            assertEquals(2, q.metadata().getInt("general.quantization_version"));
            List<GgufTensorInfo> a = src.tensorInfos();
            List<GgufTensorInfo> b = q.tensorInfos();
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                GgufTensorInfo s = a.get(i);
                GgufTensorInfo t = b.get(i);
                assertEquals(s.name(), t.name());
                assertEquals(List.of(s.ne()[0], s.ne().length > 1 ? s.ne()[1] : 1), List.of(t.ne()[0], t.ne().length > 1 ? t.ne()[1] : 1));
                DType want = s.nDims() == 1 || s.ne()[0] == 172 ? DType.F32 : expected;
                assertEquals(want, t.type(), s.name());
                if (t.type() != DType.F32) {
                    try (Tensor back = Ops.dequantize(q.tensor(t))) {
                        float[] x = src.tensor(s).toFloatArray();
                        float[] y = back.toFloatArray();
                        double sum = 0;
                        for (int j = 0; j < x.length; j++) {
                            sum += (x[j] - y[j]) * (double) (x[j] - y[j]);
                        }
                        double rmse = Math.sqrt(sum / x.length);
                        assertTrue(rmse < maxRmse, s.name() + " rmse " + rmse);
                    }
                }
            }
        }
    }

    @Test
    void refusesNonQuantizedTargetsAndOverwritingTheInput() {
        assertThrows(IllegalArgumentException.class, () -> GgufQuantizer.quantize(STORIES, Path.of("x.gguf"), DType.F16, false, null));
        assertThrows(IllegalArgumentException.class, () -> GgufQuantizer.quantize(STORIES, STORIES, DType.Q8_0, false, null));
    }
}
