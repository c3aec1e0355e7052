package dev.myllm.tensor;

/**
 * Which kernel a thread's {@link Gemm#matmulNT} products use. By default the kernel is chosen by
 * shape (plain loops for tiny products, the streaming kernel for a few rows, the packed kernel
 * otherwise), so a row's bits can depend on how many rows share the product. Inference that must
 * give every sequence the same tokens however many run beside it fixes the kernel instead:
 * {@link #ROWS} (the streaming kernel, for decode steps) or {@link #PACKED} (the packed kernel,
 * for prefill). Each computes every row of C from that row of A alone, in an order fixed by K and
 * N, so a row's result is bitwise the same whatever M is. Float32 panels ({@link
 * PackedMatrix.Format#F32_PANELS}) take their chain kernels in every mode, prompts too: one chain
 * per output, as fast as the packed kernel or faster at every row count measured.
 */
public enum ProductMode {
    /** Kernel by shape (the fastest choice; training and scoring). */
    SHAPE,
    /** The streaming few-row kernel for any number of rows (decode steps). */
    ROWS,
    /** The packed, register-blocked kernel for any number of rows (prefill). */
    PACKED;

    private static final ThreadLocal<ProductMode> CURRENT = ThreadLocal.withInitial(() -> SHAPE);

    /** The mode of the calling thread. */
    public static ProductMode current() {
        return CURRENT.get();
    }

    /** Sets this thread's mode until the returned scope closes (then the previous one again). */
    public static Scope use(ProductMode mode) {
        ProductMode previous = CURRENT.get();
        CURRENT.set(mode);
        return () -> CURRENT.set(previous);
    }

    /** Restores the previous mode when closed. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
