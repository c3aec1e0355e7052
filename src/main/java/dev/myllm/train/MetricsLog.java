package dev.myllm.train;

import dev.myllm.util.IoErrors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code .jsonl} metrics log: one JSON object per optimizer step ({@code step}, {@code loss},
 * {@code lr}, {@code tokens}, {@code ms}, and {@code val_loss}/{@code train_eval_loss} where
 * evaluated, plus any extra metrics such as {@code val_accuracy}), flushed line by line. It also keeps the points in memory for the loss plot.
 */
public final class MetricsLog implements AutoCloseable {
    /** One logged step; {@code valLoss} and {@code trainEvalLoss} are NaN where not evaluated. */
    public record Point(long step, double loss, double lr, long tokens, double ms, double valLoss, double trainEvalLoss,
                        Map<String, Double> metrics) {
        /** A step without extra metrics. */
        public Point(long step, double loss, double lr, long tokens, double ms, double valLoss, double trainEvalLoss) {
            this(step, loss, lr, tokens, ms, valLoss, trainEvalLoss, Map.of());
        }

        public Point {
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        }
    }

    /** The fields every line has or may have; any other numeric field is an extra metric (such as {@code val_accuracy}). */
    private static final Set<String> STANDARD = Set.of("step", "loss", "lr", "tokens", "ms", "val_loss", "train_eval_loss");

    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final List<Point> points = new ArrayList<>();

    private MetricsLog(BufferedWriter out) {
        this.out = out;
    }

    /** A log that only keeps points in memory. */
    public static MetricsLog inMemory() {
        return new MetricsLog(null);
    }

    /**
     * Opens {@code file} for appending. When resuming at {@code resumeStep} (0 for a fresh run,
     * which truncates) the lines of later steps, written after the checkpoint, are dropped and
     * the earlier ones are read back, so the log and plot continue seamlessly.
     */
    public static MetricsLog open(Path file, long resumeStep) {
        try {
            if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
            List<Point> kept = new ArrayList<>();
            StringBuilder keptText = new StringBuilder();
            if (resumeStep > 0 && Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    JsonNode n;
                    try {
                        n = JSON.readTree(line);
                    } catch (IOException e) {
                        break; // a torn last line from a killed run
                    }
                    if (n.path("step").asLong() > resumeStep) break;
                    Map<String, Double> extra = new LinkedHashMap<>();
                    n.properties().forEach(f -> {
                        if (!STANDARD.contains(f.getKey()) && f.getValue().isNumber()) extra.put(f.getKey(), f.getValue().asDouble());
                    });
                    kept.add(new Point(n.path("step").asLong(), n.path("loss").asDouble(), n.path("lr").asDouble(),
                            n.path("tokens").asLong(), n.path("ms").asDouble(), num(n, "val_loss"), num(n, "train_eval_loss"), extra));
                    keptText.append(line).append('\n');
                }
            }
            // rewritten whole, then renamed: a run killed here keeps the log it had
            dev.myllm.util.AtomicFiles.writeString(file, keptText.toString());
            MetricsLog log = new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
            log.points.addAll(kept);
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics log " + file + ": " + IoErrors.reason(e), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot write metrics log " + file + ": " + IoErrors.reason(e.getCause()), e.getCause());
        }
    }

    private static double num(JsonNode n, String field) {
        return n.has(field) ? n.get(field).asDouble() : Double.NaN;
    }

    /** Records one step and writes its line. */
    public void add(Point p) {
        points.add(p);
        if (out == null) return;
        ObjectNode o = JSON.createObjectNode();
        o.put("step", p.step()).put("loss", p.loss()).put("lr", p.lr()).put("tokens", p.tokens())
                .put("ms", Math.round(p.ms() * 100) / 100.0);
        if (!Double.isNaN(p.valLoss())) o.put("val_loss", p.valLoss());
        if (!Double.isNaN(p.trainEvalLoss())) o.put("train_eval_loss", p.trainEvalLoss());
        p.metrics().forEach((k, v) -> {
            if (Double.isNaN(v)) return;
            if (jsonNumber(k, v) instanceof Long count) o.put(k, count);
            else o.put(k, v);
        });
        try {
            out.write(o.toString());
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics log: " + IoErrors.reason(e), e);
        }
    }

    /**
     * {@code v} as JSON should carry it: a metric that counts (DPO's {@code pairs}, logged as
     * {@code val_pairs} and {@code train_pairs}) as an integer, as counts are read; any other as it is.
     */
    public static Number jsonNumber(String name, double v) {
        boolean count = name.equals("pairs") || name.endsWith("_pairs");
        return count && v == Math.rint(v) && Math.abs(v) < 0x1p53 ? (Number) (long) v : (Number) v;
    }

    /** The points so far (including those read back on resume). */
    public List<Point> points() {
        return List.copyOf(points);
    }

    @Override
    public void close() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
