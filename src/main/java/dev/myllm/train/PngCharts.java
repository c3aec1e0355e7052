package dev.myllm.train;

import dev.myllm.util.AtomicFiles;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;

/** Writes a chart as a PNG file, whole or not at all, even while the JVM shuts down. */
final class PngCharts {
    private PngCharts() {
    }

    /**
     * Renders {@code chart} and writes it to {@code file}. The PNG goes through an in-memory stream: ImageIO's own
     * {@code ImageIO.write} to a stream caches in a temporary file whose stream a JVM shutdown hook closes, so the plot a
     * run draws after Ctrl-C or SIGTERM failed with "closed" when that hook ran first.
     */
    static void write(Path file, XYChart chart) {
        BufferedImage image = BitmapEncoder.getBufferedImage(chart);
        AtomicFiles.write(file, out -> {
            Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
            if (!writers.hasNext()) throw new java.io.IOException("no PNG writer in this Java runtime");
            ImageWriter writer = writers.next();
            try (ImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
                writer.setOutput(stream);
                writer.write(image);
            } finally {
                writer.dispose();
            }
        });
    }
}
