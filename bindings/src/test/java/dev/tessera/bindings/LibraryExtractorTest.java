package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.bindings.LibraryExtractor.CacheRoot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryExtractorTest {
    private static final Platform PLATFORM = Platform.current();
    private static final ClassLoader LOADER = LibraryExtractorTest.class.getClassLoader();
    private static byte[] library;
    private static String hash;

    @BeforeAll
    static void readBundledLibrary() throws IOException {
        try (InputStream in = LOADER.getResourceAsStream(PLATFORM.resourcePath())) {
            assertTrue(in != null, "the build puts the library at " + PLATFORM.resourcePath());
            library = in.readAllBytes();
        }
        hash = LibraryExtractor.sha256(library);
    }

    private static Path extract(Path root) {
        return LibraryExtractor.extract(PLATFORM, LOADER, List.of(new CacheRoot(root, null)));
    }

    @Test
    void extractsIntoAFolderNamedByTheContentHash(@TempDir Path cache) throws IOException {
        Path path = extract(cache);
        assertEquals(cache.resolve(hash).resolve(PLATFORM.libraryFileName()), path);
        assertArrayEquals(library, Files.readAllBytes(path));
        assertEquals(List.of(path), list(path.getParent()), "no temp files left behind");
    }

    @Test
    void reusesAnIntactCopyAndReplacesADamagedOne(@TempDir Path cache) throws IOException {
        Path path = extract(cache);
        Object inode = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        var modified = Files.getLastModifiedTime(path);
        assertEquals(path, extract(cache));
        assertEquals(inode, Files.readAttributes(path, BasicFileAttributes.class).fileKey(), "the same file, not a rewrite");
        assertEquals(modified, Files.getLastModifiedTime(path));

        Files.write(path, new byte[] {1, 2, 3}); // e.g. truncated by hand or by a full disk
        assertEquals(path, extract(cache));
        assertArrayEquals(library, Files.readAllBytes(path));
        assertEquals(List.of(path), list(path.getParent()));
    }

    /** Eight threads here and a second JVM race for the same fresh cache folder. */
    @Test
    void concurrentExtractionByThreadsAndAnotherProcess(@TempDir Path tmp) throws Exception {
        Path cache = tmp.resolve("cache");
        Path stderr = tmp.resolve("probe.err");
        Process other = Probes.start(stderr, List.of(), Map.of(), "extract", cache.toString());
        BufferedReader otherOut = other.inputReader();
        assertEquals("ready", otherOut.readLine(), () -> "probe did not start: " + read(stderr));

        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return extract(cache);
                }));
            }
            try (Writer w = other.outputWriter()) {
                w.write("go\n");
            }
            go.countDown();
            Set<Path> paths = new HashSet<>();
            for (Future<Path> r : results) {
                paths.add(r.get());
            }
            List<String> lines = Probes.finish(other, stderr, otherOut.lines().toList());
            assertEquals(1, paths.size(), paths::toString);
            Path path = paths.iterator().next();
            assertEquals(path.toString(), lines.get(0), "the other JVM got the same file");
            assertEquals(String.valueOf(TesseraNative.TS_ABI_VERSION), lines.get(1), "the other JVM loaded it");
            assertArrayEquals(library, Files.readAllBytes(path));
            assertEquals(List.of(path), list(path.getParent()), "no temp files left behind");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fallsBackToTheNextRoot(@TempDir Path tmp) throws IOException {
        Path blocker = Files.writeString(tmp.resolve("not-a-dir"), "x");
        Path path = LibraryExtractor.extract(PLATFORM, LOADER,
                List.of(new CacheRoot(blocker.resolve("cache"), null), new CacheRoot(tmp.resolve("second"), null)));
        assertTrue(path.startsWith(tmp.resolve("second")), path.toString());
    }

    @Test
    void failsListingEveryRoot(@TempDir Path tmp) throws IOException {
        Path blocker = Files.writeString(tmp.resolve("not-a-dir"), "x");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> LibraryExtractor.extract(PLATFORM, LOADER,
                List.of(new CacheRoot(blocker.resolve("a"), null), new CacheRoot(blocker.resolve("b"), null))));
        assertTrue(e.getMessage().contains(blocker.resolve("a").toString()), e.getMessage());
        assertTrue(e.getMessage().contains(blocker.resolve("b").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("tessera.library.path"), e.getMessage());
    }

    /** The temp-dir fallback is shared with other users: it must be created private, and refused otherwise. */
    @Test
    void sharedFallbackFolderIsPrivate(@TempDir Path tmp) throws IOException {
        Path mine = tmp.resolve("tessera-me");
        Path path = LibraryExtractor.extract(PLATFORM, LOADER, List.of(new CacheRoot(mine.resolve("native"), mine)));
        assertTrue(path.startsWith(mine));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mine)));

        Path open = Files.createDirectory(tmp.resolve("tessera-open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> LibraryExtractor.extract(PLATFORM, LOADER, List.of(new CacheRoot(open.resolve("native"), open))));
        assertTrue(e.getMessage().contains("accessible to other users"), e.getMessage());
    }

    @Test
    void defaultRootsAreTheUserCacheThenAPrivateTempFolder() {
        List<CacheRoot> roots = LibraryExtractor.defaultRoots();
        CacheRoot last = roots.getLast();
        assertEquals(Path.of(System.getProperty("java.io.tmpdir")), last.privateDir().getParent());
        assertTrue(last.privateDir().getFileName().toString().startsWith("tessera-"));
        // Surefire sets XDG_CACHE_HOME for this module's tests.
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null) {
            assertEquals(Path.of(xdg, "tessera", "native"), roots.getFirst().dir());
        }
    }

    @Test
    void missingPlatformNamesItAndListsWhatTheJarHolds(@TempDir Path cache) {
        Platform absent = new Platform("freebsd", "riscv64");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> LibraryExtractor.extract(absent, LOADER, List.of(new CacheRoot(cache, null))));
        String m = e.getMessage();
        assertTrue(m.contains("no Tessera native library for platform freebsd-riscv64"), m);
        assertTrue(m.contains("native/freebsd-riscv64/libtessera.so"), m);
        assertTrue(m.contains("holds libraries for: " + PLATFORM.id()), m);
        assertTrue(m.contains("-Dtessera.library.path") && m.contains("TESSERA_LIBRARY_PATH"), m);
        assertEquals(List.of(), list(cache));
    }

    @Test
    void missingPlatformWithAnEmptyJar(@TempDir Path cache) throws IOException {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                    () -> LibraryExtractor.extract(PLATFORM, empty, List.of(new CacheRoot(cache, null))));
            assertTrue(e.getMessage().contains("for platform " + PLATFORM.id()), e.getMessage());
            assertTrue(e.getMessage().contains("no platform at all"), e.getMessage());
        }
    }

    @Test
    void hashChangesWithContent() {
        assertNotEquals(LibraryExtractor.sha256(new byte[] {1}), LibraryExtractor.sha256(new byte[] {2}));
        assertEquals(64, hash.length());
    }

    private static List<Path> list(Path dir) {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
