package dev.tessera.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * One native library loaded once per JVM: the file a system property (first) or an environment
 * variable names, else the copy the bindings jar carries. {@link NativeLibrary} (libtessera) and
 * {@link CudaLibrary} (libtessera_cuda) are each one of these. Failures are
 * {@link UnsatisfiedLinkError}s, as for {@code System.loadLibrary}, and are not cached: a later
 * call tries again.
 */
final class LibraryLoader {
    private record Loaded(Path path, SymbolLookup lookup) {}

    private final String what;
    private final String name;
    private final String header;
    private final String abiConstant;
    private final String propertyName;
    private final String envName;
    private final Supplier<Path> bundled;
    private volatile Loaded loaded;

    /**
     * @param what how messages name the library ("native library", "CUDA library")
     * @param name the library's base name ("tessera", "tessera_cuda"), for the file name messages suggest
     * @param header the C header the bindings are generated from, and its ABI-version constant
     * @param bundled extracts the jar's copy (or fails saying why there is none)
     */
    LibraryLoader(String what, String name, String header, String abiConstant, String propertyName, String envName,
                  Supplier<Path> bundled) {
        this.what = what;
        this.name = name;
        this.header = header;
        this.abiConstant = abiConstant;
        this.propertyName = propertyName;
        this.envName = envName;
        this.bundled = bundled;
    }

    SymbolLookup lookup() {
        return load().lookup();
    }

    Path path() {
        return load().path();
    }

    MemorySegment symbol(String name) {
        Loaded l = load();
        return l.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                what + " " + l.path() + " has no symbol " + name + ", which " + header + " declares: the library and "
                        + "these bindings were built from different versions of " + header + " (rebuild them together)"));
    }

    void requireAbiVersion(int library, int bindings) {
        if (library != bindings) {
            throw new UnsatisfiedLinkError(what + " " + path() + " has ABI version " + Integer.toUnsignedString(library)
                    + " but these bindings were generated for " + abiConstant + " " + Integer.toUnsignedString(bindings)
                    + ": use the library built together with this tessera-bindings jar");
        }
    }

    /** The explicit file if the property (first) or the environment variable names one, else the bundled copy. */
    Path locate(String property, String env, Supplier<Path> bundledCopy) {
        if (property != null && !property.isBlank()) {
            return explicit("-D" + propertyName, property);
        }
        if (env != null && !env.isBlank()) {
            return explicit(envName, env);
        }
        return bundledCopy.get();
    }

    private Loaded load() {
        Loaded l = loaded;
        if (l == null) {
            synchronized (this) {
                l = loaded;
                if (l == null) {
                    Path path = locate(System.getProperty(propertyName), System.getenv(envName), bundled);
                    l = new Loaded(path, open(path));
                    loaded = l;
                }
            }
        }
        return l;
    }

    private Path explicit(String source, String value) {
        Path path;
        try {
            path = Path.of(value.strip()).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw linkError(source + " is not a valid path: " + value, e);
        }
        if (!Files.isRegularFile(path)) {
            throw new UnsatisfiedLinkError(source + " names " + path + ", which "
                    + (Files.exists(path) ? "is not a regular file" : "does not exist")
                    + " (it must name the library file itself, e.g. .../" + Platform.current().libraryFileName(name) + ")");
        }
        return path;
    }

    /** Loads a library file for the life of the JVM. */
    @SuppressWarnings("restricted")
    static SymbolLookup open(Path path) {
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw linkError("cannot load native library " + path + " (" + e.getMessage() + "): wrong architecture, "
                    + "a missing dependency, or a file system mounted noexec?", e);
        }
    }

    static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message);
        error.initCause(cause);
        return error;
    }
}
