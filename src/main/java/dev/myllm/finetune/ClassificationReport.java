package dev.myllm.finetune;

import java.util.List;

/**
 * Accuracy, per-class precision, recall and F1, and the confusion matrix of predictions against
 * true class ids ({@code confusion[true][predicted]}).
 */
public record ClassificationReport(List<String> labels, long[][] confusion) {
    /** The report for {@code truth} and {@code predicted} class ids over {@code labels}. */
    public static ClassificationReport of(List<String> labels, int[] truth, int[] predicted) {
        long[][] m = new long[labels.size()][labels.size()];
        for (int i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
        return new ClassificationReport(List.copyOf(labels), m);
    }

    public long total() {
        long n = 0;
        for (long[] row : confusion) for (long v : row) n += v;
        return n;
    }

    public long correct() {
        long n = 0;
        for (int i = 0; i < confusion.length; i++) n += confusion[i][i];
        return n;
    }

    public double accuracy() {
        return total() == 0 ? Double.NaN : (double) correct() / total();
    }

    /** Of the examples predicted as class {@code k}, the share that are {@code k} (0 when none is predicted). */
    public double precision(int k) {
        long p = 0;
        for (long[] row : confusion) p += row[k];
        return p == 0 ? 0 : (double) confusion[k][k] / p;
    }

    /** Of the examples of class {@code k}, the share predicted as {@code k} (0 when there are none). */
    public double recall(int k) {
        long t = 0;
        for (long v : confusion[k]) t += v;
        return t == 0 ? 0 : (double) confusion[k][k] / t;
    }

    public double f1(int k) {
        double p = precision(k), r = recall(k);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** Number of examples of class {@code k}. */
    public long support(int k) {
        long t = 0;
        for (long v : confusion[k]) t += v;
        return t;
    }
}
