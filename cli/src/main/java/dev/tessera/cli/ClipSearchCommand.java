package dev.tessera.cli;

import dev.tessera.model.clip.ClipModel;
import dev.tessera.model.clip.ImageIndex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera clip search --index idx -q "a red car" -k 5}: the images of an index that best match a text. */
@Command(name = "search", description = "Print the k images of an index most similar to a text query (score, then path; best first).")
final class ClipSearchCommand implements Callable<Integer> {

    @Option(names = "--index", required = true, paramLabel = "FILE", description = "Index file from 'tessera clip index'.")
    Path index;

    @Option(names = {"-q", "--query"}, required = true, paramLabel = "TEXT", description = "Text query.")
    String query;

    @Option(names = "-k", defaultValue = "5", paramLabel = "K", description = "Results to print (default ${DEFAULT-VALUE}).")
    int k;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "CLIP model (default: the one the index was built with).")
    Path model;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (k <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-k must be positive, got " + k);
        }
        ImageIndex idx = ImageIndex.load(index);
        Path m = model != null ? model : idx.modelPath() == null ? null : Path.of(idx.modelPath());
        if (m == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "the index names no model: give -m");
        }
        try (DeviceOption.Opened opened = device.open(spec.commandLine()); ClipModel clip = ClipModel.load(m, opened.backend())) {
            List<ImageIndex.Hit> hits = idx.search(clip, query, k);
            PrintWriter out = spec.commandLine().getOut();
            for (ImageIndex.Hit h : hits) {
                out.printf(Locale.ROOT, "%.4f  %s%n", h.score(), h.image());
            }
            out.flush();
        }
        return TesseraCli.EXIT_OK;
    }
}
