package dev.tessera.bindings;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

/** Runs in a second JVM for the tests: another process extracting or loading at the same time. */
public final class LoaderProbe {
    private LoaderProbe() {}

    @SuppressWarnings("restricted")
    public static void main(String[] args) throws Throwable {
        switch (args[0]) {
            // Loads the way an application does, and reports where from.
            case "load" -> {
                System.out.println(NativeLibrary.path());
                System.out.println(TesseraNative.ts_abi_version());
            }
            // Extracts into the given root once the test says "go", then loads that file.
            case "extract" -> {
                System.out.println("ready");
                System.out.flush();
                String go = new BufferedReader(new InputStreamReader(System.in)).readLine();
                if (!"go".equals(go)) {
                    throw new IllegalStateException("expected go, got " + go);
                }
                Path path = LibraryExtractor.extract(Platform.current(), LoaderProbe.class.getClassLoader(),
                        List.of(new LibraryExtractor.CacheRoot(Path.of(args[1]), null)));
                var handle = Linker.nativeLinker().downcallHandle(LibraryLoader.open(path).find("ts_abi_version").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT));
                System.out.println(path);
                System.out.println((int) handle.invokeExact());
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
