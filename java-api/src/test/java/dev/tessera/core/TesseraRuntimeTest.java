package dev.tessera.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TesseraRuntimeTest {
    @AfterEach
    void restoreDefaults() {
        Tessera.init(0, null);
    }

    @Test
    void everySupportedLevelCanBeForcedAndIsReportedBack() {
        assertTrue(Tessera.supportedIsas().contains(Isa.SCALAR));
        for (Isa isa : Tessera.supportedIsas()) {
            Tessera.init(1, isa);
            assertEquals(isa, Tessera.isa());
            assertEquals(1, Tessera.threads());
        }
    }

    @Test
    void aLevelTheCpuLacksIsAClearError() {
        Isa missing = Tessera.bestIsa().code() >= 10 ? Isa.AVX2 : Isa.NEON;
        TesseraException e = assertThrows(TesseraException.class, () -> Tessera.init(0, missing));
        assertTrue(e.getMessage().contains(missing.id()), e.getMessage());
    }

    @Test
    void poolResizesAndShutdownThenReinitWorks() {
        Tessera.init(2, null);
        assertEquals(2, Tessera.threads());
        Tessera.setThreads(1);
        assertEquals(1, Tessera.threads());
        Tessera.shutdown();
        assertEquals(Tessera.bestIsa(), Tessera.isa()); // re-initialised on demand
        assertTrue(Tessera.nativeVersion().matches("\\d+\\.\\d+\\.\\d+.*"), Tessera.nativeVersion());
    }
}
