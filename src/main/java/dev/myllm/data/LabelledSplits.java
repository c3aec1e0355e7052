package dev.myllm.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Train/validation/test sets of labelled examples, made as the book's chapter 6 makes them: balance by
 * undersampling the larger classes, then shuffle and cut 70/10/20, both with numpy's legacy
 * {@code RandomState(seed)}; or read from three files.
 */
public record LabelledSplits(List<LabelledExample> train, List<LabelledExample> validation, List<LabelledExample> test) {
    /** The book's fractions: {@code random_split(df, 0.7, 0.1)}. */
    public static final double TRAIN_FRACTION = 0.7;
    public static final double VALIDATION_FRACTION = 0.1;

    public LabelledSplits {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
        test = List.copyOf(test);
    }

    /** The book's pipeline: {@link #balance} (unless {@code balance} is false), then {@link #randomSplit} 70/10/20. */
    public static LabelledSplits of(List<LabelledExample> examples, boolean balance, long seed) {
        List<LabelledExample> rows = balance ? balance(examples, seed) : examples;
        return randomSplit(rows, TRAIN_FRACTION, VALIDATION_FRACTION, seed);
    }

    /** Three labelled files used as they are (no balancing, no shuffling). */
    public static LabelledSplits ofFiles(Path train, Path validation, Path test) {
        return new LabelledSplits(LabelledFiles.read(train), LabelledFiles.read(validation), LabelledFiles.read(test));
    }

    /**
     * {@code create_balanced_dataset}, generalised: with n the size of the smallest class, each larger class
     * (in label order) contributes {@code sample(n, random_state=seed)} of its rows, i.e. its rows at the first n
     * positions of a fresh {@code RandomState(seed).permutation(count)}; then the rows of the smallest class(es)
     * follow in file order. For ham/spam this is the book's {@code ham_subset ++ spam}.
     */
    public static List<LabelledExample> balance(List<LabelledExample> examples, long seed) {
        Map<String, List<LabelledExample>> byClass = new TreeMap<>();
        for (LabelledExample e : examples) byClass.computeIfAbsent(e.label(), k -> new ArrayList<>()).add(e);
        if (byClass.isEmpty()) return List.of();
        int n = byClass.values().stream().mapToInt(List::size).min().orElseThrow();
        List<LabelledExample> out = new ArrayList<>(n * byClass.size());
        for (List<LabelledExample> rows : byClass.values()) {
            if (rows.size() == n) continue;
            int[] perm = new NumpyRandomState(seed).permutation(rows.size());
            for (int i = 0; i < n; i++) out.add(rows.get(perm[i]));
        }
        for (LabelledExample e : examples) if (byClass.get(e.label()).size() == n) out.add(e);
        return out;
    }

    /**
     * {@code random_split}: shuffle all rows with {@code sample(frac=1, random_state=seed)}, then train =
     * first {@code int(m·trainFraction)}, validation = next {@code int(m·validationFraction)}, test = the rest.
     */
    public static LabelledSplits randomSplit(List<LabelledExample> examples, double trainFraction, double validationFraction, long seed) {
        if (!(trainFraction > 0 && validationFraction >= 0 && trainFraction + validationFraction <= 1)) {
            throw new IllegalArgumentException("split fractions must be positive and add up to at most 1: " + trainFraction + ", " + validationFraction);
        }
        int m = examples.size();
        int[] perm = new NumpyRandomState(seed).permutation(m);
        List<LabelledExample> shuffled = new ArrayList<>(m);
        for (int i : perm) shuffled.add(examples.get(i));
        int trainEnd = (int) (m * trainFraction); // Python's int() truncates the same way
        int valEnd = trainEnd + (int) (m * validationFraction);
        return new LabelledSplits(shuffled.subList(0, trainEnd), shuffled.subList(trainEnd, valEnd), shuffled.subList(valEnd, m));
    }

    /** The class names over all three sets, sorted: class id i is the i-th ({@code ham} 0, {@code spam} 1 as the book). */
    public List<String> labels() {
        TreeSet<String> s = new TreeSet<>();
        for (List<LabelledExample> part : List.of(train, validation, test)) for (LabelledExample e : part) s.add(e.label());
        return List.copyOf(s);
    }

    /** One set by name: {@code train}, {@code validation} (or {@code val}), {@code test}. */
    public List<LabelledExample> get(String split) {
        return switch (split) {
            case "train" -> train;
            case "validation", "val" -> validation;
            case "test" -> test;
            default -> throw new IllegalArgumentException("unknown split '" + split + "' (known: train, val, test)");
        };
    }

    /** Examples per class in {@code examples}, in label order. */
    public static Map<String, Integer> counts(List<LabelledExample> examples) {
        Map<String, Integer> c = new TreeMap<>();
        for (LabelledExample e : examples) c.merge(e.label(), 1, Integer::sum);
        return new LinkedHashMap<>(c);
    }
}
