package dev.tessera.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HeaderParserTest {
    /** Every form the generator accepts, each used at least once. */
    static final String SUPPORTED = """
            /* A header comment that documents nothing below it. */

            #pragma once
            #ifndef SAMPLE_H
            #define SAMPLE_H

            #include <stdint.h>
            #include <stddef.h>

            #ifdef __cplusplus
            extern "C" {
            #endif

            #if defined(_WIN32)
            #define TS_API __declspec(dllexport)
            #else
            #define TS_API __attribute__((visibility("default")))
            #endif
            #define TS_CRITICAL

            /* The version,
             * on two lines. */
            #define TS_ABI_VERSION 7
            #define TS_DEC 42
            #define TS_NEG -1
            #define TS_PAREN_NEG (-5)
            #define TS_HEX 0xff
            #define TS_HEX_UINT 0xFFFFFFFF
            #define TS_OCT 010
            #define TS_ZERO 0
            #define TS_UNSIGNED 7u
            #define TS_LONG 5L
            #define TS_ULL 0xFFFFFFFFFFFFFFFFull
            #define TS_BIG 4294967296
            #define TS_DEC_OVER_INT 2147483648
            #define TS_SPLIT \\
                12

            /* ---- Section banner, not a doc ---- */
            // Line comment doc.
            TS_API TS_CRITICAL uint32_t ts_abi_version(void);
            TS_API void ts_void(void);
            TS_API int8_t ts_i8(int8_t a, uint8_t b);
            TS_API int16_t ts_i16(int16_t a, uint16_t b);
            TS_API TS_CRITICAL int32_t ts_i32(int32_t a, uint32_t b);
            TS_API uint64_t ts_i64(int64_t a, uint64_t b);
            TS_API float ts_f(float a, double b);
            TS_API double ts_unnamed(double, int32_t);
            TS_API const char *ts_ptrs(const char *s, char const* t, void **out, const float *restrict x, volatile int32_t *v, unsigned char *u, int64_t * const p);
            TS_API void *ts_ptr(void *);
            TS_API int32_t ts_keywords(int32_t class, int32_t new, int32_t e);
            TS_API int32_t ts_spaces ( int32_t  a ,int32_t b ) ;
            TS_API int32_t ts_trailing(void); /* trailing, not a doc */
            /* Doc with <html>, & and C:\\users, @param-like text. */ TS_API int32_t ts_same_line(void);

            #if !defined(__STDC_VERSION__) && !defined(__cplusplus)
            #error tessera.h needs C99; it's older
            #endif

            #ifdef __cplusplus
            }
            #endif
            #endif /* SAMPLE_H */
            """;

    @Test
    void mapsEverySupportedForm() throws Exception {
        Header h = HeaderParser.parse("sample.h", SUPPORTED);
        Map<String, Constant> c = h.constants().stream().collect(Collectors.toMap(Constant::name, x -> x));
        assertInt(c, "TS_ABI_VERSION", 7);
        assertInt(c, "TS_DEC", 42);
        assertInt(c, "TS_NEG", -1);
        assertInt(c, "TS_PAREN_NEG", -5);
        assertInt(c, "TS_HEX", 255);
        assertInt(c, "TS_HEX_UINT", -1); // unsigned int: the bit pattern, like uint32_t parameters
        assertInt(c, "TS_OCT", 8);
        assertInt(c, "TS_ZERO", 0);
        assertInt(c, "TS_UNSIGNED", 7);
        assertLong(c, "TS_LONG", 5);
        assertLong(c, "TS_ULL", -1);
        assertLong(c, "TS_BIG", 4294967296L);
        assertLong(c, "TS_DEC_OVER_INT", 2147483648L);
        assertInt(c, "TS_SPLIT", 12);
        assertEquals(36, c.get("TS_SPLIT").line());
        assertTrue(c.get("TS_HEX").hex());
        assertEquals("The version,\non two lines.", c.get("TS_ABI_VERSION").doc());
        assertNull(c.get("TS_DEC").doc());

        Map<String, NativeFunction> f = h.functions().stream()
                .collect(Collectors.toMap(NativeFunction::name, Function.identity()));
        assertEquals(14, f.size());
        assertSignature(f.get("ts_abi_version"), JavaType.INT);
        assertTrue(f.get("ts_abi_version").critical());
        assertEquals("Line comment doc.", f.get("ts_abi_version").doc());
        assertSignature(f.get("ts_void"), JavaType.VOID);
        assertFalse(f.get("ts_void").critical());
        assertSignature(f.get("ts_i8"), JavaType.BYTE, JavaType.BYTE, JavaType.BYTE);
        assertSignature(f.get("ts_i16"), JavaType.SHORT, JavaType.SHORT, JavaType.SHORT);
        assertSignature(f.get("ts_i32"), JavaType.INT, JavaType.INT, JavaType.INT);
        assertTrue(f.get("ts_i32").critical());
        assertSignature(f.get("ts_i64"), JavaType.LONG, JavaType.LONG, JavaType.LONG);
        assertSignature(f.get("ts_f"), JavaType.FLOAT, JavaType.FLOAT, JavaType.DOUBLE);
        assertSignature(f.get("ts_unnamed"), JavaType.DOUBLE, JavaType.DOUBLE, JavaType.INT);
        assertEquals(List.of("arg1", "arg2"), names(f.get("ts_unnamed")));
        assertSignature(f.get("ts_ptrs"), JavaType.ADDRESS, JavaType.ADDRESS, JavaType.ADDRESS, JavaType.ADDRESS,
                JavaType.ADDRESS, JavaType.ADDRESS, JavaType.ADDRESS, JavaType.ADDRESS);
        assertEquals(List.of("s", "t", "out", "x", "v", "u", "p"), names(f.get("ts_ptrs")));
        assertSignature(f.get("ts_ptr"), JavaType.ADDRESS, JavaType.ADDRESS);
        assertEquals(List.of("class_", "new_", "e"), names(f.get("ts_keywords")));
        assertSignature(f.get("ts_spaces"), JavaType.INT, JavaType.INT, JavaType.INT);
        assertEquals("int32_t ts_spaces (int32_t a ,int32_t b)", f.get("ts_spaces").declaration());
        assertNull(f.get("ts_trailing").doc());
        assertNull(f.get("ts_void").doc());
        assertEquals("Doc with <html>, & and C:\\users, @param-like text.", f.get("ts_same_line").doc());
        assertEquals(List.of("ts_abi_version", "ts_void"), h.functions().stream().limit(2).map(x -> x.name()).toList());
    }

    @Test
    void windowsLineEndingsKeepLineNumbers() {
        String text = PRELUDE.replace("\n", "\r\n") + "#define TS_X 1.5\r\n#endif\r\n";
        BindgenException e = assertThrows(BindgenException.class, () -> HeaderParser.parse("crlf.h", text));
        assertEquals(FIRST, e.line());
    }

    @Test
    void parsesTheRealHeader() throws Exception {
        String path = System.getProperty("tessera.test.header", "../native/include/tessera.h");
        Header h = HeaderParser.parse(Path.of(path));
        assertTrue(h.functions().stream().anyMatch(x -> x.name().equals("ts_abi_version")));
        assertTrue(h.functions().stream().anyMatch(x -> x.name().equals("ts_noop") && x.critical()));
        assertTrue(h.constants().stream().anyMatch(x -> x.name().equals("TS_ABI_VERSION")));
    }

    // ---- Unsupported forms: each fails with its line and a reason --------------------------

    /** The body of each case starts at line FIRST. */
    static final String PRELUDE = """
            #ifndef T_H
            #define T_H
            #include <stdint.h>
            #define TS_API
            #define TS_CRITICAL
            #define TS_ABI_VERSION 3
            TS_API TS_CRITICAL uint32_t ts_abi_version(void);
            """;
    static final int FIRST = 8;

    static String header(String body) {
        return PRELUDE + body + "\n#endif\n";
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            struct ts_foo { int32_t a; };                              | 0 | struct declarations are not supported
            struct ts_foo;                                             | 0 | struct declarations are not supported
            union ts_u { int32_t a; float b; };                        | 0 | union declarations
            enum ts_kind { TS_A, TS_B };                               | 0 | enum declarations
            typedef int32_t ts_status;                                 | 0 | typedef is not supported
            TS_API size_t ts_len(void);                                | 0 | 'size_t' in the return type of ts_len is not fixed-width
            TS_API int ts_x(void);                                     | 0 | 'int' in the return type of ts_x is not fixed-width
            TS_API char ts_x(void);                                    | 0 | is not fixed-width
            TS_API int32_t ts_x(bool b);                               | 0 | 'bool' in parameter 1 of ts_x ('bool b') is not fixed-width
            TS_API int32_t ts_x(unsigned int n);                       | 0 | not fixed-width
            TS_API int32_t ts_x(ts_model *m);                          | 0 | unknown type 'ts_model' in parameter 1 of ts_x
            TS_API int32_t ts_x(struct ts_model *m);                   | 0 | struct types are not supported
            TS_API int32_t ts_x(enum ts_kind k);                       | 0 | enum types are not supported
            TS_API int32_t ts_log(const char *fmt, ...);               | 0 | variadic functions are not supported
            TS_API int32_t ts_cb(void (*cb)(int32_t));                 | 0 | function pointers are not supported
            TS_API void (*ts_get(void))(int32_t);                      | 0 | function pointers are not supported
            TS_API int32_t ts_x();                                     | 0 | write ts_x(void)
            `TS_API int32_t ts_x(int32_t a,\n    int32_t b);`          | 0 | must be complete on one line
            TS_API int32_t ts_x(void)                                  | 0 | must be complete on one line
            TS_API int32_t ts_x(void) { return 0; }                    | 0 | function bodies are not allowed
            static inline int32_t ts_x(int32_t a) { return a; }        | 0 | function bodies are not allowed
            int32_t ts_hidden(void);                                   | 0 | function declared without TS_API
            TS_API int32_t TS_CRITICAL ts_x(void);                     | 0 | TS_CRITICAL must come right after TS_API
            TS_API TS_DEPRECATED int32_t ts_x(void);                   | 0 | unknown macro TS_DEPRECATED
            TS_API int32_t ts_x(int32_t TS_IN n);                      | 0 | unknown macro TS_IN
            TS_API int32_t ts_x(int32_t a[4]);                         | 0 | array parameters are not supported
            TS_API int32_t ts_x(void v);                               | 0 | void is not a parameter type
            TS_API int32_t ts_x(int32_t a, int32_t a);                 | 0 | parameter name a is used twice
            TS_API int32_t ts_x(int32_t a, );                          | 0 | parameter 2 of ts_x is empty
            `TS_API int32_t ts_x(void);\nTS_API int32_t ts_x(void);`   | 1 | ts_x is already defined at line 8
            `#define TS_X 1\nTS_API int32_t TS_X(void);`               | 1 | TS_X is already defined at line 8
            TS_API int32_t native(void);                               | 0 | function name native is a Java keyword
            TS_API extern int32_t ts_variable;                         | 0 | cannot parse TS_API declaration
            TS_API TS_API int32_t ts_x(void);                          | 0 | TS_API appears twice
            extern int32_t ts_variable;                                | 0 | unsupported extern declaration
            int32_t ts_variable;                                       | 0 | unexpected declaration 'int32_t ts_variable;'
            }                                                          | 0 | without an open extern "C" block
            `#define TS_PI 3.14`                                         | 0 | TS_PI = '3.14' is not an integer literal
            `#define TS_MASK (1 << 4)`                                   | 0 | TS_MASK = '(1 << 4)' is not an integer literal
            `#define TS_ALIAS TS_OK`                                     | 0 | is not an integer literal
            `#define TS_NAME "tessera"`                                | 0 | is not an integer literal
            `#define TS_FLAG`                                            | 0 | macro TS_FLAG has no value
            `#define TS_MAX(a, b) ((a) > (b) ? (a) : (b))`             | 0 | function-like macro TS_MAX
            `#define TS_HUGE 0x1FFFFFFFFFFFFFFFF`                        | 0 | does not fit in 64 bits
            `#define TS_DEC_HUGE 9223372036854775808`                    | 0 | does not fit in 64 bits
            `#define class 1`                                            | 0 | constant name class is a Java keyword
            `#define TS_X 1\n#define TS_X 2`                           | 1 | TS_X is already defined at line 8
            `#undef TS_API`                                              | 0 | unsupported preprocessor directive #undef
            `#pragma pack(1)`                                            | 0 | unsupported #pragma pack(1)
            `#line 40`                                                   | 0 | unsupported preprocessor directive #line
            `#include "other.h"`                                       | 0 | only system headers may be included
            `#ifdef _WIN32\n#define TS_WIN 1\n#endif`                  | 1 | #define TS_WIN is inside '#ifdef _WIN32' (line 8)
            `#if TS_FEATURE\n#else\nTS_API int32_t ts_x(void);\n#endif` | 2 | TS_API declaration is inside '#if TS_FEATURE' (line 8)
            /* never closed                                            | 0 | unterminated /* comment
            `#define TS_S "oops`                                       | 0 | unterminated string literal
            """)
    void rejectsUnsupportedForm(String body, int lineOffset, String reason) {
        String text = header(body.replace("\\n", "\n"));
        BindgenException e = assertThrows(BindgenException.class, () -> HeaderParser.parse("bad.h", text));
        int line = FIRST + lineOffset;
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.reason().contains(reason), () -> "reason '" + e.reason() + "' lacks '" + reason + "'");
        assertTrue(e.getMessage().startsWith("bad.h:" + line + ": "), e.getMessage());
    }

    @Test
    void rejectsUnbalancedConditionals() {
        BindgenException open = assertThrows(BindgenException.class,
                () -> HeaderParser.parse("bad.h", header("#if TS_FEATURE")));
        assertEquals(1, open.line(), "the guard is the one left open");
        assertTrue(open.reason().contains("never closed by #endif"), open.reason());

        BindgenException extra = assertThrows(BindgenException.class,
                () -> HeaderParser.parse("bad.h", header("#endif")));
        assertEquals(FIRST + 1, extra.line());
        assertTrue(extra.reason().contains("#endif without #if"), extra.reason());

        BindgenException block = assertThrows(BindgenException.class,
                () -> HeaderParser.parse("bad.h", header("extern \"C\" {")));
        assertTrue(block.reason().contains("never closed"), block.reason());
    }

    @Test
    void requiresTheAbiVersionPair() {
        BindgenException noConstant = assertThrows(BindgenException.class, () -> HeaderParser.parse("bad.h",
                "#define TS_API\nTS_API uint32_t ts_abi_version(void);\n"));
        assertEquals(0, noConstant.line());
        assertTrue(noConstant.getMessage().startsWith("bad.h: no #define TS_ABI_VERSION"), noConstant.getMessage());

        BindgenException noFunction = assertThrows(BindgenException.class,
                () -> HeaderParser.parse("bad.h", "#define TS_ABI_VERSION 1\n"));
        assertTrue(noFunction.reason().contains("no TS_API ts_abi_version(void)"), noFunction.reason());

        BindgenException wrongType = assertThrows(BindgenException.class, () -> HeaderParser.parse("bad.h",
                "#define TS_ABI_VERSION 1\n#define TS_API\nTS_API uint64_t ts_abi_version(void);\n"));
        assertEquals(3, wrongType.line());
    }

    @Test
    void conditionalOutsideTheGuardIsNotAGuard() {
        // An #ifndef that is not the first statement makes what it encloses conditional.
        String text = "#define TS_API\n#ifndef X\n#define X\n#define TS_ABI_VERSION 1\n#endif\n";
        BindgenException e = assertThrows(BindgenException.class, () -> HeaderParser.parse("bad.h", text));
        assertEquals(3, e.line());
        assertTrue(e.reason().contains("macro X has no value"), e.reason());
    }

    private static void assertInt(Map<String, Constant> constants, String name, int value) {
        Constant c = constants.get(name);
        assertFalse(c.isLong(), name + " should be an int");
        assertEquals(value, c.value(), name);
    }

    private static void assertLong(Map<String, Constant> constants, String name, long value) {
        Constant c = constants.get(name);
        assertTrue(c.isLong(), name + " should be a long");
        assertEquals(value, c.value(), name);
    }

    private static void assertSignature(NativeFunction f, JavaType ret, JavaType... params) {
        assertEquals(ret, f.returnType(), f.name() + " return type");
        assertEquals(List.of(params), f.params().stream().map(Param::type).toList(), f.name() + " parameters");
    }

    private static List<String> names(NativeFunction f) {
        return f.params().stream().map(Param::name).toList();
    }
}
