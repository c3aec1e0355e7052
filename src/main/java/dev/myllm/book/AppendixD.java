package dev.myllm.book;

import dev.myllm.train.LrSchedule;

/** Appendix D, adding bells and whistles to the training loop: linear warmup then cosine decay. */
final class AppendixD {
    private AppendixD() {
    }

    static Report run() {
        Report r = new Report("appendix-d", "Bells and whistles: warmup and cosine decay");
        int nEpochs = 15, batchesPerEpoch = 9;
        long totalSteps = (long) nEpochs * batchesPerEpoch;
        long warmupSteps = (long) (0.2 * totalSteps);
        r.same("total steps", Long.toString(totalSteps), "135");
        r.same("warmup steps (20%)", Long.toString(warmupSteps), "27");
        LrSchedule s = new LrSchedule.WarmupCosine(1e-3, 1e-5, 1e-5, warmupSteps, totalSteps);
        r.same("lr at step 0", sci(s.lr(0)), "1.0000e-05");
        r.same("lr at step 1", sci(s.lr(1)), "4.6667e-05");
        r.same("lr at step 26", sci(s.lr(26)), "9.6333e-04");
        r.same("lr at step 27", sci(s.lr(27)), "1.0000e-03");
        r.same("lr at step 81", sci(s.lr(81)), "5.0500e-04");
        r.same("lr at step 134", sci(s.lr(134)), "1.0209e-05");
        r.note("15-epoch run, step 130 train/val", "(run train with --warmup-steps 27 --min-lr 1e-5)", "1.312 / 6.158", "a long training run on a GPU");
        return r;
    }

    private static String sci(double v) {
        return String.format(java.util.Locale.ROOT, "%.4e", v);
    }
}
