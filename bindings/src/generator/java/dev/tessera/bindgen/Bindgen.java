package dev.tessera.bindgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Generates a bindings class from a header ({@code TesseraNative} from tessera.h,
 * {@code TesseraCudaNative} from tessera_cuda.h; see {@link Target}). The build runs it in
 * source-launcher mode ({@code java Bindgen.java <header>... <source root>}), so it needs no
 * compile step of its own; any header construct it cannot bind exits with status 1 and
 * {@code file:line: reason} on stderr, which fails the build.
 */
public final class Bindgen {
    private Bindgen() {}

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: java Bindgen.java <header>... <generated source root>");
            System.exit(2);
        }
        Path root = Path.of(args[args.length - 1]);
        try {
            for (int i = 0; i < args.length - 1; i++) {
                generate(Path.of(args[i]), root);
            }
        } catch (BindgenException e) {
            System.err.println(e.getMessage());
            System.err.println("bindgen: no bindings generated");
            System.exit(1);
        } catch (IOException e) {
            System.err.println("bindgen: " + e);
            System.exit(1);
        }
    }

    /** Returns the written file. Leaves it untouched when unchanged, so javac sees nothing stale. */
    public static Path generate(Path header, Path sourceRoot) throws IOException, BindgenException {
        Header parsed = HeaderParser.parse(header);
        String source = JavaEmitter.emit(parsed);
        Path target = sourceRoot.resolve(JavaEmitter.PACKAGE.replace('.', '/')).resolve(parsed.target().className() + ".java");
        if (!Files.isRegularFile(target) || !Files.readString(target, StandardCharsets.UTF_8).equals(source)) {
            Files.createDirectories(target.getParent());
            Files.writeString(target, source, StandardCharsets.UTF_8);
        }
        return target;
    }
}
