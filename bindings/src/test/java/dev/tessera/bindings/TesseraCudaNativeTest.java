package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generated CUDA class against the library this build bundled (built where nvcc was found).
 * Loading it needs no GPU: without one it must still load and say why it sees no device.
 */
class TesseraCudaNativeTest {
    @BeforeAll
    static void bundled() {
        boolean present = TesseraCudaNativeTest.class.getClassLoader()
                .getResource(Platform.current().resourcePath(CudaLibrary.NAME)) != null
                || System.getProperty(CudaLibrary.PATH_PROPERTY) != null;
        assumeTrue(present, "this build has no libtessera_cuda (no nvcc at build time): skipped");
    }

    @Test
    void abiVersionMatchesTheHeader() {
        assertEquals(TesseraCudaNative.TSC_ABI_VERSION, TesseraCudaNative.tsc_abi_version());
    }

    @Test
    void deviceCountLoadsWithOrWithoutAGpu() {
        int n = TesseraCudaNative.tsc_device_count();
        assertTrue(n >= 0);
        if (n == 0) {
            String why = TesseraCudaNative.tsc_last_error().reinterpret(1024).getString(0);
            assertFalse(why.isBlank(), "no device but no reason");
        }
    }

    @Test
    void opsWithoutAContextAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            assertEquals(TesseraNative.TS_ERR_NOT_INITIALIZED, TesseraCudaNative.tsc_alloc(MemorySegment.NULL, 16, out));
        }
    }
}
