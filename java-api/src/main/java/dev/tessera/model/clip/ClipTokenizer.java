package dev.tessera.model.clip;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * CLIP's byte-level BPE tokenizer, behaving as OpenAI's {@code simple_tokenizer.py}.
 *
 * <p>Vocabulary (49408 entries): the 256 byte symbols of the byte-to-unicode table, the same
 * 256 with {@code "</w>"} appended, one entry per merge (the two halves joined), then
 * {@code <|startoftext|>} (49406) and {@code <|endoftext|>} (49407). The merges are lines
 * 1..48894 of {@code bpe_simple_vocab_16e6.txt.gz} (line 0 is the version header; OpenAI slices
 * {@code [1 : 49152-256-2+1]}), and a merge's rank is its position in that list.
 *
 * <p>Text goes through {@link #cleanText} (see {@link ClipTextCleaner} for what of ftfy is
 * reproduced), is split with OpenAI's pattern, each piece's UTF-8 bytes are mapped to byte
 * symbols with {@code "</w>"} on the last one, and merged lowest rank first. Instances are
 * immutable apart from a thread-safe cache and may be shared.
 */
public final class ClipTokenizer {

    public static final int START_OF_TEXT = 49406;
    public static final int END_OF_TEXT = 49407;
    public static final int VOCAB_SIZE = 49408;
    /** The context length of every released CLIP text encoder. */
    public static final int CONTEXT_LENGTH = 77;
    /** Number of merges OpenAI uses: 49152 - 256 - 2. */
    public static final int MERGE_COUNT = 48894;

    /** Classpath resource holding OpenAI's merges (MIT, see LICENSE-openai-CLIP.txt beside it). */
    public static final String VOCAB_RESOURCE = "/dev/tessera/model/clip/bpe_simple_vocab_16e6.txt.gz";

    private static final String SOT = "<|startoftext|>";
    private static final String EOT = "<|endoftext|>";
    private static final int CACHE_LIMIT = 200_000;

    /**
     * OpenAI's split pattern. Java's \p{L} and \p{N} are the Unicode general categories L* and
     * N* as in Python's {@code regex} module, and \s is White_Space under
     * UNICODE_CHARACTER_CLASS; checked code point by code point against regex 2026.9 with
     * IGNORECASE, the classes agree on every character the JDK's Unicode version assigns but
     * one: U+0345 COMBINING GREEK YPOGEGRAMMENI, whose case variant is the letter iota, so
     * Python's case-insensitive negated class rejects it and no alternative matches it (it is
     * dropped). It is excluded here for the same result.
     */
    private static final Pattern SPLIT = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}\\u0345]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

    private static volatile ClipTokenizer bundled;

    private final char[] byteToChar = new char[256];
    private final int[] charToByte = new int[512];
    private final String[] vocab;
    private final Map<String, Integer> encoder;
    /** Rank of a merge keyed by {@code first + '\u0000' + second} (byte symbols never hold NUL). */
    private final Map<String, Integer> ranks;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(List<String[]> merges) {
        buildByteTable();
        List<String> v = new ArrayList<>(VOCAB_SIZE);
        for (int b = 0; b < 256; b++) v.add(String.valueOf(byteToChar[BYTE_ORDER[b]]));
        for (int b = 0; b < 256; b++) v.add(byteToChar[BYTE_ORDER[b]] + "</w>");
        ranks = new HashMap<>(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            v.add(m[0] + m[1]);
            ranks.put(m[0] + '\u0000' + m[1], i); // a repeated pair keeps its last rank, as Python's dict
        }
        v.add(SOT);
        v.add(EOT);
        vocab = v.toArray(new String[0]);
        encoder = new HashMap<>(vocab.length * 2);
        // Python's dict(zip(vocab, ids)) keeps the last id of a repeated string.
        for (int i = 0; i < vocab.length; i++) encoder.put(vocab[i], i);
    }

    /**
     * Order in which Python's {@code bytes_to_unicode()} lists bytes (its dict's insertion
     * order): the printable ranges '!'..'~', '¡'..'¬', '®'..'ÿ' first, then the rest ascending.
     * The first 256 vocabulary ids follow this order.
     */
    private static final int[] BYTE_ORDER = buildByteOrder();

    private static boolean isPrintableByte(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    }

    private static int[] buildByteOrder() {
        int[] order = new int[256];
        int n = 0;
        for (int b = 0; b < 256; b++) if (isPrintableByte(b)) order[n++] = b;
        for (int b = 0; b < 256; b++) if (!isPrintableByte(b)) order[n++] = b;
        return order;
    }

    /** Printable bytes stand for themselves; the others take U+0100.. in ascending byte order. */
    private void buildByteTable() {
        Arrays.fill(charToByte, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            char c = isPrintableByte(b) ? (char) b : (char) (256 + n++);
            byteToChar[b] = c;
            charToByte[c] = b;
        }
    }

    // ------------------------------------------------------------------ loading

    /** The tokenizer over the vocabulary bundled with Tessera (loaded once, then shared). */
    public static ClipTokenizer load() {
        ClipTokenizer t = bundled;
        if (t == null) {
            synchronized (ClipTokenizer.class) {
                t = bundled;
                if (t == null) {
                    try (InputStream in = ClipTokenizer.class.getResourceAsStream(VOCAB_RESOURCE)) {
                        if (in == null) {
                            throw new IllegalStateException("CLIP vocabulary resource missing: " + VOCAB_RESOURCE);
                        }
                        t = fromGzip(in, VOCAB_RESOURCE);
                    } catch (IOException e) {
                        throw new IllegalStateException("cannot read CLIP vocabulary " + VOCAB_RESOURCE, e);
                    }
                    bundled = t;
                }
            }
        }
        return t;
    }

    /** A tokenizer over a gzipped merges file laid out as OpenAI's bpe_simple_vocab_16e6.txt.gz. */
    public static ClipTokenizer fromFile(Path gzFile) throws IOException {
        Objects.requireNonNull(gzFile, "gzFile");
        try (InputStream in = Files.newInputStream(gzFile)) {
            return fromGzip(in, gzFile.toString());
        }
    }

    private static ClipTokenizer fromGzip(InputStream raw, String name) throws IOException {
        List<String[]> merges = new ArrayList<>(MERGE_COUNT);
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), decoder))) {
            String header = r.readLine();
            if (header == null) throw new IOException(name + ": empty CLIP merges file");
            for (int line = 1; line <= MERGE_COUNT; line++) {
                String s = r.readLine();
                if (s == null) {
                    throw new IOException(name + ": CLIP merges file ends at line " + line
                            + ", expected at least " + MERGE_COUNT + " merges after the header");
                }
                String[] parts = s.strip().split("\\s+");
                if (parts.length != 2) {
                    throw new IOException(name + ": line " + (line + 1) + " is not a merge pair: '" + s + "'");
                }
                merges.add(parts);
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(name + ": CLIP merges file is not valid UTF-8", e);
        }
        return new ClipTokenizer(merges);
    }

    // ------------------------------------------------------------------ API

    /** The clean-up applied before splitting (ftfy subset, html unescape, whitespace, lower-case). */
    public static String cleanText(String text) {
        Objects.requireNonNull(text, "text");
        return ClipTextCleaner.clean(text);
    }

    /** Token ids of {@code text}, without start/end tokens. */
    public int[] encode(String text) {
        String clean = cleanText(text);
        int[] out = new int[Math.max(16, clean.length())];
        int n = 0;
        Matcher m = SPLIT.matcher(clean);
        while (m.find()) {
            int[] ids = bpe(m.group());
            if (n + ids.length > out.length) out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length));
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
        }
        return Arrays.copyOf(out, n);
    }

    /** {@link #encodeContext(String, int)} with the standard 77-token context. */
    public int[] encodeContext(String text) {
        return encodeContext(text, CONTEXT_LENGTH);
    }

    /**
     * {@code [START_OF_TEXT, ids..., END_OF_TEXT]} zero-padded to {@code contextLength}. Longer
     * texts are cut to {@code contextLength} tokens and the last kept one is replaced by
     * END_OF_TEXT, as OpenAI's {@code clip.tokenize(truncate=True)} does.
     */
    public int[] encodeContext(String text, int contextLength) {
        if (contextLength < 2) {
            throw new IllegalArgumentException("contextLength must be at least 2 (start and end tokens), got " + contextLength);
        }
        int[] ids = encode(text);
        int[] out = new int[contextLength]; // zero is the padding id, as in OpenAI's tokenize()
        out[0] = START_OF_TEXT;
        if (ids.length + 2 > contextLength) {
            // OpenAI keeps the first contextLength tokens of [sot, ids, eot] and overwrites the last.
            System.arraycopy(ids, 0, out, 1, contextLength - 1);
            out[contextLength - 1] = END_OF_TEXT;
        } else {
            System.arraycopy(ids, 0, out, 1, ids.length);
            out[ids.length + 1] = END_OF_TEXT;
        }
        return out;
    }

    /**
     * Text of {@code ids}: the byte symbols are joined, turned back into bytes, decoded as UTF-8
     * (invalid sequences become U+FFFD) and every {@code "</w>"} becomes a space, as OpenAI's
     * {@code decode}. Start/end tokens decode to their literal names.
     */
    public String decode(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        StringBuilder sym = new StringBuilder();
        for (int id : ids) sym.append(token(id));
        byte[] bytes = new byte[sym.length()];
        for (int i = 0; i < sym.length(); i++) {
            char c = sym.charAt(i);
            // Every vocabulary character is a byte symbol, "</w>" and the special names included.
            bytes[i] = (byte) charToByte[c];
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        return text.replace("</w>", " ");
    }

    /** The vocabulary string of token {@code id}. */
    public String token(int id) {
        if (id < 0 || id >= vocab.length) {
            throw new IllegalArgumentException("token id " + id + " outside the CLIP vocabulary [0, " + vocab.length + ")");
        }
        return vocab[id];
    }

    /** The id of a vocabulary string, or -1. */
    public int id(String token) {
        Integer i = encoder.get(token);
        return i == null ? -1 : i;
    }

    public int vocabSize() {
        return vocab.length;
    }

    // ------------------------------------------------------------------ BPE

    private int[] bpe(String piece) {
        int[] cached = cache.get(piece);
        if (cached != null) return cached;
        int[] ids = bpeUncached(piece);
        if (cache.size() >= CACHE_LIMIT) cache.clear(); // bounded: long-running services see unbounded text
        cache.put(piece, ids);
        return ids;
    }

    private int[] bpeUncached(String piece) {
        if (piece.equals(SOT)) return new int[] {START_OF_TEXT};
        if (piece.equals(EOT)) return new int[] {END_OF_TEXT};
        byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
        List<String> word = new ArrayList<>(utf8.length);
        for (byte b : utf8) word.add(String.valueOf(byteToChar[b & 0xff]));
        int last = word.size() - 1;
        word.set(last, word.get(last) + "</w>");
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = ranks.get(word.get(i) + '\u0000' + word.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(word.size());
            int i = 0;
            while (i < word.size()) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i));
                    i++;
                }
            }
            word = merged;
        }
        int[] ids = new int[word.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = encoder.get(word.get(i));
            if (id == null) {
                // Cannot happen with OpenAI's file (every merge result is in the vocabulary).
                throw new IllegalStateException("BPE produced '" + word.get(i) + "' which is not in the vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }
}
