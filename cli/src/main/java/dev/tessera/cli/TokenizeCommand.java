package dev.tessera.cli;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera tokenize -m MODEL TEXT}: the token ids of TEXT under the model's own tokenizer, as JSON. */
@Command(name = "tokenize", description = "Print the token ids of TEXT under the GGUF model's tokenizer as a JSON array.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "A .gguf file with tokenizer metadata.")
    Path model;

    @Parameters(paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Option(names = "--pieces", description = "Print objects {\"id\", \"token\", \"piece\"} instead of bare ids "
            + "(token: vocabulary text; piece: the text it stands for).")
    boolean pieces;

    @Option(names = "--no-bos", description = "Leave out the BOS token that the model would add.")
    boolean noBos;

    @Option(names = "--no-parse-special", description = "Encode special-token text such as <s> as plain text.")
    boolean noParseSpecial;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Tokenizer tok;
        try (GgufFile gguf = GgufFile.open(model)) {
            tok = Tokenizer.fromGguf(gguf);
        }
        int[] ids = tok.encode(text, true, !noParseSpecial);
        if (noBos && tok.addsBos() && ids.length > 0 && ids[0] == tok.bosId()) {
            ids = java.util.Arrays.copyOfRange(ids, 1, ids.length);
        }
        JsonWriter j = new JsonWriter().beginArray();
        for (int id : ids) {
            if (pieces) {
                j.beginObject().name("id").value(id).name("token").value(tok.token(id))
                        .name("piece").value(tok.piece(id)).endObject();
            } else {
                j.value(id);
            }
        }
        j.endArray();
        PrintWriter out = spec.commandLine().getOut();
        out.println(j);
        out.flush();
        return TesseraCli.EXIT_OK;
    }
}
