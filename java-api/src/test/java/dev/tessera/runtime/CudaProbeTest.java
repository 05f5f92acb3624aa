package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaProbeTest {
    @Test
    void missingLibraryIsNotAvailableWithTheReason() {
        CudaProbe.Result r = CudaProbe.probe(Path.of("does-not-exist", "libtessera_cuda.so"));
        assertFalse(r.available());
        assertTrue(r.reason().contains("no such file"), r.reason());
        assertTrue(r.devices().isEmpty());
    }

    @Test
    void aFileThatIsNoLibraryIsNotAvailableWithTheReason(@TempDir Path dir) throws IOException {
        Path fake = Files.writeString(dir.resolve("libtessera_cuda.so"), "not an ELF file");
        CudaProbe.Result r = CudaProbe.probe(fake);
        assertFalse(r.available());
        assertTrue(r.reason().startsWith("cannot load"), r.reason());
    }

    @Test
    void defaultProbeNeverThrowsAndExplainsAnAbsence() {
        CudaProbe.Result r = CudaProbe.probe();
        assertTrue(r.available() ? !r.devices().isEmpty() : !r.reason().isBlank(), r.toString());
    }
}
