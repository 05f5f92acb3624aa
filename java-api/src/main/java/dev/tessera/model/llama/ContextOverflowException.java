package dev.tessera.model.llama;

/** A batch would go past the session's context size (its KV cache capacity). */
public final class ContextOverflowException extends IllegalStateException {
    private final int position;
    private final int requested;
    private final int capacity;

    public ContextOverflowException(int position, int requested, int capacity) {
        super("context is full: " + position + " positions used + " + requested + " new > context size " + capacity);
        this.position = position;
        this.requested = requested;
        this.capacity = capacity;
    }

    public int position() {
        return position;
    }

    public int requested() {
        return requested;
    }

    public int capacity() {
        return capacity;
    }
}
