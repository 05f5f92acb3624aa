package dev.tessera.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the CUDA library ({@code libtessera_cuda}, native/cuda) can be loaded and sees a GPU. The
 * jar does not carry that library yet (ci/cuda-build.sh builds it apart), so its path comes from
 * {@code -Dtessera.cuda.library} or {@code TESSERA_CUDA_LIBRARY}. Probing never throws: a missing
 * library, a missing driver or no device each come back as "not available" with the reason.
 */
public final class CudaProbe {
    /** System property naming the path of libtessera_cuda. */
    public static final String LIBRARY_PROPERTY = "tessera.cuda.library";
    /** Environment variable naming the path of libtessera_cuda (the property wins). */
    public static final String LIBRARY_ENV = "TESSERA_CUDA_LIBRARY";

    // tessera_cuda.h: TSC_INFO_TOTAL_MEMORY, _SM_COUNT, _CC_MAJOR, _CC_MINOR are fields 0..3.
    private static final int INFO_FIELDS = 4;

    /** One GPU as the CUDA library reports it. */
    public record Device(int index, String name, long memoryBytes, int smCount, int ccMajor, int ccMinor) {}

    /** available: the library loaded and reports at least one device; otherwise reason says why. */
    public record Result(boolean available, String library, String reason, List<Device> devices) {}

    private static Result cached;

    private CudaProbe() {}

    /** Probes the library named by the property or the environment (once per JVM: loading stays). */
    public static synchronized Result probe() {
        if (cached == null) {
            String path = System.getProperty(LIBRARY_PROPERTY);
            if (path == null || path.isBlank()) {
                path = System.getenv(LIBRARY_ENV);
            }
            cached = path == null || path.isBlank()
                    ? new Result(false, null, "libtessera_cuda is not part of this build (set -D" + LIBRARY_PROPERTY
                            + " or " + LIBRARY_ENV + " to the library ci/cuda-build.sh builds)", List.of())
                    : probe(Path.of(path));
        }
        return cached;
    }

    /**
     * Loads library (for the life of the JVM: the CUDA runtime inside must never be unloaded) and
     * asks it for its devices.
     */
    public static Result probe(Path library) {
        String lib = library.toString();
        if (!Files.isRegularFile(library)) {
            return new Result(false, lib, "no such file: " + lib, List.of());
        }
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return new Result(false, lib, "cannot load " + lib + ": " + e.getMessage(), List.of());
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle count = handle(linker, lookup, "tsc_device_count", FunctionDescriptor.of(ValueLayout.JAVA_INT));
            MethodHandle lastError = handle(linker, lookup, "tsc_last_error", FunctionDescriptor.of(ValueLayout.ADDRESS));
            MethodHandle name = handle(linker, lookup, "tsc_device_name", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            MethodHandle info = handle(linker, lookup, "tsc_device_info", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int n = (int) count.invokeExact();
            if (n <= 0) {
                return new Result(false, lib, message(lastError), List.of());
            }
            List<Device> devices = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(256);
                MemorySegment fields = arena.allocate(ValueLayout.JAVA_LONG, INFO_FIELDS);
                for (int i = 0; i < n; i++) {
                    if ((int) name.invokeExact(i, buf, 256L) != 0 || (int) info.invokeExact(i, fields, INFO_FIELDS) != 0) {
                        return new Result(false, lib, "device " + i + ": " + message(lastError), List.of());
                    }
                    devices.add(new Device(i, buf.getString(0), fields.getAtIndex(ValueLayout.JAVA_LONG, 0),
                            (int) fields.getAtIndex(ValueLayout.JAVA_LONG, 1), (int) fields.getAtIndex(ValueLayout.JAVA_LONG, 2),
                            (int) fields.getAtIndex(ValueLayout.JAVA_LONG, 3)));
                }
            }
            return new Result(true, lib, "", List.copyOf(devices));
        } catch (Throwable e) {
            return new Result(false, lib, lib + " is not a usable libtessera_cuda: " + e, List.of());
        }
    }

    private static MethodHandle handle(Linker linker, SymbolLookup lookup, String fn, FunctionDescriptor d) {
        return linker.downcallHandle(lookup.find(fn).orElseThrow(() -> new IllegalArgumentException("no symbol " + fn)), d);
    }

    private static String message(MethodHandle lastError) throws Throwable {
        MemorySegment p = (MemorySegment) lastError.invokeExact();
        return p.equals(MemorySegment.NULL) ? "(no message)" : p.reinterpret(1024).getString(0);
    }
}
