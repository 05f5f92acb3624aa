package dev.tessera.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex split that byte-level BPE applies before merging, per {@code tokenizer.ggml.pre}.
 *
 * <p>llama.cpp applies a list of regexes in turn; each one splits every current piece into its
 * matches and the text between them (nothing is dropped). Regexes that use Unicode classes run on a
 * "collapsed" copy of the text where each non-ASCII code point is replaced by one stand-in
 * character for its class (whitespace → \x0B, number → \xD1, letter → \xD2, punctuation → \xD3,
 * mark → \xD4, symbol → \xD5, other → \xD0) and {@code \p{X}} becomes that stand-in plus the ASCII
 * members of X. We do the same, so that class membership (including the ASCII-only {@code \s} and
 * the ASCII symbol list, which leaves out {@code ~}) is exactly llama.cpp's. Regexes without
 * classes run on the real code points with non-ASCII whitespace replaced by \x0B.
 */
final class PreTokenizer {
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String CJK = "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

    /** What a pre-tokenizer name implies besides its regexes (llama.cpp sets these per name). */
    record Spec(String name, List<String> regexes, boolean cleanSpaces, boolean ignoreMerges, boolean addBos) {}

    private final String name;
    private final Pattern[] patterns;
    private final boolean[] collapsed;

    private PreTokenizer(String name, List<String> regexes) {
        this.name = name;
        patterns = new Pattern[regexes.size()];
        collapsed = new boolean[regexes.size()];
        for (int i = 0; i < patterns.length; i++) {
            String r = regexes.get(i);
            collapsed[i] = r.contains("\\p{");
            patterns[i] = Pattern.compile(collapsed[i] ? collapseRegex(r) : r);
        }
    }

    static PreTokenizer of(Spec spec) {
        return new PreTokenizer(spec.name(), spec.regexes());
    }

    String name() {
        return name;
    }

    /**
     * The spec for a {@code tokenizer.ggml.pre} value (null or empty: "default").
     *
     * @throws IllegalArgumentException for a name this library does not implement
     */
    static Spec spec(String pre, String source) {
        String n = pre == null || pre.isEmpty() ? "default" : pre;
        return switch (n) {
            case "default" -> new Spec(n, List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"),
                    true, false, false);
            case "gpt-2", "phi-2", "mpt", "olmo" -> new Spec(n, List.of(GPT2), true, false, false);
            case "starcoder", "refact", "codeshell" -> new Spec(n, List.of("\\p{N}", GPT2), true, false, false);
            case "smollm", "command-r" -> new Spec(n, List.of("\\p{N}", GPT2), false, false, false);
            case "falcon" -> new Spec(n, List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"),
                    true, false, false);
            case "deepseek-llm" -> new Spec(n, List.of(
                    "[\r\n]",
                    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
                    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
                    "\\s+$",
                    CJK,
                    "\\p{N}+"), false, false, false);
            case "deepseek-coder" -> new Spec(n, List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"),
                    false, false, false);
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2" ->
                    new Spec(n, List.of(LLAMA3), true, true, true);
            case "dbrx", "smaug-bpe" -> new Spec(n, List.of(LLAMA3), true, false, false);
            case "qwen2", "deepseek-r1-qwen" -> new Spec(n, List.of(QWEN2), false, false, false);
            case "stablelm2" -> new Spec(n, List.of(QWEN2), true, false, false);
            default -> throw new IllegalArgumentException(source + ": unknown pre-tokenizer type tokenizer.ggml.pre = '"
                    + pre + "' (supported: default, gpt-2, phi-2, mpt, olmo, starcoder, refact, codeshell, smollm, "
                    + "command-r, falcon, deepseek-llm, deepseek-coder, llama3, llama-bpe, dbrx, smaug-bpe, qwen2, stablelm2)");
        };
    }

    /** llama.cpp's rewrite of a class-using regex for the collapsed text. */
    static String collapseRegex(String regex) {
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[' && (i == 0 || regex.charAt(i - 1) != '\\')) {
                out.append(c);
                inside = true;
                continue;
            }
            if (inside && c == ']' && regex.charAt(i - 1) != '\\') {
                out.append(c);
                inside = false;
                continue;
            }
            if (c == '\\' && regex.startsWith("\\p{", i)) {
                int close = regex.indexOf('}', i + 3);
                String members = close < 0 ? null : classMembers(regex.substring(i + 3, close));
                if (members != null) {
                    out.append(inside ? members : "[" + members + "]");
                    i = close;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    /** Stand-in character plus the ASCII members (llama.cpp's lists), as character-class text. */
    private static String classMembers(String cls) {
        return switch (cls) {
            case "N" -> "\u00D10-9";
            case "L", "Lu", "Ll", "Lt", "Lm", "Lo" -> "\u00D2A-Za-z";
            case "P" -> "\u00D3!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
            case "M" -> "\u00D4";
            case "S" -> "\u00D5\\$\\+<->^`\\|";
            default -> null;
        };
    }

    private static char collapsedChar(int cp) {
        if (cp < 128) {
            return (char) cp;
        }
        if (Unicode.isWhitespace(cp)) {
            return 0x0B;
        }
        return switch (Unicode.category(cp)) {
            case Unicode.NUMBER -> 0xD1;
            case Unicode.LETTER -> 0xD2;
            case Unicode.PUNCTUATION -> 0xD3;
            case Unicode.MARK -> 0xD4;
            case Unicode.SYMBOL -> 0xD5;
            default -> 0xD0;
        };
    }

    /** Splits {@code text} into byte-level-encoded words. */
    List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        char[] coll = new char[cps.length];
        int[] wide = new int[cps.length];
        for (int i = 0; i < cps.length; i++) {
            coll[i] = collapsedChar(cps[i]);
            wide[i] = cps[i] > 0x7F && Unicode.isWhitespace(cps[i]) ? 0x0B : cps[i];
        }
        IntList lens = new IntList();
        lens.add(cps.length);
        for (int r = 0; r < patterns.length; r++) {
            IntList next = new IntList();
            int start = 0;
            for (int k = 0; k < lens.size(); k++) {
                int len = lens.get(k);
                if (collapsed[r]) {
                    splitOne(patterns[r].matcher(new String(coll, start, len)), null, len, next);
                } else {
                    String s = new String(wide, start, len);
                    splitOne(patterns[r].matcher(s), s, len, next);
                }
                start += len;
            }
            lens = next;
        }
        List<String> words = new ArrayList<>(lens.size());
        int start = 0;
        for (int k = 0; k < lens.size(); k++) {
            words.add(Unicode.byteEncode(cps, start, lens.get(k)));
            start += lens.get(k);
        }
        return words;
    }

    /**
     * Appends the lengths (in code points) of the matches and of the gaps between them. {@code s}
     * is the subject when char and code point offsets may differ (surrogate pairs), else null.
     */
    private static void splitOne(Matcher m, String s, int len, IntList out) {
        int prev = 0; // code points
        int prevChar = 0;
        while (m.find()) {
            int a = s == null ? m.start() : prev + s.codePointCount(prevChar, m.start());
            int b = s == null ? m.end() : a + s.codePointCount(m.start(), m.end());
            if (a > prev) {
                out.add(a - prev);
            }
            if (b > a) {
                out.add(b - a);
            }
            prev = b;
            prevChar = m.end();
        }
        if (prev < len) {
            out.add(len - prev);
        }
    }
}
