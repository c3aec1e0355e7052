package dev.myllm.tokenizer;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class BpeLongPieceTest {
    @Test
    void aOneMegabyteWordEncodesInLinearithmicTime() {
        // GPT-2's regex makes a run of letters one pre-token: a 1 MiB one-word prompt (the server's body limit) took
        // about 3 CPU-minutes when each merge rescanned the whole piece; now well under a second (20 s is for slow machines).
        String word = "a".repeat(1 << 20);
        int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> BpeGpt2Test.GPT2.encode(word, Specials.TEXT));
        int aaaa = BpeGpt2Test.GPT2.encode("aaaa", Specials.TEXT)[0];
        assertThat(ids).hasSize(1 << 18).containsOnly(aaaa);
    }

    @Test
    void longPiecesAreNotKeptInTheWordCache() {
        // the cache counts pieces, not bytes: each distinct 1 MiB word a client sent stayed in it (per request thread)
        BpeTokenizer t = BpeGpt2Test.GPT2;
        t.clearCache();
        t.encode("hello " + "b".repeat(100_000) + " world", Specials.TEXT);
        assertThat(t.cachedPieces()).isEqualTo(2);
    }
}
