package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibraryTest {
    private static final Supplier<Path> NOT_BUNDLED = () -> {
        throw new AssertionError("the bundled copy must not be used when an override is set");
    };

    @Test
    void overrideErrorsNameTheCudaPropertyAndVariable(@TempDir Path dir) {
        Path missing = dir.resolve("libtessera_cuda.so");
        UnsatisfiedLinkError p = assertThrows(UnsatisfiedLinkError.class,
                () -> CudaLibrary.locate(missing.toString(), null, NOT_BUNDLED));
        assertTrue(p.getMessage().startsWith("-Dtessera.cuda.library names " + missing + ", which does not exist"), p.getMessage());
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> CudaLibrary.locate(null, dir.toString(), NOT_BUNDLED));
        assertTrue(e.getMessage().startsWith("TESSERA_CUDA_LIBRARY names " + dir + ", which is not a regular file"), e.getMessage());
        assertTrue(e.getMessage().endsWith("e.g. .../" + Platform.current().libraryFileName(CudaLibrary.NAME) + ")"), e.getMessage());
    }

    @Test
    void propertyWinsOverTheVariable(@TempDir Path dir) throws Exception {
        Path a = java.nio.file.Files.createFile(dir.resolve("a.so"));
        Path b = java.nio.file.Files.createFile(dir.resolve("b.so"));
        assertEquals(a, CudaLibrary.locate(a.toString(), b.toString(), NOT_BUNDLED));
        assertEquals(b, CudaLibrary.locate(" ", b.toString(), NOT_BUNDLED));
    }
}
