package dev.myllm.book;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.finetune.InstructionDatasets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The chapters {@code ./myllm book} can run, by name, in the book's order. */
public final class Chapter {
    private Chapter() {
    }

    /** Chapter name → its computation. */
    public static Map<String, Supplier<Report>> all() {
        Map<String, Supplier<Report>> m = new LinkedHashMap<>();
        m.put("ch02", Ch02::run);
        m.put("ch03", Ch03::run);
        m.put("ch04", Ch04::run);
        m.put("ch05", Ch05::run);
        m.put("ch06", () -> Ch06.run(LabelledDatasets.standard()));
        m.put("ch07", () -> Ch07.run(InstructionDatasets.standard()));
        m.put("appendix-a", AppendixA::run);
        m.put("appendix-d", AppendixD::run);
        m.put("appendix-e", AppendixE::run);
        return m;
    }

    /** Chapter 5's training run ({@code book ch05 --train}): 90 steps of the 124M model, beside the book's curve. */
    public static Report ch05Training(java.nio.file.Path runDir, dev.myllm.train.Trainer.Listener progress) {
        return Ch05.train(dev.myllm.model.GPTConfig.preset("book-124m-256"), Long.MAX_VALUE, runDir, progress);
    }
}
