package dev.myllm.tensor;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * Bytes this thread allocates per call of some code once the JIT has settled, for the tests that
 * check a kernel or a decode step allocates (almost) nothing.
 *
 * <p>Until C2 compiles a Vector API kernel its vector ops allocate boxes, so the figure falls as
 * the JIT warms up. Two rounds giving the same figure do not mean it is done: a kernel waiting for
 * C2 gives the same boxes every round (CI once stopped at 123 KB a decode step that way). So the
 * rounds go on until two agree and the JIT compiled nothing during either, and the least is kept.
 */
public final class SteadyAllocation {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private SteadyAllocation() {}

    /** The least bytes per call over rounds of {@code warm} unmeasured calls then {@code measured} measured ones. */
    public static long leastBytesPerCall(Runnable call, int warm, int measured) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long least = Long.MAX_VALUE, previous = -1, compiledBefore = jit.getTotalCompilationTime();
        boolean quietBefore = false;
        for (int round = 0; round < 60; round++) {
            for (int i = 0; i < warm; i++) call.run();
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < measured; i++) call.run();
            long bytes = (THREADS.getCurrentThreadAllocatedBytes() - before) / measured;
            long compiled = jit.getTotalCompilationTime();
            boolean quiet = compiled == compiledBefore;
            compiledBefore = compiled;
            least = Math.min(least, bytes);
            if (round >= 2 && bytes == previous && quiet && quietBefore) break;
            previous = bytes;
            quietBefore = quiet;
        }
        return least;
    }
}
