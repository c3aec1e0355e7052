package dev.myllm.tensor;

/** A generator (or anything drawing from one) whose whole state can be saved as text and restored, for checkpoints. */
public interface RandomState {
    /** The whole state as text. */
    String state();

    /** Restores a state written by {@link #state()}. */
    void setState(String state);
}
