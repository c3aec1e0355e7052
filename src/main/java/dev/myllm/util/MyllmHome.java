package dev.myllm.util;

import java.nio.file.Path;

/** The cache folder for downloads and datasets: {@code $MYLLM_HOME}, else {@code ~/.cache/myllm}. */
public final class MyllmHome {
    private MyllmHome() {
    }

    public static Path dir() {
        String env = System.getenv("MYLLM_HOME");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "myllm");
    }
}
