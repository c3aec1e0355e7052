package dev.myllm.cli;

import dev.myllm.util.ByteSizes;
import java.lang.management.ManagementFactory;

/** The out-of-memory line: how big the Java heap is, how much memory the machine has, and how to raise the heap. */
final class HeapAdvice {
    private static final double GIB = 1024.0 * 1024 * 1024;

    private HeapAdvice() {
    }

    /** The message for the running JVM. */
    static String outOfMemory() {
        return outOfMemory(Runtime.getRuntime().maxMemory(), physicalMemory());
    }

    /**
     * The message for a heap capped at {@code maxHeap} bytes on a machine with {@code physical} bytes (0 when unknown):
     * a larger heap is suggested only when the machine has room for it (up to 90% of its memory).
     */
    static String outOfMemory(long maxHeap, long physical) {
        String heap = "out of memory: the Java heap is " + ByteSizes.of(maxHeap);
        String smaller = "use a smaller model, batch size or context length";
        if (physical <= 0) return heap + "; " + smaller + ", or raise the heap, e.g. MYLLM_JAVA_OPTS=-Xmx"
                + (long) Math.ceil(maxHeap * 2 / GIB) + "g";
        String of = " of " + ByteSizes.of(physical) + " of memory";
        long roomGib = (long) Math.floor(physical * 0.9 / GIB);
        if (roomGib * GIB < maxHeap * 1.1) return heap + of + ", most of this machine's; " + smaller;
        return heap + of + "; " + smaller + ", or raise the heap up to MYLLM_JAVA_OPTS=-Xmx" + roomGib
                + "g (java -Xmx" + roomGib + "g when run without ./myllm)";
    }

    /** Physical memory as the JVM sees it (a container's limit inside a container), or 0. */
    static long physicalMemory() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                return os.getTotalMemorySize();
            }
        } catch (RuntimeException | LinkageError e) {
            // not a HotSpot-style JVM: the message simply omits the machine's memory
        }
        return 0;
    }
}
