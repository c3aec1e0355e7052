package dev.myllm.util;

import java.util.Locale;

/** Sizes in bytes as every memory message prints them: whole MiB below 1 GiB ("412 MiB"), GiB with one decimal above. */
public final class ByteSizes {
    private static final double MIB = 1 << 20, GIB = 1 << 30;

    private ByteSizes() {
    }

    /** For example "412 MiB" or "3.5 GiB". */
    public static String of(long bytes) {
        return of(bytes, 0);
    }

    /**
     * {@code need} and {@code have} with as many more decimals as it takes to read apart when they differ: a refusal
     * whose two sizes read the same ("needs 412 MiB ... the Java heap is 412 MiB") looks wrong.
     */
    public static String[] apart(long need, long have) {
        int extra = 0;
        // 10 decimals of a GiB tell apart any two byte counts
        while (extra < 10 && need != have && of(need, extra).equals(of(have, extra))) extra++;
        return new String[]{of(need, extra), of(have, extra)};
    }

    private static String of(long bytes, int extra) {
        // from what rounds to 1024 MiB on, GiB
        boolean gib = bytes >= GIB - MIB / 2;
        return String.format(Locale.ROOT, "%." + ((gib ? 1 : 0) + extra) + "f %s", bytes / (gib ? GIB : MIB), gib ? "GiB" : "MiB");
    }
}
