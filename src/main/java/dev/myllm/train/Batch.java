package dev.myllm.train;

/** One batch of {@code batch × time} input ids and the targets (the inputs shifted by one), row-major. */
public record Batch(int[] inputs, int[] targets, int batch, int time) {
    public Batch {
        if (inputs.length != batch * time || targets.length != batch * time) {
            throw new IllegalArgumentException("batch of " + batch + "×" + time + " needs " + batch * time
                    + " inputs and targets, got " + inputs.length + " and " + targets.length);
        }
    }

    /** Number of input tokens in the batch. */
    public int tokens() {
        return inputs.length;
    }
}
