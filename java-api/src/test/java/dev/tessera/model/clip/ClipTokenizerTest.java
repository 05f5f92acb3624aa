package dev.tessera.model.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipTokenizerTest {

    private static final ClipTokenizer TOK = ClipTokenizer.load();

    record Case(String text, int[] ids, int[] context) {}

    private static List<String[]> readTsv(String resource) throws IOException {
        try (InputStream in = ClipTokenizerTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "missing test resource " + resource);
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String[]> rows = new ArrayList<>();
            for (String line : all.split("\n", -1)) {
                if (line.isEmpty() || line.startsWith("#")) continue;
                rows.add(line.split("\t", -1));
            }
            return rows;
        }
    }

    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char n = s.charAt(++i);
            sb.append(switch (n) {
                case 't' -> '\t';
                case 'n' -> '\n';
                case 'r' -> '\r';
                case '\\' -> '\\';
                default -> throw new IllegalArgumentException("bad escape \\" + n);
            });
        }
        return sb.toString();
    }

    private static int[] ints(String s) {
        return s.isBlank() ? new int[0] : Arrays.stream(s.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    private static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        for (String[] r : readTsv("/goldens/clip/tokenizer.tsv")) {
            assertEquals(3, r.length, "golden row needs 3 columns: " + Arrays.toString(r));
            out.add(new Case(unescape(r[0]), ints(r[1]), ints(r[2])));
        }
        return out;
    }

    @Test
    void everyGoldenCaseMatchesOpenAiExactly() throws IOException {
        List<Case> cases = cases();
        assertTrue(cases.size() >= 40, "golden table too small: " + cases.size());
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            int[] ids = TOK.encode(c.text());
            int[] ctx = TOK.encodeContext(c.text());
            if (!Arrays.equals(c.ids(), ids)) {
                failures.add("encode(" + c.text() + ")\n  want " + Arrays.toString(c.ids()) + "\n  got  " + Arrays.toString(ids));
            }
            if (!Arrays.equals(c.context(), ctx)) {
                failures.add("encodeContext(" + c.text() + ")\n  want " + Arrays.toString(c.context()) + "\n  got  " + Arrays.toString(ctx));
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n" + String.join("\n", failures));
    }

    @Test
    void knownIdsOfTheCanonicalPrompt() {
        assertArrayEquals(new int[] {320, 1125, 539, 320, 2368}, TOK.encode("a photo of a cat"));
        assertEquals(ClipTokenizer.VOCAB_SIZE, TOK.vocabSize());
        assertEquals("<|startoftext|>", TOK.token(ClipTokenizer.START_OF_TEXT));
        assertEquals("<|endoftext|>", TOK.token(ClipTokenizer.END_OF_TEXT));
        assertEquals("!", TOK.token(0));
        assertEquals("!</w>", TOK.token(256));
        assertEquals(ClipTokenizer.START_OF_TEXT, TOK.id("<|startoftext|>"));
        assertEquals(-1, TOK.id("not a token"));
    }

    @Test
    void eachDigitIsItsOwnToken() {
        int[] ids = TOK.encode("2024");
        assertEquals(4, ids.length);
        assertEquals("2</w>", TOK.token(ids[0]));
        assertEquals("0</w>", TOK.token(ids[1]));
    }

    @Test
    void contextIsPaddedAndTruncatedWithEndForced() {
        int[] ctx = TOK.encodeContext("a photo of a cat");
        assertEquals(77, ctx.length);
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 49407, 0}, Arrays.copyOf(ctx, 8));
        int[] longCtx = TOK.encodeContext("word ".repeat(200));
        assertEquals(77, longCtx.length);
        assertEquals(ClipTokenizer.START_OF_TEXT, longCtx[0]);
        assertEquals(ClipTokenizer.END_OF_TEXT, longCtx[76]);
        assertEquals(TOK.encode("word")[0], longCtx[75]);
        int[] small = TOK.encodeContext("a photo of a cat", 4);
        assertArrayEquals(new int[] {49406, 320, 1125, 49407}, small);
        assertArrayEquals(new int[] {49406, 49407}, TOK.encodeContext("", 2));
        assertThrows(IllegalArgumentException.class, () -> TOK.encodeContext("x", 1));
    }

    @Test
    void decodeInvertsEncodeUpToCleanUp() {
        assertEquals("a photo of a cat ", TOK.decode(TOK.encode("A  photo of a CAT")));
        assertEquals("café 一张猫 😀 ", TOK.decode(TOK.encode("café 一张猫 😀")).replace("  ", " "));
        assertEquals("<|startoftext|>hi ", TOK.decode(new int[] {ClipTokenizer.START_OF_TEXT, TOK.encode("hi")[0]}));
        // Byte 0x80 alone (symbol U+0122) is not UTF-8: it decodes to U+FFFD as Python's errors="replace".
        int lone = TOK.id("\u0122");
        assertEquals(2 * 0 + 188 + 34, lone);
        assertEquals("\ufffd", TOK.decode(new int[] {lone}));
        assertThrows(IllegalArgumentException.class, () -> TOK.decode(new int[] {49408}));
        assertThrows(IllegalArgumentException.class, () -> TOK.token(-1));
    }

    @Test
    void htmlEntityTableMatchesPython() throws IOException {
        List<String[]> rows = readTsv("/goldens/clip/html_entities.tsv");
        int checked = 0;
        for (String[] r : rows) {
            String ref = unescape(r[0]);
            String want = unescape(r[1]);
            assertEquals(want, ClipTextCleaner.htmlUnescape(ref), "html.unescape(" + ref + ")");
            checked++;
        }
        // Every name the cleaner knows is in the golden file, so none can drift unchecked.
        for (String name : ClipTextCleaner.NAMED.keySet()) {
            assertTrue(rows.stream().anyMatch(r -> r[0].equals("&" + name + ";")), "no golden for &" + name + ";");
        }
        assertTrue(checked > 200);
    }

    @Test
    void cleanTextFollowsOpenAiSteps() {
        assertEquals("fish & chips", ClipTokenizer.cleanText("  Fish &amp;amp; Chips \n"));
        assertEquals("don't \"x\"", ClipTokenizer.cleanText("Don\u2019t \u201cX\u201d"));
        assertEquals("é", ClipTokenizer.cleanText("e\u0301"));
        assertEquals("a b", ClipTokenizer.cleanText("a\u00a0\u2003\u3000b"));
    }

    @Test
    void loadsFromAFileAndRejectsShortOrBrokenOnes(@TempDir Path dir) throws IOException {
        Path bundled = dir.resolve("vocab.txt.gz");
        try (InputStream in = ClipTokenizer.class.getResourceAsStream(ClipTokenizer.VOCAB_RESOURCE)) {
            Files.write(bundled, in.readAllBytes());
        }
        ClipTokenizer t = ClipTokenizer.fromFile(bundled);
        assertArrayEquals(TOK.encode("a photo of a cat"), t.encode("a photo of a cat"));

        Path shortFile = dir.resolve("short.txt.gz");
        try (var out = new GZIPOutputStream(Files.newOutputStream(shortFile))) {
            out.write("#version: 0.2\ni n\nt h\n".getBytes(StandardCharsets.UTF_8));
        }
        IOException e = assertThrows(IOException.class, () -> ClipTokenizer.fromFile(shortFile));
        assertTrue(e.getMessage().contains("short.txt.gz"), e.getMessage());

        Path notGzip = dir.resolve("plain.txt");
        Files.writeString(notGzip, "#version: 0.2\ni n\n");
        assertThrows(IOException.class, () -> ClipTokenizer.fromFile(notGzip));
    }

    @Test
    void isSafeToShareAcrossThreads() throws Exception {
        List<Case> cases = cases();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                try {
                    for (int rep = 0; rep < 5; rep++) {
                        for (Case c : cases) {
                            if (!Arrays.equals(c.ids(), TOK.encode(c.text()))) throw new AssertionError(c.text());
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) th.join();
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
