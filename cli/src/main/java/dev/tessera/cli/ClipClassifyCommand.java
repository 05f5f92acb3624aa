package dev.tessera.cli;

import dev.tessera.model.clip.ClipModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera clip classify -m M --image I --labels "a cat,a dog"}: zero-shot labels ranked by probability. */
@Command(name = "classify", description = {"Zero-shot classification: rank comma-separated labels for an image",
        "(each put in the prompt template, scored by CLIP, softmax with the model's logit scale)."})
final class ClipClassifyCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "CLIP model: a Hugging Face folder (config.json + model.safetensors) or a .gguf file.")
    Path model;

    @Option(names = "--image", required = true, paramLabel = "FILE", description = "Image file (PNG, JPEG, BMP, GIF).")
    Path image;

    @Option(names = "--labels", required = true, paramLabel = "LIST", description = "Comma-separated labels, e.g. \"cat,dog\".")
    String labels;

    @Option(names = "--template", defaultValue = ClipModel.DEFAULT_TEMPLATE, paramLabel = "T",
            description = "Prompt template; {} is replaced by each label (default: \"${DEFAULT-VALUE}\").")
    String template;

    @Option(names = "--json", description = "Print [{\"label\":..,\"probability\":..}, ...] instead of a table.")
    boolean json;

    @Mixin
    DeviceOption device = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<String> list = new ArrayList<>();
        for (String l : labels.split(",")) {
            if (!l.isBlank()) {
                list.add(l.strip());
            }
        }
        if (list.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--labels has no labels: give a comma-separated list");
        }
        if (!template.contains("{}")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--template must contain {}, got \"" + template + "\"");
        }
        try (DeviceOption.Opened opened = device.open(spec.commandLine()); ClipModel m = ClipModel.load(model, opened.backend())) {
            List<ClipModel.Label> ranked = m.classify(m.embedImage(image), list, template);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                JsonWriter w = new JsonWriter().beginArray();
                for (ClipModel.Label l : ranked) {
                    w.beginObject().name("label").value(l.label()).name("probability").value(l.probability()).endObject();
                }
                out.println(w.endArray());
            } else {
                for (ClipModel.Label l : ranked) {
                    out.printf(Locale.ROOT, "%8.4f  %s%n", l.probability(), l.label());
                }
            }
            out.flush();
        }
        return TesseraCli.EXIT_OK;
    }
}
