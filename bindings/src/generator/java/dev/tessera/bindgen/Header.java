package dev.tessera.bindgen;

import java.util.List;

/** Everything the generator binds from one header, in header order. */
public record Header(String file, Target target, List<Constant> constants, List<NativeFunction> functions) {
    public Header {
        constants = List.copyOf(constants);
        functions = List.copyOf(functions);
    }
}
