package dev.tessera.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ClipCommandTest {

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TesseraCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void tokenizePrintsIdsWithoutStartAndEnd() {
        Run r = run("clip", "tokenize", "a photo of a cat");
        assertEquals(0, r.code(), r.err());
        assertEquals("[320,1125,539,320,2368]", r.out().strip());
        assertEquals("", r.err());
    }

    @Test
    void contextIsWrappedAndPaddedTo77() {
        Run r = run("clip", "tokenize", "--context", "A photo of a CAT!");
        assertEquals(0, r.code(), r.err());
        String json = r.out().strip();
        assertTrue(json.startsWith("[49406,320,1125,539,320,2368,"), json);
        String[] ids = json.substring(1, json.length() - 1).split(",");
        assertEquals(77, ids.length);
        assertEquals("49407", ids[7]);
        assertEquals("0", ids[76]);
    }

    @Test
    void contextLengthOptionTruncatesWithEndToken() {
        Run r = run("clip", "tokenize", "--context", "--context-length", "4", "a photo of a cat");
        assertEquals(0, r.code(), r.err());
        assertEquals("[49406,320,1125,49407]", r.out().strip());
        assertEquals(2, run("clip", "tokenize", "--context", "--context-length", "1", "x").code());
    }

    @Test
    void emptyTextGivesAnEmptyArray() {
        Run r = run("clip", "tokenize", "");
        assertEquals(0, r.code(), r.err());
        assertEquals("[]", r.out().strip());
    }

    @Test
    void missingSubcommandOrTextIsUsageError() {
        Run noSub = run("clip");
        assertEquals(2, noSub.code());
        assertTrue(noSub.err().contains("missing clip subcommand"), noSub.err());
        assertTrue(noSub.err().contains("tessera clip --help"), noSub.err());
        assertEquals(2, run("clip", "tokenize").code());
        assertEquals(2, run("clip", "nope").code());
    }

    @Test
    void helpListsTheSubcommandAndOptions() {
        Run clip = run("clip", "--help");
        assertEquals(0, clip.code(), clip.err());
        assertTrue(clip.out().contains("tokenize"), clip.out());
        Run tok = run("clip", "tokenize", "--help");
        assertEquals(0, tok.code(), tok.err());
        assertTrue(tok.out().contains("--context-length"), tok.out());
    }
}
