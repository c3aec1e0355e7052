package dev.myllm.train;

import dev.myllm.util.IoErrors;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.myllm.io.Safetensors;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.JsonFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Checkpoint directories under a run directory: {@code step-NNNNNN/} (the model directory plus
 * {@code optimizer.safetensors} and {@code trainer_state.json}) and a {@code latest} file naming
 * the newest. Each is written into a hidden temporary directory and renamed into place, so a
 * process killed while saving leaves the previous checkpoint as the newest complete one.
 */
public final class Checkpoints {
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String STATE = "trainer_state.json";
    public static final String LATEST = "latest";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoints() {
    }

    /** Writes a checkpoint of {@code step}; {@code midway} runs between files (tests inject a crash there). */
    static Path save(Path runDir, long step, ModelStore model, AdamW optimizer, Map<String, Object> state, Runnable midway, int keep) {
        Path dst = runDir.resolve(String.format("step-%06d", step));
        try {
            // the same step saved twice (e.g. on Ctrl-C right after a save) replaces the earlier one
            AtomicFiles.writeDirectory(dst, tmp -> {
                model.save(tmp);
                Safetensors.write(tmp.resolve(OPTIMIZER), optimizer.stateTensors(), optimizer.stateMetadata());
                midway.run();
                AtomicFiles.writeString(tmp.resolve(STATE), JSON.writeValueAsString(state));
            });
            AtomicFiles.writeString(runDir.resolve(LATEST), dst.getFileName() + "\n");
            prune(runDir, dst, keep);
            return dst;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save checkpoint " + dst + ": " + IoErrors.reason(e), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot save checkpoint " + dst + ": " + IoErrors.reason(e.getCause()), e.getCause());
        }
    }

    /** Replaces {@code dst} with a fresh model directory; it is always either the old or the new one. */
    static void saveModelDir(Path dst, ModelStore model) {
        try {
            AtomicFiles.writeDirectory(dst, model::save);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot save model " + dst + ": " + IoErrors.reason(e.getCause()), e.getCause());
        }
    }

    /** The checkpoint a {@code --resume} argument means: a checkpoint directory, or a run directory's latest. */
    public static Path resolve(Path dir) {
        if (Files.isRegularFile(dir.resolve(STATE))) return dir;
        Path latest = dir.resolve(LATEST);
        if (Files.isRegularFile(latest)) {
            try {
                Path p = dir.resolve(Files.readString(latest).strip());
                if (Files.isRegularFile(p.resolve(STATE))) return p;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalArgumentException("no checkpoint in " + dir + " (expected " + STATE + " or a '" + LATEST + "' file)");
    }

    /**
     * Reads a checkpoint's {@code trainer_state.json}; an unreadable or broken one is an {@link IllegalArgumentException}
     * of one line naming it once (read as text first: Jackson reading the file itself adds "[Source: ...]" lines).
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readState(Path checkpoint) {
        Path f = checkpoint.resolve(STATE);
        com.fasterxml.jackson.databind.JsonNode n = JsonFiles.read(f);
        if (!n.isObject()) throw new IllegalArgumentException(f + ": not a JSON object");
        if (!n.path("step").isIntegralNumber()) throw new IllegalArgumentException(f + ": no step number; not a checkpoint's state");
        return JSON.convertValue(n, Map.class);
    }

    /** Loads optimizer moments and step from a checkpoint. */
    static void loadOptimizer(Path checkpoint, AdamW optimizer) {
        try (Safetensors st = Safetensors.open(checkpoint.resolve(OPTIMIZER))) {
            optimizer.loadState(st.loadAll(), st.metadata());
        }
    }

    /** Removes hidden temporary directories left by a killed save (of any step: a resumed run may not save that step again). */
    static void cleanTemporaries(Path runDir) {
        AtomicFiles.removeAbandonedIn(runDir);
    }

    private static void prune(Path runDir, Path newest, int keep) throws IOException {
        if (keep <= 0) return;
        List<Path> steps = new ArrayList<>();
        try (Stream<Path> s = Files.list(runDir)) {
            s.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isDirectory(p)).forEach(steps::add);
        }
        steps.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (int i = 0; i < steps.size() - keep; i++) if (!steps.get(i).equals(newest)) deleteTree(steps.get(i));
    }

    static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root + ": " + IoErrors.reason(e), e);
        }
    }
}
