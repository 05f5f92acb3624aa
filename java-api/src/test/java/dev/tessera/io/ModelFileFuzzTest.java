package dev.tessera.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.io.FieldSpan.Kind;
import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufMetadata;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.io.gguf.GgufValue;
import dev.tessera.io.gguf.GgufValueType;
import dev.tessera.io.gguf.GgufWriter;
import dev.tessera.io.safetensors.SafetensorsFile;
import dev.tessera.io.safetensors.SafetensorsTensorInfo;
import dev.tessera.io.safetensors.SafetensorsWriter;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the GGUF and safetensors readers with corrupted variants of real files: llama.cpp's
 * stories260K.gguf and two vocabulary GGUFs, a GGUF holding every metadata type and many tensor
 * types, and a safetensors file, the last two written by our writers. Variants get random bit
 * flips, truncations, forged counts/lengths/types/dims/offsets at the exact field positions the
 * readers report while parsing the pristine file, JSON edits, chunk copies and appended bytes.
 * Each variant is opened, all metadata read and every tensor view touched: it must either work or
 * fail with {@link ModelFormatException} whose offset lies inside the file. Any other exception
 * or Error fails the test, with the seed and variant number to reproduce it.
 *
 * <p>CI runs 1,000 variants by default (a few seconds). The full campaign of 10,000:
 * <pre>
 * mvn -B -pl java-api -am verify -Dtest=ModelFileFuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Dtessera.fuzz.iterations=10000
 * </pre>
 * Reproduce one reported variant: add {@code -Dtessera.fuzz.seed=SEED -Dtessera.fuzz.only=VARIANT}.
 */
class ModelFileFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("tessera.fuzz.iterations", 1000);
    private static final long SEED = Long.getLong("tessera.fuzz.seed", 20261126L);
    private static final int ONLY = Integer.getInteger("tessera.fuzz.only", -1);

    private enum Format { GGUF, SAFETENSORS }

    /** A pristine file and the field positions its reader reported. */
    private record Sample(String name, Format format, byte[] bytes, long headerEnd, List<FieldSpan> fields, int weight) {}

    @TempDir
    Path dir;

    @Test
    void corruptedFilesOpenOrFailWithModelFormatException() throws IOException {
        List<Sample> samples = samples();
        int totalWeight = samples.stream().mapToInt(Sample::weight).sum();
        Map<String, int[]> outcomes = new TreeMap<>(); // mutation → {opened, rejected}
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        int first = ONLY >= 0 ? ONLY : 0;
        int last = ONLY >= 0 ? ONLY + 1 : ITERATIONS;
        for (int i = first; i < last; i++) {
            Random r = new Random(SEED * 0x9E3779B97F4A7C15L + i);
            int pick = r.nextInt(totalWeight);
            Sample s = samples.getFirst();
            for (Sample c : samples) {
                if ((pick -= c.weight()) < 0) {
                    s = c;
                    break;
                }
            }
            StringBuilder what = new StringBuilder();
            byte[] bytes = mutate(s, r, what);
            Path file = Files.write(dir.resolve(s.format() == Format.GGUF ? "variant.gguf" : "variant.safetensors"), bytes);
            String kind = what.toString().replaceAll("[ (].*", "");
            int[] counts = outcomes.computeIfAbsent(kind, k -> new int[2]);
            try {
                exercise(file, s.format());
                counts[0]++;
            } catch (ModelFormatException e) {
                counts[1]++;
                if (e.offset() < 0 || e.offset() > bytes.length || !file.equals(e.file())) {
                    failures.add(report(i, s, what, "bad exception location: " + e.getMessage(), null));
                }
            } catch (Throwable t) {
                failures.add(report(i, s, what, t.toString(), t));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int opened = outcomes.values().stream().mapToInt(c -> c[0]).sum();
        int rejected = outcomes.values().stream().mapToInt(c -> c[1]).sum();
        System.out.printf("ModelFileFuzzTest: %d variants (seed %d) in %.1f s: %d opened, %d rejected with "
                + "ModelFormatException, %d failures%n", last - first, SEED, seconds, opened, rejected, failures.size());
        outcomes.forEach((k, c) -> System.out.printf("  %-10s opened %5d  rejected %5d%n", k, c[0], c[1]));
        if (!failures.isEmpty()) {
            fail(failures.size() + " variants failed with something other than ModelFormatException:\n"
                    + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
        }
        assertTrue(rejected > 0 && (ONLY >= 0 || opened > 0), "the mutations should produce both outcomes");
    }

    private static String report(int i, Sample s, CharSequence what, String problem, Throwable t) {
        String trace = "";
        if (t != null) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            trace = "\n" + sw.toString().lines().limit(12).reduce((a, b) -> a + "\n" + b).orElse("");
        }
        return "seed " + SEED + " variant " + i + " (" + s.name() + ", " + what + "): " + problem
                + "\n  reproduce: -Dtessera.fuzz.seed=" + SEED + " -Dtessera.fuzz.only=" + i + trace;
    }

    // ------------------------------------------------------------------ reading a variant

    /** Opens the file, reads every metadata value and touches every tensor view. */
    private static void exercise(Path file, Format format) throws IOException {
        if (format == Format.GGUF) {
            try (GgufFile f = GgufFile.open(file)) {
                GgufMetadata m = f.metadata();
                for (Map.Entry<String, GgufValue> e : m.asMap().entrySet()) {
                    touch(m, e.getKey(), e.getValue());
                }
                for (GgufTensorInfo info : f.tensorInfos()) {
                    touch(f.tensor(info), info.byteSize());
                }
            }
        } else {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                f.metadata().forEach((k, v) -> blackhole += k.length() + v.length());
                for (SafetensorsTensorInfo info : f.tensorInfos()) {
                    touch(f.tensor(info.name()), info.byteSize());
                }
            }
        }
    }

    private static long blackhole;

    private static void touch(GgufMetadata m, String key, GgufValue v) {
        switch (v) {
            case GgufValue.Str s -> blackhole += m.getString(key).length() + s.value().hashCode();
            case GgufValue.Float32 x -> blackhole += (long) m.getFloat(key);
            case GgufValue.Float64 x -> blackhole += (long) m.getDouble(key);
            case GgufValue.Bool b -> blackhole += m.getBoolean(key) ? 1 : 0;
            case GgufValue.UInt64 u -> blackhole += u.bits();
            case GgufArray a -> {
                for (int i = 0; i < a.size(); i++) {
                    blackhole += a.get(i).hashCode();
                }
                if (a.elementType() == GgufValueType.STRING) {
                    blackhole += m.getStringArray(key).size();
                } else if (a.elementType().isFloat()) {
                    blackhole += m.getFloatArray(key).length;
                } else if (a.elementType().isInteger() && a.elementType() != GgufValueType.UINT64) {
                    blackhole += m.getLongArray(key).length;
                }
            }
            default -> blackhole += m.getLong(key); // every other type is an integer that fits a long
        }
    }

    private static void touch(Tensor t, long byteSize) {
        MemorySegment seg = t.segment();
        if (seg.byteSize() != byteSize || t.byteSize() != byteSize) {
            throw new AssertionError(t + " spans " + seg.byteSize() + " bytes, the header says " + byteSize);
        }
        if (byteSize > 0) {
            blackhole += seg.get(ValueLayout.JAVA_BYTE, 0) + seg.get(ValueLayout.JAVA_BYTE, byteSize - 1);
            for (long i = 0; i < Math.min(byteSize, 256); i++) {
                blackhole += seg.get(ValueLayout.JAVA_BYTE, i);
            }
        }
        if (t.dtype().isFloatingPoint() && t.numel() <= 1 << 16) {
            blackhole += t.toFloatArray().length;
        }
    }

    // ------------------------------------------------------------------ pristine samples

    private List<Sample> samples() throws IOException {
        Path gguf = dir.resolve("every-type.gguf");
        writeEveryTypeGguf(gguf);
        Path st = dir.resolve("every-dtype.safetensors");
        writeSafetensors(st);
        return List.of(
                ggufSample("stories260K.gguf", TestFiles.stories260K(), 30),
                ggufSample("ggml-vocab-llama-spm.gguf", TestFiles.llamaSpmVocab(), 12),
                ggufSample("ggml-vocab-gpt-2.gguf", TestFiles.gpt2Vocab(), 8),
                ggufSample("every-type.gguf (ours)", gguf, 25),
                safetensorsSample("every-dtype.safetensors (ours)", st, 25));
    }

    private static Sample ggufSample(String name, Path file, int weight) throws IOException {
        List<FieldSpan> fields = new ArrayList<>();
        long headerEnd;
        try (GgufFile f = GgufFile.open(file, fields::add)) {
            headerEnd = Math.min(f.dataStart(), f.fileSize());
        }
        return new Sample(name, Format.GGUF, Files.readAllBytes(file), headerEnd, List.copyOf(fields), weight);
    }

    private static Sample safetensorsSample(String name, Path file, int weight) throws IOException {
        List<FieldSpan> fields = new ArrayList<>();
        long headerEnd;
        try (SafetensorsFile f = SafetensorsFile.open(file, fields::add)) {
            headerEnd = f.dataStart();
        }
        return new Sample(name, Format.SAFETENSORS, Files.readAllBytes(file), headerEnd, List.copyOf(fields), weight);
    }

    private static void writeEveryTypeGguf(Path file) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "fuzz").alignment(64)
                .put("u8", new GgufValue.UInt8(7)).put("i8", new GgufValue.Int8((byte) -7))
                .put("u16", new GgufValue.UInt16(700)).put("i16", new GgufValue.Int16((short) -700))
                .putUInt32("u32", 70000).putInt32("i32", -70000).putFloat32("f32", 0.5f).putBoolean("bool", true)
                .putString("str", "h\u00e9llo").putUInt64("u64", 1L << 40).putInt64("i64", -(1L << 40)).putFloat64("f64", 0.25)
                .put("a.u8", GgufArray.ofUInt8((byte) 1, (byte) 2)).put("a.i8", GgufArray.ofInt8((byte) -1))
                .put("a.u16", GgufArray.ofUInt16((short) 3)).put("a.i16", GgufArray.ofInt16((short) -3, (short) 4))
                .put("a.u32", GgufArray.ofUInt32(5, 6, 7)).put("a.i32", GgufArray.ofInt32(-5))
                .put("a.f32", GgufArray.ofFloat32(1f, 2f)).put("a.bool", GgufArray.ofBool(true, false))
                .put("a.str", GgufArray.ofStrings("x", "", "\u7ed9")).put("a.u64", GgufArray.ofUInt64(9))
                .put("a.i64", GgufArray.ofInt64(-9)).put("a.f64", GgufArray.ofFloat64(0.125));
        Object[][] specs = {
            {DType.F32, new long[] {3, 5}}, {DType.F16, new long[] {4, 8}}, {DType.BF16, new long[] {2, 2, 2}},
            {DType.Q4_0, new long[] {2, 64}}, {DType.Q8_0, new long[] {32}}, {DType.Q4_K, new long[] {1, 256}},
            {DType.I8, new long[] {7}}, {DType.I32, new long[] {2, 3}}, {DType.F64, new long[] {2}},
            {DType.IQ2_XXS, new long[] {256}}, {DType.Q6_K, new long[] {1, 1, 1, 256}},
        };
        List<Tensor> tensors = new ArrayList<>();
        try {
            Random r = new Random(1);
            for (int i = 0; i < specs.length; i++) {
                Tensor t = Tensor.allocate((DType) specs[i][0], (long[]) specs[i][1]);
                for (long b = 0; b < t.byteSize(); b++) {
                    t.segment().set(ValueLayout.JAVA_BYTE, b, (byte) r.nextInt());
                }
                tensors.add(t);
                w.addTensor("t" + i + "." + t.dtype().ggmlName(), t);
            }
            w.write(file);
        } finally {
            tensors.forEach(Tensor::close);
        }
    }

    private static void writeSafetensors(Path file) throws IOException {
        Object[][] specs = {
            {DType.F32, new long[] {4, 4}}, {DType.F16, new long[] {3}}, {DType.BF16, new long[] {2, 3}},
            {DType.F64, new long[] {2}}, {DType.I64, new long[] {3}}, {DType.I32, new long[] {2, 2}},
            {DType.I16, new long[] {5}}, {DType.I8, new long[] {7}}, {DType.U8, new long[] {9}},
            {DType.BOOL, new long[] {4}}, {DType.F32, new long[] {}}, {DType.F32, new long[] {0, 3}},
        };
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt").putMetadata("n\u00f6te", "a\"b\\c\n");
        List<Tensor> tensors = new ArrayList<>();
        try {
            Random r = new Random(2);
            for (int i = 0; i < specs.length; i++) {
                Tensor t = Tensor.allocate((DType) specs[i][0], (long[]) specs[i][1]);
                for (long b = 0; b < t.byteSize(); b++) {
                    t.segment().set(ValueLayout.JAVA_BYTE, b, (byte) r.nextInt());
                }
                tensors.add(t);
                w.add("model.layer" + i + ".weight", t);
            }
            w.write(file);
        } finally {
            tensors.forEach(Tensor::close);
        }
    }

    // ------------------------------------------------------------------ mutations

    private static byte[] mutate(Sample s, Random r, StringBuilder what) {
        byte[] b = s.bytes().clone();
        int ops = r.nextInt(4) == 0 ? 2 + r.nextInt(2) : 1;
        for (int k = 0; k < ops; k++) {
            what.append(k == 0 ? "" : " + ");
            int roll = r.nextInt(100);
            if (roll < 22) {
                b = flipBits(b, s, r, what);
            } else if (roll < 37) {
                b = truncate(b, s, r, what);
            } else if (roll < 80) {
                b = forge(b, s, r, what);
            } else if (roll < 92) {
                b = s.format() == Format.SAFETENSORS ? editJson(b, s, r, what) : copyChunk(b, s, r, what);
            } else {
                int n = 1 + r.nextInt(64);
                byte[] extra = new byte[n];
                r.nextBytes(extra);
                b = concat(b, extra);
                what.append("append(").append(n).append(')');
            }
        }
        return b;
    }

    /** A position, mostly inside the header where the parser looks. */
    private static int position(byte[] b, Sample s, Random r) {
        long limit = r.nextInt(4) == 0 ? b.length : Math.min(s.headerEnd(), b.length);
        return limit <= 0 ? 0 : (int) (r.nextDouble() * limit);
    }

    private static byte[] flipBits(byte[] b, Sample s, Random r, StringBuilder what) {
        int n = 1 + r.nextInt(r.nextBoolean() ? 2 : 16);
        what.append("flip(").append(n).append(" bits)");
        for (int i = 0; i < n && b.length > 0; i++) {
            int p = position(b, s, r);
            if (p < b.length) {
                b[p] ^= (byte) (1 << r.nextInt(8));
            }
        }
        return b;
    }

    private static byte[] truncate(byte[] b, Sample s, Random r, StringBuilder what) {
        int len = b.length == 0 ? 0 : position(b, s, r);
        what.append("truncate(").append(len).append(')');
        return Arrays.copyOf(b, len);
    }

    /** Overwrites a field the reader reported (a count, length, type, dim, offset...) with a hostile value. */
    private static byte[] forge(byte[] b, Sample s, Random r, StringBuilder what) {
        List<FieldSpan> fields = s.fields();
        FieldSpan f = fields.get(r.nextInt(fields.size()));
        for (int tries = 0; tries < 8 && f.kind() == Kind.VALUE; tries++) { // prefer structural fields
            f = fields.get(r.nextInt(fields.size()));
        }
        if (f.offset() + f.length() > b.length) {
            what.append("forge(skipped: ").append(f.field()).append(" cut off)");
            return b;
        }
        int off = (int) f.offset();
        int len = (int) f.length();
        boolean binary = s.format() == Format.GGUF || f.kind() == Kind.LENGTH;
        if (binary) {
            long original = readLe(b, off, Math.min(len, 8));
            long v = hostileNumber(original, b.length - off, r);
            writeLe(b, off, Math.min(len, 8), v);
            what.append("forge(").append(f.kind()).append(' ').append(f.field()).append(" @").append(off)
                    .append(' ').append(Long.toUnsignedString(original)).append("->").append(Long.toUnsignedString(v)).append(')');
            return b;
        }
        // A JSON token of a safetensors header: splice in other text, usually fixing the header length.
        String text = f.kind() == Kind.TYPE ? pick(r, "\"F8_E4M3\"", "\"Q4_0\"", "\"F32\"", "\"BOOL\"", "\"I64\"", "\"\"",
                "\"\\ud800\"", "123", "null", "\"F16", "{}")
                : pick(r, "0", "1", "-1", "1.5", "1e3", "01", "", "18446744073709551616", "9223372036854775807",
                        "9223372036854775808", Long.toString(r.nextLong() & Long.MAX_VALUE),
                        Long.toString(parseOrZero(new String(b, off, len, StandardCharsets.ISO_8859_1)) + r.nextInt(17) - 8),
                        Integer.toString(r.nextInt(1 << 20)), "[]", "\"7\"", "4294967296");
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = splice(b, off, len, t);
        boolean fix = r.nextInt(4) != 0;
        if (fix && out.length >= 8) {
            writeLe(out, 0, 8, readLe(out, 0, 8) + t.length - len);
        }
        what.append("forge(").append(f.kind()).append(' ').append(f.field()).append(" @").append(off).append(" '")
                .append(new String(b, off, len, StandardCharsets.UTF_8)).append("'->'").append(text).append('\'')
                .append(fix ? " length fixed" : "").append(')');
        return out;
    }

    private static long hostileNumber(long original, long left, Random r) {
        long[] pool = {
            0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 16, 24, 31, 32, 33, 42, 43, 63, 64, 255, 256, 65535, 65536,
            1L << 30, (1L << 30) + 1, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32, 1L << 40, 1L << 62,
            Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, 0x0300_0000L,
            original + 1, original - 1, original * 2, original + 32, original - 32, original + r.nextInt(4096),
            original ^ (1L << r.nextInt(64)), left, left + 1, left - 1, left / 2, r.nextLong(), r.nextInt(),
        };
        return pool[r.nextInt(pool.length)];
    }

    /** Safetensors header edits: replace, insert or delete a byte with JSON-significant characters. */
    private static byte[] editJson(byte[] b, Sample s, Random r, StringBuilder what) {
        if (b.length < 9) {
            what.append("json(skipped)");
            return b;
        }
        int end = (int) Math.min(s.headerEnd(), b.length);
        int p = 8 + r.nextInt(Math.max(1, end - 8));
        String special = "{}[]\":,\\ -0123456789eE.tfnu\t\u00ff";
        byte c = (byte) special.charAt(r.nextInt(special.length()));
        byte[] out;
        int delta;
        switch (r.nextInt(3)) {
            case 0 -> {
                out = b.clone();
                if (p < out.length) {
                    out[p] = c;
                }
                delta = 0;
                what.append("json(replace @").append(p).append(')');
            }
            case 1 -> {
                out = splice(b, Math.min(p, b.length), 0, new byte[] {c});
                delta = 1;
                what.append("json(insert @").append(p).append(')');
            }
            default -> {
                out = splice(b, Math.min(p, b.length - 1), 1, new byte[0]);
                delta = -1;
                what.append("json(delete @").append(p).append(')');
            }
        }
        if (delta != 0 && r.nextBoolean() && out.length >= 8) {
            writeLe(out, 0, 8, readLe(out, 0, 8) + delta);
        }
        return out;
    }

    /** Copies a chunk of the header over another place: duplicated names, shifted fields. */
    private static byte[] copyChunk(byte[] b, Sample s, Random r, StringBuilder what) {
        if (b.length < 2) {
            what.append("copy(skipped)");
            return b;
        }
        int from = position(b, s, r);
        int to = position(b, s, r);
        int n = Math.min(1 + r.nextInt(64), Math.min(b.length - from, b.length - to));
        System.arraycopy(b.clone(), from, b, to, Math.max(n, 0));
        what.append("copy(").append(n).append(" bytes @").append(from).append("->").append(to).append(')');
        return b;
    }

    // ------------------------------------------------------------------ bytes

    /** The number a JSON token held, or 0 if an earlier mutation broke it. */
    private static long parseOrZero(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }

    private static long readLe(byte[] b, int off, int len) {
        long v = 0;
        for (int i = len - 1; i >= 0; i--) {
            v = v << 8 | (b[off + i] & 0xFF);
        }
        return v;
    }

    private static void writeLe(byte[] b, int off, int len, long v) {
        for (int i = 0; i < len; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static byte[] splice(byte[] b, int off, int len, byte[] with) {
        byte[] out = new byte[b.length - len + with.length];
        System.arraycopy(b, 0, out, 0, off);
        System.arraycopy(with, 0, out, off, with.length);
        System.arraycopy(b, off + len, out, off + with.length, b.length - off - len);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
