package dev.tessera.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Copies the platform's library out of the jar into {@code <cache>/<sha256>/}. Naming the folder
 * by content lets versions coexist and makes an existing, verified copy reusable; writing a temp
 * file in the same folder and renaming it over the final name keeps concurrent JVMs from ever
 * loading a half-written file.
 */
final class LibraryExtractor {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /**
     * A folder to extract into. {@code privateDir}, when set, lies in a folder other users can write
     * (the temp dir) and must be created owner-only and checked, so nobody can plant a library there.
     */
    record CacheRoot(Path dir, Path privateDir) {}

    private LibraryExtractor() {}

    /** {@code $XDG_CACHE_HOME/tessera/native} (or {@code ~/.cache/...}), then {@code <tmpdir>/tessera-<user>/native}. */
    static List<CacheRoot> defaultRoots() {
        List<CacheRoot> roots = new ArrayList<>();
        try {
            String xdg = System.getenv("XDG_CACHE_HOME");
            String home = System.getProperty("user.home", "");
            Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg)
                    : !home.isBlank() && !home.equals("?") ? Path.of(home, ".cache") : null;
            if (base != null) {
                roots.add(new CacheRoot(base.resolve("tessera").resolve("native"), null));
            }
        } catch (InvalidPathException e) {
            // an unusable home is what the temp-dir fallback is for
        }
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "tessera-" + user);
        roots.add(new CacheRoot(tmp.resolve("native"), tmp));
        return roots;
    }

    /** Extracts into the first root that works; the error lists why each one failed. */
    static Path extract(Platform platform, ClassLoader loader, List<CacheRoot> roots) {
        return extract(platform, "tessera", loader, roots, () -> missingPlatformMessage(platform, loader));
    }

    /** As above for the library of the CMake target {@code name}; missing() says why none is bundled. */
    static Path extract(Platform platform, String name, ClassLoader loader, List<CacheRoot> roots,
            Supplier<String> missing) {
        String resource = platform.resourcePath(name);
        byte[] content;
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(missing.get());
            }
            content = in.readAllBytes();
        } catch (IOException e) {
            throw LibraryLoader.linkError("cannot read " + resource + " from the class path: " + e, e);
        }
        String hash = sha256(content);
        List<String> failures = new ArrayList<>();
        for (CacheRoot root : roots) {
            try {
                return install(root, hash, platform.libraryFileName(name), content);
            } catch (IOException | RuntimeException e) {
                failures.add(root.dir() + " (" + e + ")");
            }
        }
        throw new UnsatisfiedLinkError("cannot extract " + resource + " into any cache folder: "
                + String.join("; ", failures) + ". Set -D" + NativeLibrary.PATH_PROPERTY
                + " to a copy of the library instead");
    }

    static Path install(CacheRoot root, String hash, String fileName, byte[] content) throws IOException {
        if (root.privateDir() != null) {
            makePrivate(root.privateDir());
        }
        Path dir = Files.createDirectories(root.dir().resolve(hash));
        Path target = dir.resolve(fileName);
        if (hasContent(target, content.length, hash)) {
            return target;
        }
        Path temp = Files.createTempFile(dir, fileName + ".", ".tmp");
        try {
            Files.write(temp, content);
            try {
                // rename(2): replaces a damaged copy, and a process holding the old file keeps its inode.
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                // Where a file in use cannot be replaced (Windows), a racing process's copy serves as well.
                if (!hasContent(target, content.length, hash)) {
                    throw e;
                }
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return target;
    }

    private static boolean hasContent(Path file, long size, String hash) throws IOException {
        return Files.isRegularFile(file) && Files.size(file) == size && sha256(Files.readAllBytes(file)).equals(hash);
    }

    private static void makePrivate(Path dir) throws IOException {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(dir); // per-user temp folders elsewhere (Windows)
            return;
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            // verified below, whoever made it
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is not a directory");
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!OWNER_ONLY.containsAll(permissions)) {
            throw new IOException(dir + " is accessible to other users (" + PosixFilePermissions.toString(permissions) + ")");
        }
        Path probe = Files.createTempFile(dir, "owner", ".probe");
        try {
            if (!Files.getOwner(probe).equals(Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS))) {
                throw new IOException(dir + " belongs to another user");
            }
        } finally {
            Files.delete(probe);
        }
    }

    static String missingPlatformMessage(Platform platform, ClassLoader loader) {
        List<String> present = Platform.KNOWN.stream()
                .filter(p -> loader.getResource(p.resourcePath()) != null)
                .map(Platform::id)
                .toList();
        return "no Tessera native library for platform " + platform.id() + " (this JVM: os.name="
                + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch") + "): the class path has no "
                + platform.resourcePath() + "; the bindings jar holds libraries for: "
                + (present.isEmpty() ? "no platform at all (was it built without its native library?)" : String.join(", ", present))
                + ". Build tessera-bindings on " + platform.id() + ", or set -D" + NativeLibrary.PATH_PROPERTY
                + " or " + NativeLibrary.PATH_ENV + " to a library built for it";
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
