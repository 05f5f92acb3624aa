package dev.tessera.bindings;

import java.util.List;
import java.util.Locale;

/**
 * An operating system and CPU architecture pair, named as the bindings jar names its
 * {@code native/<os>-<arch>/} folders (for example {@code linux-x86_64}).
 */
public record Platform(String os, String arch) {
    /** Every platform a jar may carry a library for; the missing-platform error lists those present. */
    public static final List<Platform> KNOWN = List.of(
            new Platform("linux", "x86_64"), new Platform("linux", "aarch64"),
            new Platform("macos", "x86_64"), new Platform("macos", "aarch64"),
            new Platform("windows", "x86_64"), new Platform("windows", "aarch64"));

    /** The platform of this JVM. */
    public static Platform current() {
        return of(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /** Normalises the values of the {@code os.name} and {@code os.arch} system properties. */
    public static Platform of(String osName, String osArch) {
        String name = osName.toLowerCase(Locale.ROOT);
        String os;
        if (name.startsWith("linux")) {
            os = "linux";
        } else if (name.startsWith("mac") || name.startsWith("darwin")) {
            os = "macos";
        } else if (name.startsWith("windows")) {
            os = "windows";
        } else {
            os = name.replaceAll("[^a-z0-9]", "");
        }
        String a = osArch.toLowerCase(Locale.ROOT);
        String arch = switch (a) {
            case "amd64", "x86_64", "x86-64", "x64", "em64t" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> a.replaceAll("[^a-z0-9_]", "");
        };
        return new Platform(os.isEmpty() ? "unknown" : os, arch.isEmpty() ? "unknown" : arch);
    }

    /** Folder name, e.g. {@code linux-x86_64}. */
    public String id() {
        return os + "-" + arch;
    }

    /** What CMake names the shared library on this OS. */
    public String libraryFileName() {
        return libraryFileName("tessera");
    }

    /** What CMake names the shared library of the target {@code name} (e.g. tessera_cuda) on this OS. */
    public String libraryFileName(String name) {
        return switch (os) {
            case "windows" -> name + ".dll";
            case "macos" -> "lib" + name + ".dylib";
            default -> "lib" + name + ".so";
        };
    }

    /** Class-path resource of the library, e.g. {@code native/linux-x86_64/libtessera.so}. */
    public String resourcePath() {
        return resourcePath("tessera");
    }

    /** Class-path resource of the library of the target {@code name}. */
    public String resourcePath(String name) {
        return "native/" + id() + "/" + libraryFileName(name);
    }
}
