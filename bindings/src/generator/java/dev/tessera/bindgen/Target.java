package dev.tessera.bindgen;

import java.nio.file.Path;
import java.util.Set;

/**
 * What one header becomes: the generated class, the loader class it links through, the ABI
 * constant/function pair compared at load time, and the project headers it may include (whose
 * declarations belong to another target and are not bound again).
 */
public record Target(String header, String className, String libraryClass, String abiConstant, String abiFunction,
        Set<String> localIncludes) {
    /** tessera.h: the CPU library, loaded by NativeLibrary. */
    public static final Target TESSERA = new Target("tessera.h", "TesseraNative", "NativeLibrary", "TS_ABI_VERSION",
            "ts_abi_version", Set.of());
    /** tessera_cuda.h: the CUDA library, a separate file loaded by CudaLibrary; it includes tessera.h. */
    public static final Target TESSERA_CUDA = new Target("tessera_cuda.h", "TesseraCudaNative", "CudaLibrary",
            "TSC_ABI_VERSION", "tsc_abi_version", Set.of("tessera.h"));

    /** The target of a header by its file name; any other name is bound as tessera.h is (tests use sample headers). */
    public static Target of(Path header) {
        Path name = header.getFileName();
        return name != null && name.toString().equals(TESSERA_CUDA.header()) ? TESSERA_CUDA : TESSERA;
    }
}
