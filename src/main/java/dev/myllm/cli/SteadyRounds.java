package dev.myllm.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Which rounds of a comparison ran at about the same memory bandwidth. On a virtual machine whose
 * bandwidth from the host switches between about 45 and 80 GB/s every few seconds to minutes, two
 * decoding runs compared in one round may have read at different rates; a benchmark reads the
 * bandwidth beside each run ({@link dev.myllm.tensor.ReadBandwidth}) and sets such rounds apart.
 */
final class SteadyRounds {
    /** Two reads of which the larger exceeds the smaller by more than this share make their round unsteady. */
    static final double LIMIT = 0.15;

    private SteadyRounds() {
    }

    /** Whether reads {@code a} and {@code b} (GB/s) are more than {@link #LIMIT} apart; false when either is missing (not positive or NaN). */
    static boolean unsteady(double a, double b) {
        if (!(a > 0) || !(b > 0)) return false;
        double lo = Math.min(a, b);
        return Math.max(a, b) - lo > LIMIT * lo * (1 + 1e-12); // (exactly LIMIT apart is not more, whatever the rounding)
    }

    /** The rounds (from 0) whose reads in {@code reads} and {@code baseReads} are {@link #unsteady}. */
    static int[] unsteadyRounds(double[] reads, double[] baseReads) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < reads.length; i++) if (unsteady(reads[i], baseReads[i])) out.add(i);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Each steady round's {@code tps / base}, in round order. */
    static double[] steadyRatios(double[] tps, double[] base, double[] reads, double[] baseReads) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < tps.length; i++) if (!unsteady(reads[i], baseReads[i])) out.add(tps[i] / base[i]);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
