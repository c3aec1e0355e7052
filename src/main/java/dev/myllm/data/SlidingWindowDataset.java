package dev.myllm.data;

/**
 * The book's {@code GPTDatasetV1}: windows of {@code maxLength} tokens starting at 0, stride, 2·stride, …
 * while {@code start < tokens.length - maxLength}; the target of a window is the same window shifted by one.
 */
public final class SlidingWindowDataset {
    private final int[] tokens;
    private final int maxLength;
    private final int stride;
    private final int size;

    public SlidingWindowDataset(int[] tokens, int maxLength, int stride) {
        if (maxLength <= 0) throw new IllegalArgumentException("context length must be positive, got " + maxLength);
        if (stride <= 0) throw new IllegalArgumentException("stride must be positive, got " + stride);
        this.tokens = tokens;
        this.maxLength = maxLength;
        this.stride = stride;
        int span = tokens.length - maxLength;
        this.size = span <= 0 ? 0 : (span - 1) / stride + 1;
        if (size == 0) {
            throw new IllegalArgumentException("corpus of " + tokens.length + " tokens is shorter than one window of "
                    + maxLength + " tokens plus its next-token target");
        }
    }

    /** Number of windows. */
    public int size() {
        return size;
    }

    public int maxLength() {
        return maxLength;
    }

    public int stride() {
        return stride;
    }

    /** Copies window {@code i}'s inputs to {@code dst[off..off+maxLength)}. */
    public void copyInputs(int i, int[] dst, int off) {
        System.arraycopy(tokens, check(i), dst, off, maxLength);
    }

    /** Copies window {@code i}'s targets (inputs shifted by one) to {@code dst[off..off+maxLength)}. */
    public void copyTargets(int i, int[] dst, int off) {
        System.arraycopy(tokens, check(i) + 1, dst, off, maxLength);
    }

    private int check(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("window " + i + " of " + size);
        return i * stride;
    }
}
