package dev.tessera.bindings;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Finds and loads libtessera_cuda (the CUDA kernels, a library apart from libtessera) once per
 * JVM, for {@link TesseraCudaNative}. By default it is the copy the bindings jar carries beside
 * libtessera (jars built where nvcc was found); {@code -Dtessera.cuda.library} or
 * {@code TESSERA_CUDA_LIBRARY} names a file to load instead. Loading needs no GPU and no driver:
 * the library reports those through {@code tsc_device_count}. Failures are
 * {@link UnsatisfiedLinkError}s naming the reason, and are not cached.
 */
public final class CudaLibrary {
    /** System property naming the library file to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "tessera.cuda.library";
    /** Environment variable with the same meaning; the property wins. */
    public static final String PATH_ENV = "TESSERA_CUDA_LIBRARY";
    /** The CMake target, hence the file name (libtessera_cuda.so). */
    static final String NAME = "tessera_cuda";

    private static final LibraryLoader LOADER = new LibraryLoader("CUDA library", NAME, "tessera_cuda.h", "TSC_ABI_VERSION",
            PATH_PROPERTY, PATH_ENV, CudaLibrary::extractBundled);

    private CudaLibrary() {}

    /** The file the library was loaded from (loading it on first use). */
    public static Path path() {
        return LOADER.path();
    }

    /** Address of an exported function; fails naming the symbol when the library lacks it. */
    public static MemorySegment symbol(String name) {
        return LOADER.symbol(name);
    }

    /** Fails unless the library's {@code tsc_abi_version()} equals the header's {@code TSC_ABI_VERSION}. */
    public static void requireAbiVersion(int library, int bindings) {
        LOADER.requireAbiVersion(library, bindings);
    }

    /** The explicit file if the property (first) or the environment variable names one, else the bundled copy. */
    static Path locate(String property, String env, Supplier<Path> bundled) {
        return LOADER.locate(property, env, bundled);
    }

    private static Path extractBundled() {
        ClassLoader classLoader = CudaLibrary.class.getClassLoader();
        ClassLoader resources = classLoader != null ? classLoader : ClassLoader.getSystemClassLoader();
        Platform platform = Platform.current();
        return LibraryExtractor.extract(platform, NAME, resources, LibraryExtractor.defaultRoots(),
                () -> "this tessera-bindings jar carries no CUDA library for " + platform.id()
                        + " (it is built only for linux-x86_64, where nvcc was found at build time);"
                        + " set -D" + PATH_PROPERTY + " to a libtessera_cuda built with ci/cuda-build.sh");
    }
}
