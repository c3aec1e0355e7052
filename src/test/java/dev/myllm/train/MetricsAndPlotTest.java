package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsAndPlotTest {
    @Test
    void logWritesOneObjectPerStepAndResumeDropsLaterLines(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.jsonl");
        try (MetricsLog log = MetricsLog.open(f, 0)) {
            for (int s = 1; s <= 4; s++) log.add(new MetricsLog.Point(s, 5.0 - s, 1e-3, 256L * s, 12.345, s % 2 == 0 ? 4.5 : Double.NaN, Double.NaN));
        }
        List<String> lines = Files.readAllLines(f);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo("{\"step\":1,\"loss\":4.0,\"lr\":0.001,\"tokens\":256,\"ms\":12.35}");
        assertThat(lines.get(1)).contains("\"val_loss\":4.5");
        try (MetricsLog log = MetricsLog.open(f, 2)) {
            assertThat(log.points()).extracting(MetricsLog.Point::step).containsExactly(1L, 2L);
            log.add(new MetricsLog.Point(3, 1.0, 1e-3, 768, 1, Double.NaN, Double.NaN));
        }
        assertThat(Files.readAllLines(f)).hasSize(3).last().asString().contains("\"loss\":1.0");
    }

    @Test
    void aResumeThatCannotRewriteTheLogLeavesItAsItWas(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.open(f, 0)) {
            for (int s = 1; s <= 4; s++) log.add(new MetricsLog.Point(s, 5.0 - s, 1e-3, 256L * s, 1, Double.NaN, Double.NaN));
        }
        byte[] before = Files.readAllBytes(f);
        // the log is cut back to the checkpoint's step: written whole, then renamed (before: truncated in place, so a run
        // killed or failing there lost the lines it meant to keep)
        try (AutoCloseable x = dev.myllm.util.AtomicFiles.failWritesOf("metrics.jsonl")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MetricsLog.open(f, 2)).isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessage("cannot write metrics log " + f + ": No space left on device (injected by a test)");
        }
        assertThat(f).hasBinaryContent(before);
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("metrics.jsonl");
        }
    }

    @Test
    void plotIsAPng(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("loss.png");
        LossPlot.write(png, List.of(new MetricsLog.Point(1, 10, 1e-3, 512, 1, 9.5, 9.8),
                new MetricsLog.Point(2, 8, 1e-3, 1024, 1, Double.NaN, Double.NaN),
                new MetricsLog.Point(3, 6, 1e-3, 1536, 1, 7.0, 6.1)));
        byte[] b = Files.readAllBytes(png);
        assertThat(b.length).isGreaterThan(1000);
        assertThat(new String(b, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
        try (var s = Files.list(tmp)) {
            assertThat(s.count()).isEqualTo(1); // no temporary file left beside it
        }
    }

    @Test
    void plotBypassesImageIOsFileCache(@TempDir Path tmp) throws Exception {
        // ImageIO's file cache is what a shutdown hook closes under a run stopped by Ctrl-C; a cache directory that is gone
        // makes any write through it fail, so the plot must not go through it
        Path cache = Files.createDirectory(tmp.resolve("imageio-cache"));
        boolean used = javax.imageio.ImageIO.getUseCache();
        java.io.File dir = javax.imageio.ImageIO.getCacheDirectory();
        try {
            javax.imageio.ImageIO.setUseCache(true);
            javax.imageio.ImageIO.setCacheDirectory(cache.toFile());
            Files.delete(cache);
            Path png = tmp.resolve("loss.png");
            LossPlot.write(png, List.of(new MetricsLog.Point(1, 10, 1e-3, 512, 1, 9.5, 9.8),
                    new MetricsLog.Point(2, 8, 1e-3, 1024, 1, 7.0, 6.1)));
            java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
            assertThat(image.getWidth()).isEqualTo(900);
            assertThat(image.getHeight()).isEqualTo(540);
        } finally {
            javax.imageio.ImageIO.setUseCache(used);
            javax.imageio.ImageIO.setCacheDirectory(dir);
        }
    }
}
