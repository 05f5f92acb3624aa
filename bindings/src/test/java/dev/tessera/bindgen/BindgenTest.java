package dev.tessera.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.bindings.TesseraNative;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BindgenTest {
    private static final String FQCN = JavaEmitter.PACKAGE + "." + Target.TESSERA.className();

    @Test
    void emitsTheApiShape() throws Exception {
        String java = JavaEmitter.emit(HeaderParser.parse("include/sample.h", HeaderParserTest.SUPPORTED));
        assertTrue(java.startsWith("// Generated from sample.h"));
        assertContains(java, "public final class TesseraNative {");
        assertContains(java, "private TesseraNative() {}");
        assertContains(java, "public static final int TS_HEX = 0xFF;");
        assertContains(java, "public static final int TS_HEX_UINT = 0xFFFFFFFF;");
        assertContains(java, "public static final long TS_ULL = 0xFFFFFFFFFFFFFFFFL;");
        assertContains(java, "public static final long TS_BIG = 4294967296L;");
        assertContains(java, "public static final int TS_NEG = -1;");
        assertContains(java, "public static int ts_i32(int a, int b) {");
        assertContains(java, "public static final FunctionDescriptor ts_i32$DESC = "
                + "FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);");
        assertContains(java, "public static final MemorySegment ts_i32$ADDR = NativeLibrary.symbol(\"ts_i32\");");
        assertContains(java, "ts_i32$MH = Linker.nativeLinker().downcallHandle(ts_i32$ADDR, ts_i32$DESC, "
                + "Linker.Option.critical(true));");
        assertContains(java, "ts_void$MH = Linker.nativeLinker().downcallHandle(ts_void$ADDR, ts_void$DESC);");
        assertContains(java, "public static final FunctionDescriptor ts_void$DESC = FunctionDescriptor.ofVoid();");
        assertContains(java, "public static void ts_void() {");
        assertContains(java, "public static byte ts_i8(byte a, byte b) {");
        assertContains(java, "public static short ts_i16(short a, short b) {");
        assertContains(java, "public static long ts_i64(long a, long b) {");
        assertContains(java, "public static float ts_f(float a, double b) {");
        assertContains(java, "public static double ts_unnamed(double arg1, int arg2) {");
        assertContains(java, "public static MemorySegment ts_ptrs(MemorySegment s, MemorySegment t, MemorySegment out, "
                + "MemorySegment x, MemorySegment v, MemorySegment u, MemorySegment p) {");
        assertContains(java, "public static int ts_keywords(int class_, int new_, int e) {");
        assertContains(java, "return (int) ts_i32$MH.invokeExact(a, b);");
        assertContains(java, "NativeLibrary.requireAbiVersion(ts_abi_version(), TS_ABI_VERSION);");
        assertContains(java, "Doc with &lt;html&gt;, &amp; and C:&#92;users, &#64;param-like text.");
        // The version function is linked before the others.
        assertTrue(java.indexOf("ts_abi_version$MH =") < java.indexOf("ts_void$MH ="));
    }

    /** tessera_cuda.h becomes its own class, linked through CudaLibrary and its own ABI pair; it may include tessera.h. */
    @Test
    void bindsTheCudaHeaderAsItsOwnClass() throws Exception {
        String header = """
                #ifndef SAMPLE_CUDA_H
                #define SAMPLE_CUDA_H
                #include <stdint.h>
                #include "tessera.h"
                #define TSC_ABI_VERSION 3
                TS_API TS_CRITICAL uint32_t tsc_abi_version(void);
                TS_API int32_t tsc_op(void *ctx, const float *x, int64_t n);
                #endif
                """;
        Header parsed = HeaderParser.parse("include/tessera_cuda.h", header, Target.TESSERA_CUDA);
        String java = JavaEmitter.emit(parsed);
        assertContains(java, "public final class TesseraCudaNative {");
        assertContains(java, "CudaLibrary.requireAbiVersion(tsc_abi_version(), TSC_ABI_VERSION);");
        assertContains(java, "public static final MemorySegment tsc_op$ADDR = CudaLibrary.symbol(\"tsc_op\");");
        assertEquals(Target.TESSERA_CUDA, Target.of(Path.of("native/include/tessera_cuda.h")));
        // tessera.h itself may not include another project header: its whole ABI must be in it.
        BindgenException e = assertThrows(BindgenException.class,
                () -> HeaderParser.parse("include/tessera.h", header.replace("TSC_", "TS_").replace("tsc_", "ts_")));
        assertContains(e.getMessage(), "only system headers may be included");
    }

    /** The generated source must compile cleanly (no warnings) against the runtime classes. */
    @Test
    void generatedSourceCompilesWithoutWarnings(@TempDir Path dir) throws Exception {
        Path source = Bindgen.generate(write(dir.resolve("sample.h"), HeaderParserTest.SUPPORTED), dir.resolve("src"));
        assertEquals(dir.resolve("src/dev/tessera/bindings/TesseraNative.java"), source);
        compile(source, dir.resolve("classes"));
    }

    @Test
    void leavesAnUnchangedFileAlone(@TempDir Path dir) throws Exception {
        Path header = write(dir.resolve("sample.h"), HeaderParserTest.SUPPORTED);
        Path out = Bindgen.generate(header, dir);
        FileTime old = FileTime.fromMillis(1_000_000);
        Files.setLastModifiedTime(out, old);
        Bindgen.generate(header, dir);
        assertEquals(old, Files.getLastModifiedTime(out));
        write(header, HeaderParserTest.SUPPORTED.replace("#define TS_DEC 42", "#define TS_DEC 43"));
        Bindgen.generate(header, dir);
        assertFalse(old.equals(Files.getLastModifiedTime(out)));
        assertContains(Files.readString(out), "TS_DEC = 43;");
    }

    /** A library older or newer than the header fails at class initialisation, saying so. */
    @Test
    void abiVersionMismatchFailsClassInit(@TempDir Path dir) throws Exception {
        int other = TesseraNative.TS_ABI_VERSION + 1;
        String header = HeaderParserTest.PRELUDE.replace("TS_ABI_VERSION 3", "TS_ABI_VERSION " + other) + "#endif\n";
        Throwable error = initialise(dir, header);
        assertInstanceOf(UnsatisfiedLinkError.class, error);
        assertContains(error.getMessage(), "has ABI version " + TesseraNative.TS_ABI_VERSION);
        assertContains(error.getMessage(), "generated for TS_ABI_VERSION " + other);
    }

    @Test
    void missingSymbolFailsClassInitNamingIt(@TempDir Path dir) throws Exception {
        String header = HeaderParserTest.PRELUDE.replace("TS_ABI_VERSION 3", "TS_ABI_VERSION " + TesseraNative.TS_ABI_VERSION)
                + "TS_API void ts_not_in_the_library(void);\n#endif\n";
        Throwable error = initialise(dir, header);
        assertInstanceOf(UnsatisfiedLinkError.class, error);
        assertContains(error.getMessage(), "has no symbol ts_not_in_the_library");
    }

    /** The build's way of running it: the source launcher, failing with file:line on stderr. */
    @Test
    void sourceLauncherReportsFileAndLine(@TempDir Path dir) throws Exception {
        Path header = write(dir.resolve("bad.h"), HeaderParserTest.header("TS_API size_t ts_len(void);"));
        Path main = Path.of("src/generator/java/dev/tessera/bindgen/Bindgen.java").toAbsolutePath();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", main.toString(), header.toString(), dir.resolve("out").toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        String stderr = new String(p.getErrorStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), stderr);
        assertContains(stderr, header + ":" + HeaderParserTest.FIRST + ": type 'size_t' in the return type of ts_len");
        assertFalse(Files.exists(dir.resolve("out")));
    }

    /** Compiles the bindings of {@code header} and initialises them in a loader of their own. */
    private static Throwable initialise(Path dir, String header) throws Exception {
        Path source = Bindgen.generate(write(dir.resolve("t.h"), header), dir.resolve("src"));
        Path classes = dir.resolve("classes");
        compile(source, classes);
        try (URLClassLoader loader = new ChildFirst(classes.toUri().toURL(), BindgenTest.class.getClassLoader())) {
            Throwable t = assertThrows(Throwable.class, () -> Class.forName(FQCN, true, loader));
            return t instanceof ExceptionInInitializerError e ? e.getCause() : t;
        }
    }

    /** Loads only the generated class itself; the runtime (NativeLibrary) stays shared. */
    private static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL classes, ClassLoader parent) {
            super(new URL[] {classes}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.equals(FQCN)) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }
    }

    private static void compile(Path source, Path classes) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        Files.createDirectories(classes);
        int rc = javac.run(null, diagnostics, diagnostics, "--release", "25", "-Xlint:all", "-Werror", "-proc:none",
                "-cp", System.getProperty("java.class.path"), "-d", classes.toString(), source.toString());
        assertEquals(0, rc, diagnostics::toString);
        assertEquals("", diagnostics.toString());
    }

    private static Path write(Path file, String text) throws IOException {
        return Files.writeString(file, text);
    }

    private static void assertContains(String text, String part) {
        assertTrue(text.contains(part), () -> "missing: " + part + (text.length() < 2000 ? "\nin: " + text : ""));
    }
}
