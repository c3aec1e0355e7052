package dev.myllm.data;

/** One batch of {@code rows} windows of {@code cols} tokens, row-major: inputs and next-token targets. */
public record Batch(int[] inputs, int[] targets, int rows, int cols) {
    /** Input token at row {@code r}, column {@code c}. */
    public int input(int r, int c) {
        return inputs[r * cols + c];
    }

    /** Target token at row {@code r}, column {@code c}. */
    public int target(int r, int c) {
        return targets[r * cols + c];
    }
}
