package dev.myllm.io;

import java.util.Arrays;

/**
 * One entry of a safetensors header: the tensor's name, element type, shape and byte range
 * {@code [begin, end)} relative to the start of the data section (already validated).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** The shape (a copy). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a scalar, 0 when a dimension is 0). */
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d; // cannot overflow: checked when the header was read
        return n;
    }

    /** Bytes of data, {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
