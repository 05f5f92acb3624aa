package dev.tessera.bindgen;

/**
 * A header construct the generator cannot bind. The build fails on it rather than skipping it,
 * so that the Java side never silently lacks something the C side exports.
 */
public final class BindgenException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String reason;

    /** {@code line} is 1-based; 0 means the header as a whole. */
    public BindgenException(String file, int line, String reason) {
        super(line > 0 ? file + ":" + line + ": " + reason : file + ": " + reason);
        this.file = file;
        this.line = line;
        this.reason = reason;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }

    public String reason() {
        return reason;
    }
}
