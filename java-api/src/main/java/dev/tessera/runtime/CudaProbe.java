package dev.tessera.runtime;

import dev.tessera.bindings.CudaLibrary;
import dev.tessera.bindings.TesseraCudaNative;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the CUDA library ({@code libtessera_cuda}, native/cuda) can be loaded and sees a GPU.
 * {@link #probe()} uses the library the bindings load (the jar's copy, or the file named by
 * {@code -Dtessera.cuda.library} / {@code TESSERA_CUDA_LIBRARY}: see CudaLibrary). Probing never
 * throws: a missing library, a missing driver or no device each come back as "not available"
 * with the reason.
 */
public final class CudaProbe {
    /** System property naming the path of libtessera_cuda. */
    public static final String LIBRARY_PROPERTY = CudaLibrary.PATH_PROPERTY;
    /** Environment variable naming the path of libtessera_cuda (the property wins). */
    public static final String LIBRARY_ENV = CudaLibrary.PATH_ENV;

    private static final int INFO_FIELDS = TesseraCudaNative.TSC_INFO_CC_MINOR + 1;

    /** One GPU as the CUDA library reports it. */
    public record Device(int index, String name, long memoryBytes, int smCount, int ccMajor, int ccMinor) {}

    /** available: the library loaded and reports at least one device; otherwise reason says why. */
    public record Result(boolean available, String library, String reason, List<Device> devices) {}

    private static Result cached;

    private CudaProbe() {}

    /** Probes the library the bindings load (once per JVM: loading stays). */
    public static synchronized Result probe() {
        if (cached == null) {
            cached = probeBindings();
        }
        return cached;
    }

    private static Result probeBindings() {
        String lib = null;
        try {
            lib = CudaLibrary.path().toString();
            int n = TesseraCudaNative.tsc_device_count();
            if (n <= 0) {
                return new Result(false, lib, lastError(), List.of());
            }
            List<Device> devices = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(256);
                MemorySegment fields = arena.allocate(ValueLayout.JAVA_LONG, INFO_FIELDS);
                for (int i = 0; i < n; i++) {
                    if (TesseraCudaNative.tsc_device_name(i, buf, 256L) != 0
                            || TesseraCudaNative.tsc_device_info(i, fields, INFO_FIELDS) != 0) {
                        return new Result(false, lib, "device " + i + ": " + lastError(), List.of());
                    }
                    devices.add(device(i, buf, fields));
                }
            }
            return new Result(true, lib, "", List.copyOf(devices));
        } catch (LinkageError e) {
            Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            return new Result(false, lib, String.valueOf(cause.getMessage()), List.of());
        }
    }

    private static Device device(int i, MemorySegment name, MemorySegment fields) {
        return new Device(i, name.getString(0), fields.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_INFO_TOTAL_MEMORY),
                (int) fields.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_INFO_SM_COUNT),
                (int) fields.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_INFO_CC_MAJOR),
                (int) fields.getAtIndex(ValueLayout.JAVA_LONG, TesseraCudaNative.TSC_INFO_CC_MINOR));
    }

    private static String lastError() {
        return TesseraCudaNative.tsc_last_error().reinterpret(1024).getString(0);
    }
}
