package dev.tessera.bindgen;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads tessera.h under the conventions its opening comment states: one-line {@code TS_API}
 * declarations over fixed-width types, float, double, void and pointers, and integer-literal
 * {@code #define}s. It is deliberately not a C parser: whatever falls outside those conventions
 * is reported with its line instead of being guessed at or skipped.
 */
public final class HeaderParser {
    private static final String API_MARKER = "TS_API";
    private static final String CRITICAL_MARKER = "TS_CRITICAL";

    private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern ALL_CAPS = Pattern.compile("[A-Z][A-Z0-9_]*");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*|\\S");
    private static final Pattern DIRECTIVE = Pattern.compile("([A-Za-z_]\\w*)?\\s*(.*)");
    private static final Pattern DEFINE = Pattern.compile("([A-Za-z_]\\w*)(\\(?)\\s*(.*)");
    private static final Pattern INTEGER = Pattern.compile(
            "(-)?\\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?");
    private static final Pattern PARENTHESISED = Pattern.compile("\\(\\s*(.*?)\\s*\\)");
    private static final Pattern EXTERN_C = Pattern.compile("extern\\s*\"C\"\\s*\\{");

    private static final Set<String> QUALIFIERS = Set.of("const", "volatile", "restrict", "__restrict", "__restrict__");
    private static final Map<String, JavaType> FIXED = Map.ofEntries(
            Map.entry("int8_t", JavaType.BYTE), Map.entry("uint8_t", JavaType.BYTE),
            Map.entry("int16_t", JavaType.SHORT), Map.entry("uint16_t", JavaType.SHORT),
            Map.entry("int32_t", JavaType.INT), Map.entry("uint32_t", JavaType.INT),
            Map.entry("int64_t", JavaType.LONG), Map.entry("uint64_t", JavaType.LONG),
            Map.entry("float", JavaType.FLOAT), Map.entry("double", JavaType.DOUBLE));
    /** Types whose size or signedness varies by platform: fine behind a pointer, not by value. */
    private static final Set<String> POINTEE_ONLY = Set.of("void", "char", "signed char", "unsigned char");
    private static final Set<String> NOT_FIXED_WIDTH = Set.of("char", "short", "int", "long", "signed", "unsigned",
            "_Bool", "bool", "size_t", "ssize_t", "ptrdiff_t", "intptr_t", "uintptr_t", "wchar_t",
            "int_least32_t", "int_fast32_t", "intmax_t", "uintmax_t", "off_t");
    private static final Set<String> TAGS = Set.of("struct", "union", "enum");
    /** Java words a C name may collide with; function and constant names become Java members. */
    private static final Set<String> JAVA_RESERVED = Set.of("abstract", "assert", "boolean", "break", "byte", "case",
            "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends",
            "final", "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int",
            "interface", "long", "native", "new", "package", "private", "protected", "public", "return", "short",
            "static", "strictfp", "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try",
            "void", "volatile", "while", "true", "false", "null", "_");
    private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger UINT_MAX = BigInteger.ONE.shiftLeft(32).subtract(BigInteger.ONE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final BigInteger ULONG_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private record Line(int number, String code) {}

    private record Comment(int startLine, int endLine, String text, boolean standalone) {}

    private record TypeRef(String spelling, JavaType type) {}

    /** An open #if; the include guard is the one #if that does not make its contents conditional. */
    private static final class Conditional {
        final int line;
        final String text;
        boolean guard;

        Conditional(int line, String text) {
            this.line = line;
            this.text = text;
        }
    }

    private final String file;
    private final Target target;
    private final List<Constant> constants = new ArrayList<>();
    private final List<NativeFunction> functions = new ArrayList<>();
    private final Map<String, Integer> names = new HashMap<>();
    private final Deque<Conditional> conditionals = new ArrayDeque<>();
    private final Map<Integer, String> docsByEndLine = new HashMap<>();
    private final Set<Integer> blankLines = new HashSet<>();
    private int externBlocks;
    private boolean seenStatement;
    private String guardCandidate;

    private HeaderParser(String file, Target target) {
        this.file = file;
        this.target = target;
    }

    public static Header parse(Path header) throws IOException, BindgenException {
        return parse(header.toString(), Files.readString(header, StandardCharsets.UTF_8), Target.of(header));
    }

    /** {@code file} only names the header in messages; bound as tessera.h. */
    public static Header parse(String file, String text) throws BindgenException {
        return parse(file, text, Target.TESSERA);
    }

    public static Header parse(String file, String text, Target target) throws BindgenException {
        HeaderParser parser = new HeaderParser(file, target);
        for (Line line : parser.prepare(text)) {
            parser.statement(line);
        }
        return parser.finish();
    }

    // ---- Comments and line splicing ------------------------------------------------------

    /** Removes comments (keeping the text of standalone ones for Javadoc) and joins '\'-continued lines. */
    private List<Line> prepare(String text) throws BindgenException {
        text = text.replace("\r\n", "\n").replace('\r', '\n');
        List<String> code = new ArrayList<>();
        List<Comment> comments = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        StringBuilder comment = null;
        boolean lineComment = false;
        boolean standalone = false;
        int commentStart = 0;
        boolean inString = false;
        int lineNo = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            if (comment != null) {
                boolean ends = lineComment ? c == '\n' : c == '*' && next == '/';
                if (ends) {
                    comments.add(new Comment(commentStart, lineNo, clean(comment.toString(), lineComment), standalone));
                    comment = null;
                    if (!lineComment) {
                        i++;
                        line.append(' ');
                        continue;
                    }
                } else {
                    if (c == '\n') {
                        code.add(line.toString());
                        line.setLength(0);
                        lineNo++;
                    }
                    comment.append(c);
                    continue;
                }
            }
            if (c == '\n') {
                if (inString) {
                    throw fail(lineNo, "unterminated string literal");
                }
                code.add(line.toString());
                line.setLength(0);
                lineNo++;
                continue;
            }
            if (inString) {
                line.append(c);
                if (c == '\\' && next != 0 && next != '\n') {
                    line.append(next);
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            if (c == '/' && (next == '*' || next == '/')) {
                comment = new StringBuilder();
                lineComment = next == '/';
                commentStart = lineNo;
                standalone = line.toString().isBlank();
                i++;
                continue;
            }
            // Only strings: an apostrophe in "#error it's ..." is not a character literal, and the
            // ABI has no use for those.
            if (c == '"') {
                inString = true;
            }
            line.append(c);
        }
        if (comment != null) {
            if (!lineComment) {
                throw fail(commentStart, "unterminated /* comment");
            }
            comments.add(new Comment(commentStart, lineNo, clean(comment.toString(), true), standalone));
        }
        if (inString) {
            throw fail(lineNo, "unterminated string literal");
        }
        code.add(line.toString());
        for (int i = 0; i < code.size(); i++) {
            if (code.get(i).isBlank()) {
                blankLines.add(i + 1);
            }
        }
        groupDocs(comments);

        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < code.size(); i++) {
            int first = i;
            StringBuilder logical = new StringBuilder(code.get(i).stripTrailing());
            while (logical.length() > 0 && logical.charAt(logical.length() - 1) == '\\' && i + 1 < code.size()) {
                logical.setLength(logical.length() - 1);
                logical.append(' ').append(code.get(++i).stripTrailing());
            }
            lines.add(new Line(first + 1, logical.toString().strip()));
        }
        return lines;
    }

    /** Adjacent standalone comments form one doc; section banners ("---- Machine ----") are not docs. */
    private void groupDocs(List<Comment> comments) {
        StringBuilder text = null;
        int end = -10;
        for (Comment c : comments) {
            boolean doc = c.standalone() && !c.text().isEmpty() && !c.text().startsWith("---") && !c.text().startsWith("===");
            if (!doc) {
                text = null;
                continue;
            }
            if (text != null && c.startLine() == end + 1) {
                docsByEndLine.remove(end);
                text.append('\n').append(c.text());
            } else {
                text = new StringBuilder(c.text());
            }
            end = c.endLine();
            docsByEndLine.put(end, text.toString());
        }
    }

    private static String clean(String raw, boolean lineComment) {
        if (lineComment) {
            return raw.strip();
        }
        List<String> out = new ArrayList<>();
        for (String l : raw.split("\n", -1)) {
            String s = l.strip();
            if (s.startsWith("*")) {
                s = s.substring(1).strip();
            }
            out.add(s);
        }
        while (!out.isEmpty() && out.getFirst().isEmpty()) {
            out.removeFirst();
        }
        while (!out.isEmpty() && out.getLast().isEmpty()) {
            out.removeLast();
        }
        return String.join("\n", out);
    }

    /** The comment right above a line (no blank line between), or one that ends on the line itself. */
    private String docFor(int line) {
        String same = docsByEndLine.get(line);
        if (same != null) {
            return same;
        }
        return blankLines.contains(line - 1) ? docsByEndLine.get(line - 1) : null;
    }

    // ---- Statements ----------------------------------------------------------------------

    private void statement(Line line) throws BindgenException {
        String s = line.code();
        if (s.isEmpty()) {
            return;
        }
        String candidate = guardCandidate;
        guardCandidate = null;
        if (s.startsWith("#")) {
            if (!directive(line.number(), s.substring(1).strip(), candidate)) {
                return;
            }
        } else if (startsWithWord(s, API_MARKER)) {
            requireUnconditional(line.number(), "the TS_API declaration");
            function(line.number(), s);
        } else if (EXTERN_C.matcher(s).matches()) {
            externBlocks++;
        } else if (s.equals("}")) {
            if (externBlocks == 0) {
                throw fail(line.number(), "'}' without an open extern \"C\" block");
            }
            externBlocks--;
        } else {
            throw fail(line.number(), unexpected(s));
        }
        seenStatement = true;
    }

    private static String unexpected(String s) {
        String first = firstWord(s);
        if (TAGS.contains(first)) {
            return first + " declarations are not supported: the ABI passes data through pointers and "
                    + "integer #defines only";
        }
        if (first.equals("typedef")) {
            return "typedef is not supported: the ABI spells out fixed-width types and pointers";
        }
        if (first.equals("static") || first.equals("inline") || s.contains("{")) {
            return "function bodies are not allowed in the header: they cannot be bound";
        }
        if (first.equals("extern")) {
            return "unsupported extern declaration: only extern \"C\" { ... } blocks and TS_API functions are allowed";
        }
        if (s.contains("(")) {
            return "function declared without TS_API (exported functions must start with TS_API, or they "
                    + "cannot be bound), or a TS_API declaration split over several lines: '" + s + "'";
        }
        return "unexpected declaration '" + s + "': only TS_API functions and integer #defines are bound";
    }

    /** Returns false for directives that may come before an include guard. */
    private boolean directive(int line, String text, String guardCandidate) throws BindgenException {
        Matcher m = DIRECTIVE.matcher(text);
        if (!m.matches() || m.group(1) == null) {
            if (text.isEmpty()) {
                return false; // the null directive
            }
            throw fail(line, "cannot parse preprocessor directive '#" + text + "'");
        }
        String name = m.group(1);
        String rest = m.group(2).strip();
        switch (name) {
            case "include" -> {
                boolean local = rest.length() > 2 && rest.startsWith("\"") && rest.endsWith("\"")
                        && target.localIncludes().contains(rest.substring(1, rest.length() - 1));
                if (!local && !(rest.startsWith("<") && rest.endsWith(">"))) {
                    throw fail(line, "#include " + rest + ": only system headers may be included; the whole ABI "
                            + "must be in this header for the bindings to see it");
                }
            }
            case "define" -> define(line, rest, guardCandidate);
            case "if", "ifdef" -> conditionals.push(new Conditional(line, "#" + text));
            case "ifndef" -> {
                conditionals.push(new Conditional(line, "#" + text));
                if (!seenStatement && IDENT.matcher(rest).matches()) {
                    this.guardCandidate = rest;
                }
            }
            case "elif", "elifdef", "elifndef", "else" -> {
                if (conditionals.isEmpty()) {
                    throw fail(line, "#" + name + " without #if");
                }
                conditionals.peek().guard = false; // a guard with an #else is a real condition
            }
            case "endif" -> {
                if (conditionals.isEmpty()) {
                    throw fail(line, "#endif without #if");
                }
                conditionals.pop();
            }
            case "pragma" -> {
                if (!rest.equals("once")) {
                    throw fail(line, "unsupported #pragma " + rest);
                }
                return false; // an include guard may still follow
            }
            case "error", "warning" -> {
                // no effect on the ABI
            }
            default -> throw fail(line, "unsupported preprocessor directive #" + name);
        }
        return true;
    }

    private void define(int line, String text, String guardCandidate) throws BindgenException {
        Matcher m = DEFINE.matcher(text);
        if (!m.matches()) {
            throw fail(line, "cannot parse #define " + text);
        }
        String name = m.group(1);
        String value = m.group(3).strip();
        if (!m.group(2).isEmpty()) {
            throw fail(line, "function-like macro " + name + " is not supported: it cannot be bound");
        }
        if (name.equals(guardCandidate)) {
            conditionals.peek().guard = true;
            return;
        }
        if (name.equals(API_MARKER) || name.equals(CRITICAL_MARKER)) {
            return; // the declaration markers themselves; their expansion is the C compiler's business
        }
        if (value.isEmpty()) {
            throw fail(line, "macro " + name + " has no value: only integer constants and the TS_API/TS_CRITICAL "
                    + "markers may be defined");
        }
        Constant constant = integer(line, name, value);
        requireUnconditional(line, "#define " + name);
        claim(line, name, "constant");
        constants.add(constant);
    }

    /** Types the literal as C does on LP64; an unsigned value that needs all bits keeps its bit pattern. */
    private Constant integer(int line, String name, String value) throws BindgenException {
        String literal = value;
        Matcher p = PARENTHESISED.matcher(literal);
        if (p.matches()) {
            literal = p.group(1);
        }
        Matcher m = INTEGER.matcher(literal);
        if (!m.matches()) {
            throw fail(line, "macro " + name + " = '" + value + "' is not an integer literal (expressions, "
                    + "floating-point values, strings and aliases are not bound)");
        }
        boolean negative = m.group(1) != null;
        String digits = m.group(2);
        String suffix = m.group(3) == null ? "" : m.group(3).toLowerCase(Locale.ROOT);
        boolean hex = digits.startsWith("0x") || digits.startsWith("0X");
        boolean octal = !hex && digits.length() > 1 && digits.startsWith("0");
        BigInteger magnitude = hex ? new BigInteger(digits.substring(2), 16)
                : octal ? new BigInteger(digits.substring(1), 8) : new BigInteger(digits);
        boolean unsigned = suffix.contains("u");
        boolean longSuffix = suffix.contains("l");
        boolean decimal = !hex && !octal;
        boolean isLong;
        if (!longSuffix && !unsigned && magnitude.compareTo(INT_MAX) <= 0) {
            isLong = false;
        } else if (!longSuffix && (unsigned || !decimal) && magnitude.compareTo(UINT_MAX) <= 0) {
            isLong = false; // unsigned int
        } else if (magnitude.compareTo(unsigned || !decimal ? ULONG_MAX : LONG_MAX) <= 0) {
            isLong = true;
        } else {
            throw fail(line, "macro " + name + " = " + value + " does not fit in 64 bits");
        }
        long bits = magnitude.longValue();
        if (negative) {
            bits = -bits;
        }
        if (!isLong) {
            bits = (int) bits;
        }
        return new Constant(name, bits, isLong, hex, line, docFor(line));
    }

    // ---- Functions -----------------------------------------------------------------------

    private void function(int line, String text) throws BindgenException {
        if (!text.endsWith(";")) {
            throw fail(line, text.contains("{")
                    ? "function bodies are not allowed in the header: they cannot be bound"
                    : "cannot parse TS_API declaration: it must be complete on one line and end with ';'");
        }
        String body = text.substring(API_MARKER.length(), text.length() - 1).strip();
        boolean critical = startsWithWord(body, CRITICAL_MARKER);
        if (critical) {
            body = body.substring(CRITICAL_MARKER.length()).strip();
        }
        List<String> words = tokens(body);
        if (words.contains(CRITICAL_MARKER)) {
            throw fail(line, "TS_CRITICAL must come right after TS_API");
        }
        if (words.contains(API_MARKER)) {
            throw fail(line, "TS_API appears twice");
        }
        if (body.contains("...")) {
            throw fail(line, "variadic functions are not supported: the bindings need a fixed signature");
        }
        if (Pattern.compile("\\(\\s*\\*").matcher(body).find()) {
            throw fail(line, "function pointers are not supported: callbacks into Java are not part of the ABI");
        }
        for (String tag : TAGS) {
            if (words.contains(tag)) {
                throw fail(line, tag + " types are not supported: the ABI passes data through pointers to "
                        + "fixed-width types");
            }
        }
        if (body.contains("[")) {
            throw fail(line, "array parameters are not supported: declare them as pointers");
        }
        int open = body.indexOf('(');
        if (open < 0 || !body.endsWith(")") || body.indexOf(')') != body.length() - 1) {
            throw fail(line, "cannot parse TS_API declaration: expected '<return type> name(<parameters>);'");
        }
        Matcher head = Pattern.compile("(.*?)\\s*\\b([A-Za-z_]\\w*)").matcher(body.substring(0, open).strip());
        if (!head.matches() || head.group(1).isEmpty()) {
            throw fail(line, "cannot parse TS_API declaration: expected '<return type> name(<parameters>);'");
        }
        String name = head.group(2);
        TypeRef ret = type(line, tokens(head.group(1)), "the return type of " + name, true);
        String paramText = body.substring(open + 1, body.length() - 1).strip();
        if (paramText.isEmpty()) {
            throw fail(line, name + "(): an empty parameter list leaves the parameters unspecified in C; write "
                    + name + "(void)");
        }
        List<Param> params = new ArrayList<>();
        if (!paramText.equals("void")) {
            String[] parts = paramText.split(",", -1);
            for (int i = 0; i < parts.length; i++) {
                params.add(param(line, name, i + 1, parts[i].strip(), params));
            }
        }
        claim(line, name, "function");
        functions.add(new NativeFunction(name, ret.spelling(), ret.type(), params, critical,
                body.replaceAll("\\s+", " ").replace("( ", "(").replace(" )", ")"), line, docFor(line)));
    }

    private Param param(int line, String function, int index, String text, List<Param> previous)
            throws BindgenException {
        String what = "parameter " + index + " of " + function;
        if (text.isEmpty()) {
            throw fail(line, what + " is empty");
        }
        List<String> words = tokens(text);
        String name = null;
        String last = words.getLast();
        if (words.size() > 1 && IDENT.matcher(last).matches() && !isTypeWord(last)) {
            name = last;
            words = words.subList(0, words.size() - 1);
        }
        TypeRef type = type(line, words, what + " ('" + text + "')", false);
        // Parameter names are local to the wrapper: rename rather than fail on a Java keyword.
        String javaName = name == null ? "arg" + index : JAVA_RESERVED.contains(name) ? name + "_" : name;
        for (boolean clash = true; clash; ) {
            clash = false;
            for (Param p : previous) {
                if (p.name().equals(javaName)) {
                    if (name != null && name.equals(p.name())) {
                        throw fail(line, "parameter name " + name + " is used twice in " + function);
                    }
                    javaName += "_";
                    clash = true;
                }
            }
        }
        return new Param(javaName, type.spelling(), type.type());
    }

    private TypeRef type(int line, List<String> words, String what, boolean isReturn) throws BindgenException {
        int stars = 0;
        List<String> base = new ArrayList<>();
        for (String w : words) {
            if (w.equals("*")) {
                stars++;
            } else if (QUALIFIERS.contains(w)) {
                // const/volatile/restrict do not change the layout
            } else if (!IDENT.matcher(w).matches()) {
                throw fail(line, "unexpected '" + w + "' in " + what);
            } else if (stars > 0) {
                throw fail(line, "unexpected '" + w + "' after '*' in " + what);
            } else {
                base.add(w);
            }
        }
        if (base.isEmpty()) {
            throw fail(line, "missing type in " + what);
        }
        String b = String.join(" ", base);
        String spelling = String.join(" ", words);
        JavaType fixed = FIXED.get(b);
        if (stars > 0 && (fixed != null || POINTEE_ONLY.contains(b))) {
            return new TypeRef(spelling, JavaType.ADDRESS);
        }
        if (stars == 0 && fixed != null) {
            return new TypeRef(spelling, fixed);
        }
        if (stars == 0 && b.equals("void")) {
            if (isReturn) {
                return new TypeRef(spelling, JavaType.VOID);
            }
            throw fail(line, "void is not a parameter type (" + what + "); a function without parameters is "
                    + "written name(void)");
        }
        for (String w : base) {
            if (ALL_CAPS.matcher(w).matches()) {
                throw fail(line, "unknown macro " + w + " in " + what + ": only TS_API and TS_CRITICAL may mark a "
                        + "declaration");
            }
        }
        for (String w : base) {
            if (NOT_FIXED_WIDTH.contains(w)) {
                throw fail(line, "type '" + spelling + "' in " + what + " is not fixed-width: use int8_t..int64_t, "
                        + "uint8_t..uint64_t, float, double or a pointer");
            }
        }
        throw fail(line, "unknown type '" + b + "' in " + what + ": the ABI uses fixed-width integer types, float, "
                + "double, void and pointers to them");
    }

    private static boolean isTypeWord(String w) {
        return QUALIFIERS.contains(w) || FIXED.containsKey(w) || NOT_FIXED_WIDTH.contains(w) || TAGS.contains(w)
                || w.equals("void");
    }

    // ---- Checks --------------------------------------------------------------------------

    private void requireUnconditional(int line, String what) throws BindgenException {
        for (Conditional c : conditionals) {
            if (!c.guard) {
                throw fail(line, what + " is inside '" + c.text + "' (line " + c.line + "): the generator does "
                        + "not evaluate conditions, so bound declarations must be unconditional");
            }
        }
    }

    private void claim(int line, String name, String kind) throws BindgenException {
        if (JAVA_RESERVED.contains(name)) {
            throw fail(line, kind + " name " + name + " is a Java keyword");
        }
        Integer before = names.putIfAbsent(name, line);
        if (before != null) {
            throw fail(line, name + " is already defined at line " + before);
        }
    }

    private Header finish() throws BindgenException {
        if (!conditionals.isEmpty()) {
            Conditional c = conditionals.peek();
            throw fail(c.line, "'" + c.text + "' is never closed by #endif");
        }
        if (externBlocks != 0) {
            throw fail(0, "an extern \"C\" { block is never closed");
        }
        Constant abi = constants.stream().filter(c -> c.name().equals(target.abiConstant())).findFirst()
                .orElseThrow(() -> fail(0, "no #define " + target.abiConstant() + ": the bindings compare it with "
                        + target.abiFunction() + "() when the library loads"));
        if (abi.isLong()) {
            throw fail(abi.line(), target.abiConstant() + " must fit in an int");
        }
        NativeFunction abiFunction = functions.stream().filter(f -> f.name().equals(target.abiFunction())).findFirst()
                .orElseThrow(() -> fail(0, "no TS_API " + target.abiFunction() + "(void): the bindings call it when the "
                        + "library loads to detect a library/header mismatch"));
        if (abiFunction.returnType() != JavaType.INT || !abiFunction.params().isEmpty()) {
            throw fail(abiFunction.line(), target.abiFunction() + " must be declared 'uint32_t " + target.abiFunction() + "(void)'");
        }
        return new Header(file, target, constants, functions);
    }

    // ---- Helpers -------------------------------------------------------------------------

    private static List<String> tokens(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = TOKEN.matcher(s);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static boolean startsWithWord(String s, String word) {
        return s.startsWith(word) && (s.length() == word.length() || !Character.isJavaIdentifierPart(s.charAt(word.length())));
    }

    private static String firstWord(String s) {
        Matcher m = IDENT.matcher(s);
        return m.lookingAt() ? m.group() : "";
    }

    private BindgenException fail(int line, String reason) {
        return new BindgenException(file, line, reason);
    }
}
