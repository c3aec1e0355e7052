package dev.myllm.train;

import java.nio.file.Path;

/** Saves a model as a model directory ({@code config.json} + {@code model.safetensors}) and loads weights back in place. */
public interface ModelStore {
    /**
     * Writes the model's files into {@code dir}, which exists and is empty: a hidden directory that its caller renames
     * into place once whole ({@link dev.myllm.util.AtomicFiles#writeDirectory}).
     */
    void save(Path dir);

    /** Loads the weights saved in {@code dir} into the live model, in place. */
    void load(Path dir);
}
