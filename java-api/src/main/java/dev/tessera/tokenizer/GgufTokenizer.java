package dev.tessera.tokenizer;

import dev.tessera.io.gguf.GgufArray;
import dev.tessera.io.gguf.GgufMetadata;
import dev.tessera.io.gguf.GgufValueType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The {@link Tokenizer} implementation: vocabulary, special-token handling and the three algorithms. */
final class GgufTokenizer implements Tokenizer {
    // Token attributes (llama.cpp's bit values, derived from tokenizer.ggml.token_type).
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 2;
    static final int ATTR_NORMAL = 4;
    static final int ATTR_CONTROL = 8;
    static final int ATTR_USER_DEFINED = 16;
    static final int ATTR_BYTE = 32;
    static final int ATTR_LSTRIP = 128;
    static final int ATTR_RSTRIP = 256;

    private static final String K = "tokenizer.ggml.";
    private static final char SPACE_MARK = '\u2581'; // ▁, SentencePiece's visible space
    private static final byte[] EMPTY = new byte[0];

    /** Texts llama.cpp treats as end-of-generation (and forces to control type). */
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");
    /** End-of-turn candidates when tokenizer.ggml.eot_token_id is absent, in llama.cpp's list. */
    private static final Set<String> EOT_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
            "<end_of_utterance>");
    /** Fill-in-the-middle tokens llama.cpp recognises by text and forces to control type. */
    private static final Set<String> FIM_TEXTS = Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
            "<SUF>", "▁<SUF>", "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
            "▁<MID>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>",
            "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>");
    /** FIM tokens that also end generation. */
    private static final Set<String> FIM_EOG_TEXTS = Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>");

    private enum Kind { SPM, BPE, WPM }

    private final String source;
    private final String model;
    private final Kind kind;
    private final PreTokenizer pre;
    private final String preName;

    private final String[] tokens;
    private final float[] scores;
    private final int[] attr;
    private final Map<String, Integer> ids;
    private final int maxTokenChars;
    private final Map<String, Integer> mergeRanks;
    private final int[] byteTokens; // SPM byte fallback: byte -> id, -1 if none
    /** Words recur in text: their BPE result is remembered (cleared when it grows past WORD_CACHE_MAX). */
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();
    private static final int WORD_CACHE_MAX = 1 << 16;

    private final int bos;
    private final int eos;
    private final int unk;
    private final int sep;
    private final int pad;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSep;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;
    private final boolean ignoreMerges;
    private final boolean lowercase;
    private final boolean stripAccents;
    private final int[] specialCache;
    private final boolean[] eog;

    GgufTokenizer(GgufMetadata m, String source) {
        this.source = source;
        this.model = m.getString(K + "model", null);
        if (model == null) {
            throw new IllegalArgumentException(source + ": no tokenizer (metadata key '" + K + "model' is missing)");
        }
        String preKey = m.getString(K + "pre", null);
        int defBos;
        int defEos;
        int defUnk;
        int defSep = -1;
        int defPad = -1;
        boolean bosFlag;
        boolean spacePrefix;
        boolean clean;
        boolean ignore = false;
        switch (model) {
            case "llama" -> {
                kind = Kind.SPM;
                defBos = 1;
                defEos = 2;
                defUnk = 0;
                bosFlag = true;
                spacePrefix = true;
                clean = false;
                pre = null;
                preName = "default";
            }
            case "gpt2" -> {
                kind = Kind.BPE;
                defBos = 11;
                defEos = 11;
                defUnk = -1;
                PreTokenizer.Spec spec = PreTokenizer.spec(preKey, source);
                pre = PreTokenizer.of(spec);
                preName = spec.name();
                bosFlag = spec.addBos();
                spacePrefix = false;
                clean = spec.cleanSpaces();
                ignore = spec.ignoreMerges();
            }
            case "bert" -> {
                kind = Kind.WPM;
                defBos = 101;
                defEos = -1;
                defUnk = 100;
                defSep = 102;
                defPad = 0;
                bosFlag = true;
                spacePrefix = false;
                clean = true;
                pre = null;
                preName = "default";
            }
            default -> throw new IllegalArgumentException(source + ": unsupported tokenizer model " + K + "model = '"
                    + model + "' (supported: llama, gpt2, bert)");
        }
        this.ignoreMerges = ignore;
        this.cleanSpaces = clean;
        this.addSpacePrefix = m.getBoolean(K + "add_space_prefix", spacePrefix);

        // Vocabulary
        if (!m.contains(K + "tokens")) {
            throw new IllegalArgumentException(source + ": no tokenizer vocabulary (metadata key '" + K + "tokens')");
        }
        List<String> list = m.getStringArray(K + "tokens");
        int n = list.size();
        tokens = new String[n];
        ids = new HashMap<>(n * 2);
        int maxLen = 0;
        for (int i = 0; i < n; i++) {
            String t = list.get(i);
            if (t.isEmpty()) {
                t = "[EMPTY_" + i + "]"; // llama.cpp's name for an empty token, keeps ids unique
            }
            Integer dup = ids.putIfAbsent(t, i);
            if (dup != null) {
                throw new IllegalArgumentException(source + ": duplicate token in vocabulary: '" + t + "' has ids "
                        + dup + " and " + i);
            }
            tokens[i] = t;
            maxLen = Math.max(maxLen, t.length());
        }
        maxTokenChars = maxLen;
        scores = readScores(m, n);
        attr = readAttributes(m, n);

        // Merges
        if (kind == Kind.BPE) {
            if (!m.contains(K + "merges")) {
                throw new IllegalArgumentException(source + ": gpt2 tokenizer without merges (metadata key '" + K + "merges')");
            }
            List<String> merges = m.getStringArray(K + "merges");
            mergeRanks = new HashMap<>(merges.size() * 2);
            for (int r = 0; r < merges.size(); r++) {
                String w = merges.get(r);
                // "left right", split at the first space after position 0; the first rank of a pair wins
                if (w.indexOf(' ', 1) > 0) {
                    mergeRanks.putIfAbsent(w, r);
                }
            }
        } else {
            mergeRanks = Map.of();
        }

        // Special ids
        this.bos = specialId(m, "bos_token_id", defBos, n);
        this.eos = specialId(m, "eos_token_id", defEos, n);
        this.unk = specialId(m, "unknown_token_id", defUnk, n);
        this.sep = specialId(m, "seperator_token_id", defSep, n); // sic: llama.cpp's key spelling
        this.pad = specialId(m, "padding_token_id", defPad, n);
        int eot = specialId(m, "eot_token_id", -1, n);
        int eom = specialId(m, "eom_token_id", -1, n);
        this.addBos = m.getBoolean(K + "add_bos_token", bosFlag);
        this.addEos = m.getBoolean(K + "add_eos_token", false);
        this.addSep = m.getBoolean(K + "add_sep_token", kind == Kind.WPM);
        requireId(addBos, bos, "add_bos_token", "bos_token_id");
        requireId(addEos, eos, "add_eos_token", "eos_token_id");
        requireId(addSep, sep, "add_sep_token", "seperator_token_id");
        this.lowercase = m.getBoolean(K + "normalizer.lowercase", true);
        this.stripAccents = m.getBoolean(K + "normalizer.strip_accents", lowercase);

        // Tokens recognised by text, as llama.cpp does until converters provide the ids.
        eog = new boolean[n];
        for (int i = 0; i < n; i++) {
            String t = tokens[i];
            if (eot < 0 && EOT_TEXTS.contains(t)) {
                eot = i;
                attr[i] |= ATTR_CONTROL;
            }
            if (eom < 0 && t.equals("<|eom_id|>")) {
                eom = i;
                attr[i] |= ATTR_CONTROL;
            }
            if (FIM_TEXTS.contains(t)) {
                attr[i] |= ATTR_CONTROL;
                eog[i] |= FIM_EOG_TEXTS.contains(t);
            }
            if (EOG_TEXTS.contains(t)) {
                eog[i] = true;
                attr[i] |= ATTR_CONTROL;
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id >= 0) {
                eog[id] = true;
            }
        }

        // Special tokens are matched longest first (UTF-8 length, then id for a stable order).
        List<Integer> special = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if ((attr[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0) {
                special.add(i);
            }
        }
        int[] utf8Len = new int[n];
        for (int i : special) {
            utf8Len[i] = tokens[i].getBytes(StandardCharsets.UTF_8).length;
        }
        special.sort(Comparator.<Integer>comparingInt(i -> -utf8Len[i]).thenComparingInt(i -> i));
        specialCache = special.stream().mapToInt(Integer::intValue).toArray();

        // Phi-3 vocabularies strip whitespace right of their special tokens (llama.cpp keys this on the name).
        String name = m.getString("general.name", "").toLowerCase(Locale.ROOT);
        if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specialCache) {
                attr[id] |= ATTR_RSTRIP;
            }
            setAttr("</s>", ATTR_RSTRIP, true);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                setAttr(t, ATTR_RSTRIP, false);
            }
        }

        byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.format("<0x%02X>", b));
            if (id == null && b < 0x80) {
                id = ids.get(String.valueOf((char) b));
            }
            byteTokens[b] = id == null ? -1 : id;
        }
    }

    private void setAttr(String text, int bit, boolean on) {
        Integer id = ids.get(text);
        if (id != null) {
            attr[id] = on ? attr[id] | bit : attr[id] & ~bit;
        }
    }

    private float[] readScores(GgufMetadata m, int n) {
        if (!m.contains(K + "scores")) {
            return new float[n];
        }
        GgufArray a = m.getArray(K + "scores");
        float[] s;
        if (a.elementType().isFloat()) {
            s = a.toFloatArray();
        } else if (a.elementType() == GgufValueType.INT32) {
            int[] v = a.toIntArray();
            s = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                s[i] = v[i];
            }
        } else {
            throw new IllegalArgumentException(source + ": " + K + "scores is an array of " + a.elementType()
                    + ", expected FLOAT32 or INT32");
        }
        if (s.length < n) {
            throw new IllegalArgumentException(source + ": " + K + "scores has " + s.length + " entries for " + n + " tokens");
        }
        return s;
    }

    private int[] readAttributes(GgufMetadata m, int n) {
        int[] a = new int[n];
        if (!m.contains(K + "token_type")) {
            Arrays.fill(a, ATTR_NORMAL);
            return a;
        }
        int[] types = m.getIntArray(K + "token_type");
        if (types.length < n) {
            throw new IllegalArgumentException(source + ": " + K + "token_type has " + types.length + " entries for "
                    + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            a[i] = switch (types[i]) {
                case 1 -> ATTR_NORMAL;
                case 2 -> ATTR_UNKNOWN;
                case 3 -> ATTR_CONTROL;
                case 4 -> ATTR_USER_DEFINED;
                case 5 -> ATTR_UNUSED;
                case 6 -> ATTR_BYTE;
                default -> 0; // undefined
            };
        }
        return a;
    }

    /** The id stored under {@code key}, or {@code def}; out-of-range values fall back as in llama.cpp. */
    private int specialId(GgufMetadata m, String key, int def, int n) {
        if (def >= n) {
            def = -1;
        }
        if (!m.contains(K + key)) {
            return def;
        }
        long v = m.getLong(K + key);
        return v >= 0 && v < n ? (int) v : def;
    }

    private void requireId(boolean flag, int id, String flagKey, String idKey) {
        if (flag && id < 0) {
            throw new IllegalArgumentException(source + ": " + K + flagKey + " is true, but " + K + idKey + " is not set");
        }
    }

    boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    // ------------------------------------------------------------ accessors

    @Override
    public String model() {
        return model;
    }

    @Override
    public String preTokenizer() {
        return preName;
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int unkId() {
        return unk;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public boolean addsBos() {
        return addBos;
    }

    @Override
    public boolean addsEos() {
        return addEos;
    }

    @Override
    public boolean isEog(int id) {
        return id >= 0 && id < eog.length && eog[id];
    }

    @Override
    public boolean isControl(int id) {
        checkId(id);
        return (attr[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0;
    }

    @Override
    public String token(int id) {
        checkId(id);
        return tokens[id];
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + tokens.length + ")");
        }
    }

    // ------------------------------------------------------------ encode

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        List<Object> fragments = partition(wellFormed(text), parseSpecial);
        IntList out = new IntList();
        switch (kind) {
            case SPM -> {
                if (addSpecial && addBos) {
                    out.add(bos);
                }
                boolean prevSpecial = true; // the first text fragment gets the prefix space
                for (Object f : fragments) {
                    if (f instanceof String s) {
                        spm(addSpacePrefix && prevSpecial ? " " + s : s, out);
                        prevSpecial = false;
                    } else {
                        out.add((Integer) f);
                        prevSpecial = true;
                    }
                }
                if (addSpecial && addEos) {
                    out.add(eos);
                }
            }
            case BPE -> {
                if (addSpecial && addBos) {
                    out.add(bos);
                }
                for (Object f : fragments) {
                    if (f instanceof String s) {
                        for (String word : pre.split(s)) {
                            int[] ids = wordCache.get(word);
                            if (ids == null) {
                                IntList w = new IntList();
                                bpe(word, w);
                                ids = w.toArray();
                                if (wordCache.size() >= WORD_CACHE_MAX) {
                                    wordCache.clear();
                                }
                                wordCache.put(word, ids);
                            }
                            for (int id : ids) {
                                out.add(id);
                            }
                        }
                    } else {
                        out.add((Integer) f);
                    }
                }
                if (addSpecial && addEos) {
                    out.add(eos);
                }
            }
            case WPM -> {
                if (addSpecial) {
                    out.add(bos);
                }
                for (Object f : fragments) {
                    if (f instanceof String s) {
                        wpm(s, out);
                    } else {
                        out.add((Integer) f);
                    }
                }
                if (addSpecial) {
                    if (sep < 0) {
                        throw new IllegalStateException(source + ": WordPiece vocabulary without a separator token");
                    }
                    out.add(sep);
                }
            }
        }
        return out.toArray();
    }

    /** The text with unpaired surrogates replaced by U+FFFD (they have no UTF-8 form). */
    static String wellFormed(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (b != null) {
                    b.append(c).append(text.charAt(i + 1));
                }
                i++;
                continue;
            }
            if (Character.isSurrogate(c)) {
                if (b == null) {
                    b = new StringBuilder(text.length()).append(text, 0, i);
                }
                b.append('\uFFFD');
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? text : b.toString();
    }

    /**
     * Splits text on special-token texts: each special token in turn (longest first) cuts every
     * remaining text fragment. Control and unknown tokens take part only with parseSpecial;
     * user-defined tokens always do.
     */
    private List<Object> partition(String text, boolean parseSpecial) {
        List<Object> frags = new ArrayList<>();
        if (text.isEmpty()) {
            return frags;
        }
        frags.add(text);
        for (int id : specialCache) {
            int a = attr[id];
            if (!parseSpecial && (a & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0) {
                continue;
            }
            String st = tokens[id];
            List<Object> next = null;
            for (int k = 0; k < frags.size(); k++) {
                Object f = frags.get(k);
                int m = f instanceof String s ? s.indexOf(st) : -1;
                if (m < 0) {
                    if (next != null) {
                        next.add(f);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(frags.subList(0, k));
                }
                String s = (String) f;
                int from = 0;
                while (m >= 0) {
                    int leftEnd = m;
                    if ((a & ATTR_LSTRIP) != 0) {
                        while (leftEnd > from && Unicode.isCSpace(s.charAt(leftEnd - 1))) {
                            leftEnd--;
                        }
                    }
                    if (leftEnd > from) {
                        next.add(s.substring(from, leftEnd));
                    }
                    next.add(id);
                    from = m + st.length();
                    if ((a & ATTR_RSTRIP) != 0) {
                        while (from < s.length() && Unicode.isCSpace(s.charAt(from))) {
                            from++;
                        }
                    }
                    m = s.indexOf(st, from);
                }
                if (from < s.length()) {
                    next.add(s.substring(from));
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }

    private record SpmBigram(int left, int right, float score, int size) {}

    private static final Comparator<SpmBigram> SPM_ORDER = (x, y) -> x.score != y.score
            ? Float.compare(y.score, x.score) : Integer.compare(x.left, y.left);

    /**
     * SentencePiece BPE: start from single code points and repeatedly merge the adjacent pair whose
     * concatenation is the highest-scoring vocabulary token (leftmost on ties); pieces that are not
     * tokens fall back to byte tokens.
     */
    private void spm(String raw, IntList out) {
        String t = raw.replace(' ', SPACE_MARK);
        int n = t.codePointCount(0, t.length());
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, c = 0; i < n; i++) {
            start[i] = c;
            len[i] = Character.charCount(t.codePointAt(c));
            c += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<SpmBigram> queue = new PriorityQueue<>(SPM_ORDER);
        for (int i = 1; i < n; i++) {
            spmPair(t, start, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            SpmBigram b = queue.poll();
            int l = b.left;
            int r = b.right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size) {
                continue; // stale: one side was merged since
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            spmPair(t, start, len, prev[l], l, queue);
            spmPair(t, start, len, l, next[l], queue);
        }
        for (int i = n > 0 ? 0 : -1; i != -1; i = next[i]) {
            String piece = t.substring(start[i], start[i] + len[i]);
            Integer id = ids.get(piece);
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    int bt = byteTokens[b & 0xFF];
                    if (bt < 0) {
                        bt = unk;
                    }
                    if (bt < 0) {
                        throw new IllegalStateException(source + ": no token for byte 0x"
                                + Integer.toHexString(b & 0xFF) + " and no unknown token");
                    }
                    out.add(bt);
                }
            }
        }
    }

    private void spmPair(String t, int[] start, int[] len, int l, int r, PriorityQueue<SpmBigram> queue) {
        if (l < 0 || r < 0) {
            return;
        }
        String s = t.substring(start[l], start[l] + len[l] + len[r]);
        Integer id = ids.get(s);
        if (id != null) {
            queue.add(new SpmBigram(l, r, scores[id], s.length()));
        }
    }

    private record BpeBigram(int left, int right, int rank, String text) {}

    private static final Comparator<BpeBigram> BPE_ORDER = (x, y) -> x.rank != y.rank
            ? Integer.compare(x.rank, y.rank) : Integer.compare(x.left, y.left);

    /** Byte-level BPE on one pre-tokenized word: merge the adjacent pair of lowest merge rank until none is left. */
    private void bpe(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = ids.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int n = word.length(); // byte-level text is all BMP: one char per symbol
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<BpeBigram> queue = new PriorityQueue<>(BPE_ORDER);
        for (int i = 1; i < n; i++) {
            bpePair(word, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            BpeBigram b = queue.poll();
            int l = b.left;
            int r = b.right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.text.length()
                    || !word.startsWith(b.text, l)) {
                continue; // stale
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            bpePair(word, len, prev[l], l, queue);
            bpePair(word, len, l, next[l], queue);
        }
        for (int i = n > 0 ? 0 : -1; i != -1; i = next[i]) {
            String piece = word.substring(i, i + len[i]);
            Integer id = ids.get(piece);
            if (id != null) {
                out.add(id);
            } else {
                // As llama.cpp: fall back to single-byte tokens; only ASCII ones can exist.
                for (int k = 0; k < piece.length(); k++) {
                    char c = piece.charAt(k);
                    Integer bid = c < 0x80 ? ids.get(String.valueOf(c)) : null;
                    if (bid != null) {
                        out.add(bid);
                    }
                }
            }
        }
    }

    private void bpePair(String word, int[] len, int l, int r, PriorityQueue<BpeBigram> queue) {
        if (l < 0 || r < 0) {
            return;
        }
        String left = word.substring(l, l + len[l]);
        String right = word.substring(r, r + len[r]);
        Integer rank = mergeRanks.get(left + " " + right);
        if (rank != null) {
            queue.add(new BpeBigram(l, r, rank, left + right));
        }
    }

    /** WordPiece: BERT normalisation and word split, then greedy longest-match per word ("▁" marks a word start). */
    private void wpm(String text, IntList out) {
        for (String word : wpmWords(text)) {
            String w = SPACE_MARK + word;
            int before = out.size();
            IntList got = new IntList();
            boolean ok = true;
            for (int i = 0; i < w.length() && ok; ) {
                int found = -1;
                int end = i;
                for (int j = Math.min(w.length(), i + maxTokenChars + 1); j > i; j--) {
                    Integer id = ids.get(w.substring(i, j));
                    if (id != null) {
                        found = id;
                        end = j;
                        break;
                    }
                }
                if (found < 0) {
                    ok = false;
                } else {
                    got.add(found);
                    i = end;
                }
            }
            if (ok && got.size() > 0) {
                for (int k = 0; k < got.size(); k++) {
                    out.add(got.get(k));
                }
            }
            if (out.size() == before) {
                out.add(unk);
            }
        }
    }

    private List<String> wpmWords(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (stripAccents) {
                cp = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFD).codePointAt(0);
            }
            if (Unicode.isWhitespace(cp)) {
                if (!cur.isEmpty()) {
                    words.add(cur.toString());
                    cur.setLength(0);
                }
                continue;
            }
            int cat = Unicode.category(cp);
            if (cp == 0 || cp == 0xFFFD || cat == Unicode.CONTROL) {
                continue;
            }
            if (stripAccents && cat == Unicode.MARK) {
                continue;
            }
            int c = lowercase ? Character.toLowerCase(cp) : cp;
            if (cat == Unicode.PUNCTUATION || (cp < 0x7F && cat == Unicode.SYMBOL) || isChineseChar(cp)) {
                if (!cur.isEmpty()) {
                    words.add(cur.toString());
                    cur.setLength(0);
                }
                words.add(new String(Character.toChars(c)));
            } else {
                cur.appendCodePoint(c);
            }
        }
        if (!cur.isEmpty()) {
            words.add(cur.toString());
        }
        return words;
    }

    private static boolean isChineseChar(int cp) {
        // BERT's CJK ranges (the 0x2B920 start copies the reference implementation's value).
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    // ------------------------------------------------------------ decode

    @Override
    public byte[] pieceBytes(int id, boolean special) {
        checkId(id);
        int a = attr[id];
        if (!special && (a & (ATTR_UNKNOWN | ATTR_CONTROL)) != 0) {
            return EMPTY;
        }
        String t = tokens[id];
        if ((a & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) != 0) {
            return t.getBytes(StandardCharsets.UTF_8);
        }
        if ((a & ATTR_NORMAL) != 0) {
            return kind == Kind.BPE ? Unicode.byteDecode(t)
                    : t.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
        }
        if ((a & ATTR_BYTE) != 0 && t.length() == 6 && t.startsWith("<0x")) {
            return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
        }
        return EMPTY; // unused / undefined tokens render as nothing
    }

    @Override
    public String piece(int id) {
        return new String(pieceBytes(id, true), StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] tokenIds, boolean removeSpecial, boolean unparseSpecial) {
        Objects.requireNonNull(tokenIds, "ids");
        int from = 0;
        int to = tokenIds.length;
        boolean removeSpace = addSpacePrefix;
        if (removeSpecial && addBos && to > from && tokenIds[from] == bos) {
            removeSpace = false;
            from++;
        }
        if (removeSpecial && addEos && to > from && tokenIds[to - 1] == eos) {
            to--;
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            byte[] b = pieceBytes(tokenIds[i], unparseSpecial);
            int skip = removeSpace && b.length > 0 && b[0] == ' ' ? 1 : 0;
            removeSpace = false;
            buf.write(b, skip, b.length - skip);
        }
        byte[] text = buf.toByteArray();
        int n = cleanSpaces ? cleanSpaces(text) : text.length;
        return new String(text, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * llama.cpp's clean-up of decoded BPE/WordPiece text, in place: no space before {@code ? ! . ,},
     * {@code " ' "} becomes {@code "'"}, and no space before {@code 's 'm 're 've}. Returns the new length.
     */
    static int cleanSpaces(byte[] t) {
        int total = t.length;
        int n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            t[total++] = x;
        }
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
                total--;
                t[++i] = 0; // drop the following space too
            }
            t[total++] = x;
        }
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (i + 2 < n) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            t[total++] = x;
        }
        return total;
    }

    @Override
    public StreamDecoder streamDecoder(boolean startOfText) {
        return new StreamDecoder(this, false, startOfText);
    }

    @Override
    public String toString() {
        return "Tokenizer[" + model + (kind == Kind.BPE ? "/" + preName : "") + ", " + tokens.length + " tokens, bos="
                + bos + ", eos=" + eos + "]";
    }
}
