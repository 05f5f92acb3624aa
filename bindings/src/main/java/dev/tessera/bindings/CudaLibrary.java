package dev.tessera.bindings;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;

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

    private record Loaded(Path path, SymbolLookup lookup) {}

    private static volatile Loaded loaded;

    private CudaLibrary() {}

    /** The file the library was loaded from (loading it on first use). */
    public static Path path() {
        return load().path();
    }

    /** Address of an exported function; fails naming the symbol when the library lacks it. */
    public static MemorySegment symbol(String name) {
        Loaded l = load();
        return l.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "CUDA library " + l.path() + " has no symbol " + name + ", which tessera_cuda.h declares: the library and "
                        + "these bindings were built from different versions of tessera_cuda.h (rebuild them together)"));
    }

    /** Fails unless the library's {@code tsc_abi_version()} equals the header's {@code TSC_ABI_VERSION}. */
    public static void requireAbiVersion(int library, int bindings) {
        if (library != bindings) {
            throw new UnsatisfiedLinkError("CUDA library " + path() + " has ABI version " + Integer.toUnsignedString(library)
                    + " but these bindings were generated for TSC_ABI_VERSION " + Integer.toUnsignedString(bindings)
                    + ": use the library built together with this tessera-bindings jar");
        }
    }

    private static Loaded load() {
        Loaded l = loaded;
        if (l == null) {
            synchronized (CudaLibrary.class) {
                l = loaded;
                if (l == null) {
                    ClassLoader classLoader = CudaLibrary.class.getClassLoader();
                    ClassLoader resources = classLoader != null ? classLoader : ClassLoader.getSystemClassLoader();
                    Platform platform = Platform.current();
                    Path path = NativeLibrary.locate(System.getProperty(PATH_PROPERTY), System.getenv(PATH_ENV),
                            () -> LibraryExtractor.extract(platform, NAME, resources, LibraryExtractor.defaultRoots(),
                                    () -> "this tessera-bindings jar carries no CUDA library for " + platform.id()
                                            + " (it is built only for linux-x86_64, where nvcc was found at build time);"
                                            + " set -D" + PATH_PROPERTY + " to a libtessera_cuda built with ci/cuda-build.sh"));
                    l = new Loaded(path, NativeLibrary.open(path));
                    loaded = l;
                }
            }
        }
        return l;
    }
}
