package dev.tessera.core;

/** A native kernel refused or failed an operation; the message is the library's own. */
public final class TesseraException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public TesseraException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The TS_ERR_* status code the native call returned. */
    public int status() {
        return status;
    }
}
