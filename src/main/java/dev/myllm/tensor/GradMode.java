package dev.myllm.tensor;

/** Whether ops record the graph for autograd; {@code try (var g = GradMode.noGrad()) {...}} turns it off. */
public final class GradMode implements AutoCloseable {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);
    private final boolean previous;

    private GradMode(boolean enabled) {
        previous = ENABLED.get();
        ENABLED.set(enabled);
    }

    /** Opens a scope in which no graph is recorded (inference, evaluation, optimizer updates). */
    public static GradMode noGrad() {
        return new GradMode(false);
    }

    /** Opens a scope in which the graph is recorded again (a checkpoint's recomputation inside backward). */
    static GradMode enabled() {
        return new GradMode(true);
    }

    /** Whether graph recording is on for this thread. */
    public static boolean isEnabled() {
        return ENABLED.get();
    }

    @Override
    public void close() {
        ENABLED.set(previous);
    }
}
