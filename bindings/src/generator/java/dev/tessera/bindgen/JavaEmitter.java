package dev.tessera.bindgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Writes a header's bindings class ({@code dev.tessera.bindings.TesseraNative} for tessera.h,
 * {@code TesseraCudaNative} for tessera_cuda.h: see {@link Target}). Per function it emits public
 * {@code name$DESC}, {@code name$ADDR} and {@code name$MH} fields and a static method
 * {@code name(...)}; the fields are public so that benchmarks can link other variants
 * (say, a non-critical handle) of the same symbol.
 */
public final class JavaEmitter {
    public static final String PACKAGE = "dev.tessera.bindings";

    private final StringBuilder out = new StringBuilder();
    private final Target target;
    private boolean lastWasConstant;

    private JavaEmitter(Target target) {
        this.target = target;
    }

    public static String emit(Header header) {
        return new JavaEmitter(header.target()).render(header);
    }

    private String render(Header header) {
        String headerName = header.file().replace('\\', '/');
        headerName = headerName.substring(headerName.lastIndexOf('/') + 1);
        line("// Generated from " + headerName + " by dev.tessera.bindgen.Bindgen. Do not edit: change the header.");
        line("package " + PACKAGE + ";");
        line("");
        line("import java.lang.foreign.FunctionDescriptor;");
        line("import java.lang.foreign.Linker;");
        line("import java.lang.foreign.MemorySegment;");
        line("import java.lang.foreign.ValueLayout;");
        line("import java.lang.invoke.MethodHandle;");
        line("");
        line("/**");
        line(" * FFM bindings of {@code " + javadoc(headerName) + "}, generated at build time.");
        line(" * <p>");
        line(" * Constants are compile-time constants: using them loads nothing. For each {@code TS_API}");
        line(" * function {@code f} there are {@code f$DESC} (its descriptor), {@code f$ADDR} (its symbol),");
        line(" * {@code f$MH} (its downcall handle, linked with {@code Linker.Option.critical(true)} where the");
        line(" * header marks it {@code TS_CRITICAL}, which also lets it take heap segments) and the method");
        line(" * {@code f(...)}. Integer types map to the Java type of the same width whatever their");
        line(" * signedness, pointers to {@link MemorySegment} (zero-length when returned).");
        line(" * <p>");
        line(" * The first use of a function loads the library through {@link " + target.libraryClass() + "}, links every");
        line(" * function (a missing symbol fails the class initialisation with its name) and checks");
        line(" * {@code " + target.abiFunction() + "()} against {@link #" + target.abiConstant() + "}.");
        line(" */");
        line("@SuppressWarnings(\"restricted\") // linking downcalls is this class's whole purpose");
        line("public final class " + target.className() + " {");
        line("    private " + target.className() + "() {}");
        for (Constant c : header.constants()) {
            constant(c);
        }
        // The version function is linked and checked first, so that a stale library is reported
        // as a version mismatch rather than as whichever newer symbol it happens to lack.
        List<NativeFunction> ordered = new ArrayList<>(header.functions());
        NativeFunction abi = ordered.stream().filter(f -> f.name().equals(target.abiFunction())).findFirst().orElseThrow();
        ordered.remove(abi);
        function(abi);
        line("");
        line("    static {");
        line("        " + target.libraryClass() + ".requireAbiVersion(" + abi.name() + "(), " + target.abiConstant() + ");");
        line("    }");
        for (NativeFunction f : ordered) {
            function(f);
        }
        line("}");
        return out.toString();
    }

    private void constant(Constant c) {
        if (c.doc() != null || !lastWasConstant) {
            line(""); // constants without their own comment stay in their group
        }
        lastWasConstant = true;
        doc(c.doc(), null);
        String literal = c.isLong()
                ? (c.hex() ? "0x" + Long.toHexString(c.value()).toUpperCase(Locale.ROOT) : Long.toString(c.value())) + "L"
                : c.hex() ? "0x" + Integer.toHexString((int) c.value()).toUpperCase(Locale.ROOT)
                : Integer.toString((int) c.value());
        line("    public static final " + (c.isLong() ? "long " : "int ") + c.name() + " = " + literal + ";");
    }

    private void function(NativeFunction f) {
        lastWasConstant = false;
        String n = f.name();
        String layouts = f.params().stream().map(p -> "ValueLayout." + p.type().layout()).collect(Collectors.joining(", "));
        String descriptor = f.returnType() == JavaType.VOID
                ? "FunctionDescriptor.ofVoid(" + layouts + ")"
                : "FunctionDescriptor.of(ValueLayout." + f.returnType().layout() + (layouts.isEmpty() ? "" : ", " + layouts) + ")";
        line("");
        line("    /** Descriptor of {@link #" + n + "}. */");
        line("    public static final FunctionDescriptor " + n + "$DESC = " + descriptor + ";");
        line("    /** Address of {@code " + n + "} in the loaded library. */");
        line("    public static final MemorySegment " + n + "$ADDR = " + target.libraryClass() + ".symbol(\"" + n + "\");");
        line("    /** Downcall handle of {@link #" + n + "}" + (f.critical() ? ", linked critical" : "") + ". */");
        line("    public static final MethodHandle " + n + "$MH = Linker.nativeLinker().downcallHandle(" + n + "$ADDR, "
                + n + "$DESC" + (f.critical() ? ", Linker.Option.critical(true)" : "") + ");");
        line("");
        doc(f.doc(), "{@code " + javadoc(f.declaration()) + "}" + (f.critical() ? " ({@code TS_CRITICAL})" : ""));
        String params = f.params().stream().map(p -> p.type().javaName() + " " + p.name()).collect(Collectors.joining(", "));
        String args = f.params().stream().map(Param::name).collect(Collectors.joining(", "));
        String call = n + "$MH.invokeExact(" + args + ");";
        line("    public static " + f.returnType().javaName() + " " + n + "(" + params + ") {");
        line("        try {");
        line(f.returnType() == JavaType.VOID
                ? "            " + call
                : "            return (" + f.returnType().javaName() + ") " + call);
        // '$' keeps these names apart from any C parameter name.
        line("        } catch (RuntimeException | Error e$) {");
        line("            throw e$;");
        line("        } catch (Throwable t$) {");
        line("            throw new AssertionError(\"unexpected checked exception from " + n + "\", t$);");
        line("        }");
        line("    }");
    }

    private void doc(String text, String first) {
        if (text == null && first == null) {
            return;
        }
        line("    /**");
        if (first != null) {
            line("     * " + first);
        }
        if (text != null) {
            if (first != null) {
                line("     * <p>");
            }
            for (String l : text.split("\n")) {
                line(("     * " + javadoc(l)).stripTrailing());
            }
        }
        line("     */");
    }

    /** Escapes comment text for Javadoc; backslashes too, since javac reads unicode escapes in comments. */
    static String javadoc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")
                .replace("*/", "*&#47;").replace("\\", "&#92;");
    }

    private void line(String s) {
        out.append(s).append('\n');
    }
}
