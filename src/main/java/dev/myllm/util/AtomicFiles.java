package dev.myllm.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes outputs so that nobody sees half of one: a file, a directory or a set of files is written under a hidden
 * {@code .tmp-NAME-*} name beside its place and renamed into place only when complete. What was there before is moved
 * aside to a hidden {@code .old-NAME-*} sibling, deleted once the new output is in, and moved back if anything fails,
 * so a failure (an exception, a full disk) leaves the previous output, or nothing, under the name. A process killed
 * mid-write leaves its hidden sibling behind; the names carry the writer's process id and host, so the next write to
 * the same target removes the ones whose writer is certainly gone, and nothing else.
 */
public final class AtomicFiles {
    /** Writes the content of a file to a stream. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Writes the content of a directory into {@code dir}, which exists and is empty. */
    @FunctionalInterface
    public interface DirectoryWriter {
        void write(Path dir) throws IOException;
    }

    /** The prefix of a hidden output being written: a killed run's leftovers start with it. */
    public static final String TMP_PREFIX = ".tmp-";
    private static final String OLD_PREFIX = ".old-";
    /** Who writes a hidden name: this process's id and a tag of its host (a shared disk may hold another host's live writes). */
    private static final String OWNER = ProcessHandle.current().pid() + "." + hostTag();
    /** A hidden name's end after its target's name: the writer's process id and host tag, then a random number. */
    private static final Pattern OWNED = Pattern.compile("-(\\d{1,18})\\.([0-9a-f]{8})-[0-9a-f]+");
    private static final Pattern ANY_TARGET_OWNED = Pattern.compile(".+" + OWNED.pattern());

    /** For tests: the file name whose writes fail once written (as a full disk fails at the end), else null. */
    private static volatile String failing;

    private AtomicFiles() {
    }

    /** Writes {@code target} through {@code writer}; on any failure the target is untouched. */
    public static void write(Path target, Writer writer) {
        try {
            writeAll(Map.of(target, writer));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + IoErrors.reason(e), e);
        }
    }

    /** Writes a whole string as UTF-8. */
    public static void writeString(Path target, String content) {
        write(target, out -> out.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /**
     * Writes several files (in the map's order) that belong together, such as a model and the file that names it: all
     * are written first, then renamed into place one after the other; when one fails, every file is as it was.
     */
    public static void writeAll(Map<Path, Writer> files) throws IOException {
        Map<Path, Path> staged = new LinkedHashMap<>();
        try {
            for (var e : files.entrySet()) {
                Path target = e.getKey();
                // a link is written through, as writing in place would: the file it names is replaced, the link kept
                if (Files.isSymbolicLink(target)) target = target.toRealPath();
                if (Files.isDirectory(target)) throw new java.nio.file.FileSystemException(target.toString(), null, "Is a directory");
                Path tmp = staging(target, false);
                staged.put(tmp, target);
                try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                    e.getValue().write(out);
                }
                injected(target);
            }
            commit(staged);
            staged.clear();
        } finally {
            for (Path tmp : staged.keySet()) deleteQuietly(tmp);
        }
    }

    /**
     * Writes the directory {@code target} through {@code writer} into a hidden sibling and renames it into place; a
     * directory already there is replaced whole (callers decide beforehand whether it may be). On any failure
     * {@code target} is as it was.
     */
    public static void writeDirectory(Path target, DirectoryWriter writer) {
        Path tmp = null;
        try {
            if (Files.exists(target) && !Files.isDirectory(target)) {
                throw new IllegalArgumentException(target + ": exists and is not a directory");
            }
            Path place = Files.isSymbolicLink(target) ? target.toRealPath() : target; // a link is kept, as for a file
            tmp = staging(place, true);
            writer.write(tmp);
            commit(Map.of(tmp, place));
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + IoErrors.reason(e), e);
        } catch (UncheckedIOException e) {
            // a file inside could not be written: named by the directory the caller gave, not by our hidden one
            if (String.valueOf(e.getMessage()).startsWith("cannot write ")) {
                throw new UncheckedIOException("cannot write " + target + ": " + IoErrors.reason(e.getCause()), e.getCause());
            }
            throw e;
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    /**
     * Renames each complete file or directory (a key) onto its place (its value), in the map's order: all of them, or,
     * when a rename fails, none (the ones done are undone and what was there is put back).
     */
    public static void moveAll(Map<Path, Path> ready) throws IOException {
        commit(ready);
    }

    /** Renames {@code from} onto {@code to}, atomically where the file system allows it. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a file or a directory with everything in it, as far as it can (a leftover is hidden and named after its output). */
    public static void deleteQuietly(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(q);
                } catch (IOException ignored) {
                    // best effort: see above
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: see above
        }
    }

    /**
     * For tests: until closed, writing a file named {@code fileName} through this class fails after its bytes are
     * written, as a disk that fills up does, so a test can check that nothing half-written is left.
     */
    public static AutoCloseable failWritesOf(String fileName) {
        failing = fileName;
        return () -> failing = null;
    }

    private static void injected(Path target) throws IOException {
        String f = failing;
        if (f != null && target.getFileName().toString().equals(f)) {
            throw new java.nio.file.FileSystemException(target.toString(), null, "No space left on device (injected by a test)");
        }
    }

    /**
     * Removes the hidden outputs in {@code dir} that killed writes left, of any target: those of this host whose
     * process is gone (a training run resuming in its directory clears its killed saves with it).
     */
    public static void removeAbandonedIn(Path dir) {
        removeAbandoned(dir, n -> n.startsWith(TMP_PREFIX) ? ANY_TARGET_OWNED.matcher(n.substring(TMP_PREFIX.length())) : null);
    }

    /** A new, empty hidden file or directory beside {@code target}, with the permissions a new one gets. */
    private static Path staging(Path target, boolean directory) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        removeAbandoned(target, TMP_PREFIX); // a killed write of this target: its space is better given to this one
        while (true) {
            Path p = sibling(target, TMP_PREFIX);
            try {
                return directory ? Files.createDirectory(p) : Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                // another name
            }
        }
    }

    private static Path sibling(Path target, String prefix) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling(prefix + abs.getFileName() + "-" + OWNER + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
    }

    /** Removes {@code target}'s hidden siblings named with {@code prefix} whose writer is certainly gone. */
    private static void removeAbandoned(Path target, String prefix) {
        Path abs = target.toAbsolutePath();
        String start = prefix + abs.getFileName();
        // the rest must be exactly the owner and random parts, so that a longer target's name ("out-2" for "out") never matches
        removeAbandoned(abs.getParent(), n -> n.startsWith(start) ? OWNED.matcher(n.substring(start.length())) : null);
    }

    /** Removes the entries of {@code dir} whose name {@code owner} matches to a writer of this host that is gone. */
    private static void removeAbandoned(Path dir, java.util.function.Function<String, Matcher> owner) {
        if (dir == null || !Files.isDirectory(dir)) return;
        String host = OWNER.substring(OWNER.indexOf('.') + 1);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Matcher m = owner.apply(p.getFileName().toString());
                if (m == null || !m.matches() || !m.group(2).equals(host)) continue;
                // a process id in use, even by another program now, may be the writer: kept
                if (ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) continue;
                deleteQuietly(p);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: a leftover is hidden and named after its output, and the write itself goes on
        }
    }

    /** Eight hex digits naming this host (its name's hash), the same for every process on it. */
    private static String hostTag() {
        String name = null;
        try {
            name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip(); // Linux, without a name lookup
        } catch (IOException | RuntimeException e) {
            // not Linux: the environment's names
        }
        if (name == null || name.isEmpty()) name = System.getenv("COMPUTERNAME");
        if (name == null || name.isEmpty()) name = System.getenv("HOSTNAME");
        return String.format("%08x", (name == null ? "" : name).hashCode());
    }

    /**
     * Renames each staged output onto its target, moving what was there aside first; when a rename fails, the ones
     * done are undone and the old outputs put back before the exception goes on.
     */
    private static void commit(Map<Path, Path> staged) throws IOException {
        List<Path[]> done = new ArrayList<>(); // {target, the old output moved aside or null}
        try {
            for (var e : staged.entrySet()) {
                Path target = e.getValue().toAbsolutePath();
                Path old = null;
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    if (staged.size() == 1 && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        move(e.getKey(), target); // one file: replaced in one step, a reader sees the old or the new
                        done.add(new Path[]{target, null});
                        break;
                    }
                    old = sibling(target, OLD_PREFIX);
                    rename(target, old);
                }
                try {
                    rename(e.getKey(), target);
                } catch (IOException x) {
                    if (old != null) rename(old, target);
                    throw x;
                }
                done.add(new Path[]{target, old});
            }
        } catch (IOException e) {
            for (int i = done.size() - 1; i >= 0; i--) {
                Path[] d = done.get(i);
                try {
                    deleteQuietly(d[0]);
                    if (d[1] != null) rename(d[1], d[0]);
                } catch (IOException x) {
                    e.addSuppressed(x);
                }
            }
            throw e;
        }
        for (Path[] d : done) {
            if (d[1] != null) deleteQuietly(d[1]);
            removeAbandoned(d[0], OLD_PREFIX); // a killed commit's aside copy: outdated now that the new output is in
        }
    }

    private static void rename(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }
}
