package dev.tessera.model.llama;

import dev.tessera.io.gguf.GgufFile;
import dev.tessera.io.gguf.GgufTensorInfo;
import dev.tessera.io.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Consumer;

/** Writes edited copies of a GGUF file for the error tests. */
final class GgufEdits {
    private GgufEdits() {}

    /**
     * Copies src to dst without the keys in dropKeys and without tensor dropTensor (if not null),
     * then applies edit (which may overwrite keys).
     */
    static Path copy(Path src, Path dst, Consumer<GgufWriter> edit, String dropTensor, String... dropKeys) throws IOException {
        try (GgufFile in = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            Set<String> drop = Set.of(dropKeys);
            GgufWriter overrides = new GgufWriter();
            edit.accept(overrides);
            for (String key : in.metadata().keys()) {
                if (!drop.contains(key) && !overrides.hasKey(key)) {
                    w.put(key, in.metadata().get(key));
                }
            }
            edit.accept(w);
            for (GgufTensorInfo t : in.tensorInfos()) {
                if (!t.name().equals(dropTensor)) {
                    w.addTensor(t.name(), in.tensor(t));
                }
            }
            w.write(dst);
        }
        return dst;
    }
}
