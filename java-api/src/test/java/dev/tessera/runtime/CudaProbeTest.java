package dev.tessera.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaProbeTest {
    /** With or without a GPU, driver or bundled library: never an exception, and an absence is explained. */
    @Test
    void defaultProbeNeverThrowsAndExplainsAnAbsence() {
        CudaProbe.Result r = CudaProbe.probe();
        assertTrue(r.available() ? !r.devices().isEmpty() : !r.reason().isBlank(), r.toString());
    }
}
