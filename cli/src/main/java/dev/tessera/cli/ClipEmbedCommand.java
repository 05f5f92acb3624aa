package dev.tessera.cli;

import dev.tessera.model.clip.ClipModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera clip embed -m M (--image I | --text T)}: the normalised embedding as a JSON array. */
@Command(name = "embed", description = "Print the L2-normalised CLIP embedding of an image or a text as a JSON array.")
final class ClipEmbedCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "CLIP model: a Hugging Face folder (config.json + model.safetensors) or a .gguf file.")
    Path model;

    static final class Input {
        @Option(names = "--image", paramLabel = "FILE", description = "Image file (PNG, JPEG, BMP, GIF).")
        Path image;

        @Option(names = "--text", paramLabel = "TEXT", description = "Text (quote it).")
        String text;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (DeviceOption.Opened opened = device.open(spec.commandLine()); ClipModel m = ClipModel.load(model, opened.backend())) {
            float[] e = input.image != null ? m.embedImage(input.image) : m.embedText(input.text);
            PrintWriter out = spec.commandLine().getOut();
            out.println(json(e));
            out.flush();
        }
        return TesseraCli.EXIT_OK;
    }

    static String json(float[] v) {
        StringBuilder s = new StringBuilder(v.length * 12 + 2).append('[');
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                s.append(',');
            }
            s.append(v[i]);
        }
        return s.append(']').toString();
    }
}
