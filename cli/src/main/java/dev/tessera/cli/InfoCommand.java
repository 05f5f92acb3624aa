package dev.tessera.cli;

import dev.tessera.core.Tessera;
import dev.tessera.io.ModelFormatException;
import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.io.gguf.GgufValue;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.io.safetensors.SafetensorsTensorInfo;
import dev.tessera.runtime.CudaProbe;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code tessera info FILE}: metadata and tensor table of a GGUF or safetensors file;
 * {@code tessera info --devices}: the CPU kernel level and the CUDA devices (or why there are none).
 */
@Command(name = "info", description = "Show the metadata and tensors of a GGUF or safetensors file, or (--devices) the compute devices.")
final class InfoCommand implements Callable<Integer> {
    /** Array elements shown in the text view; --json --arrays prints them all. */
    private static final int PREVIEW = 8;

    @Parameters(paramLabel = "FILE", arity = "0..1", description = "A .gguf or .safetensors file.")
    Path file;

    @Option(names = "--devices", description = "List the compute devices: the CPU kernel level, and CUDA GPUs when libtessera_cuda "
            + "(-Dtessera.cuda.library or TESSERA_CUDA_LIBRARY) loads and finds one, else why not.")
    boolean devices;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--arrays", description = "With --json: print metadata arrays in full (else length and type only).")
    boolean fullArrays;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (file == null && !devices) {
            throw new ParameterException(spec.commandLine(), "Missing required parameter: 'FILE' (or --devices)");
        }
        if (devices) {
            out.println(json ? devicesJson() : devicesText());
            if (file == null) {
                out.flush();
                return TesseraCli.EXIT_OK;
            }
        }
        if (isGguf(file)) {
            try (GgufFile gguf = GgufFile.open(file)) {
                out.println(json ? ggufJson(gguf) : ggufText(gguf));
            }
        } else {
            // No magic number in safetensors: say both readings when it does not parse either.
            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                out.println(json ? safetensorsJson(st) : safetensorsText(st));
            } catch (ModelFormatException e) {
                throw new IOException("not a GGUF file (no GGUF magic), nor safetensors: " + e.getMessage(), e);
            }
        }
        out.flush();
        return TesseraCli.EXIT_OK;
    }

    private static String devicesText() {
        StringBuilder s = new StringBuilder();
        s.append("cpu: ").append(Tessera.isa().id()).append(" kernels (best ").append(Tessera.bestIsa().id()).append("), ")
                .append(Tessera.threads()).append(" threads\n");
        CudaProbe.Result cuda = CudaProbe.probe();
        if (!cuda.available()) {
            s.append("cuda: not available (").append(cuda.reason()).append(')');
            return s.toString();
        }
        s.append("cuda: ").append(cuda.devices().size()).append(" device(s) via ").append(cuda.library());
        for (CudaProbe.Device d : cuda.devices()) {
            s.append(String.format("%n  %d: %s, %,d MiB, %d SMs, sm_%d%d", d.index(), d.name(), d.memoryBytes() >> 20, d.smCount(),
                    d.ccMajor(), d.ccMinor()));
        }
        return s.toString();
    }

    private static String devicesJson() {
        JsonWriter w = new JsonWriter().beginObject();
        w.name("cpu").beginObject().name("isa").value(Tessera.isa().id()).name("best").value(Tessera.bestIsa().id())
                .name("threads").value(Tessera.threads()).endObject();
        CudaProbe.Result cuda = CudaProbe.probe();
        w.name("cuda").beginObject().name("available").value(cuda.available());
        if (!cuda.available()) {
            w.name("reason").value(cuda.reason());
        }
        w.name("devices").beginArray();
        for (CudaProbe.Device d : cuda.devices()) {
            w.beginObject().name("index").value(d.index()).name("name").value(d.name()).name("memory_bytes").value(d.memoryBytes())
                    .name("sm_count").value(d.smCount()).name("cc").value(d.ccMajor() + "." + d.ccMinor()).endObject();
        }
        return w.endArray().endObject().endObject().toString();
    }

    private static boolean isGguf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return Arrays.equals(magic, new byte[] {'G', 'G', 'U', 'F'});
        }
    }

    private String ggufText(GgufFile gguf) {
        StringBuilder s = new StringBuilder();
        var meta = gguf.metadata();
        String arch = meta.getString("general.architecture", null);
        s.append(String.format("%s: GGUF v%d, %,d bytes, alignment %d, %d metadata keys, %d tensors%n",
                gguf.path(), gguf.version(), gguf.fileSize(), gguf.alignment(), meta.size(), gguf.tensorInfos().size()));
        if (arch != null) {
            s.append("architecture: ").append(arch).append('\n');
            String prefix = arch + ".";
            var hyper = meta.keys().stream().filter(k -> k.startsWith(prefix)).toList();
            if (!hyper.isEmpty()) {
                s.append("hyperparameters:\n");
                for (String key : hyper) {
                    s.append(String.format("  %-40s %s%n", key.substring(prefix.length()), display(meta.get(key))));
                }
            }
        }
        s.append("metadata:\n");
        int i = 0;
        for (Map.Entry<String, GgufValue> e : meta.asMap().entrySet()) {
            s.append(String.format("  %3d  %-44s %-14s %s%n", ++i, e.getKey(), typeName(e.getValue()), display(e.getValue())));
        }
        s.append("tensors (shape in ggml order, ne[0] first):\n");
        s.append(String.format("  %4s  %-32s %-6s %-22s %12s %12s%n", "#", "name", "type", "shape", "elements", "offset"));
        i = 0;
        long totalBytes = 0;
        for (GgufTensorInfo t : gguf.tensorInfos()) {
            totalBytes += t.byteSize();
            s.append(String.format("  %4d  %-32s %-6s %-22s %,12d %12d%n", ++i, t.name(), t.type().name(),
                    dims(t.ne()), t.numel(), gguf.dataStart() + t.offset()));
        }
        s.append(String.format("tensor data: %,d bytes", totalBytes));
        return s.toString();
    }

    private String ggufJson(GgufFile gguf) {
        JsonWriter j = new JsonWriter().beginObject();
        j.name("file").value(gguf.path().toString()).name("format").value("gguf")
                .name("version").value(gguf.version()).name("file_size").value(gguf.fileSize())
                .name("alignment").value(gguf.alignment()).name("data_start").value(gguf.dataStart());
        j.name("metadata").beginObject();
        for (Map.Entry<String, GgufValue> e : gguf.metadata().asMap().entrySet()) {
            j.name(e.getKey()).beginObject().name("type").value(typeName(e.getValue())).name("value");
            jsonValue(j, e.getValue());
            j.endObject();
        }
        j.endObject().name("tensors").beginArray();
        for (GgufTensorInfo t : gguf.tensorInfos()) {
            j.beginObject().name("name").value(t.name()).name("type").value(t.type().name()).name("ne").beginArray();
            for (long d : t.ne()) {
                j.value(d);
            }
            j.endArray().name("offset").value(gguf.dataStart() + t.offset()).name("bytes").value(t.byteSize()).endObject();
        }
        return j.endArray().endObject().toString();
    }

    private void jsonValue(JsonWriter j, GgufValue v) {
        switch (v) {
            case GgufArray a when !fullArrays -> j.beginObject().name("element_type").value(a.elementType().name())
                    .name("length").value(a.size()).endObject();
            case GgufArray a -> {
                j.beginArray();
                for (int i = 0; i < a.size(); i++) {
                    jsonValue(j, a.get(i));
                }
                j.endArray();
            }
            case GgufValue.Str s -> j.value(s.value());
            case GgufValue.Bool b -> j.value(b.value());
            case GgufValue.Float32 f -> j.value((double) f.value());
            case GgufValue.Float64 f -> j.value(f.value());
            case GgufValue.UInt64 u -> j.unsignedValue(u.bits());
            case GgufValue.UInt8 u -> j.value(u.value());
            case GgufValue.Int8 u -> j.value(u.value());
            case GgufValue.UInt16 u -> j.value(u.value());
            case GgufValue.Int16 u -> j.value(u.value());
            case GgufValue.UInt32 u -> j.value(u.value());
            case GgufValue.Int32 u -> j.value(u.value());
            case GgufValue.Int64 u -> j.value(u.value());
        }
    }

    private static String typeName(GgufValue v) {
        return v instanceof GgufArray a ? a.elementType().name() + "[" + a.size() + "]" : v.type().name();
    }

    private static String display(GgufValue v) {
        return switch (v) {
            case GgufArray a -> {
                int n = Math.min(a.size(), PREVIEW);
                StringBuilder s = new StringBuilder("[");
                for (int i = 0; i < n; i++) {
                    s.append(i == 0 ? "" : ", ").append(display(a.get(i)));
                }
                yield s.append(a.size() > n ? ", ...]" : "]").toString();
            }
            case GgufValue.Str s -> quote(s.value());
            case GgufValue.Bool b -> Boolean.toString(b.value());
            case GgufValue.Float32 f -> Float.toString(f.value());
            case GgufValue.Float64 f -> Double.toString(f.value());
            case GgufValue.UInt64 u -> Long.toUnsignedString(u.bits());
            case GgufValue.UInt8 u -> Integer.toString(u.value());
            case GgufValue.Int8 u -> Integer.toString(u.value());
            case GgufValue.UInt16 u -> Integer.toString(u.value());
            case GgufValue.Int16 u -> Integer.toString(u.value());
            case GgufValue.UInt32 u -> Long.toString(u.value());
            case GgufValue.Int32 u -> Integer.toString(u.value());
            case GgufValue.Int64 u -> Long.toString(u.value());
        };
    }

    /** Strings shown on one line: control characters escaped, long ones cut. */
    private static String quote(String s) {
        String shown = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        StringBuilder b = new StringBuilder("\"");
        shown.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f) {
                b.append(String.format("\\x%02x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.append('"').toString();
    }

    private static String dims(long[] d) {
        return Arrays.stream(d).mapToObj(Long::toString).collect(Collectors.joining(" x "));
    }

    private String safetensorsText(SafetensorsFile st) {
        StringBuilder s = new StringBuilder();
        s.append(String.format("%s: safetensors, %,d bytes, header %,d bytes, %d tensors%n",
                st.path(), st.fileSize(), st.headerLength(), st.tensorInfos().size()));
        if (!st.metadata().isEmpty()) {
            s.append("metadata:\n");
            st.metadata().forEach((k, v) -> s.append(String.format("  %-40s %s%n", k, quote(v))));
        }
        s.append("tensors (PyTorch shape order):\n");
        s.append(String.format("  %4s  %-48s %-5s %-22s %12s %12s%n", "#", "name", "dtype", "shape", "elements", "offset"));
        int i = 0;
        for (SafetensorsTensorInfo t : st.tensorInfos()) {
            s.append(String.format("  %4d  %-48s %-5s %-22s %,12d %12d%n", ++i, t.name(), t.dtype().safetensorsName(),
                    dims(t.shape()), t.numel(), st.dataStart() + t.begin()));
        }
        return s.toString().stripTrailing();
    }

    private String safetensorsJson(SafetensorsFile st) {
        JsonWriter j = new JsonWriter().beginObject();
        j.name("file").value(st.path().toString()).name("format").value("safetensors")
                .name("file_size").value(st.fileSize()).name("header_length").value(st.headerLength());
        j.name("metadata").beginObject();
        st.metadata().forEach((k, v) -> j.name(k).value(v));
        j.endObject().name("tensors").beginArray();
        for (SafetensorsTensorInfo t : st.tensorInfos()) {
            j.beginObject().name("name").value(t.name()).name("dtype").value(t.dtype().safetensorsName()).name("shape").beginArray();
            for (long d : t.shape()) {
                j.value(d);
            }
            j.endArray().name("offset").value(st.dataStart() + t.begin()).name("bytes").value(t.byteSize()).endObject();
        }
        return j.endArray().endObject().toString();
    }
}
