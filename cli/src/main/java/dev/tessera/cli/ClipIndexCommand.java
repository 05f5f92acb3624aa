package dev.tessera.cli;

import dev.tessera.model.clip.ClipModel;
import dev.tessera.model.clip.ImageIndex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera clip index -m M --dir D -o idx}: embeds a folder of images into a searchable index file. */
@Command(name = "index", description = {"Embed every image under a folder (PNG, JPEG, BMP, GIF; recursive) into an index file",
        "for 'tessera clip search'. Progress on stderr; unreadable images are skipped with a warning."})
final class ClipIndexCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "CLIP model: a Hugging Face folder (config.json + model.safetensors) or a .gguf file.")
    Path model;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Folder of images.")
    Path dir;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "Index file to write.")
    Path output;

    @Option(names = "--threads", paramLabel = "N", description = "Image decoding threads (default: available processors).")
    Integer threads;

    @Option(names = "--no-progress", description = "Do not draw a progress bar.")
    boolean noProgress;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be positive, got " + t);
        }
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        try (DeviceOption.Opened opened = device.open(spec.commandLine()); ClipModel m = ClipModel.load(model, opened.backend())) {
            ImageIndex.BuildResult r = ImageIndex.build(m, model.toAbsolutePath().toString(), dir, t,
                    noProgress ? null : (done, total) -> bar(err, done, total, t0));
            if (!noProgress) {
                err.println();
            }
            for (String s : r.skipped()) {
                err.println("tessera: warning: skipped " + s);
            }
            r.index().save(output);
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf(java.util.Locale.ROOT, "indexed %d images (%d skipped) in %.1f s -> %s%n", r.index().size(), r.skipped().size(),
                    secs, output);
            out.flush();
            err.flush();
        }
        return TesseraCli.EXIT_OK;
    }

    /** One redrawn line: [=====>     ] done/total, images/s. */
    static void bar(PrintWriter err, int done, int total, long t0) {
        int width = 30;
        int filled = (int) ((long) width * done / total);
        StringBuilder s = new StringBuilder("\rindexing [");
        for (int i = 0; i < width; i++) {
            s.append(i < filled ? '=' : i == filled ? '>' : ' ');
        }
        double secs = Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
        s.append("] ").append(done).append('/').append(total)
                .append(String.format(java.util.Locale.ROOT, "  %.1f img/s", done / secs));
        err.print(s);
        err.flush();
    }
}
