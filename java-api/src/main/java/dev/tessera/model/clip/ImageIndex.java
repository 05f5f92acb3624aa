package dev.tessera.model.clip;

import dev.tessera.image.ClipImagePreprocessor;
import dev.tessera.image.ImageIo;
import dev.tessera.io.AtomicFile;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Text-to-image retrieval: the normalised CLIP embeddings of a folder's images, searchable by a
 * text query (cosine similarity, top-k). Build with {@link #build}, {@link #save}/{@link #load}
 * the file, {@link #search}. Immutable once built; searches are thread-safe.
 *
 * <p>File format (big-endian, via DataOutputStream): magic "TSCLIPIX", version 1, the model path
 * (UTF), the image root (UTF), dim, count, then per image its path relative to the root (UTF) and
 * dim floats.
 */
public final class ImageIndex {
    private static final long MAGIC = 0x5453434c49504958L; // "TSCLIPIX"
    private static final int VERSION = 1;
    /** File name endings treated as images. */
    public static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private final String modelPath;
    private final Path root;
    private final List<String> paths;
    private final float[][] embeddings;
    private final int dim;

    /** One search result: the image (root-resolved) and its cosine similarity to the query. */
    public record Hit(Path image, double score) {}

    /** Progress of {@link #build}: called after each batch with images done (embedded or skipped) and total. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total);
    }

    /** What {@link #build} returns: the index and the images it could not read (with why). */
    public record BuildResult(ImageIndex index, List<String> skipped) {}

    private ImageIndex(String modelPath, Path root, List<String> paths, float[][] embeddings, int dim) {
        this.modelPath = modelPath;
        this.root = root;
        this.paths = paths;
        this.embeddings = embeddings;
        this.dim = dim;
    }

    /** The model file or folder this index was built with (as given to build). */
    public String modelPath() {
        return modelPath;
    }

    public Path root() {
        return root;
    }

    public int size() {
        return paths.size();
    }

    public int dim() {
        return dim;
    }

    /** The indexed images, root-resolved, in index order. */
    public List<Path> images() {
        List<Path> out = new ArrayList<>(paths.size());
        for (String p : paths) {
            out.add(root.resolve(p));
        }
        return out;
    }

    /**
     * Embeds every image under dir (recursively, by extension, sorted by path). Images are decoded
     * and preprocessed on {@code threads} threads while the model embeds the previous batch; files
     * that cannot be decoded are skipped and reported.
     *
     * @param modelPath recorded in the index so a search can load the same model
     * @throws IOException if dir cannot be listed
     * @throws IllegalArgumentException if dir holds no image files
     */
    public static BuildResult build(ClipModel model, String modelPath, Path dir, int threads, Progress progress) throws IOException {
        Objects.requireNonNull(model, "model");
        if (!Files.isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir.toString());
        }
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).filter(ImageIndex::isImageName).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no image files (" + String.join(", ", EXTENSIONS) + ") under " + dir);
        }
        ClipImagePreprocessor pre = model.preprocessor();
        int size = pre.size();
        long per = 3L * size * size;
        List<String> kept = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Path root = dir.toAbsolutePath().normalize();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "clip-index-decode");
            t.setDaemon(true);
            return t;
        });
        try {
            // decode all images of batch i+1 while batch i is embedded
            List<Future<float[]>> next = submit(pool, pre, files, 0);
            for (int start = 0; start < files.size(); start += ClipModel.MAX_BATCH) {
                List<Future<float[]>> current = next;
                int end = Math.min(files.size(), start + ClipModel.MAX_BATCH);
                next = end < files.size() ? submit(pool, pre, files, end) : List.of();
                List<float[]> pixels = new ArrayList<>();
                List<String> names = new ArrayList<>();
                for (int i = 0; i < current.size(); i++) {
                    Path f = files.get(start + i);
                    try {
                        pixels.add(current.get(i).get());
                        names.add(root.relativize(f.toAbsolutePath().normalize()).toString());
                    } catch (ExecutionException e) {
                        Throwable c = e.getCause();
                        skipped.add(f + ": " + (c.getMessage() == null ? c.toString() : c.getMessage()));
                    }
                }
                if (!pixels.isEmpty()) {
                    try (Tensor batch = Tensor.allocate(DType.F32, pixels.size(), 3, size, size)) {
                        for (int i = 0; i < pixels.size(); i++) {
                            MemorySegment.copy(pixels.get(i), 0, batch.segment(), ValueLayout.JAVA_FLOAT, i * per * 4, (int) per);
                        }
                        Collections.addAll(vectors, model.embedPixels(batch));
                        kept.addAll(names);
                    }
                }
                if (progress != null) {
                    progress.update(end, files.size());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while indexing", e);
        } finally {
            pool.shutdownNow();
        }
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("none of the " + files.size() + " images under " + dir + " could be read: " + skipped.getFirst());
        }
        ImageIndex index = new ImageIndex(modelPath, root, List.copyOf(kept), vectors.toArray(new float[0][]), vectors.getFirst().length);
        return new BuildResult(index, List.copyOf(skipped));
    }

    private static List<Future<float[]>> submit(ExecutorService pool, ClipImagePreprocessor pre, List<Path> files, int start) {
        List<Future<float[]>> out = new ArrayList<>();
        for (int i = start; i < Math.min(files.size(), start + ClipModel.MAX_BATCH); i++) {
            Path f = files.get(i);
            out.add(pool.submit(() -> pre.preprocessToArray(ImageIo.read(f))));
        }
        return out;
    }

    static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String e : EXTENSIONS) {
            if (n.endsWith(e)) {
                return true;
            }
        }
        return false;
    }

    /** The k images most similar to a normalised query embedding, best first. */
    public List<Hit> search(float[] query, int k) {
        if (query.length != dim) {
            throw new IllegalArgumentException("query has " + query.length + " dims, the index " + dim);
        }
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        PriorityQueue<double[]> heap = new PriorityQueue<>((a, b) -> Double.compare(a[0], b[0]));
        for (int i = 0; i < embeddings.length; i++) {
            double s = ClipModel.dot(query, embeddings[i]);
            if (heap.size() < k) {
                heap.add(new double[] {s, i});
            } else if (s > heap.peek()[0]) {
                heap.poll();
                heap.add(new double[] {s, i});
            }
        }
        List<Hit> out = new ArrayList<>(heap.size());
        while (!heap.isEmpty()) {
            double[] e = heap.poll();
            out.add(new Hit(root.resolve(paths.get((int) e[1])), e[0]));
        }
        Collections.reverse(out);
        return out;
    }

    /** Embeds the text with the model and returns the top k images. */
    public List<Hit> search(ClipModel model, String text, int k) {
        return search(model.embedText(text), k);
    }

    /** Writes the index file (atomically). */
    public void save(Path file) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(modelPath == null ? "" : modelPath);
            out.writeUTF(root.toString());
            out.writeInt(dim);
            out.writeInt(paths.size());
            for (int i = 0; i < paths.size(); i++) {
                out.writeUTF(paths.get(i));
                for (float v : embeddings[i]) {
                    out.writeFloat(v);
                }
            }
        }
        byte[] b = bytes.toByteArray();
        AtomicFile.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    /**
     * Reads an index file.
     *
     * @throws IOException if it cannot be read or is not an index file (naming the file)
     */
    public static ImageIndex load(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw))) {
            if (in.readLong() != MAGIC) {
                throw new IOException(file + ": not a Tessera CLIP image index");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException(file + ": unsupported index version " + version);
            }
            String model = in.readUTF();
            Path root = Path.of(in.readUTF());
            int dim = in.readInt();
            int count = in.readInt();
            if (dim <= 0 || dim > 65536 || count <= 0 || (long) count * dim > Files.size(file) / 4) {
                throw new IOException(file + ": corrupt index header (dim " + dim + ", count " + count + ")");
            }
            List<String> paths = new ArrayList<>(count);
            float[][] emb = new float[count][dim];
            for (int i = 0; i < count; i++) {
                paths.add(in.readUTF());
                for (int j = 0; j < dim; j++) {
                    emb[i][j] = in.readFloat();
                }
            }
            if (in.read() != -1) {
                throw new IOException(file + ": trailing bytes after " + count + " entries");
            }
            return new ImageIndex(model.isEmpty() ? null : model, root, List.copyOf(paths), emb, dim);
        } catch (java.io.EOFException e) {
            throw new IOException(file + ": truncated index file", e);
        }
    }
}
