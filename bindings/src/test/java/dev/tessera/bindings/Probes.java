package dev.tessera.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts {@link LoaderProbe} in a fresh JVM on the test class path. */
final class Probes {
    private Probes() {}

    /** {@code env} entries with a null value are removed from the child's environment. */
    static Process start(Path stderr, List<String> jvmArgs, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LoaderProbe.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderr.toFile());
        pb.environment().remove(NativeLibrary.PATH_ENV); // a developer's own override must not leak in
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        return pb.start();
    }

    /** Runs to completion and returns stdout's lines, failing with stderr if the exit status is not 0. */
    static List<String> run(Path stderr, List<String> jvmArgs, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        Process p = start(stderr, jvmArgs, env, args);
        p.getOutputStream().close();
        List<String> out = new String(p.getInputStream().readAllBytes()).lines().toList();
        return finish(p, stderr, out);
    }

    static List<String> finish(Process p, Path stderr, List<String> out) throws IOException, InterruptedException {
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe timed out");
        assertEquals(0, p.exitValue(), () -> "probe failed: " + readQuietly(stderr) + " stdout: " + out);
        return out;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
