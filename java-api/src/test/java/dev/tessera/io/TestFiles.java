package dev.tessera.io;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the real model files the tests read. */
public final class TestFiles {
    private TestFiles() {}

    /** The llama.cpp-converted TinyStories model shipped in the repository's models/ folder. */
    public static Path stories260K() {
        Path p = Path.of("../models/stories260K.gguf"); // surefire runs in the module folder
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("missing " + p.toAbsolutePath());
        }
        return p;
    }

    public static Path llamaSpmVocab() {
        return resource("tokenizer/ggml-vocab-llama-spm.gguf");
    }

    public static Path gpt2Vocab() {
        return resource("tokenizer/ggml-vocab-gpt-2.gguf");
    }

    public static Path resource(String name) {
        URL url = TestFiles.class.getResource("/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test resource " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
