package dev.tessera.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tessera} command. Results go to stdout, progress and errors to stderr.
 * Exit codes: 0 success, 1 failure, 2 bad usage.
 */
@Command(name = "tessera",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT, // -h/--help and -V/--version on every subcommand
        versionProvider = VersionProvider.class,
        description = "Runs multimodal models on Tessera's native kernels.",
        subcommands = {InfoCommand.class, TokenizeCommand.class, GenerateCommand.class, ClipCommand.class, LlavaCommand.class, QuantizeCommand.class,
                BenchCommand.class, BenchModelCommand.class})
public final class TesseraCli implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces with errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        TesseraCli root = new TesseraCli();
        CommandLine cli = new CommandLine(root);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExitCodeExceptionMapper(e -> EXIT_FAILED);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("tessera: " + e.getMessage());
            err.println("Try 'tessera " + commandPath(e.getCommandLine()) + "--help' for usage.");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            if (e instanceof CommandLine.ParameterException pe) {
                throw pe;
            }
            return fail(e, err, root.verbose);
        });
        try {
            return cli.execute(args);
        } catch (LinkageError e) {
            // The native library could not be loaded (no build for this platform, a bad
            // TESSERA_LIBRARY_PATH): picocli hands only Exceptions to the handler above.
            return fail(e, err, root.verbose);
        }
    }

    private static int fail(Throwable e, PrintWriter err, boolean verbose) {
        err.println("tessera: error: " + describe(e));
        if (verbose) {
            e.printStackTrace(err);
        }
        return EXIT_FAILED;
    }

    private static String commandPath(CommandLine commandLine) {
        StringBuilder path = new StringBuilder();
        for (CommandLine c = commandLine; c != null && c.getParent() != null; c = c.getParent()) {
            path.insert(0, c.getCommandName() + " ");
        }
        return path.toString();
    }

    /** One clear line: the message, or the exception's type when it has none. */
    static String describe(Throwable e) {
        if (e instanceof ExceptionInInitializerError && e.getCause() != null) {
            return describe(e.getCause());
        }
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file: " + message;
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "access denied: " + message;
        }
        return message;
    }
}
