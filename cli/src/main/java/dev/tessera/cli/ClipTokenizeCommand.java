package dev.tessera.cli;

import dev.tessera.model.clip.ClipTokenizer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera clip tokenize TEXT}: CLIP BPE token ids as a JSON array. */
@Command(name = "tokenize",
        description = {"Print the CLIP token ids of TEXT as a JSON array (no start/end tokens),",
                "or with --context the start/end-wrapped, zero-padded context CLIP's text encoder takes."})
final class ClipTokenizeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "TEXT", description = "The text to tokenize (quote it).")
    String text;

    @Option(names = "--context",
            description = "Print [49406, ids..., 49407] padded with 0 to the context length, truncated as OpenAI's tokenize(truncate=True).")
    boolean context;

    @Option(names = "--context-length", paramLabel = "N", defaultValue = "77",
            description = "Context length for --context (default: ${DEFAULT-VALUE}).")
    int contextLength;


    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (contextLength < 2) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--context-length must be at least 2, got " + contextLength);
        }
        ClipTokenizer tok = ClipTokenizer.load();
        int[] ids = context ? tok.encodeContext(text, contextLength) : tok.encode(text);
        StringBuilder s = new StringBuilder(ids.length * 6 + 2).append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) s.append(',');
            s.append(ids[i]);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(s.append(']'));
        out.flush();
        return TesseraCli.EXIT_OK;
    }
}
