package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {
    private static final Supplier<Path> NOT_BUNDLED = () -> {
        throw new AssertionError("the bundled library should not be used");
    };

    @Test
    void propertyThenEnvironmentThenBundled(@TempDir Path dir) throws IOException {
        Path a = Files.writeString(dir.resolve("a.so"), "");
        Path b = Files.writeString(dir.resolve("b.so"), "");
        Path bundled = dir.resolve("bundled.so");
        assertEquals(a, NativeLibrary.locate(a.toString(), b.toString(), NOT_BUNDLED));
        assertEquals(b, NativeLibrary.locate(null, b.toString(), NOT_BUNDLED));
        assertEquals(b, NativeLibrary.locate("  ", b.toString(), NOT_BUNDLED));
        assertEquals(bundled, NativeLibrary.locate(null, null, () -> bundled));
        assertEquals(bundled, NativeLibrary.locate("", "", () -> bundled));
    }

    @Test
    void missingOverrideFileIsAClearError(@TempDir Path dir) {
        Path missing = dir.resolve("nope/libtessera.so");
        UnsatisfiedLinkError p = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibrary.locate(missing.toString(), null, NOT_BUNDLED));
        assertEquals("-Dtessera.library.path names " + missing + ", which does not exist (it must name the library "
                + "file itself, e.g. .../libtessera.so)", p.getMessage());
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibrary.locate(null, dir.toString(), NOT_BUNDLED));
        assertTrue(e.getMessage().startsWith("TESSERA_LIBRARY_PATH names " + dir + ", which is not a regular file"),
                e.getMessage());
    }

    @Test
    void missingSymbolNamesItAndTheLibrary() {
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLibrary.symbol("ts_no_such_function"));
        assertTrue(e.getMessage().contains("has no symbol ts_no_such_function"), e.getMessage());
        assertTrue(e.getMessage().contains(NativeLibrary.path().toString()), e.getMessage());
    }

    @Test
    void abiMismatchMessage() {
        NativeLibrary.requireAbiVersion(4, 4);
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLibrary.requireAbiVersion(-1, 4));
        assertTrue(e.getMessage().contains("has ABI version 4294967295 but these bindings were generated for "
                + "TS_ABI_VERSION 4"), e.getMessage());
    }

    @Test
    void lookupFindsTheExportedFunctions() {
        assertTrue(NativeLibrary.lookup().find("ts_noop").isPresent());
        assertTrue(Files.isRegularFile(NativeLibrary.path()));
    }

    // ---- End to end, in fresh JVMs: what an application gets ------------------------------

    @Test
    void defaultExtractsIntoXdgCacheHome(@TempDir Path tmp) throws Exception {
        List<String> out = Probes.run(tmp.resolve("err"), List.of(), Map.of("XDG_CACHE_HOME", tmp.resolve("xdg").toString()),
                "load");
        String hash = LibraryExtractor.sha256(bundled());
        Platform p = Platform.current();
        assertEquals(tmp.resolve("xdg/tessera/native").resolve(hash).resolve(p.libraryFileName()).toString(), out.get(0));
        assertEquals(String.valueOf(TesseraNative.TS_ABI_VERSION), out.get(1));
    }

    @Test
    void propertyOverrideIsHonoured(@TempDir Path tmp) throws Exception {
        Path copy = copyOfLibrary(tmp.resolve("custom"));
        List<String> out = Probes.run(tmp.resolve("err"), List.of("-Dtessera.library.path=" + copy),
                Map.of("XDG_CACHE_HOME", tmp.resolve("xdg").toString()), "load");
        assertEquals(List.of(copy.toString(), String.valueOf(TesseraNative.TS_ABI_VERSION)), out);
        assertFalse(Files.exists(tmp.resolve("xdg")), "nothing extracted");
    }

    @Test
    void environmentOverrideIsHonoured(@TempDir Path tmp) throws Exception {
        Path copy = copyOfLibrary(tmp.resolve("custom"));
        List<String> out = Probes.run(tmp.resolve("err"), List.of(),
                Map.of("XDG_CACHE_HOME", tmp.resolve("xdg").toString(), NativeLibrary.PATH_ENV, copy.toString()), "load");
        assertEquals(List.of(copy.toString(), String.valueOf(TesseraNative.TS_ABI_VERSION)), out);
        assertFalse(Files.exists(tmp.resolve("xdg")), "nothing extracted");
    }

    /** In a child JVM: HotSpot warns on stderr about any non-ELF file it is asked to load. */
    @Test
    void unloadableOverrideIsAClearError(@TempDir Path tmp) throws Exception {
        Path junk = Files.writeString(tmp.resolve("libtessera.so"), "not a shared library");
        Path stderr = tmp.resolve("err");
        Process p = Probes.start(stderr, List.of("-Dtessera.library.path=" + junk), Map.of(), "load");
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        String err = Files.readString(stderr);
        assertTrue(err.contains("UnsatisfiedLinkError: cannot load native library " + junk), err);
    }

    private static Path copyOfLibrary(Path dir) throws IOException {
        Files.createDirectories(dir);
        return Files.write(dir.resolve(Platform.current().libraryFileName()), bundled());
    }

    private static byte[] bundled() throws IOException {
        try (InputStream in = NativeLibraryTest.class.getClassLoader().getResourceAsStream(Platform.current().resourcePath())) {
            return in.readAllBytes();
        }
    }
}
