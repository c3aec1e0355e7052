package dev.myllm.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The book's accuracy plot (chapter 6): training and validation accuracy after each epoch, as a PNG written atomically. */
public final class AccuracyPlot {
    private AccuracyPlot() {
    }

    /** Draws the {@code train_accuracy} and {@code val_accuracy} points found in {@code points} (nothing when there are none). */
    public static void write(Path file, List<MetricsLog.Point> points) {
        List<Double> x = new ArrayList<>(), tr = new ArrayList<>(), va = new ArrayList<>();
        for (MetricsLog.Point p : points) {
            Double t = p.metrics().get("train_accuracy"), v = p.metrics().get("val_accuracy");
            if (t == null && v == null) continue;
            x.add((double) x.size() + 1);
            tr.add(t == null ? Double.NaN : t * 100);
            va.add(v == null ? Double.NaN : v * 100);
        }
        if (x.isEmpty()) return;
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(540).title("Training and validation accuracy")
                .xAxisTitle("epoch").yAxisTitle("accuracy (%)").build();
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setMarkerSize(6);
        chart.addSeries("training accuracy", x, tr).setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries("validation accuracy", x, va).setMarker(SeriesMarkers.DIAMOND);
        PngCharts.write(file, chart);
    }
}
