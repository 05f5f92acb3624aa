package dev.tessera.cli;

import dev.tessera.quantize.GgufQuantizer;
import dev.tessera.tensor.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera quantize IN OUT --type T}: every 2-D weight of a GGUF file to one quantized type. */
@Command(name = "quantize", description = "Quantize the 2-D weights of a GGUF file (1-D tensors stay as they are); --verbose lists every tensor with its RMSE.")
final class QuantizeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "Input GGUF file.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Output GGUF file.")
    Path out;

    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k or q6_k.")
    String type;

    /** The inherited --verbose also prints every tensor with its type and RMSE. */
    @ParentCommand
    TesseraCli root;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        DType target = GgufQuantizer.TARGETS.stream()
                .filter(t -> t.name().equalsIgnoreCase(type.trim()))
                .findFirst()
                .orElseThrow(() -> new ParameterException(spec.commandLine(), "unknown --type '" + type + "'; expected one of "
                        + GgufQuantizer.TARGETS.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))));
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        boolean verbose = root != null && root.verbose;
        long start = System.nanoTime();
        GgufQuantizer.Report report = GgufQuantizer.quantize(in, out, target, verbose, (done, total, t) -> {
            if (!t.note().isEmpty()) {
                err.printf("%n%s: %s%n", t.name(), t.note());
            }
            int width = 30;
            int filled = (int) ((long) width * done / total);
            err.printf("\rquantizing [%s%s] %d/%d", "#".repeat(filled), " ".repeat(width - filled), done, total);
            err.flush();
        });
        err.printf("%ndone in %.2f s%n", (System.nanoTime() - start) * 1e-9);
        err.flush();
        if (verbose) {
            stdout.printf("%-36s %-5s -> %-5s %12s %12s %12s%n", "tensor", "from", "to", "bytes", "new bytes", "rmse");
            for (GgufQuantizer.TensorReport t : report.tensors()) {
                stdout.printf("%-36s %-5s -> %-5s %12d %12d %12s%n", t.name(), t.from(), t.to(), t.bytesBefore(), t.bytesAfter(),
                        Double.isNaN(t.rmse()) ? "-" : String.format("%.6g", t.rmse()));
            }
        }
        stdout.printf("%s -> %s (%s): tensor data %,d -> %,d bytes (%.2f -> %.2f MiB)%n", in, out,
                target.name().toLowerCase(Locale.ROOT), report.bytesBefore(), report.bytesAfter(),
                report.bytesBefore() / 1048576.0, report.bytesAfter() / 1048576.0);
        stdout.flush();
        return TesseraCli.EXIT_OK;
    }
}
