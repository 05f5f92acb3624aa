package dev.tessera.bindgen;

/** The Java carrier of a C type, with the {@code ValueLayout} constant that describes it. */
public enum JavaType {
    VOID("void", null),
    BYTE("byte", "JAVA_BYTE"),
    SHORT("short", "JAVA_SHORT"),
    INT("int", "JAVA_INT"),
    LONG("long", "JAVA_LONG"),
    FLOAT("float", "JAVA_FLOAT"),
    DOUBLE("double", "JAVA_DOUBLE"),
    ADDRESS("MemorySegment", "ADDRESS");

    private final String javaName;
    private final String layout;

    JavaType(String javaName, String layout) {
        this.javaName = javaName;
        this.layout = layout;
    }

    /** The type as written in Java source. */
    public String javaName() {
        return javaName;
    }

    /** Name of the {@code ValueLayout} field; null for void. */
    public String layout() {
        return layout;
    }
}
