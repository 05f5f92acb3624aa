package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

/** The generated class against the real library. */
@SuppressWarnings("restricted")
class TesseraNativeTest {
    @Test
    void abiVersionMatchesTheHeader() {
        assertEquals(TesseraNative.TS_ABI_VERSION, TesseraNative.ts_abi_version());
    }

    @Test
    void versionStringIsReadable() {
        String version = TesseraNative.ts_version().reinterpret(256).getString(0);
        assertFalse(version.isBlank());
    }

    @Test
    void downcallsPassArguments() {
        TesseraNative.ts_noop();
        assertEquals(41, TesseraNative.ts_noop_args(MemorySegment.NULL, 41));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(16);
            assertEquals(s.address() + 3, TesseraNative.ts_noop_args(s, 3));
        }
    }

    /** TS_CRITICAL functions are linked critical, which lets them take heap segments. */
    @Test
    void criticalHandleTakesHeapSegments() {
        TesseraNative.ts_noop_args(MemorySegment.ofArray(new long[4]), 0);
    }

    /** What a benchmark does: link the same symbol without critical(true) from the public descriptor. */
    @Test
    void publicDescriptorLinksANonCriticalVariant() throws Throwable {
        MethodHandle plain = Linker.nativeLinker().downcallHandle(TesseraNative.ts_noop_args$ADDR, TesseraNative.ts_noop_args$DESC);
        assertEquals(7L, (long) plain.invokeExact(MemorySegment.NULL, 7L));
        MemorySegment heap = MemorySegment.ofArray(new long[4]);
        assertThrows(IllegalArgumentException.class, () -> {
            long ignored = (long) plain.invokeExact(heap, 0L);
        });
    }
}
