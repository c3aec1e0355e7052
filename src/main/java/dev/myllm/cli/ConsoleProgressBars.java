package dev.myllm.cli;

import dev.myllm.util.ProgressBars;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.time.Duration;

/** The command line's progress bar for a download ({@link ProgressBars.Drawer}): megabytes and speed, on stderr. */
final class ConsoleProgressBars {
    private ConsoleProgressBars() {
    }

    /** A bar for {@code task} (its name cut to 30 characters), {@code total} bytes from {@code start}. */
    static ProgressBars.Bar download(String task, long total, long start) {
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task.length() > 30 ? task.substring(0, 30) : task)
                .setInitialMax(total).startsFrom(start, Duration.ZERO).setUnit("MB", 1 << 20)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                .showSpeed().build();
        return new ProgressBars.Bar() {
            @Override
            public void stepBy(long bytes) {
                bar.stepBy(bytes);
            }

            @Override
            public void close() {
                bar.close();
            }
        };
    }
}
