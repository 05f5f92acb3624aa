package dev.tessera.bindgen;

import java.util.List;

/**
 * A {@code TS_API} function. {@code declaration} is the C text without the markers, for the
 * Javadoc; {@code critical} is true when the header marks it {@code TS_CRITICAL}.
 */
public record NativeFunction(String name, String returnCType, JavaType returnType, List<Param> params,
                       boolean critical, String declaration, int line, String doc) {
    public NativeFunction {
        params = List.copyOf(params);
    }
}
