package dev.tessera.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Finds and loads libtessera once per JVM. By default it is the copy the bindings jar carries
 * under {@code native/<platform>/}, extracted into the user's cache folder (see the README);
 * {@code -Dtessera.library.path} or {@code TESSERA_LIBRARY_PATH} names a file to load instead.
 * Failures are {@link UnsatisfiedLinkError}s, as for {@code System.loadLibrary}, and are not
 * cached: a later call tries again.
 */
public final class NativeLibrary {
    /** System property naming the library file to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "tessera.library.path";
    /** Environment variable with the same meaning; the property wins. */
    public static final String PATH_ENV = "TESSERA_LIBRARY_PATH";

    private record Loaded(Path path, SymbolLookup lookup) {}

    private static volatile Loaded loaded;

    private NativeLibrary() {}

    /** Symbols of the loaded library (loading it on first use). */
    public static SymbolLookup lookup() {
        return load().lookup();
    }

    /** The file the library was loaded from (loading it on first use). */
    public static Path path() {
        return load().path();
    }

    /** Address of an exported function; fails naming the symbol when the library lacks it. */
    public static MemorySegment symbol(String name) {
        Loaded l = load();
        return l.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "native library " + l.path() + " has no symbol " + name + ", which tessera.h declares: the library and "
                        + "these bindings were built from different versions of tessera.h (rebuild them together)"));
    }

    /**
     * Fails unless the library's {@code ts_abi_version()} equals the header's {@code TS_ABI_VERSION};
     * generated bindings call it when they initialise.
     */
    public static void requireAbiVersion(int library, int bindings) {
        if (library != bindings) {
            throw new UnsatisfiedLinkError("native library " + path() + " has ABI version " + Integer.toUnsignedString(library)
                    + " but these bindings were generated for TS_ABI_VERSION " + Integer.toUnsignedString(bindings)
                    + ": use the library built together with this tessera-bindings jar");
        }
    }

    private static Loaded load() {
        Loaded l = loaded;
        if (l == null) {
            synchronized (NativeLibrary.class) {
                l = loaded;
                if (l == null) {
                    ClassLoader classLoader = NativeLibrary.class.getClassLoader();
                    ClassLoader resources = classLoader != null ? classLoader : ClassLoader.getSystemClassLoader();
                    Path path = locate(System.getProperty(PATH_PROPERTY), System.getenv(PATH_ENV),
                            () -> LibraryExtractor.extract(Platform.current(), resources, LibraryExtractor.defaultRoots()));
                    l = new Loaded(path, open(path));
                    loaded = l;
                }
            }
        }
        return l;
    }

    /** The explicit file if the property (first) or the environment variable names one, else the bundled copy. */
    static Path locate(String property, String env, Supplier<Path> bundled) {
        if (property != null && !property.isBlank()) {
            return explicit("-D" + PATH_PROPERTY, property);
        }
        if (env != null && !env.isBlank()) {
            return explicit(PATH_ENV, env);
        }
        return bundled.get();
    }

    private static Path explicit(String source, String value) {
        Path path;
        try {
            path = Path.of(value.strip()).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw linkError(source + " is not a valid path: " + value, e);
        }
        if (!Files.isRegularFile(path)) {
            throw new UnsatisfiedLinkError(source + " names " + path + ", which "
                    + (Files.exists(path) ? "is not a regular file" : "does not exist")
                    + " (it must name the library file itself, e.g. .../libtessera.so)");
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
