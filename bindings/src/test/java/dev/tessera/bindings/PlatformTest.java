package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlatformTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            Linux          | amd64   | linux-x86_64   | libtessera.so
            Linux          | x86_64  | linux-x86_64   | libtessera.so
            Linux          | aarch64 | linux-aarch64  | libtessera.so
            Linux          | arm64   | linux-aarch64  | libtessera.so
            Mac OS X       | aarch64 | macos-aarch64  | libtessera.dylib
            Mac OS X       | x86_64  | macos-x86_64   | libtessera.dylib
            Darwin         | arm64   | macos-aarch64  | libtessera.dylib
            Windows 11     | amd64   | windows-x86_64 | tessera.dll
            Windows Server 2022 | aarch64 | windows-aarch64 | tessera.dll
            FreeBSD        | riscv64 | freebsd-riscv64 | libtessera.so
            SunOS          | sparcv9 | sunos-sparcv9  | libtessera.so
            """)
    void normalisesOsNameAndArch(String osName, String osArch, String id, String file) {
        Platform p = Platform.of(osName, osArch);
        assertEquals(id, p.id());
        assertEquals(file, p.libraryFileName());
        assertEquals("native/" + id + "/" + file, p.resourcePath());
    }
}
