package dev.myllm.cli;

import picocli.CommandLine.ParseResult;

/**
 * The defaults {@code train} takes with a {@code book-*} preset: chapter 5's settings (10 epochs,
 * batch 2, stride = context, AdamW 4e-4 with weight decay 0.1 on every parameter, no clipping, no
 * warmup, evaluation every 5 steps on 5 batches, the 90/10 character split). An option given on the
 * command line wins.
 */
final class BookRun {
    private BookRun() {
    }

    static void applyDefaults(TrainCommand c, ParseResult given) {
        if (!given.hasMatchedOption("--batch-size")) c.batchSize = 2;
        if (!given.hasMatchedOption("--epochs")) c.epochs = 10;
        if (!given.hasMatchedOption("--decay")) c.decay = "all";
        if (!given.hasMatchedOption("--grad-clip")) c.gradClip = 0;
        if (!given.hasMatchedOption("--eval-every")) c.evalEvery = 5;
        if (!given.hasMatchedOption("--eval-batches")) c.evalBatches = 5;
        if (!given.hasMatchedOption("--split")) c.split = "chars";
        // lr 4e-4, weight decay 0.1, no warmup, seed 123, stride = context and the 0.1 held out are train's own defaults
    }
}
