package dev.myllm.book;

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
        m.put("appendix-a", AppendixA::run);
        m.put("appendix-d", AppendixD::run);
        m.put("appendix-e", AppendixE::run);
        return m;
    }
}
