package dev.tessera.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code tessera clip ...}: CLIP text and image tools. A parent command only; the work is in
 * its subcommands: tokenize, embed, classify, index, search.
 */
@Command(name = "clip",
        description = "CLIP tools: tokenizer, image and text embeddings, zero-shot classification, image search.",
        subcommands = {ClipTokenizeCommand.class, ClipEmbedCommand.class, ClipClassifyCommand.class, ClipIndexCommand.class,
                ClipSearchCommand.class})
final class ClipCommand implements Runnable {


    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing clip subcommand");
    }
}
