package dev.tessera.cli;

import dev.tessera.runtime.Backend;
import dev.tessera.runtime.CpuBackend;
import dev.tessera.runtime.CudaBackend;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --device cpu|cuda|cuda:N}, shared by the commands that run a model (a picocli mixin). */
final class DeviceOption {
    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV",
            description = "Where the model runs: cpu, cuda (the first GPU) or cuda:N (default ${DEFAULT-VALUE}).")
    String device = "cpu";

    @Option(names = "--cuda-graphs", description = "On CUDA, record each model step's kernels and submit them as CUDA graphs "
            + "instead of launching them one by one.")
    boolean cudaGraphs;

    @Option(names = "--cuda-graph-ops", paramLabel = "N", defaultValue = "" + CudaBackend.DEFAULT_GRAPH_OPS,
            description = "With --cuda-graphs, ops per CUDA graph: the GPU starts on each while the next is recorded; "
                    + "0 records each step whole (default ${DEFAULT-VALUE}).")
    int cudaGraphOps = CudaBackend.DEFAULT_GRAPH_OPS;

    /** The backend the option names, to close after use (closing the CPU backend does nothing). */
    record Opened(Backend backend, String description) implements AutoCloseable {
        @Override
        public void close() {
            if (backend instanceof CudaBackend c) {
                c.close();
            }
        }
    }

    Opened open(CommandLine cl) {
        String d = device.strip().toLowerCase(java.util.Locale.ROOT);
        if (cudaGraphOps < 0) {
            throw new ParameterException(cl, "--cuda-graph-ops " + cudaGraphOps + ": expected 0 or more");
        }
        if (d.equals("cpu")) {
            if (cudaGraphs) {
                throw new ParameterException(cl, "--cuda-graphs needs --device cuda");
            }
            return new Opened(CpuBackend.INSTANCE, "cpu");
        }
        if (d.equals("cuda") || d.startsWith("cuda:")) {
            int index;
            try {
                index = d.equals("cuda") ? 0 : Integer.parseInt(d.substring(5));
            } catch (NumberFormatException e) {
                throw new ParameterException(cl, "--device " + device + ": expected cuda:N with N a device number");
            }
            try {
                CudaBackend b = CudaBackend.open(index);
                b.setGraphs(cudaGraphs);
                b.setGraphOps(cudaGraphOps);
                return new Opened(b, b.name() + " (" + b.deviceName() + (cudaGraphs ? ", " + b.graphsDescription() : "") + ")");
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new ParameterException(cl, "--device " + device + ": " + e.getMessage());
            }
        }
        throw new ParameterException(cl, "--device " + device + ": expected cpu, cuda or cuda:N");
    }
}
