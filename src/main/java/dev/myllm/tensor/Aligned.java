package dev.myllm.tensor;

/**
 * Where the elements of a {@code float[]} start a 64-byte cache line, when the JVM makes that the
 * same for every array: with {@code -XX:ObjectAlignmentInBytes=64} (the launcher's) every object
 * starts on a line, so element {@code (64 - header) / 4} of any float array does too, wherever
 * the collector moves it. With the default 8-byte alignment an array's elements start anywhere
 * on 8-byte steps, and a 512-bit load from a row that does not start on a line touches two lines:
 * the eight-row decode pass, whose weights and inputs come from L2 and L1, then runs at 193-212
 * GFLOP/s on a core instead of 234 (an 8×3 pass over a 256 KB chunk, a scratch harness on this machine).
 *
 * <p>Kernels that copy an operand anyway (the GEMM's packed panels) or cheaply (the eight rows of
 * a decode product's input) put it at {@link #floatOffset()} of their scratch arrays. The values,
 * and so every result bit, are the same wherever the copy sits.
 */
final class Aligned {
    /** Bytes of a cache line. */
    static final int LINE = 64;

    private Aligned() {
    }

    /** The first index of a float array whose element sits on a cache line, or -1 when the JVM does not fix one. */
    static int floatOffset() {
        return Holder.OFFSET;
    }

    /** {@link #floatOffset()}, or 0 where no index is known: a scratch array's start either way. */
    static int base() {
        return Math.max(0, Holder.OFFSET);
    }

    /**
     * The index of a float array's first element on a cache line for a JVM with this object
     * alignment and object header (-1 when objects are aligned to less than a line, or the array
     * header is not one this code knows): arrays start {@code 12} bytes before their elements with
     * compact object headers, {@code 16} with compressed class pointers.
     */
    static int floatOffset(int objectAlignment, boolean compactHeaders, boolean compressedClassPointers) {
        if (objectAlignment < LINE) return -1; // (the JVM takes powers of two only)
        int header = compactHeaders ? 12 : compressedClassPointers ? 16 : -1;
        return header < 0 ? -1 : (LINE - header) / Float.BYTES;
    }

    /** Read once, at the first kernel that asks: the management beans take some tens of milliseconds to start. */
    private static final class Holder {
        static final int OFFSET = read();

        private static int read() {
            try {
                var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
                if (vm == null) return -1;
                return floatOffset(Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue()),
                        Boolean.parseBoolean(option(vm, "UseCompactObjectHeaders", "false")),
                        Boolean.parseBoolean(option(vm, "UseCompressedClassPointers", "true")));
            } catch (RuntimeException | LinkageError e) {
                return -1; // not HotSpot, or no management: the kernels run as before
            }
        }

        private static String option(com.sun.management.HotSpotDiagnosticMXBean vm, String name, String missing) {
            try {
                return vm.getVMOption(name).getValue();
            } catch (IllegalArgumentException e) {
                return missing; // a JVM without the flag
            }
        }
    }
}
