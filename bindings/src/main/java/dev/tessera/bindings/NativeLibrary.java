package dev.tessera.bindings;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
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

    private static final LibraryLoader LOADER = new LibraryLoader("native library", "tessera", "tessera.h", "TS_ABI_VERSION",
            PATH_PROPERTY, PATH_ENV, NativeLibrary::extractBundled);

    private NativeLibrary() {}

    /** Symbols of the loaded library (loading it on first use). */
    public static SymbolLookup lookup() {
        return LOADER.lookup();
    }

    /** The file the library was loaded from (loading it on first use). */
    public static Path path() {
        return LOADER.path();
    }

    /** Address of an exported function; fails naming the symbol when the library lacks it. */
    public static MemorySegment symbol(String name) {
        return LOADER.symbol(name);
    }

    /**
     * Fails unless the library's {@code ts_abi_version()} equals the header's {@code TS_ABI_VERSION};
     * generated bindings call it when they initialise.
     */
    public static void requireAbiVersion(int library, int bindings) {
        LOADER.requireAbiVersion(library, bindings);
    }

    /** The explicit file if the property (first) or the environment variable names one, else the bundled copy. */
    static Path locate(String property, String env, Supplier<Path> bundled) {
        return LOADER.locate(property, env, bundled);
    }


    private static Path extractBundled() {
        ClassLoader classLoader = NativeLibrary.class.getClassLoader();
        ClassLoader resources = classLoader != null ? classLoader : ClassLoader.getSystemClassLoader();
        return LibraryExtractor.extract(Platform.current(), resources, LibraryExtractor.defaultRoots());
    }
}
