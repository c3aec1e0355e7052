package dev.myllm.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The book's loss plot: training and validation loss against steps, as a PNG written atomically.
 * XChart has no second x axis, so tokens seen are printed under each step tick instead.
 */
public final class LossPlot {
    private LossPlot() {
    }

    /** Draws the points (needs at least one) into {@code file}. */
    public static void write(Path file, List<MetricsLog.Point> points) {
        if (points.isEmpty()) return;
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(540).title("Training and validation loss")
                .xAxisTitle("step (tokens seen)").yAxisTitle("loss").build();
        chart.getStyler().setMarkerSize(4);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        List<Double> sx = new ArrayList<>(), sy = new ArrayList<>(), tx = new ArrayList<>(), ty = new ArrayList<>(),
                vx = new ArrayList<>(), vy = new ArrayList<>();
        for (MetricsLog.Point p : points) {
            sx.add((double) p.step());
            sy.add(p.loss());
            if (!Double.isNaN(p.trainEvalLoss())) {
                tx.add((double) p.step());
                ty.add(p.trainEvalLoss());
            }
            if (!Double.isNaN(p.valLoss())) {
                vx.add((double) p.step());
                vy.add(p.valLoss());
            }
        }
        XYSeries step = chart.addSeries("training loss (per step)", sx, sy);
        step.setMarker(SeriesMarkers.NONE);
        step.setLineColor(new java.awt.Color(150, 180, 230));
        if (!tx.isEmpty()) chart.addSeries("training loss (evaluated)", tx, ty).setMarker(SeriesMarkers.CIRCLE);
        if (!vx.isEmpty()) chart.addSeries("validation loss", vx, vy).setMarker(SeriesMarkers.DIAMOND);
        long lastStep = points.getLast().step();
        double tokensPerStep = lastStep > 0 ? (double) points.getLast().tokens() / lastStep : 0;
        chart.setCustomXAxisTickLabelsFormatter(x -> String.format(java.util.Locale.ROOT, "%.0f (%s)", x, human(x * tokensPerStep)));
        PngCharts.write(file, chart);
    }

    private static String human(double n) {
        if (n >= 1e6) return String.format(java.util.Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 1e3) return String.format(java.util.Locale.ROOT, "%.0fk", n / 1e3);
        return String.format(java.util.Locale.ROOT, "%.0f", n);
    }
}
